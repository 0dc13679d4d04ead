"""The stand-in's log of host/device traffic: every device-to-host read, host-to-device copy and
device synchronization, each with the line outside the stand-in that caused it."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

KINDS = ("read", "write", "sync")  # device to host, host to device, a wait for the device
_STAND_IN = str(Path(__file__).resolve().parents[1])  # tests/fakecupy: cupy/, cupyx/
_REPO = Path(__file__).resolve().parents[3]


class TransferError(RuntimeError):
    """A read, write or sync happened inside `forbid()`."""


@dataclass(frozen=True)
class Transfer:
    kind: str  # one of KINDS
    api: str  # what did it: "ndarray.get", "cupy.asarray", "bool(ndarray)", "Stream.synchronize"
    stack: tuple[str, ...]  # the callers outside the stand-in, innermost first: "file:line"
    device: int
    nbytes: int = 0

    @property
    def where(self) -> str:
        """The caller outside the stand-in: "minigrad/backend/arrays.py:192"."""
        return self.stack[0] if self.stack else "<unknown>"

    def outside(self, *prefixes: str) -> str:
        """The innermost caller outside these paths too: outside("minigrad/backend/") names
        the op or layer that asked the backend for the read."""
        return next((where for where in self.stack if not where.startswith(prefixes)), self.where)

    def __str__(self) -> str:
        return f"{self.kind} {self.api} at {self.where}"


class Recording:
    """The transfers made inside one `record()` block."""

    def __init__(self):
        self.events: list[Transfer] = []

    def of(self, kind: str) -> list[Transfer]:
        return [event for event in self.events if event.kind == kind]

    @property
    def reads(self) -> list[Transfer]:
        return self.of("read")

    @property
    def writes(self) -> list[Transfer]:
        return self.of("write")

    @property
    def syncs(self) -> list[Transfer]:
        return self.of("sync")

    def counts(self) -> dict[str, int]:
        counted = Counter(event.kind for event in self.events)
        return {kind: counted[kind] for kind in KINDS}

    def __str__(self) -> str:
        return "\n".join(map(str, self.events)) or "(no transfers)"


_log = Recording()  # since the last reset()
_recordings: list[Recording] = []
_forbidden: list[tuple[str, ...]] = []


def callers(depth: int = 12) -> tuple[str, ...]:
    """file:line of the innermost frames outside the stand-in (paths relative to the
    repository), innermost first."""
    found = []
    frame = sys._getframe(1)
    while frame is not None and len(found) < depth:
        filename = frame.f_code.co_filename
        if not filename.startswith(_STAND_IN):
            path = Path(filename)
            if path.is_relative_to(_REPO):
                path = path.relative_to(_REPO)
            found.append(f"{path.as_posix()}:{frame.f_lineno}")
        frame = frame.f_back
    return tuple(found)


def note(kind: str, api: str, device: int, nbytes: int = 0) -> None:
    """Log one transfer; raise TransferError inside a `forbid()` block that covers its kind."""
    event = Transfer(kind, api, callers(), device, nbytes)
    if any(kind in kinds for kinds in _forbidden):
        raise TransferError(f"{event} (transfers of this kind are forbidden here)")
    for recording in (_log, *_recordings):
        recording.events.append(event)


def counters() -> dict[str, int]:
    """{"read": n, "write": n, "sync": n} since the last reset()."""
    return _log.counts()


def events() -> list[Transfer]:
    """Every transfer since the last reset(), oldest first."""
    return list(_log.events)


def reset() -> None:
    _log.events.clear()


@contextlib.contextmanager
def record():
    """`with record() as log:` collects the block's transfers in log (a Recording)."""
    recording = Recording()
    _recordings.append(recording)
    try:
        yield recording
    finally:
        _recordings.remove(recording)


@contextlib.contextmanager
def forbid(*kinds: str):
    """Inside the block a transfer of one of these kinds (all kinds when none are given)
    raises TransferError at the line that makes it."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown transfer kinds {sorted(unknown)}; expected some of {KINDS}")
    _forbidden.append(kinds or KINDS)
    try:
        yield
    finally:
        _forbidden.pop()
