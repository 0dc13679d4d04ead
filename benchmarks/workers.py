"""Training steps timed in worker processes: one fresh process per framework and case, driven
over a pipe, so that each side runs with its own defaults (threads, BLAS settings, allocator)
and the two can still be timed in alternation.

A worker is `python -m benchmarks.workers FRAMEWORK MODEL BN BATCH [THREADS]`; it builds the
model, then answers each line "N" on stdin with the seconds per step of N training steps. This
module imports no framework at the top: the PyTorch side may run in another Python (a venv
with torch) that has no minigrad installed.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = {"bnpaper": {"lr": 0.5}, "cnn": {"lr": 0.05, "momentum": 0.9}}  # models/' defaults
BATCHES = 8  # distinct batches cycled through, made before timing (no data loading is timed)


def random_batches(batch: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch))
        for _ in range(BATCHES)
    ]


def minigrad_loop(name: str, bn: bool, batch: int, threads: int | None) -> Callable[[int], None]:
    """`run(steps)`: the loop a PyTorch user writes, in minigrad (no set_num_threads unless
    `threads` is given)."""
    import minigrad
    import models
    from minigrad.nn import functional as F

    if threads is not None:
        minigrad.set_num_threads(threads)
    minigrad.manual_seed(0)
    model = models.build(name, (1, 28, 28), 10, bn=bn)
    optimizer = minigrad.optim.SGD(model.parameters(), **OPTIONS[name])
    batches = [(minigrad.tensor(x), minigrad.tensor(y)) for x, y in random_batches(batch)]

    def run(steps: int) -> None:
        model.train()
        for step in range(steps):
            images, labels = batches[step % BATCHES]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()

    return run


def torch_loop(name: str, bn: bool, batch: int, threads: int | None) -> Callable[[int], None]:
    """The same loop in PyTorch."""
    import torch

    from benchmarks.torch_models import torch_model

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch_model(torch, name, bn)
    optimizer = torch.optim.SGD(model.parameters(), **OPTIONS[name])
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in random_batches(batch)]

    def run(steps: int) -> None:
        model.train()
        for step in range(steps):
            images, labels = batches[step % BATCHES]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()

    return run


def numpy_loop(name: str, bn: bool, batch: int, threads: int | None) -> Callable[[int], None]:
    """The paper's net's step written by hand in NumPy, with no framework: the same forward,
    backward (batch norm's by its derived formula) and SGD update as minigrad's, BLAS held to
    `threads` (default one) as minigrad holds it. Its time is the floor under minigrad's: what
    the arrays cost, with nothing for the graph, the checks or the modules."""
    if name != "bnpaper":
        raise SystemExit(
            f"numpy_loop: only the paper's net (bnpaper) is written by hand, not {name}"
        )
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads or 1, user_api="blas")
    rng = np.random.default_rng(0)
    sizes = (784, 100, 100, 100, 10)
    weights = [rng.normal(0, 0.1, (o, i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    biases = [np.zeros(o, np.float32) for o in sizes[1:]]  # with BN only the last is used
    gammas = [np.ones(width, np.float32) for width in sizes[1:-1]]
    betas = [np.zeros(width, np.float32) for width in sizes[1:-1]]
    running_means = [np.zeros(width, np.float32) for width in sizes[1:-1]]
    running_vars = [np.ones(width, np.float32) for width in sizes[1:-1]]
    batches = [(x.reshape(batch, -1), y) for x, y in random_batches(batch)]
    lr, rows, momentum = np.float32(OPTIONS[name]["lr"]), np.arange(batch), 0.1

    def step(x: np.ndarray, y: np.ndarray) -> None:
        inputs, outputs, normalized = [], [], []
        h = x
        for layer in range(4):
            inputs.append(h)
            z = h @ weights[layer].T
            if layer == 3 or not bn:
                z += biases[layer]
            else:
                mean = z.mean(axis=0)
                centered = z - mean
                var = (centered * centered).mean(axis=0)
                inv_std = 1 / np.sqrt(var + 1e-5)
                x_hat = centered * inv_std
                z = x_hat * gammas[layer] + betas[layer]
                running_means[layer] *= 1 - momentum
                running_means[layer] += momentum * mean
                running_vars[layer] *= 1 - momentum
                running_vars[layer] += (momentum * batch / (batch - 1)) * var
                normalized.append((x_hat, inv_std))
            if layer < 3:
                h = 1 / (1 + np.exp(-z))
                outputs.append(h)
        z -= z.max(axis=1, keepdims=True)  # softmax cross-entropy, its gradient by rows
        probs = np.exp(z)
        probs /= probs.sum(axis=1, keepdims=True)
        grad = probs
        grad[rows, y] -= 1
        grad /= batch
        for layer in reversed(range(4)):
            if layer < 3:
                h = outputs[layer]
                grad = grad * h * (1 - h)
            if layer < 3 and bn:
                x_hat, inv_std = normalized[layer]
                d_gamma, d_beta = (grad * x_hat).sum(axis=0), grad.sum(axis=0)
                grad = (gammas[layer] * inv_std) * (
                    grad - d_beta / batch - x_hat * (d_gamma / batch)
                )
                gammas[layer] -= lr * d_gamma
                betas[layer] -= lr * d_beta
            else:
                biases[layer] -= lr * grad.sum(axis=0)
            grad_weight = grad.T @ inputs[layer]
            if layer:
                grad = grad @ weights[layer]
            weights[layer] -= lr * grad_weight

    def run(steps: int) -> None:
        for index in range(steps):
            step(*batches[index % BATCHES])

    return run


LOOPS = {"minigrad": minigrad_loop, "torch": torch_loop, "numpy": numpy_loop}


def serve(framework: str, name: str, bn: str, batch: str, threads: str | None = None) -> None:
    """The worker's side of the pipe: build, say "ready", then time blocks of steps."""
    run = LOOPS[framework](name, bn == "1", int(batch), None if threads is None else int(threads))
    print("ready", flush=True)
    for line in sys.stdin:
        steps = int(line)
        start = time.perf_counter()
        run(steps)
        print((time.perf_counter() - start) / steps, flush=True)


class Worker:
    """A worker process of one framework and case; `time(steps)` is seconds per step."""

    def __init__(self, python: str, framework: str, name: str, bn: bool, batch: int, threads):
        command = [python, "-m", "benchmarks.workers", framework, name, "1" if bn else "0"]
        command += [str(batch)] + ([] if threads is None else [str(threads)])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), _path()])))
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"worker {' '.join(command)} failed to start (see its stderr)")

    def time(self, steps: int) -> float:
        self.process.stdin.write(f"{steps}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def _path() -> str:
    return os.environ.get("PYTHONPATH", "")


def torch_python(requested: str | None) -> str | None:
    """A Python that can import torch: `requested`, else $MINIGRAD_TORCH_PYTHON, else this
    one; None when it cannot."""
    python = requested or os.environ.get("MINIGRAD_TORCH_PYTHON") or sys.executable
    python = shutil.which(python) or python
    found = subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0
    return python if found else None


def compare(
    workers: dict[str, Worker], repeats: int, block_seconds: float = 0.25
) -> dict[str, float]:
    """Median seconds per step of each worker over `repeats` rounds, the workers timed one
    after the other in each round (the order flipped every round), blocks of about
    `block_seconds` each after a warm-up block."""
    blocks = {}
    for key, worker in workers.items():
        first = worker.time(2)
        blocks[key] = max(1, round(block_seconds / max(worker.time(2), first / 4)))
    samples: dict[str, list[float]] = {key: [] for key in workers}
    order = list(workers)
    for _ in range(repeats):
        for key in order:
            time.sleep(0.05)  # the other side's idle threads settle
            samples[key].append(workers[key].time(blocks[key]))
        order.reverse()
    return {key: statistics.median(values) for key, values in samples.items()}


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


if __name__ == "__main__":
    serve(*sys.argv[1:])
