"""Sliding-window geometry shared by convolution and pooling on (N, C, H, W) arrays: output
sizes, the strided slices of each kernel offset, padding and its inverse, and the checks of
kernel, stride and padding arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minigrad import backend
from minigrad.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))
NO_PADS: Pads = ((0, 0), (0, 0))


def windows(kernel: Pair, out_size: Pair, stride: Pair) -> Iterator[tuple[int, int, slice, slice]]:
    """For each kernel offset (i, j), in row-major order: i, j and the row and column slices
    of the padded input that hold x_pad[s_h p + i, s_w q + j] for every output position (p, q)."""
    (kh, kw), (out_h, out_w), (sh, sw) = kernel, out_size, stride
    for i in range(kh):
        rows = slice(i, i + sh * (out_h - 1) + 1, sh)
        for j in range(kw):
            yield i, j, rows, slice(j, j + sw * (out_w - 1) + 1, sw)


def output_size(size: Pair, kernel: Pair, stride: Pair, pads: Pads) -> Pair:
    """(out_h, out_w) = (size + before + after - k) // s + 1 along each axis."""
    return tuple(
        (length + before + after - k) // s + 1
        for length, k, s, (before, after) in zip(size, kernel, stride, pads)
    )


def padded_shape(shape: tuple, pads: Pads, channels_last: bool = False) -> tuple:
    """The shape of an (N, C, H, W) array once padded: (N, C, H_pad, W_pad), or
    (N, H_pad, W_pad, C) with channels_last."""
    n, c, h, w = shape
    (top, bottom), (left, right) = pads
    h_pad, w_pad = h + top + bottom, w + left + right
    return (n, h_pad, w_pad, c) if channels_last else (n, c, h_pad, w_pad)


def pad(x: Any, pads: Pads, fill: float = 0, channels_last: bool = False) -> Any:
    """x (N, C, H, W) in a new array with `fill` around it, laid out as (N, C, H_pad, W_pad) or
    (N, H_pad, W_pad, C); x itself when there is nothing to pad or transpose."""
    if pads == NO_PADS and not channels_last:
        return x
    xp = backend.array_module(x)
    padded = xp.full(padded_shape(x.shape, pads, channels_last), fill, dtype=x.dtype)
    interior(padded, pads, channels_last)[...] = x
    return padded


def interior(padded: Any, pads: Pads, channels_last: bool = False) -> Any:
    """The inverse of pad: the (N, C, H, W) view of a padded array's interior (a transposed view
    for a channels-last one)."""
    (top, bottom), (left, right) = pads
    if channels_last:
        rows, columns = padded.shape[1:3]
        inside = padded[:, top : rows - bottom, left : columns - right, :]
        return inside.transpose(0, 3, 1, 2)
    rows, columns = padded.shape[2:]
    return padded[:, :, top : rows - bottom, left : columns - right]


def strided_windows(padded: Any, kernel: Pair, stride: Pair) -> Any:
    """A view (N, out_h, out_w, kh, kw, C), for reading, of a channels-last padded array
    (N, H_pad, W_pad, C): [n, p, q, i, j] is the window pixel x_pad[n, s_h p + i, s_w q + j].

    Built with as_strided from the array's own strides, so it copies nothing and, on CuPy,
    never synchronizes (CuPy's sliding_window_view copies the window shape to the device)."""
    n, rows, columns, channels = padded.shape
    (kh, kw), (sh, sw) = kernel, stride
    out_h, out_w = (rows - kh) // sh + 1, (columns - kw) // sw + 1
    step_n, step_row, step_column, step_channel = padded.strides
    return backend.array_module(padded).lib.stride_tricks.as_strided(
        padded,
        shape=(n, out_h, out_w, kh, kw, channels),
        strides=(step_n, sh * step_row, sw * step_column, step_row, step_column, step_channel),
    )


# --- arguments, checked at the boundary ---------------------------------------------------------


def pair(value: Any, name: str, op: str) -> Pair:
    """An int or a 2-sequence of ints as (height, width)."""
    both = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(both) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in both):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return both


def conv_pads(padding: Any, kernel: Pair, stride: Pair) -> Pads:
    """Padding as ((top, bottom), (left, right)); "same" puts the odd extra row/column of an
    even kernel at the bottom/right, as PyTorch does; "valid" is no padding."""
    if isinstance(padding, str):
        if padding == "valid":
            return NO_PADS
        if padding != "same":
            raise ValueError(
                f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
            )
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        return tuple(((k - 1) // 2, (k - 1) - (k - 1) // 2) for k in kernel)
    top, left = pair(padding, "padding", "conv2d")
    return ((top, top), (left, left))


def check_input(x: Any, op: str) -> None:
    """x must be a floating (N, C, H, W) Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}")
    if not backend.is_floating(x.dtype):
        raise TypeError(f"{op}: expected a floating point input, got dtype {x.dtype}")


def check_geometry(x: Any, kernel: Pair, stride: Pair, pads: Pads, op: str) -> None:
    """Positive kernel and stride, non-negative padding, and a kernel that fits the padded x."""
    if min(kernel) <= 0:
        raise ValueError(f"{op}: kernel size must be positive, got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(min(pads)) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {pads}")
    padded = padded_shape(x.shape, pads)[2:]
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"{op}: kernel {kernel} is larger than the padded input {padded} "
            f"(input {x.shape[2:]}, padding {pads})"
        )
