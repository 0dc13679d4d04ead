"""The measurements behind choices the ops' code makes, each side timed in alternation.

- Conv2d's two column layouts (ops/conv.py, _per_sample_products): per-sample products against
  one product over channels-last rows, forward + backward, for the CNN's first layer (1 -> 32
  channels on 28x28: K = 9 kernel values < P = 784 positions) and its second (32 -> 64 on
  14x14: K = 288 >= P = 196). The rule picks per-sample products while K < P.
- Batch norm's channel sums (ops/norm.py, _channel_sum): the batch axis first, then the rest,
  against NumPy's own order for one (N, C, L) sum over (0, 2).

Run: python -m benchmarks.bench_choices [--repeats 15]
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np

import minigrad as mg
from benchmarks.common import interleaved, print_table
from minigrad import nn
from minigrad.ops import conv, norm


@contextlib.contextmanager
def layout(per_sample: bool):
    chosen = conv._per_sample_products
    conv._per_sample_products = lambda k, positions: per_sample
    try:
        yield
    finally:
        conv._per_sample_products = chosen


def conv_step(channels: int, out_channels: int, size: int, per_sample: bool):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((128, channels, size, size), dtype=np.float32))
    layer = nn.Conv2d(channels, out_channels, 3, padding=1)

    def step():
        layer.zero_grad()
        with layout(per_sample):
            layer(x).sum().backward()

    return step


def conv_rows(repeats: int) -> list[tuple]:
    rows = []
    for channels, out_channels, size in ((1, 32, 28), (32, 64, 14)):
        k, positions = channels * 9, size * size
        times = interleaved(
            {
                "per sample": conv_step(channels, out_channels, size, True),
                "rows": conv_step(channels, out_channels, size, False),
            },
            repeats=repeats,
        )
        chosen = "per sample" if conv._per_sample_products(k, positions) else "rows"
        rows.append(
            (
                f"Conv2d {channels}->{out_channels}, {size}x{size} (K={k}, P={positions})",
                f"{times['per sample'] * 1e3:.2f}",
                f"{times['rows'] * 1e3:.2f}",
                f"{times['rows'] / times['per sample']:.2f}x",
                chosen,
            )
        )
    return rows


def channel_sum_row(repeats: int) -> tuple:
    a = np.random.default_rng(0).standard_normal((128, 64, 256), dtype=np.float32)
    times = interleaved(
        {
            "batch first": lambda: norm._channel_sum(a, (0, 2)),
            "numpy order": lambda: a.sum(axis=(0, 2), keepdims=True),
        },
        repeats=repeats,
        inner=5,
    )
    return (
        "batch norm sum over (0, 2) of (128, 64, 256)",
        f"{times['batch first'] * 1e3:.2f}",
        f"{times['numpy order'] * 1e3:.2f}",
        f"{times['numpy order'] / times['batch first']:.2f}x",
        "batch first",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = conv_rows(args.repeats) + [channel_sum_row(args.repeats)]
    print_table(
        f"medians of {args.repeats} alternating repeats, 1 thread (ms)",
        rows,
        ("case", "A ms", "B ms", "B/A", "the code uses"),
    )
    print("A: per-sample products / the batch axis first; B: channels-last rows / NumPy's order")


if __name__ == "__main__":
    main()
