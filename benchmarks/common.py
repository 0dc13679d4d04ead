"""Timing helpers shared by the benchmarks: medians over repeats, interleaved competitors."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(
    fn: Callable[[], object],
    repeats: int = 15,
    inner: int = 1,
    sync: Callable[[], object] = lambda: None,
    warmup: int = 1,
) -> float:
    """Median wall time per call of fn over `repeats` blocks of `inner` calls, after `warmup`
    calls. `sync` waits for queued device work (a GPU's), so each block is timed whole."""
    for _ in range(warmup):
        fn()
    sync()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def interleaved(
    competitors: dict[str, Callable[[], object]], repeats: int = 15, inner: int = 1
) -> dict[str, float]:
    """Median seconds per call of each competitor, timed in alternation so that machine noise
    (other processes, frequency changes) hits all of them alike."""
    for fn in competitors.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in competitors}
    for _ in range(repeats):
        for name, fn in competitors.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(title: str, rows: list[tuple], headers: tuple) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    for row in rows:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))


def try_import_torch():
    """torch if it is installed (for side-by-side figures), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch
