"""Image transforms under torchvision's names, each for one image or a whole batch at once.

Layouts are torchvision's: a NumPy array is an image as loaded, H x W or H x W x C (uint8,
where torchvision would have a PIL image); a Tensor is C x H x W (any ..., H, W). Each
transform's ``batch(images)`` transforms every image of a batch stacked on a new first axis
(N x H x W [x C] arrays, N x C x H x W Tensors) in a few array operations; calling it on one
image runs ``batch`` on a batch of one. apply_batch runs any transform on a batch, image by
image for those without ``batch`` (Lambda, plain functions). Random transforms draw from
minigrad's CPU generator, so minigrad.manual_seed reproduces them. ToTensor and Normalize are
`deterministic` (their output depends on their input and attributes only), which lets a data
set apply them to a whole split once (deterministic_head).

Host-side module: it imports numpy for the image arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy
from numpy.lib.stride_tricks import sliding_window_view

from minigrad import backend
from minigrad.tensor import Tensor
from minigrad.utils.data.collate import collate

__all__ = [
    "Compose",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "ToTensor",
    "apply_batch",
    "deterministic_head",
]

_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def apply_batch(transform: Callable[[Any], Any], images: Any) -> Any:
    """`transform` of each image of the batch `images`: at once through ``transform.batch``
    when it has one, else image by image, the results stacked (a Tensor if they are)."""
    batched = getattr(transform, "batch", None)
    if batched is not None:
        return batched(images)
    if isinstance(images, Tensor):
        images = [Tensor(image) for image in images.data]
    results = [transform(image) for image in images]
    stacked = collate(results, list(range(len(results))))
    return Tensor(stacked) if isinstance(results[0], Tensor) else stacked


def deterministic_head(transform: Callable[[Any], Any]) -> tuple[list[Any], list[Any]]:
    """Split `transform` (a Compose's list, or a single transform) into its leading run of
    deterministic transforms and the rest."""
    steps = transform.transforms if isinstance(transform, Compose) else [transform]
    count = 0
    while count < len(steps) and getattr(steps[count], "deterministic", False):
        count += 1
    return steps[:count], steps[count:]


class Transform:
    """A transform of one image that can also transform a batch: subclasses define
    ``batch(images)``, and ``transform(image)`` is ``batch`` of a batch of one.
    `deterministic`: the output is a function of the input and the transform's attributes."""

    deterministic: ClassVar[bool] = False

    def __call__(self, image: Any) -> Any:
        one = Tensor(image.data[None]) if isinstance(image, Tensor) else image[None]
        transformed = self.batch(one)
        if isinstance(transformed, Tensor):
            return Tensor(transformed.data[0])
        return transformed[0]

    def batch(self, images: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Compose(Transform):
    """Apply `transforms` one after the other."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: Any) -> Any:
        for transform in self.transforms:
            image = transform(image)
        return image

    def batch(self, images: Any) -> Any:
        for transform in self.transforms:
            images = apply_batch(transform, images)
        return images

    def __repr__(self) -> str:
        lines = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor(Transform):
    """An H x W (x C) array as a C x H x W Tensor; uint8 values v become float32 v / 255 in
    [0, 1], other dtypes are kept as they are (torchvision's rule)."""

    deterministic = True

    def batch(self, images: Any) -> Tensor:
        if isinstance(images, Tensor) or not backend.is_array(images):
            raise TypeError(
                f"ToTensor expects images as NumPy arrays (H x W or H x W x C), got "
                f"{type(images).__name__}"
            )
        if images.ndim not in (3, 4):
            raise ValueError(
                f"ToTensor: an image must be H x W or H x W x C, got shape {images.shape[1:]}"
            )
        channels_first = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
        if images.dtype != backend.uint8:
            return Tensor(numpy.ascontiguousarray(channels_first))
        scaled = numpy.empty(channels_first.shape, dtype=backend.float32)
        numpy.divide(channels_first, numpy.float32(255), out=scaled)  # float32 division
        return Tensor(scaled)


class Normalize(Transform):
    """(image[c] - mean[c]) / std[c] for each channel c of a float C x H x W Tensor
    (a single mean or std serves all channels). `inplace` writes into the given Tensor."""

    deterministic = True

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.inplace = inplace
        if any(value == 0 for value in self.std):
            raise ValueError(f"Normalize: std must not contain 0 (division by zero), got {std}")

    def batch(self, images: Tensor) -> Tensor:
        if not isinstance(images, Tensor):
            raise TypeError(
                f"Normalize expects a Tensor image (C x H x W), got {type(images).__name__}; "
                "apply ToTensor first"
            )
        if not backend.is_floating(images.dtype) or images.ndim < 4:
            raise TypeError(
                f"Normalize expects a float Tensor of shape (C, H, W), got dtype "
                f"{images.dtype} and shape {images.shape[1:]}"
            )
        channels = images.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: the images have {channels} channels but {name} has "
                    f"{len(values)} values"
                )
        xp = backend.array_module(images.data)
        mean = xp.asarray(self.mean, dtype=images.dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=images.dtype).reshape(-1, 1, 1)
        if self.inplace:
            images.data -= mean
            images.data /= std
            return images
        normalized = images.data - mean
        normalized /= std
        return Tensor(normalized)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class RandomCrop(Transform):
    """Cut a `size` window at a random place, after padding each side by `padding` (an int;
    (left/right, top/bottom); or (left, top, right, bottom)). `pad_if_needed` pads an image
    narrower or lower than `size` by the shortfall on both sides; padded pixels are `fill`
    (padding_mode "constant") or taken from the edge ("edge", "reflect", "symmetric")."""

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
    ) -> None:
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {', '.join(_PADDING_MODES)}, got {padding_mode!r}"
            )
        self.size = _pair(size, "size")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def batch(self, images: Any) -> Any:
        pixels = _pixels(images)
        pixels = _pad(pixels, self._pad_widths(pixels), self)
        height, width = pixels.shape[-2:]
        crop_height, crop_width = self.size
        if height < crop_height or width < crop_width:
            raise ValueError(
                f"Required crop size {self.size} is larger than input image size {(height, width)}"
            )
        rng = backend.rng("cpu")
        count = len(pixels)
        tops = rng.integers(0, height - crop_height + 1, size=count)
        lefts = rng.integers(0, width - crop_width + 1, size=count)
        windows = sliding_window_view(pixels, self.size, axis=(-2, -1))
        # The index arrays flank the Ellipsis, so their (batch) axis comes first.
        return _like(images, windows[numpy.arange(count), ..., tops, lefts, :, :])

    def _pad_widths(self, pixels: Any) -> tuple[int, int, int, int]:
        """(left, top, right, bottom): `padding`, then what pad_if_needed adds."""
        left, top, right, bottom = _sides(self.padding)
        if self.pad_if_needed:
            height, width = pixels.shape[-2:]
            short_width = max(self.size[1] - (width + left + right), 0)
            short_height = max(self.size[0] - (height + top + bottom), 0)
            left, right = left + short_width, right + short_width
            top, bottom = top + short_height, bottom + short_height
        return left, top, right, bottom

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Transform):
    """Mirror each image left to right with probability `p`."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def batch(self, images: Any) -> Any:
        pixels = _pixels(images)
        flip = backend.rng("cpu").random(len(pixels)) < self.p
        flipped = pixels.copy()
        flipped[flip] = pixels[flip, ..., ::-1]
        return _like(images, flipped)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Lambda:
    """Apply a user function to each image (batches go image by image, see apply_batch)."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, image: Any) -> Any:
        return self.lambd(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _pixels(images: Any) -> Any:
    """A view of a batch's array with the image rows and columns as its last two axes."""
    if isinstance(images, Tensor):
        if images.ndim < 3:
            raise ValueError(f"expected Tensor images (..., H, W), got shape {images.shape[1:]}")
        return images.data
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images H x W or H x W x C, got shape {images.shape[1:]}")
    return numpy.moveaxis(images, -1, 1) if images.ndim == 4 else images


def _like(images: Any, pixels: Any) -> Any:
    """`pixels` (laid out as _pixels(images) is) in the type and layout of `images`."""
    if isinstance(images, Tensor):
        return Tensor(numpy.ascontiguousarray(pixels))
    return numpy.moveaxis(pixels, 1, -1) if images.ndim == 4 else pixels


def _pad(pixels: Any, sides: tuple[int, int, int, int], crop: RandomCrop) -> Any:
    left, top, right, bottom = sides
    if not any(sides):
        return pixels
    if crop.padding_mode != "constant":
        widths = [(0, 0)] * (pixels.ndim - 2) + [(top, bottom), (left, right)]
        return numpy.pad(pixels, widths, mode=crop.padding_mode)
    height, width = pixels.shape[-2:]
    shape = (*pixels.shape[:-2], top + height + bottom, left + width + right)
    padded = numpy.full(shape, crop.fill, dtype=pixels.dtype)  # 4x faster than numpy.pad here
    padded[..., top : top + height, left : left + width] = pixels
    return padded


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if len(value) == 1:
        return value[0], value[0]
    if len(value) == 2:
        return value[0], value[1]
    raise ValueError(f"{name} must be an int or a sequence of 1 or 2 ints, got {value!r}")


def _sides(padding: int | Sequence[int] | None) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from torchvision's forms of `padding`."""
    if padding is None:
        return 0, 0, 0, 0
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
