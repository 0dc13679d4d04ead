"""Atomic file writes: every file minigrad writes (checkpoints, logs, plots, graphs) goes
through `atomic_path`, so a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path` for the caller (or a tool such as matplotlib or
    Graphviz) to write; then flush it to disk and rename it over `path` in one step. On any
    error the temporary file is removed and `path` is left as it was.

    The temporary name keeps `path`'s suffix, so tools that choose a format by suffix work,
    and it is created by the writer, so it gets the usual permissions (umask)."""
    path = Path(path)
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield temp
        _fsync(temp, os.O_RDONLY)
        os.replace(temp, path)
        _fsync(path.parent, os.O_RDONLY)
    finally:
        temp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as temp:
        temp.write_text(text)


def _fsync(path: Path, flags: int) -> None:
    """Flush a file's (or a directory's: the rename's) data to disk where the OS allows it."""
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
