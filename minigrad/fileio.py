"""Atomic file writes: every file minigrad writes (checkpoints, logs, plots, graphs) goes
through `atomic_path`, so a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class AtomicWriteError(OSError):
    """A file could not be written; the message names it, and the old file is left as it was."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, expected_bytes: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path` for the caller (or a tool such as matplotlib or
    Graphviz) to write; then flush it to disk and rename it over `path` in one step. On any
    error the temporary file is removed and `path` is left as it was; a full disk or a failed
    flush raises AtomicWriteError naming `path` (with `expected_bytes`, the size the caller
    means to write, against the free space, where it is given).

    The temporary name keeps `path`'s suffix, so tools that choose a format by suffix work,
    and it is created by the writer, so it gets the usual permissions (umask). It holds the
    writer's process id: temporaries that a killed process left for `path` are removed here."""
    path = Path(path)
    _remove_stale_temporaries(path)
    temp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        try:
            yield temp
            _fsync_file(temp, path)
        except OSError as error:
            if error.errno not in _DISK_FULL:
                raise
            raise _disk_full_error(error, path, temp, expected_bytes) from error
        os.replace(temp, path)
        _fsync_directory(path.parent)
    finally:
        temp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path, expected_bytes=len(text.encode())) as temp:
        temp.write_text(text)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of `path` whose writer is gone (a process killed mid-write).

    Only names of atomic_path's pattern for this very target match; a name without a process
    id comes from a minigrad version that did not record one and is stale too."""
    pattern = re.compile(
        rf"\.{re.escape(path.stem)}\.(?:(\d+)-)?[0-9a-f]{{8}}\.tmp{re.escape(path.suffix)}"
    )
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return  # the write itself will report a missing or unreadable folder
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match is None or (match[1] is not None and _process_exists(int(match[1]))):
            continue
        try:
            candidate.unlink(missing_ok=True)
        except OSError:
            pass  # a leftover that cannot be removed must not stop this write


def _process_exists(pid: int) -> bool:
    if os.name != "posix":
        return True  # no harmless liveness probe (os.kill would terminate it): keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return True


def _fsync_file(temp: Path, path: Path) -> None:
    """Flush the temporary file to disk; any failure raises, so it never replaces `path`."""
    try:
        descriptor = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        if error.errno in _DISK_FULL:
            raise
        raise AtomicWriteError(
            error.errno,
            f"cannot write {path}: flushing its new contents ({temp.name}) to disk failed: "
            f"{error.strerror or error}; {path} is unchanged",
        ) from error


def _fsync_directory(directory: Path) -> None:
    """Flush the rename to disk where the OS allows it. The new file is already in place, so
    a folder that cannot be opened or synced (some systems refuse) only weakens durability."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _disk_full_error(
    error: OSError, path: Path, temp: Path, expected_bytes: int | None
) -> AtomicWriteError:
    written = temp.stat().st_size if temp.exists() else 0
    temp.unlink(missing_ok=True)  # so that the free space below is what the write could use
    free = shutil.disk_usage(path.parent).free
    if expected_bytes is None:
        needed = f"more than the {_size(written)} written when it failed"
    else:
        needed = f"about {_size(expected_bytes)}"
    return AtomicWriteError(
        error.errno,
        f"cannot write {path}: no space left on the device ({os.strerror(error.errno)}); "
        f"it needs {needed}, {_size(free)} are free in {path.parent}; {path} is unchanged",
    )


def _size(count: int) -> str:
    return f"{count:,} bytes" if count < 10_000 else f"{count / 1e6:,.1f} MB ({count:,} bytes)"
