"""A training loop as a PyTorch user writes it, in minigrad and in PyTorch CPU: step times and
their ratio, each framework with its own defaults (no set_num_threads on either side).

The loop: model.train(), then per batch zero_grad, forward, cross_entropy, backward, SGD step,
over batches made beforehand. Each side runs in a fresh process of its own (benchmarks.workers)
and the two are timed in alternation; medians over the repeats. The cases: the paper's net
(784-100-100-100-10 sigmoid, batch 60, SGD lr 0.5) and the CNN (models/cnn.py, batch 128, SGD
lr 0.05 momentum 0.9), each with and without batch norm, against the targets of issue 15.
For the paper's net a third process times the same step written by hand in NumPy with BLAS
on one thread (workers.numpy_loop): the floor under minigrad's time, the arrays alone.

Run: python -m benchmarks.bench_user_loop [--repeats 9] [--torch-python PATH] [--cases ...]
(PyTorch from --torch-python or $MINIGRAD_TORCH_PYTHON, else this Python; minigrad alone
without it.)
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.common import print_table
from benchmarks.workers import Worker, compare, load_line, torch_python

HAND_WRITTEN = {"bnpaper"}  # models whose step benchmarks.workers.numpy_loop writes in NumPy
# name: (model, batch norm, batch size, the ratio to PyTorch's step time to reach)
CASES = {
    "paper": ("bnpaper", False, 60, 0.65),
    "paper-bn": ("bnpaper", True, 60, 0.8),
    "cnn": ("cnn", False, 128, 1.25),
    "cnn-bn": ("cnn", True, 128, 1.2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--torch-python", help="a Python with torch (default: see above)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = parser.parse_args()
    python = torch_python(args.torch_python)
    if python is None:
        print("no torch found: minigrad's figures alone (pass --torch-python)")
    print(load_line() + " at the start")
    rows = []
    for case in args.cases:
        name, bn, batch, target = CASES[case]
        workers = {"minigrad": Worker(sys.executable, "minigrad", name, bn, batch, None)}
        if python is not None:
            workers["torch"] = Worker(python, "torch", name, bn, batch, None)
        if name in HAND_WRITTEN:
            workers["numpy"] = Worker(sys.executable, "numpy", name, bn, batch, None)
        try:
            seconds = compare(workers, args.repeats)
        finally:
            for worker in workers.values():
                worker.close()
        ours, theirs, floor = seconds["minigrad"], seconds.get("torch"), seconds.get("numpy")
        met = "-" if not theirs else ("met" if ours / theirs <= target else "missed")
        rows.append(
            (
                case,
                batch,
                f"{ours * 1e3:.3f}",
                f"{theirs * 1e3:.3f}" if theirs else "-",
                f"{floor * 1e3:.3f}" if floor else "-",
                f"{ours / theirs:.2f}x" if theirs else "-",
                f"{floor / theirs:.2f}x" if theirs and floor else "-",
                f"<= {target}x",
                met,
            )
        )
    print(load_line() + " at the end")
    print_table(
        f"ms per training step, the user's loop, medians of {args.repeats} alternating blocks",
        rows,
        (
            "case",
            "batch",
            "minigrad ms",
            "torch ms",
            "numpy ms",
            "minigrad/torch",
            "numpy/torch",
            "target",
            "",
        ),
    )


if __name__ == "__main__":
    main()
