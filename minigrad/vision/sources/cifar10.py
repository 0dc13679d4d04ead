"""Read the official CIFAR-10 python batches (``cifar-10-batches-py``) into NumPy arrays.

Each batch is a pickled dict with b"data" (uint8, (N, 3072): the red, green and blue 32x32
planes of each image, row-major) and b"labels" (N ints in 0..9). Only the handful of globals
such a pickle needs may be loaded, so a crafted file cannot run code.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from minigrad.vision.sources.labels import check_labels

BATCH_DIR = "cifar-10-batches-py"
NUM_CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)
_SPLIT_BATCHES = {
    "train": tuple(f"data_batch_{index}" for index in range(1, 6)),
    "test": ("test_batch",),
}
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


def split_files(split: str) -> tuple[str, ...]:
    """Return the batch paths of a split, relative to the data set directory."""
    return tuple(f"{BATCH_DIR}/{name}" for name in _SPLIT_BATCHES[split])


def read_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch file: uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    batch = _unpickle(path)
    data = _require(batch, b"data", path)
    labels = np.asarray(_require(batch, b"labels", path))
    image_size = int(np.prod(IMAGE_SHAPE))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise ValueError(f"{path}: b'data' must be a 2-D uint8 array, got {_describe(data)}")
    if data.shape[1] != image_size:
        raise ValueError(
            f"{path}: b'data' has rows of {data.shape[1]} bytes, expected {image_size}"
        )
    if labels.dtype.kind not in "iu" or labels.shape != (len(data),):
        raise ValueError(f"{path}: {len(data)} images but b'labels' is {_describe(labels)}")
    check_labels(labels, NUM_CLASSES, path)
    return data.reshape(-1, *IMAGE_SHAPE), labels.astype(np.int64)


def read_split(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a split: uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    batches = [read_batch(Path(directory) / name) for name in split_files(split)]
    images = np.concatenate([images for images, _ in batches])
    return images, np.concatenate([labels for _, labels in batches])


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a batch")
        return super().find_class(module, name)


def _unpickle(path: str | Path) -> dict:
    with open(path, "rb") as file:
        try:
            batch = _BatchUnpickler(file, encoding="bytes").load()
        except Exception as error:  # a corrupt pickle can fail in many ways
            raise ValueError(
                f"{path}: not a readable CIFAR-10 batch pickle ({type(error).__name__}: {error})"
            ) from error
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    return batch


def _require(batch: dict, key: bytes, path: str | Path) -> object:
    if key not in batch:
        raise ValueError(f"{path}: missing key {key!r} (found keys {sorted(batch, key=repr)})")
    return batch[key]


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__
