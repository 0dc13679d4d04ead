"""Host-side data sets for minigrad: ``load(name, split)`` returns NumPy arrays.

The files are fetched into a local cache and checked by SHA-256 the first time (see
datasets.fetch). This package never imports minigrad.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets import cifar10, idx, transforms

__all__ = ["CHANNEL_STATS", "NAMES", "SPLITS", "DatasetNotFoundError", "load", "transforms"]

NAMES = ("mnist", "fashion-mnist", "cifar10")
SPLITS = ("train", "test")

# Per-channel (mean, std) of the training images scaled to [0, 1]. The MNIST and Fashion-MNIST
# values were computed from the 60000 training images; CIFAR-10's are the published ones.
CHANNEL_STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}

_READERS = {"mnist": idx.load_split, "fashion-mnist": idx.load_split, "cifar10": cifar10.load_split}


class DatasetNotFoundError(RuntimeError):
    """No source could provide a data set; the message says what was tried and what goes where."""


def load(
    name: str, split: str = "train", root: str | Path | None = None, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load an official split as float32 images (N, C, H, W) in [0, 1] and int64 labels (N,).

    MNIST and Fashion-MNIST give (N, 1, 28, 28), CIFAR-10 gives (N, 3, 32, 32). Missing files
    are fetched into ``<root>/<name>/`` when `download` is true (root: see fetch.data_root).
    """
    # Imported here, not at the top, so that `python -m datasets.fetch` loads that module once.
    from datasets import fetch

    _check_choice("data set", name, NAMES)
    _check_choice("split", split, SPLITS)
    if not fetch.is_present(name, root):
        if not download:
            raise DatasetNotFoundError(fetch.not_found_message(name, root, failures=()))
        fetch.fetch(name, root)
    return _READERS[name](fetch.dataset_dir(name, root), split)


def _check_choice(kind: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid ones: {', '.join(valid)}")
