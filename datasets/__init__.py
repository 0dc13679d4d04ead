"""Host-side data sets for minigrad: ``load(name, split)`` returns NumPy arrays.

The files are fetched into a local cache and checked against their digests whenever they are
loaded (datasets.fetch, datasets.checksums). Of minigrad, it only uses the atomic file writer.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from datasets import cifar10, idx, transforms

__all__ = [
    "CHANNEL_STATS",
    "NAMES",
    "NUM_CLASSES",
    "SPLITS",
    "DatasetIntegrityError",
    "DatasetNotFoundError",
    "load",
    "transforms",
]

NAMES = ("mnist", "fashion-mnist", "cifar10")
SPLITS = ("train", "test")

# Per-channel (mean, std) of the training images scaled to [0, 1]. The MNIST and Fashion-MNIST
# values were computed from the 60000 training images; CIFAR-10's are the published ones.
CHANNEL_STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}

NUM_CLASSES = {"mnist": 10, "fashion-mnist": 10, "cifar10": cifar10.NUM_CLASSES}

_READERS = {
    "mnist": partial(idx.load_split, num_classes=NUM_CLASSES["mnist"]),
    "fashion-mnist": partial(idx.load_split, num_classes=NUM_CLASSES["fashion-mnist"]),
    "cifar10": cifar10.load_split,
}
_SPLIT_FILES = {
    "mnist": idx.split_files,
    "fashion-mnist": idx.split_files,
    "cifar10": cifar10.split_files,
}


class DatasetNotFoundError(RuntimeError):
    """No source could provide a data set; the message says what was tried and what goes where."""


class DatasetIntegrityError(ValueError):
    """A cached file changed since it was verified; the message gives both digests and the fix."""


def load(
    name: str, split: str = "train", root: str | Path | None = None, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load an official split as float32 images (N, C, H, W) in [0, 1] and int64 labels (N,).

    MNIST and Fashion-MNIST give (N, 1, 28, 28), CIFAR-10 gives (N, 3, 32, 32). Missing files
    are fetched into ``<root>/<name>/`` when `download` is true (root: see fetch.data_root).
    The split's files are checked against their digests first (hashed again only when their
    size or mtime changed): DatasetIntegrityError for one changed since it was verified, and
    checksums.UnverifiedDataWarning for one placed by hand that is not the official file.
    Labels outside 0..NUM_CLASSES[name]-1 raise ValueError naming the file and the values.
    """
    # Imported here, not at the top, so that `python -m datasets.fetch` loads that module once.
    from datasets import fetch

    _check_choice("data set", name, NAMES)
    _check_choice("split", split, SPLITS)
    if not fetch.is_present(name, root):
        if not download:
            raise DatasetNotFoundError(fetch.not_found_message(name, root, failures=()))
        fetch.fetch(name, root)
    fetch.verify_cached(name, _SPLIT_FILES[name](split), root)
    return _READERS[name](fetch.dataset_dir(name, root), split)


def _check_choice(kind: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid ones: {', '.join(valid)}")
