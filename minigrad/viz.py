"""Draws the autograd graph behind a tensor as Graphviz DOT text and renders it with `dot`.

One node per op and per tensor, edges the way data flows (input -> op -> output).
`python -m minigrad.viz batchnorm|mlp --out DIR` draws the batch-norm and MLP examples.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import minigrad
from minigrad import fileio, nn
from minigrad.autograd.engine import topological_order
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

RENDER_FORMATS = ("svg", "png", "pdf")
RANKDIRS = ("TB", "LR", "BT", "RL")

_HEADER = (
    'graph [rankdir={rankdir}, fontname="Helvetica", labelloc=t, fontsize=14, ranksep=0.3{title}];',
    'node [fontname="Helvetica", fontsize=11, style=filled, penwidth=1];',
    'edge [color="#555555", arrowsize=0.7];',
)
_OP_STYLE = 'shape=ellipse, fillcolor="#ffe3a3", fontname="Helvetica-Bold"'
_CONSTANT_STYLE = 'shape=plaintext, style="", fontsize=10, fontcolor="#666666"'
_RELEASED_MESSAGE = (
    "to_dot: the graph behind this tensor was freed by backward(), which releases each node "
    "once it has been used; draw before backward(), or call backward(retain_graph=True) to "
    "keep the graph for drawing"
)
_TENSOR_STYLE = {
    # leaves that require grad (parameters, inputs being differentiated), leaves without
    # grad (data, targets), and the outputs of ops, drawn smaller
    "leaf": 'shape=box, fillcolor="#c9e7c4"',
    "data": 'shape=box, fillcolor="#ffffff"',
    "inner": 'shape=box, fillcolor="#eeeeee", fontsize=10, height=0.3',
}


def to_dot(
    tensor: Tensor,
    params: Module | Mapping[str, Tensor] | None = None,
    show_grad: bool = False,
    title: str | None = None,
    rankdir: str = "TB",
) -> str:
    """Graphviz DOT text of the autograd graph that produced `tensor`.

    Ops are ellipses labelled with their name (``ctx.name``: mul, mean, linear, batch_norm);
    tensors are boxes with their shape and dtype, and Python constants passed to an op (an
    eps, the 1 of 1 / x) are small text nodes. `params` names tensors: a Module (its
    ``named_parameters()``, e.g. ``1.weight``) or a dict name -> Tensor (any tensor of the
    graph may be named, inputs too). With `show_grad`, a tensor holding a ``.grad`` shows
    its shape; after ``backward()`` those are the leaves, since the engine keeps no
    gradient for intermediate tensors. Nodes are written in the order the data flows.
    The engine frees the graph in ``backward()``: to draw after it, call
    ``backward(retain_graph=True)``, else this raises RuntimeError. `rankdir` is the
    direction data flows on the page: "TB" (top to bottom) or "LR" (left to right).
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"to_dot: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    writer = _DotWriter(_names_by_id(params), show_grad, root=tensor)
    order = topological_order(tensor, _RELEASED_MESSAGE)
    for output in order:
        writer.add_op(output)
    if not order:
        writer.tensor_node(tensor)
    title_attr = "" if title is None else f", label={_quote(title)}"
    header = [line.format(rankdir=rankdir, title=title_attr) for line in _HEADER]
    body = "\n".join("    " + line for line in header + writer.lines)
    return f"digraph autograd {{\n{body}\n}}\n"


def _names_by_id(params: Module | Mapping[str, Tensor] | None) -> dict[int, str]:
    if params is None:
        return {}
    named = params.named_parameters() if isinstance(params, Module) else params.items()
    return {id(value): name for name, value in named}


class _DotWriter:
    """Collects node and edge statements, one node per tensor (by identity) and per op."""

    def __init__(self, names: dict[int, str], show_grad: bool, root: Tensor) -> None:
        self.names = names
        self.show_grad = show_grad
        self.root = root
        self.node_ids: dict[int, str] = {}
        self.counts = {"t": 0, "op": 0, "c": 0}
        self.lines: list[str] = []

    def new_id(self, prefix: str) -> str:
        self.counts[prefix] += 1
        return f"{prefix}{self.counts[prefix] - 1}"

    def tensor_node(self, tensor: Tensor) -> str:
        key = id(tensor)
        if key not in self.node_ids:
            node = self.node_ids[key] = self.new_id("t")
            label = _quote(*self.tensor_label(tensor))
            kind = self.tensor_kind(tensor)
            width = 2 if tensor is self.root else 1
            self.lines.append(f"{node} [label={label}, {_TENSOR_STYLE[kind]}, penwidth={width}];")
        return self.node_ids[key]

    def tensor_label(self, tensor: Tensor) -> list[str]:
        lines = [f"{tensor.shape} {tensor.dtype}"]
        if id(tensor) in self.names:
            lines.insert(0, self.names[id(tensor)])
        grad = tensor._grad  # not .grad: that warns on a non-leaf that retains none
        if self.show_grad and grad is not None:
            lines.append(f"grad {grad.shape}")
        return lines

    def tensor_kind(self, tensor: Tensor) -> str:
        if tensor.grad_fn is not None:
            return "inner"
        return "leaf" if tensor.requires_grad else "data"

    def constant_node(self, value: Any) -> str:
        node = self.new_id("c")
        scalar = isinstance(value, (bool, int, float, complex))
        shown = repr(value) if scalar else type(value).__name__
        self.lines.append(f"{node} [label={_quote(shown)}, {_CONSTANT_STYLE}];")
        return node

    def add_op(self, output: Tensor) -> None:
        ctx = output.grad_fn
        sources = [
            self.tensor_node(value) if isinstance(value, Tensor) else self.constant_node(value)
            for value in ctx.inputs
            if value is not None
        ]
        node = self.new_id("op")
        self.lines.append(f"{node} [label={_quote(ctx.name)}, {_OP_STYLE}];")
        self.lines.extend(f"{source} -> {node};" for source in sources)
        self.lines.append(f"{node} -> {self.tensor_node(output)};")


