"""What the engine's guarantees cost a training step of the paper's net (batch 60, SGD).

The guarantees: every leaf's .grad owns its array (copied when it is shared or a view), each
gradient a backward returns is checked (count, shape, device, dtype), and saved inputs and
outputs are checked for in-place changes (versions). "bare" swaps those three pieces for
stand-ins that trust every backward and take gradients as they come, as the engine did before
it had them; both run the same model, alternating blocks of steps in this one process.

Run: python -m benchmarks.bench_engine [--repeats 15] [--block 200]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

from benchmarks.bench_train import minigrad_stepper, mnist_or_random
from benchmarks.common import print_table
from minigrad.autograd import engine as autograd
from minigrad.tensor import Tensor


def _accumulate_as_given(leaf, grad) -> None:
    leaf.grad = Tensor(grad) if leaf.grad is None else Tensor(leaf.grad.data + grad)


BARE = {
    "_checked_grad": lambda ctx, position, value, grad: grad,
    "_check_saved_unchanged": lambda ctx, output: None,
    "_owned": lambda grad, given, ctx: grad,
    "_accumulate_leaf": _accumulate_as_given,
}


@contextlib.contextmanager
def bare_engine():
    checked = {name: getattr(autograd, name) for name in BARE}
    for name, stand_in in BARE.items():
        setattr(autograd, name, stand_in)
    try:
        yield
    finally:
        for name, original in checked.items():
            setattr(autograd, name, original)


def stepper(bn: bool, images, labels):
    """A training step of the paper's net as train.py runs it (lr 0.5, batch 60, its threads)."""
    step, _ = minigrad_stepper("bnpaper", bn, 60, 0.5, images, labels)
    return step


def time_block(step, count: int, engine) -> float:
    with engine():
        start = time.perf_counter()
        for _ in range(count):
            step()
        return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--block", type=int, default=200, help="steps per timed block")
    args = parser.parse_args()
    images, labels = mnist_or_random()
    engines = {"checked": contextlib.nullcontext, "bare": bare_engine}
    rows = []
    for bn in (False, True):
        step = stepper(bn, images, labels)
        samples = {name: [] for name in engines}
        for engine in engines.values():
            time_block(step, 20, engine)  # warm-up
        for _ in range(args.repeats):
            for name, engine in engines.items():
                samples[name].append(time_block(step, args.block, engine))
        checked, bare = (statistics.median(samples[name]) for name in engines)
        rows.append(
            (
                "on" if bn else "off",
                f"{checked * 1e6:.0f}",
                f"{bare * 1e6:.0f}",
                f"{checked / bare:.3f}",
            )
        )
    print_table(
        f"paper's net, one training step (median of {args.repeats} alternating blocks of "
        f"{args.block} steps)",
        rows,
        ("bn", "checked us", "bare us", "checked/bare"),
    )


if __name__ == "__main__":
    main()
