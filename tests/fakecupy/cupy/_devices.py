"""The stand-in's GPUs: how many there are ($FAKECUPY_DEVICE_COUNT, default 2) and which one is
current in each host thread, as CUDA keeps it (cudaSetDevice is per thread)."""

from __future__ import annotations

import os
import threading


class CUDARuntimeError(RuntimeError):
    """CuPy's cupy.cuda.runtime.CUDARuntimeError: a CUDA runtime call failed."""

    def __init__(self, status: int, name: str, text: str):
        self.status = status
        super().__init__(f"{name}: {text}")


_count = int(os.environ.get("FAKECUPY_DEVICE_COUNT", "2"))
_local = threading.local()


def count() -> int:
    return _count


def set_count(devices: int) -> None:
    """Pretend to have this many GPUs (tests; $FAKECUPY_DEVICE_COUNT sets the default)."""
    global _count
    _count = int(devices)


def check(device: int) -> int:
    """The device id itself, or CUDA's error for an id that is not a device here."""
    if not 0 <= device < _count:
        raise CUDARuntimeError(101, "cudaErrorInvalidDevice", "invalid device ordinal")
    return device


def current() -> int:
    return getattr(_local, "device", 0)


def set_current(device: int) -> None:
    _local.device = check(int(device))


def require_current(device: int) -> None:
    """CuPy's check before a kernel touches an array: the array lives on the current device.
    CuPy allows the other case only through peer access, which the stand-in does not have."""
    if device != current():
        raise ValueError(
            f"The device where the array resides ({device}) is different from the current "
            f"device ({current()}). Peer access is unavailable between these devices."
        )
