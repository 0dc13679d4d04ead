"""Read the IDX files of MNIST and Fashion-MNIST (plain or gzipped) into NumPy arrays.

Every malformed file raises a ValueError that names the file and says what is wrong with it.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from minigrad.vision.sources.labels import check_labels

GZIP_MAGIC = b"\x1f\x8b"
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions: (count, rows, columns)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension: (count,)

_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def split_files(split: str) -> tuple[str, str]:
    """Return the (images, labels) file names of an MNIST-style split ("train" or "test")."""
    prefix = _SPLIT_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def open_maybe_gzipped(path: str | Path) -> BinaryIO:
    """Open a file for binary reading, decompressing it when it starts with the gzip magic."""
    with open(path, "rb") as probe:
        is_gzipped = probe.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if is_gzipped else open(path, "rb")


def read_idx_images(path: str | Path) -> np.ndarray:
    """Read an IDX image file into a uint8 array of shape (count, rows, columns)."""
    return _read_idx(path, IMAGES_MAGIC, "image")


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX label file into a uint8 array of shape (count,)."""
    return _read_idx(path, LABELS_MAGIC, "label")


def read_split(
    directory: str | Path, split: str, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST-style split: the uint8 images as (N, 1, H, W) and int64 labels (N,) in
    0..num_classes-1 (a label outside that raises ValueError naming the file and value)."""
    images_path, labels_path = (Path(directory) / name for name in split_files(split))
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the two files must describe the same items"
        )
    check_labels(labels, num_classes, labels_path)
    return images[:, np.newaxis], labels.astype(np.int64)


def _read_idx(path: str | Path, magic: int, kind: str) -> np.ndarray:
    data = _read_bytes(path)
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    found = int.from_bytes(data[:4], "big")
    if len(data) >= 4 and found != magic:
        raise ValueError(
            f"{path}: bad magic number 0x{found:08x}, expected 0x{magic:08x} (an IDX {kind} file)"
        )
    if len(data) < header_size:
        raise ValueError(
            f"{path}: only {len(data)} bytes, shorter than the {header_size}-byte header "
            f"of an IDX {kind} file"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    _check_size(path, shape, len(data) - header_size)
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _check_size(path: str | Path, shape: tuple[int, ...], payload_size: int) -> None:
    if 0 in shape[1:]:
        raise ValueError(f"{path}: header gives an empty item shape {shape[1:]}")
    expected = math.prod(shape)
    if payload_size < expected:
        raise ValueError(
            f"{path}: truncated: the header promises {expected} data bytes for shape {shape} "
            f"but only {payload_size} follow"
        )
    if payload_size > expected:
        raise ValueError(
            f"{path}: {payload_size - expected} unexpected bytes after the {expected} data bytes "
            f"of shape {shape}"
        )


def _read_bytes(path: str | Path) -> bytearray:
    """The file's (decompressed) bytes, in a bytearray so that the arrays over it are writable."""
    try:
        with open_maybe_gzipped(path) as file:
            return bytearray(file.read())
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise ValueError(f"{path}: corrupt gzip stream ({error})") from error
