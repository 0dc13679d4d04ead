"""Conv2d and max_pool2d speed: minigrad forward+backward against PyTorch CPU in the same run.

Run: python -m benchmarks.bench_conv [--rounds 7] [--threads N] [--profile]
PyTorch is optional (figures for minigrad alone without it); --profile prints where minigrad's
conv step spends its time (cProfile, sorted by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time

import numpy as np

import minigrad as mg
from benchmarks.common import print_table, try_import_torch
from minigrad import nn
from minigrad.ops.pool import max_pool2d


def conv_case(torch):
    """Conv2d(32, 64, 3, padding=1) on x (128, 32, 14, 14), float32: forward + backward."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((128, 32, 14, 14), dtype=np.float32)
    grad_np = rng.standard_normal((128, 64, 14, 14), dtype=np.float32)
    layer = nn.Conv2d(32, 64, 3, padding=1)
    x, grad = mg.tensor(x_np, requires_grad=True), mg.tensor(grad_np)

    def minigrad_step():
        x.grad = None
        layer.zero_grad()
        layer(x).backward(grad)

    competitors = {"minigrad": minigrad_step}
    if torch is not None:
        torch_layer = torch.nn.Conv2d(32, 64, 3, padding=1)
        with torch.no_grad():
            torch_layer.weight.copy_(torch.from_numpy(layer.weight.numpy()))
            torch_layer.bias.copy_(torch.from_numpy(layer.bias.numpy()))
        x_t = torch.from_numpy(x_np).requires_grad_(True)
        grad_t = torch.from_numpy(grad_np)

        def torch_step():
            x_t.grad = None
            torch_layer.zero_grad(set_to_none=True)
            torch_layer(x_t).backward(grad_t)

        competitors["torch"] = torch_step
        minigrad_step()
        torch_step()
        _check_close(x.grad.numpy(), x_t.grad.numpy(), "conv2d input gradient")
        _check_close(layer.weight.grad.numpy(), torch_layer.weight.grad.numpy(), "weight grad")
    return competitors


def max_pool_case(torch):
    """max_pool2d 2x2 (stride 2) on x (128, 64, 28, 28), float32: forward + backward."""
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((128, 64, 28, 28), dtype=np.float32)
    grad_np = rng.standard_normal((128, 64, 14, 14), dtype=np.float32)
    x, grad = mg.tensor(x_np, requires_grad=True), mg.tensor(grad_np)

    def minigrad_step():
        x.grad = None
        max_pool2d(x, 2).backward(grad)

    competitors = {"minigrad": minigrad_step}
    if torch is not None:
        x_t = torch.from_numpy(x_np).requires_grad_(True)
        grad_t = torch.from_numpy(grad_np)

        def torch_step():
            x_t.grad = None
            torch.nn.functional.max_pool2d(x_t, 2).backward(grad_t)

        competitors["torch"] = torch_step
        minigrad_step()
        torch_step()
        _check_close(x.grad.numpy(), x_t.grad.numpy(), "max_pool2d input gradient")
    return competitors


def _check_close(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    """The race is only fair if both sides compute the same thing."""
    scale = float(np.abs(theirs).max()) or 1.0
    error = float(np.abs(ours - theirs).max()) / scale
    if error > 1e-4:
        raise AssertionError(f"{what}: minigrad and torch differ (max relative error {error:.2e})")


def alternating_blocks(competitors: dict, rounds: int, block: int = 3, pause: float = 0.3) -> dict:
    """Median seconds per call of each competitor, timed in alternating blocks of `block` calls.

    Not call-by-call alternation: after a NumPy matrix product OpenBLAS's worker threads spin
    for about 0.1 s, and on a 2-core machine that spinning slows a torch call started at once by
    2-3x. A pause before each block lets the other library's threads go to sleep."""
    samples: dict[str, list[float]] = {name: [] for name in competitors}
    for fn in competitors.values():
        fn()  # warm-up: first-touch page faults, allocator growth
    for _ in range(rounds):
        for name, fn in competitors.items():
            time.sleep(pause)
            for _ in range(block):
                start = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def profile(step, calls: int = 20) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    print(f"\ncProfile of {calls} minigrad conv steps (own time, top 12):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="blocks of 3 calls per competitor")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="minigrad.set_num_threads (default: all cores, as train.py runs the CNN)",
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    mg.set_num_threads(args.threads)
    torch = try_import_torch()
    cases = {
        "Conv2d 32->64 3x3 pad 1, x (128,32,14,14)": conv_case(torch),
        "max_pool2d 2x2, x (128,64,28,28)": max_pool_case(torch),
    }
    rows = []
    for name, competitors in cases.items():
        times = alternating_blocks(competitors, args.rounds)
        ours = times["minigrad"] * 1e3
        if torch is None:
            rows.append((name, f"{ours:.1f}", "-", "-"))
        else:
            theirs = times["torch"] * 1e3
            rows.append((name, f"{ours:.1f}", f"{theirs:.1f}", f"{ours / theirs:.2f}x"))
    threads = f", minigrad threads {mg.get_num_threads()}"
    threads += f", torch threads {torch.get_num_threads()}" if torch is not None else ""
    print_table(
        f"float32 forward+backward, medians of {3 * args.rounds} calls in alternating blocks "
        f"(ms){threads}",
        rows,
        ("case", "minigrad ms", "torch ms", "minigrad/torch"),
    )
    coretype = os.environ.get("OPENBLAS_CORETYPE", "unset")
    print(
        f"numpy {np.__version__}, OPENBLAS_CORETYPE={coretype}, load average "
        f"{os.getloadavg()[0]:.2f} (other processes on the 2 cores skew both columns)"
    )
    if args.profile:
        profile(cases["Conv2d 32->64 3x3 pad 1, x (128,32,14,14)"]["minigrad"])


if __name__ == "__main__":
    main()
