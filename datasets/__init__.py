"""The data sets as train.py uses them: ``load(name, split)`` returns float32 NumPy arrays, and
``REGISTRY`` describes each set (classes, channel statistics, train.py's transforms).

The files are fetched, verified and read by minigrad.vision.sources, which is installed with
minigrad; this package (used from the checkout) scales them to [0, 1], and its modules fetch,
checksums, idx, cifar10 and labels give that library's names under their old paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from datasets import transforms
from minigrad.vision.sources import (
    NAMES,
    NUM_CLASSES,
    SPLITS,
    DatasetIntegrityError,
    DatasetNotFoundError,
    load_pixels,
)

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
            NUM_CLASSES["cifar10"],
            _CIFAR10_STATS,
            train_transform=_augment_cifar10,
            test_transform=partial(
                transforms.normalize, mean=_CIFAR10_STATS[0], std=_CIFAR10_STATS[1]
            ),
        ),
    )
}
CHANNEL_STATS = {name: spec.channel_stats for name, spec in REGISTRY.items()}


def load(
    name: str, split: str = "train", root: str | Path | None = None, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load an official split as float32 images (N, C, H, W) in [0, 1] (the stored uint8 / 255)
    and int64 labels (N,): minigrad.vision.sources.load_pixels, which fetches, verifies and
    reads the files (see there for the errors and warnings), scaled."""
    pixels, labels = load_pixels(name, split, root=root, download=download)
    images = pixels.astype(np.float32)
    images /= 255
    return images, labels
