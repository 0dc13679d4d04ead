"""What tests ask the stand-in: the transfers logged (counters, events, record, forbid, reset)
and how many GPUs it pretends to have. Not part of CuPy: tests reach it as cupy._fake."""

# ruff: noqa: F401 (the names imported here are this module's API)

from cupy._devices import count as device_count
from cupy._devices import set_count as set_device_count
from cupy._transfers import (
    KINDS,
    Recording,
    Transfer,
    TransferError,
    counters,
    events,
    forbid,
    record,
    reset,
)
