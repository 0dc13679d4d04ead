"""The GPU check: on a machine with an NVIDIA GPU and CuPy, in one command (`make gpu-check`):

1. runs the whole test suite, the GPU-marked tests included;
2. trains the paper's MNIST net and the CNN for a few hundred steps on the CPU and on the GPU
   from the same seed and data order, and checks the loss curves agree to float32 tolerance;
3. times one training step on the GPU for both models at batch sizes 60, 128 and 1024, next
   to the CPU and, where PyTorch with CUDA is installed, PyTorch on the same GPU;

and prints one table. Exit status 1 if the tests fail or the curves disagree.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np

import minigrad
import models
from benchmarks.bench_train import mnist_or_random, torch_model
from benchmarks.common import median_seconds, try_import_torch
from minigrad import backend
from minigrad.nn import functional as F

MODELS = {"bnpaper": 0.5, "cnn": 0.05}


def run_tests() -> bool:
    print("== test suite (GPU tests enabled when CuPy sees a GPU)", flush=True)
    return subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-x"]).returncode == 0


def loss_curve(name: str, device: str, steps: int, images, labels, batch: int = 60) -> list:
    """Per-step training losses (reading each loss is a host sync: fine for a check)."""
    minigrad.manual_seed(0)
    model = models.build(name, (1, 28, 28), 10, bn=True).to(device)
    optimizer = minigrad.optim.SGD(model.parameters(), lr=MODELS[name])
    losses = []
    for step in range(steps):
        index = np.arange(step * batch, (step + 1) * batch) % len(labels)
        x = minigrad.tensor(images[index], device=device)
        y = minigrad.tensor(labels[index], device=device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def compare_curves(steps: int, images, labels) -> bool:
    agreed = True
    for name in MODELS:
        cpu = np.array(loss_curve(name, "cpu", steps, images, labels))
        gpu = np.array(loss_curve(name, "cuda", steps, images, labels))
        first = slice(0, 50)
        early = np.max(np.abs(cpu[first] - gpu[first]) / np.abs(cpu[first]))
        late = np.max(np.abs(cpu - gpu) / np.abs(cpu))
        ok = early < 1e-3
        agreed &= ok
        print(
            f"== {name}: CPU vs GPU loss over {steps} steps: max relative difference "
            f"{early:.2e} over the first 50 steps, {late:.2e} over all "
            f"({'ok' if ok else 'DISAGREE'}; float32 rounding grows as training goes on)"
        )
    return agreed


def minigrad_step_seconds(name: str, device: str, batch: int, images, labels, repeats: int):
    minigrad.manual_seed(0)
    model = models.build(name, (1, 28, 28), 10, bn=True).to(device)
    optimizer = minigrad.optim.SGD(model.parameters(), lr=MODELS[name])
    x = minigrad.tensor(images[:batch], device=device)
    y = minigrad.tensor(labels[:batch], device=device)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return median_seconds(
        step, repeats, inner=20, sync=lambda: backend.synchronize(device), warmup=5
    )


def torch_step_seconds(torch, name: str, batch: int, images, labels, repeats: int):
    model = torch_model(torch, name, bn=True).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=MODELS[name])
    x = torch.from_numpy(images[:batch]).cuda()
    y = torch.from_numpy(labels[:batch]).cuda()

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return median_seconds(step, repeats, inner=20, sync=torch.cuda.synchronize, warmup=5)


def timing_table(images, labels, repeats: int) -> None:
    torch = try_import_torch()
    has_torch_gpu = torch is not None and torch.cuda.is_available()
    print("\n== step time (forward + backward + SGD step, BN on), milliseconds, median")
    header = f"{'model':8} {'batch':>5} {'minigrad GPU':>13} {'minigrad CPU':>13} {'CPU/GPU':>8}"
    if has_torch_gpu:
        header += f" {'torch GPU':>10} {'minigrad/torch':>15}"
    print(header)
    for name in MODELS:
        for batch in (60, 128, 1024):
            gpu = minigrad_step_seconds(name, "cuda", batch, images, labels, repeats)
            cpu = minigrad_step_seconds(name, "cpu", batch, images, labels, max(repeats // 3, 3))
            line = f"{name:8} {batch:>5} {gpu * 1e3:>13.2f} {cpu * 1e3:>13.2f} {cpu / gpu:>7.1f}x"
            if has_torch_gpu:
                theirs = torch_step_seconds(torch, name, batch, images, labels, repeats)
                line += f" {theirs * 1e3:>10.2f} {gpu / theirs:>14.2f}x"
            print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="steps for the CPU/GPU curves")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args()
    if not minigrad.cuda_is_available():
        try:
            backend.get_cupy()
        except backend.DeviceError as error:
            print(f"gpu-check needs a GPU: {error}")
        return 1
    tests_ok = args.skip_tests or run_tests()
    images, labels = mnist_or_random(count=20_000)
    curves_ok = compare_curves(args.steps, images, labels)
    timing_table(images, labels, args.repeats)
    verdict = "agree" if curves_ok else "DISAGREE"
    print(f"\ntests {'passed' if tests_ok else 'FAILED'}; curves {verdict}")
    return 0 if tests_ok and curves_ok else 1


if __name__ == "__main__":
    sys.exit(main())