def _quote(*lines: str) -> str:
    """A DOT string literal of the lines, centred one under the other."""
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return '"' + "\\n".join(escaped) + '"'


# --- rendering ----------------------------------------------------------------------------


def render(dot_text: str, path: str | os.PathLike) -> Path:
    """Write `dot_text` next to `path` as a .dot file and, for a .svg/.png/.pdf path, render
    it there with Graphviz's `dot` program. Both files are written atomically.

    Returns the picture's path, or the .dot path when `path` ends in .dot or `dot` is not
    installed (then a warning says how to install it and render by hand)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt != "dot" and fmt not in RENDER_FORMATS:
        raise ValueError(
            f"render: path must end in .dot or one of {['.' + f for f in RENDER_FORMATS]}, "
            f"got {str(path)!r}"
        )
    dot_path = path.with_suffix(".dot")
    fileio.write_text(dot_path, dot_text)
    if fmt == "dot":
        return dot_path
    program = shutil.which("dot")
    if program is None:
        warnings.warn(
            f"Graphviz's `dot` program is not on PATH, so only {dot_path} was written. "
            f"Install Graphviz (apt-get install graphviz, or brew install graphviz) and "
            f"render it with: dot -T{fmt} {dot_path} -o {path}",
            stacklevel=2,
        )
        return dot_path
    with fileio.atomic_path(path) as temp:
        _run_dot(program, dot_path, temp, fmt)
    return path


def _run_dot(program: str, dot_path: Path, target: Path, fmt: str) -> None:
    result = subprocess.run(
        [program, f"-T{fmt}", str(dot_path), "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"render: `dot -T{fmt} {dot_path}` failed (exit {result.returncode}): "
            f"{result.stderr.strip()}"
        )


# --- the command line: the article's examples ---------------------------------------------


def batchnorm_graphs() -> dict[str, str]:
    """DOT text of batch norm on a (4, 3) input with gamma and beta, built step by step from
    primitive ops ("batchnorm_graph") and as the one fused op ("batchnorm_fused")."""
    x = minigrad.randn(4, 3, requires_grad=True)
    gamma = minigrad.ones(3, requires_grad=True)
    beta = minigrad.zeros(3, requires_grad=True)
    titles = {
        "graph": "batch norm, step by step: the engine differentiates each node",
        "fused": "batch norm, fused: one op with the derived backward",
    }
    graphs = {}
    for backward, title in titles.items():
        y = nn.functional.batch_norm(x, None, None, gamma, beta, True, backward=backward)
        names = {"x": x, "gamma": gamma, "beta": beta, "y": y}
        graphs[f"batchnorm_{backward}"] = to_dot(y, names, title=title)
    return graphs


def mlp_graph() -> dict[str, str]:
    """DOT text of Linear-BatchNorm1d-Sigmoid-Linear and cross-entropy on a batch of 4, drawn
    after backward(retain_graph=True) with the parameters' names and gradient shapes."""
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Sigmoid(), nn.Linear(5, 2))
    x = minigrad.randn(4, 3)
    target = minigrad.tensor([0, 1, 1, 0], dtype=minigrad.int64)
    loss = nn.functional.cross_entropy(model(x), target)
    loss.backward(retain_graph=True)
    names = {**dict(model.named_parameters()), "x": x, "target": target, "loss": loss}
    title = "two-layer MLP with batch norm and cross-entropy (gradients after backward)"
    return {"mlp": to_dot(loss, names, show_grad=True, title=title)}


_EXAMPLES = {"batchnorm": batchnorm_graphs, "mlp": mlp_graph}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.viz", description="Draw example autograd graphs."
    )
    parser.add_argument("example", choices=sorted(_EXAMPLES), help="which graph to draw")
    parser.add_argument("--out", type=Path, required=True, help="directory for the files")
    parser.add_argument("--format", choices=["svg", "png"], default="svg", help="picture format")
    args = parser.parse_args(argv)
    minigrad.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, dot_text in _EXAMPLES[args.example]().items():
        print(render(dot_text, args.out / f"{name}.{args.format}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
