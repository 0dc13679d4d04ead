"""Peak memory of one CNN training step (batch 128): minigrad against PyTorch CPU, each in a
fresh process of its own.

For each framework a new process imports it, builds the CNN (models/cnn.py, with and without
batch norm), makes one batch and runs one step of the user's loop (zero_grad, forward,
cross_entropy, backward, SGD with momentum). It reports the process's peak RSS
(resource.getrusage) and its RSS just before the step, so that the step's own peak is their
difference; for minigrad also tracemalloc's peak over the step (NumPy reports its arrays to
tracemalloc) and the largest arrays the graph holds between forward and backward.

Run: python -m benchmarks.bench_memory [--torch-python PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

from benchmarks.common import print_table
from benchmarks.workers import BATCHES, OPTIONS, ROOT, random_batches, torch_python

MIB = 1024 * 1024


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_minigrad(bn: bool) -> dict:
    import tracemalloc

    import minigrad
    import models
    from minigrad.nn import functional as F

    minigrad.manual_seed(0)
    model = models.build("cnn", (1, 28, 28), 10, bn=bn)
    optimizer = minigrad.optim.SGD(model.parameters(), **OPTIONS["cnn"])
    images, labels = (minigrad.tensor(array) for array in random_batches(128)[0])
    before = rss_mib()
    tracemalloc.start()
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    held = _graph_arrays(loss)
    loss.backward()
    optimizer.step()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "before": before,
        "peak": peak_rss_mib(),
        "traced": traced_peak / MIB,
        "graph": sum(size for _, size in held) / MIB,
        "largest": held[:6],
    }


def _graph_arrays(root) -> list[tuple[str, int]]:
    """(what, bytes) of every array the graph below root holds for backward, each memory
    owner once (an op's output, or an array one of its nodes saved), the largest first."""
    from minigrad.autograd import engine

    held, seen = [], set()

    def add(what: str, array) -> None:
        owner = array if array.base is None else array.base
        if id(owner) not in seen:
            seen.add(id(owner))
            held.append((f"{what} {tuple(owner.shape)}", owner.nbytes))

    for output in engine.topological_order(root):
        ctx = output._ctx
        add(f"{ctx.name} output", output.data)
        for saved in ctx.saved_tensors:
            if hasattr(saved, "nbytes"):
                add(f"{ctx.name} saved", saved)
    return sorted(held, key=lambda entry: -entry[1])


def measure_torch(bn: bool) -> dict:
    import torch

    from benchmarks.torch_models import torch_model

    torch.manual_seed(0)
    model = torch_model(torch, "cnn", bn)
    optimizer = torch.optim.SGD(model.parameters(), **OPTIONS["cnn"])
    images, labels = (torch.from_numpy(array) for array in random_batches(128)[0])
    before = rss_mib()
    model.train()
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(images), labels).backward()
    optimizer.step()
    return {"before": before, "peak": peak_rss_mib()}


def run_fresh(python: str, framework: str, bn: bool) -> dict:
    command = [python, "-m", "benchmarks.bench_memory", "--measure", framework]
    command += ["--bn"] if bn else []
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", help="a Python with torch (default: see workers)")
    parser.add_argument("--measure", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--bn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # inside the fresh process
        measure = measure_minigrad if args.measure == "minigrad" else measure_torch
        print(json.dumps(measure(args.bn)))
        return
    python = torch_python(args.torch_python)
    rows, largest = [], {}
    for bn in (False, True):
        ours = run_fresh(sys.executable, "minigrad", bn)
        theirs = run_fresh(python, "torch", bn) if python else None
        step_ours = ours["peak"] - ours["before"]
        row = [
            "on" if bn else "off",
            f"{ours['peak']:.0f}",
            f"{step_ours:.0f}",
            f"{ours['traced']:.0f}",
            f"{ours['graph']:.0f}",
        ]
        if theirs:
            step_theirs = theirs["peak"] - theirs["before"]
            row += [
                f"{theirs['peak']:.0f}",
                f"{step_theirs:.0f}",
                f"{ours['peak'] / theirs['peak']:.2f}x",
                f"{step_ours / step_theirs:.2f}x",
            ]
        rows.append(tuple(row))
        largest[bn] = ours["largest"]
    headers = ["bn", "minigrad peak RSS", "its step", "tracemalloc peak", "graph holds"]
    if python:
        headers += ["torch peak RSS", "its step", "peak ratio", "step ratio"]
    print_table(
        f"MiB, one CNN training step at batch 128 (of {BATCHES} made), a fresh process each",
        rows,
        tuple(headers),
    )
    for bn, entries in largest.items():
        print(f"\nlargest arrays the graph holds for backward, bn {'on' if bn else 'off'}:")
        for what, size in entries:
            print(f"  {size / MIB:6.1f} MiB  {what}")


if __name__ == "__main__":
    main()
