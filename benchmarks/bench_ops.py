"""Framework overhead per op: minigrad forward+backward against the same math in raw NumPy.

Run: python -m benchmarks.bench_ops
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from benchmarks.common import interleaved, print_table


def elementwise_case(shape: tuple):
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal(shape, dtype=np.float32)
    b_np = rng.standard_normal(shape, dtype=np.float32)
    a = mg.tensor(a_np, requires_grad=True)
    b = mg.tensor(b_np, requires_grad=True)

    def framework():
        a.grad = b.grad = None
        ((a * b + a).tanh()).sum().backward()

    def numpy_by_hand():
        y = np.tanh(a_np * b_np + a_np)
        dy = 1 - y * y  # d sum / d (a*b+a) through tanh
        return dy * (b_np + 1), dy * a_np, y.sum()

    return framework, numpy_by_hand, 4  # mul, add, tanh, sum


def matmul_case():
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((60, 784), dtype=np.float32)
    w_np = rng.standard_normal((784, 100), dtype=np.float32)
    x = mg.tensor(x_np, requires_grad=True)
    w = mg.tensor(w_np, requires_grad=True)

    def framework():
        x.grad = w.grad = None
        (x @ w).sum().backward()

    def numpy_by_hand():
        y = x_np @ w_np
        dy = np.ones_like(y)
        return dy @ w_np.T, x_np.T @ dy, y.sum()

    return framework, numpy_by_hand, 2


def main() -> None:
    cases = {
        "mul+add+tanh+sum (1,)": elementwise_case((1,)),
        "mul+add+tanh+sum (60, 100)": elementwise_case((60, 100)),
        "mul+add+tanh+sum (256, 1024)": elementwise_case((256, 1024)),
        "matmul (60,784)x(784,100) + sum": matmul_case(),
    }
    rows = []
    for name, (framework, by_hand, ops) in cases.items():
        inner = 200 if "(1,)" in name or "(60, 100)" in name else 10
        times = interleaved({"minigrad": framework, "numpy": by_hand}, repeats=21, inner=inner)
        overhead_us = (times["minigrad"] - times["numpy"]) / ops * 1e6
        rows.append(
            (
                name,
                f"{times['minigrad'] * 1e6:.1f}",
                f"{times['numpy'] * 1e6:.1f}",
                f"{times['minigrad'] / times['numpy']:.2f}x",
                f"{overhead_us:.1f}",
            )
        )
    print_table(
        "forward+backward, medians of 21 interleaved repeats (microseconds)",
        rows,
        ("case", "minigrad us", "numpy us", "ratio", "overhead us/op"),
    )


if __name__ == "__main__":
    main()
