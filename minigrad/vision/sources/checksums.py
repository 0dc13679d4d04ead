"""Check cached data files against their published digests, hashing a file only when it changed.

Each data set directory keeps one JSON index (INDEX_NAME) of the files found official, with
the size and mtime each had then; a file whose size or mtime differs is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from minigrad import fileio
from minigrad.arguments import caller_stacklevel

# the loading code, skipped by the warnings so that they name the line that asked for the data
LOADING_CODE = ("datasets", "minigrad.vision")

INDEX_NAME = ".checksums.json"
CHUNK_SIZE = 1 << 20
# A file modified within this long before it was hashed is hashed again on the next check:
# file times are coarse (a clock tick; 2 s on FAT), so a change made in the same tick as the
# recorded one would keep its size and mtime.
TIMESTAMP_SLACK_NS = 2_000_000_000
_DIGEST_NAMES = {"sha256": "SHA-256", "md5": "MD5"}


class DatasetIntegrityError(ValueError):
    """A cached file changed since it was verified; the message gives both digests and the fix."""


class UnverifiedDataWarning(UserWarning):
    """A data file that was never found official, and is not: it is loaded as it was placed."""


@dataclass(frozen=True)
class DataFile:
    """A file that load() reads: its path inside the data set directory and its digest."""

    path: str
    digest: str
    algorithm: str = "sha256"

    @property
    def basename(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def digest_name(self) -> str:
        return _DIGEST_NAMES[self.algorithm]


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


class ChecksumIndex:
    """The official files of one data set directory, each with the size and mtime it had."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._entries = _read_index(directory / INDEX_NAME)
        self._changed = False

    def digest(self, file: DataFile) -> str:
        """The file's digest: remembered if its size and mtime are those recorded, else hashed
        (and recorded when it is the official one)."""
        path = self.directory / file.path
        status = path.stat()
        entry = self._entries.get(file.path)
        if entry is not None and _still_valid(entry, status, file):
            return file.digest
        started_ns = time.time_ns()
        actual = digest_of(path, file.algorithm)
        if actual == file.digest:
            self.record(file, status, started_ns)
        return actual

    def record(self, file: DataFile, status: os.stat_result, checked_ns: int) -> None:
        """Remember that the file, as `status` describes it, had its official digest."""
        self._entries[file.path] = {
            "size": status.st_size,
            "mtime_ns": status.st_mtime_ns,
            "checked_ns": checked_ns,
            file.algorithm: file.digest,
        }
        self._changed = True

    def was_official(self, file: DataFile) -> bool:
        """Whether the file had its official digest when it was last found so."""
        entry = self._entries.get(file.path)
        return entry is not None and entry.get(file.algorithm) == file.digest

    def save(self) -> None:
        """Write the index atomically if it changed; a read-only cache just stays unrecorded."""
        if not self._changed:
            return
        try:
            fileio.write_text(self.directory / INDEX_NAME, json.dumps(self._entries, indent=1))
        except OSError:
            return  # every load then hashes again, which is slower but as safe
        self._changed = False


def verify(directory: Path, files: Sequence[DataFile], refetch_hint: str) -> None:
    """Check cached files before they are read.

    A file that was found official and has changed since raises DatasetIntegrityError; a file
    never found official that is not (put there by hand) gives an UnverifiedDataWarning.
    """
    index = ChecksumIndex(directory)
    try:
        for file in files:
            actual = index.digest(file)
            if actual == file.digest:
                continue
            path = directory / file.path
            found = f"its {file.digest_name} is {actual}, expected {file.digest}"
            if index.was_official(file):
                raise DatasetIntegrityError(
                    f"{path} has changed since it was verified: {found}. {refetch_hint}"
                )
            warnings.warn(
                f"{path} is not the official file ({found}); it is loaded as it was placed. "
                + refetch_hint,
                UnverifiedDataWarning,
                stacklevel=caller_stacklevel(LOADING_CODE),
            )
    finally:
        index.save()


def _still_valid(entry: dict, status: os.stat_result, file: DataFile) -> bool:
    return (
        entry.get(file.algorithm) == file.digest
        and entry.get("size") == status.st_size
        and entry.get("mtime_ns") == status.st_mtime_ns
        and status.st_mtime_ns < entry.get("checked_ns", 0) - TIMESTAMP_SLACK_NS
    )


def _read_index(path: Path) -> dict:
    """The recorded entries; a missing or damaged index is an empty one (it is only a cache)."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {path: entry for path, entry in entries.items() if isinstance(entry, dict)}
