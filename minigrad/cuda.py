"""minigrad.cuda, as torch.cuda: whether a GPU can be used, and how many."""

from __future__ import annotations

from minigrad import backend


def is_available() -> bool:
    """True when CuPy imports and runs on at least one GPU."""
    return backend.cuda_is_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not is_available():
        return 0
    return int(backend.get_cupy().cuda.runtime.getDeviceCount())
