"""Batch transforms on host images of shape (N, C, H, W): normalization and augmentation.

Each works on the whole batch at once (no Python loop over samples) and takes its randomness
from the numpy.random.Generator it is given, so a seeded generator reproduces it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def normalize(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Return float32 ``(images - mean[c]) / std[c]`` for each channel c."""
    channels = images.shape[1]
    if len(mean) != channels or len(std) != channels:
        raise ValueError(
            f"normalize: images have {channels} channels but mean has {len(mean)} values "
            f"and std has {len(std)}"
        )
    per_channel = (1, channels, 1, 1)
    mean_array = np.asarray(mean, dtype=np.float32).reshape(per_channel)
    std_array = np.asarray(std, dtype=np.float32).reshape(per_channel)
    return ((images - mean_array) / std_array).astype(np.float32, copy=False)


def random_crop(images: np.ndarray, padding: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-pad each side by `padding`, then cut an H x W window at a random offset per image.

    Pads with 0, so apply it before `normalize` to pad with black rather than the mean colour.
    """
    count, _, height, width = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (height, width), axis=(2, 3))  # (N, C, 2p+1, 2p+1, H, W)
    tops = rng.integers(0, 2 * padding + 1, size=count)
    lefts = rng.integers(0, 2 * padding + 1, size=count)
    # The index arrays flank the channel slice, so their axis comes first: (N, C, H, W).
    return windows[np.arange(count), :, tops, lefts]


def random_hflip(images: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left to right with probability `p`."""
    flip = rng.random(len(images)) < p
    flipped = images.copy()
    flipped[flip] = images[flip, :, :, ::-1]
    return flipped


def cifar_augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The usual CIFAR-10 training augmentation: 4-pixel padded random crop, then a random flip."""
    return random_hflip(random_crop(images, 4, rng), rng)
