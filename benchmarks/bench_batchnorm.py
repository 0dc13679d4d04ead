"""Batch norm forward+backward: the fused derived backward against the graph of primitive ops,
a plain NumPy transcription of the fused formulas and (when installed) PyTorch on the CPU.

All competitors are timed in alternation in one run; ratios compare medians of that run.
Run: python -m benchmarks.bench_batchnorm
"""

from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
from benchmarks.common import interleaved, print_table, try_import_torch
from minigrad.nn import functional as F

SHAPES = [(256, 1024), (128, 64, 16, 16)]
EPS = 1e-5


def minigrad_step(shape: tuple, backward: str):
    rng = np.random.default_rng(0)
    channels = shape[1]
    x = mg.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    dy = mg.tensor(rng.standard_normal(shape, dtype=np.float32))
    weight = mg.ones(channels, requires_grad=True)
    bias = mg.zeros(channels, requires_grad=True)
    running_mean, running_var = mg.zeros(channels), mg.ones(channels)

    def step():
        x.grad = weight.grad = bias.grad = None
        out = F.batch_norm(
            x, running_mean, running_var, weight, bias, training=True, backward=backward
        )
        out.backward(dy)

    return step


def numpy_step(shape: tuple):
    """The fused formulas written plainly in NumPy, as a reader would first write them."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    dy = rng.standard_normal(shape, dtype=np.float32)
    param_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    gamma = np.ones(param_shape, dtype=np.float32)
    beta = np.zeros(param_shape, dtype=np.float32)
    axes = (0,) + tuple(range(2, len(shape)))
    m = x.size // shape[1]

    def step():
        mu = x.mean(axis=axes, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + EPS)
        x_hat = (x - mu) * inv_std
        out = gamma * x_hat + beta
        d_beta = dy.sum(axis=axes, keepdims=True)
        d_gamma = (dy * x_hat).sum(axis=axes, keepdims=True)
        dx = (gamma * inv_std / m) * (m * dy - d_beta - x_hat * d_gamma)
        return out, dx, d_gamma, d_beta

    return step


def torch_step(torch, shape: tuple):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal(shape, dtype=np.float32)).requires_grad_()
    dy = torch.from_numpy(rng.standard_normal(shape, dtype=np.float32))
    layer = torch.nn.BatchNorm1d(shape[1]) if len(shape) == 2 else torch.nn.BatchNorm2d(shape[1])

    def step():
        x.grad = None
        layer.zero_grad()
        layer(x).backward(dy)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="minigrad.set_num_threads (default 1: the "
        "graph version and NumPy by hand run on one thread too)",
    )
    mg.set_num_threads(parser.parse_args().threads)
    torch = try_import_torch()
    rows = []
    for shape in SHAPES:
        competitors = {
            "fused": minigrad_step(shape, "fused"),
            "graph": minigrad_step(shape, "graph"),
            "numpy": numpy_step(shape),
        }
        if torch is not None:
            competitors["torch"] = torch_step(torch, shape)
        times = interleaved(competitors, repeats=31)
        fused = times["fused"]
        row = [str(shape)] + [f"{times[name] * 1e3:.2f}" for name in competitors]
        row += [f"{times['graph'] / fused:.2f}x", f"{times['numpy'] / fused:.2f}x"]
        if torch is not None:
            row.append(f"{fused / times['torch']:.2f}x")
        rows.append(tuple(row))
    headers = ["shape (float32)"] + [f"{name} ms" for name in competitors]
    headers += ["graph/fused", "numpy/fused"]
    if torch is not None:
        headers.append("fused/torch")
    where = f"torch {torch.__version__}, {torch.get_num_threads()} threads" if torch else "no torch"
    where = f"minigrad {mg.get_num_threads()} thread(s) (--threads), {where}"
    print_table(
        f"batch norm forward+backward (training), medians of 31 interleaved repeats; {where}",
        rows,
        tuple(headers),
    )


if __name__ == "__main__":
    main()
