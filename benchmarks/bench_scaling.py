"""How a training step's cost grows with the work: step time of the paper's net and the CNN
against batch size and thread count, minigrad next to PyTorch CPU.

Each cell runs the user's loop of bench_user_loop (benchmarks.workers: a fresh process per
framework, timed in alternation, medians over the repeats) with set_num_threads(threads) on
both sides, so 1 and 2 threads are compared like for like.

Run: python -m benchmarks.bench_scaling [--repeats 5] [--batches 16 64 256 1024]
     [--threads 1 2] [--models bnpaper cnn] [--bn] [--torch-python PATH]
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.common import print_table
from benchmarks.workers import Worker, compare, load_line, torch_python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256, 1024])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--models", nargs="+", choices=["bnpaper", "cnn"], default=["bnpaper", "cnn"]
    )
    parser.add_argument("--bn", action="store_true", help="the models with batch norm")
    parser.add_argument("--torch-python", help="a Python with torch (default: see workers)")
    args = parser.parse_args()
    python = torch_python(args.torch_python)
    print(load_line() + " at the start")
    rows = []
    for name in args.models:
        for batch in args.batches:
            for threads in args.threads:
                workers = {
                    "minigrad": Worker(sys.executable, "minigrad", name, args.bn, batch, threads)
                }
                if python is not None:
                    workers["torch"] = Worker(python, "torch", name, args.bn, batch, threads)
                try:
                    seconds = compare(workers, args.repeats)
                finally:
                    for worker in workers.values():
                        worker.close()
                ours, theirs = seconds["minigrad"], seconds.get("torch")
                rows.append(
                    (
                        name,
                        batch,
                        threads,
                        f"{ours * 1e3:.2f}",
                        f"{ours / batch * 1e6:.1f}",
                        f"{theirs * 1e3:.2f}" if theirs else "-",
                        f"{ours / theirs:.2f}x" if theirs else "-",
                    )
                )
    print(load_line() + " at the end")
    print_table(
        f"ms per training step{' (with batch norm)' if args.bn else ''}, medians of "
        f"{args.repeats} alternating blocks",
        rows,
        ("model", "batch", "threads", "minigrad ms", "us/sample", "torch ms", "minigrad/torch"),
    )


if __name__ == "__main__":
    main()
