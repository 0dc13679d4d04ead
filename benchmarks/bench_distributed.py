"""Data-parallel training on this machine: step times of the paper's net (bnpaper) and the CNN
for 1 and 2 MPI ranks (the global batch split over them), per-rank BatchNorm against
SyncBatchNorm, and what the communication costs per step: DistributedDataParallel's gradient
average (one all_reduce over a flat buffer, packing included) and one BN layer's statistics.

The driver launches `mpiexec -n N` runs of this file (--worker) and prints one table. All
ranks of one machine share its cores; with 2 cores no speed-up is expected, only the cost.
Run: python -m benchmarks.bench_distributed [--runs 1x1 1x2 2x1] [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import models
from benchmarks.common import print_table
from minigrad import distributed as dist
from minigrad import nn, optim
from minigrad.nn import functional as F
from minigrad.nn.parallel import DistributedDataParallel

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"bnpaper": 60, "cnn": 128}  # the global batch train.py uses for each


def worker(threads: int, repeats: int) -> None:
    mg.set_num_threads(threads)
    dist.init_process_group()
    rank, world_size = dist.get_rank(), dist.get_world_size()
    results = {}
    for name, global_batch in MODELS.items():
        rng = np.random.default_rng(rank)
        batch = global_batch // world_size
        x = mg.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
        y = mg.tensor(rng.integers(0, 10, batch))
        steps, wrappers = {}, {}
        for variant in ("plain", "bn", "syncbn"):
            mg.manual_seed(0)
            model = models.build(name, (1, 28, 28), 10, bn=variant != "plain")
            if variant == "syncbn":
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            wrappers[variant] = DistributedDataParallel(model)
            steps[f"{name}/{variant}/step"] = _step(wrappers[variant], x, y)
        steps[f"{name}/average_gradients"] = wrappers["bn"].average_gradients
        results.update(_interleaved(steps, repeats, inner=10 if name == "bnpaper" else 2))
        results[f"{name}/parameters"] = sum(p.numel() for p in wrappers["bn"].parameters())
    stats = mg.zeros(101, dtype=mg.float64)  # one BN layer of 100 channels: [sum x, count]
    results.update(_interleaved({"bn_statistics": lambda: dist.all_reduce(stats)}, repeats, 200))
    if rank == 0:
        print("RESULT " + json.dumps(results), flush=True)
    dist.destroy_process_group()


def _step(ddp: DistributedDataParallel, x: mg.Tensor, y: mg.Tensor):
    optimizer = optim.SGD(ddp.parameters(), lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(ddp(x), y).backward()
        optimizer.step()

    return step


def _interleaved(competitors: dict, repeats: int, inner: int) -> dict[str, float]:
    """Median seconds per call of each competitor over `repeats` blocks of `inner` calls,
    timed in alternation; the ranks start each block together and a block lasts as long as
    its slowest rank's."""
    for fn in competitors.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in competitors}
    for _ in range(repeats):
        for name, fn in competitors.items():
            dist.barrier()
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            elapsed = mg.tensor([time.perf_counter() - start], dtype=mg.float64)
            dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
            samples[name].append(elapsed.item() / inner)
    return {name: statistics.median(values) for name, values in samples.items()}


def launch(ranks: int, threads: int, repeats: int) -> dict:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    command = [str(mpiexec) if mpiexec.exists() else "mpiexec", "-n", str(ranks)]
    command += [sys.executable, "-m", "benchmarks.bench_distributed", "--worker"]
    command += ["--threads", str(threads), "--repeats", str(repeats)]
    # one BLAS thread per rank, as set_num_threads holds it: the ranks share the cores
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        nargs="+",
        default=["1x1", "1x2", "2x1"],
        help="RANKSxTHREADS: ranks, and minigrad threads per rank (default: %(default)s)",
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.threads, args.repeats)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    shapes = [tuple(int(n) for n in run.split("x")) for run in args.runs]
    runs = {shape: launch(*shape, args.repeats) for shape in shapes}
    rows = []
    for name, batch in MODELS.items():
        for variant in ("plain", "bn", "syncbn"):
            row = [name, variant, str(batch)]
            row += [f"{runs[shape][f'{name}/{variant}/step'] * 1e3:.2f}" for shape in shapes]
            rows.append(tuple(row))
    headers = ("model", "variant", "global batch")
    headers += tuple(f"{r} rank(s) x {t} thread(s) ms/step" for r, t in shapes)
    print_table("training step (median of the slowest rank)", rows, headers)
    comm_rows = []
    for (ranks, _), result in runs.items():
        if ranks == 1:
            continue
        for name in MODELS:
            average, step = result[f"{name}/average_gradients"], result[f"{name}/bn/step"]
            size = result[f"{name}/parameters"]
            share = f"{100 * average / step:.1f}%"
            comm_rows.append((ranks, name, size, f"{average * 1e3:.3f}", share))
        latency = result["bn_statistics"]
        comm_rows.append((ranks, "one BN layer's statistics", 101, f"{latency * 1e3:.4f}", ""))
    if comm_rows:
        headers = ("ranks", "all_reduce of", "values", "ms", "of the bn step")
        print_table("communication per step (median)", comm_rows, headers)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
