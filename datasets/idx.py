"""minigrad.vision.sources.idx (the IDX reader of MNIST and Fashion-MNIST) under this package's
old path."""

from minigrad.vision.sources.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    open_maybe_gzipped,
    read_idx_images,
    read_idx_labels,
    read_split,
    split_files,
)

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "open_maybe_gzipped",
    "read_idx_images",
    "read_idx_labels",
    "read_split",
    "split_files",
]
