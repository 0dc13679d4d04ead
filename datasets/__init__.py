"""Host-side data sets for minigrad: ``load(name, split)`` returns NumPy arrays, and
``REGISTRY`` describes each set (classes, channel statistics, train.py's transforms).

The files are fetched into a local cache and checked against their digests whenever they are
loaded (datasets.fetch, datasets.checksums). Of minigrad, it only uses the atomic file writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from datasets import cifar10, idx, transforms

__all__ = [
    "CHANNEL_STATS",
    "NAMES",
    "NUM_CLASSES",
    "REGISTRY",
    "SPLITS",
    "DatasetIntegrityError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "load",
    "transforms",
]

SPLITS = ("train", "test")

# CIFAR-10's published per-channel (mean, std) of the training images scaled to [0, 1]
_CIFAR10_STATS = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))


def _augment_cifar10(batch: tuple, rng: np.random.Generator) -> tuple:
    """Random crops (4-pixel black padding) and horizontal flips, then the normalization."""
    images, labels = batch
    return transforms.normalize(transforms.cifar_augment(images, rng), *_CIFAR10_STATS), labels


@dataclass(frozen=True)
class DatasetSpec:
    """A data set as train.py uses it: its classes, the per-channel (mean, std) of its training
    images in [0, 1], and its transforms. `train_transform(batch, rng) -> batch` is the
    DataLoader's transform of the (images, labels) training batches on the host (augmentation,
    normalization); `test_transform(images) -> images` is applied to the test images once.
    None: the images are used as they are loaded."""

    name: str
    num_classes: int
    channel_stats: tuple[tuple[float, ...], tuple[float, ...]]
    train_transform: Callable[[tuple, np.random.Generator], tuple] | None = None
    test_transform: Callable[[np.ndarray], np.ndarray] | None = None


# The MNIST and Fashion-MNIST statistics were computed from the 60000 training images; they
# are used as loaded (in [0, 1]), and CIFAR-10 is augmented and normalized.
REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("mnist", 10, ((0.1307,), (0.3081,))),
        DatasetSpec("fashion-mnist", 10, ((0.2860,), (0.3530,))),
        DatasetSpec(
            "cifar10",
            cifar10.NUM_CLASSES,
            _CIFAR10_STATS,
            train_transform=_augment_cifar10,
            test_transform=partial(
                transforms.normalize, mean=_CIFAR10_STATS[0], std=_CIFAR10_STATS[1]
            ),
        ),
    )
}
NAMES = tuple(REGISTRY)
CHANNEL_STATS = {name: spec.channel_stats for name, spec in REGISTRY.items()}
NUM_CLASSES = {name: spec.num_classes for name, spec in REGISTRY.items()}

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
