"""minigrad.vision.sources.cifar10 (the reader of the CIFAR-10 python batches) under this
package's old path."""

from minigrad.vision.sources.cifar10 import (
    BATCH_DIR,
    IMAGE_SHAPE,
    NUM_CLASSES,
    read_batch,
    read_split,
    split_files,
)

__all__ = ["BATCH_DIR", "IMAGE_SHAPE", "NUM_CLASSES", "read_batch", "read_split", "split_files"]
