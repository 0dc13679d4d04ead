"""Host memory: glibc's malloc tuned to keep freed memory for reuse (a process-wide setting)."""

from __future__ import annotations

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # the largest value glibc accepts on 64-bit


def retain_freed_host_memory() -> bool:
    """Make glibc's malloc serve arrays of up to 32 MiB from its heap and keep freed memory
    for reuse, instead of mapping fresh pages for every large array and returning them to the
    OS on free. Each fresh page costs a page fault, and a training step that allocates the same
    arrays every time pays for them on every step (README, "Performance").

    A process-wide setting, so the library never makes it: train.py and the benchmarks call
    this; your own scripts may. Returns False where malloc is not glibc's."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 8 * _MMAP_THRESHOLD_MAX)
    )
