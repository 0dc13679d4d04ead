"""Seconds per 60k-sample MNIST epoch: minigrad against PyTorch CPU, both in this run.

For each model (the paper's MLP at batch 60, the CNN at batch 128), with and without batch norm,
it times blocks of training steps (data loader, forward, loss, backward, SGD step) for minigrad
and for the same network in PyTorch, alternating the two, and reports the median step time
times the steps in one epoch. Uses the real MNIST when it is cached, else random images.

Run: python -m benchmarks.bench_train [--repeats 7] [--block STEPS] [--models bnpaper cnn]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import minigrad
import models
from benchmarks.common import print_table, try_import_torch
from benchmarks.torch_models import torch_model
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F

# (model, batch, lr, steps per timed block: about a second of training each)
CASES = [("bnpaper", 60, 0.5, 500), ("cnn", 128, 0.05, 25)]


def mnist_or_random(count: int = 60_000) -> tuple[np.ndarray, np.ndarray]:
    import datasets

    try:
        return datasets.load("mnist", "train", download=False)
    except datasets.DatasetNotFoundError:
        rng = np.random.default_rng(0)
        images = rng.random((count, 1, 28, 28), dtype=np.float32)
        return images, rng.integers(0, 10, count)


def minigrad_stepper(name: str, bn: bool, batch: int, lr: float, images, labels):
    """A training step as train.py runs it (the model's BLAS thread count included)."""
    minigrad.set_num_threads(models.REGISTRY[name].defaults.get("threads") or os.cpu_count())
    minigrad.manual_seed(0)
    model = models.build(name, (1, 28, 28), 10, bn=bn)
    optimizer = minigrad.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(
        TensorDataset(images, labels), batch_size=batch, shuffle=True, drop_last=True, seed=0
    )
    batches = iter(loader)

    def step():
        nonlocal batches
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step, len(loader)


def torch_stepper(torch, name: str, bn: bool, batch: int, lr: float, images, labels):
    torch.manual_seed(0)
    model = torch_model(torch, name, bn)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(0)
    state = {"order": torch.randperm(len(y_all), generator=generator), "at": 0}

    def step():
        if state["at"] + batch > len(y_all):
            state["order"], state["at"] = torch.randperm(len(y_all), generator=generator), 0
        index = state["order"][state["at"] : state["at"] + batch]
        state["at"] += batch
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x_all[index]), y_all[index]).backward()
        optimizer.step()

    return step


def time_block(step, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        step()
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--block", type=int, help="steps per timed block (default: per model)")
    parser.add_argument("--models", nargs="+", default=[name for name, *_ in CASES])
    args = parser.parse_args()
    torch = try_import_torch()
    if torch is not None:
        torch.set_num_threads(2)
    images, labels = mnist_or_random()
    rows = []
    for name, batch, lr, block_steps in CASES:
        if name not in args.models:
            continue
        for bn in (False, True):
            ours, steps_per_epoch = minigrad_stepper(name, bn, batch, lr, images, labels)
            competitors = {"minigrad": ours}
            if torch is not None:
                competitors["torch"] = torch_stepper(torch, name, bn, batch, lr, images, labels)
            samples = {key: [] for key in competitors}
            for step in competitors.values():
                time_block(step, 5)  # warm-up
            for _ in range(args.repeats):
                for key, step in competitors.items():
                    time.sleep(0.3)  # let the other library's idle BLAS threads stop spinning
                    samples[key].append(time_block(step, args.block or block_steps))
            epoch = {key: statistics.median(v) * steps_per_epoch for key, v in samples.items()}
            ratio = f"{epoch['minigrad'] / epoch['torch']:.2f}x" if "torch" in epoch else "-"
            torch_s = f"{epoch['torch']:.2f}" if "torch" in epoch else "-"
            rows.append(
                (name, batch, "on" if bn else "off", f"{epoch['minigrad']:.2f}", torch_s, ratio)
            )
    print_table(
        f"seconds per 60k-sample epoch (median of {args.repeats} timed blocks of about 1 s)",
        rows,
        ("model", "batch", "bn", "minigrad s", "torch s", "minigrad/torch"),
    )


if __name__ == "__main__":
    main()
