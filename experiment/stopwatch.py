"""A stopwatch for a run's training time: what evaluations and checkpoints take is left out,
and a resumed run goes on from the time its checkpoint saved."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class Stopwatch:
    """Time that counts only while the stopwatch runs: ``with stopwatch.running():`` around
    training, ``with stopwatch.paused():`` around what inside it is not training. `elapsed`
    is what a checkpoint saves; ``Stopwatch(elapsed)`` goes on from it."""

    def __init__(self, elapsed: float = 0.0) -> None:
        self._elapsed = elapsed  # the time of the runs that have ended
        self._started_at: float | None = None  # time.perf_counter() at the start; None: stopped

    @property
    def elapsed(self) -> float:
        """Seconds counted so far, the current run included."""
        if self._started_at is None:
            return self._elapsed
        return self._elapsed + time.perf_counter() - self._started_at

    def start(self) -> None:
        if self._started_at is None:
            self._started_at = time.perf_counter()

    def stop(self) -> None:
        if self._started_at is not None:
            self._elapsed += time.perf_counter() - self._started_at
            self._started_at = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Stopwatch]:
        """Run while the block runs (stopped after it, an exception included)."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[Stopwatch]:
        """Stand still while the block runs, then run again if it was running."""
        was_running = self._started_at is not None
        self.stop()
        try:
            yield self
        finally:
            if was_running:
                self.start()
