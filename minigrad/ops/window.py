"""Sliding-window geometry shared by convolution and pooling on (N, C, H, W) arrays: output
sizes (with dilation, and ceil_mode's extra windows), the strided slices of each kernel offset,
padding and its inverse, and the checks of kernel, stride, padding and dilation arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minigrad import backend
from minigrad.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))
NO_PADS: Pads = ((0, 0), (0, 0))


def windows(
    kernel: Pair, out_size: Pair, stride: Pair, dilation: Pair = (1, 1)
) -> Iterator[tuple[int, int, slice, slice]]:
    """For each kernel offset (i, j), in row-major order: i, j and the row and column slices
    of the padded input that hold x_pad[s_h p + d_h i, s_w q + d_w j] for every output
    position (p, q)."""
    (kh, kw), (out_h, out_w), (sh, sw), (dh, dw) = kernel, out_size, stride, dilation
    for i in range(kh):
        rows = slice(dh * i, dh * i + sh * (out_h - 1) + 1, sh)
        for j in range(kw):
            yield i, j, rows, slice(dw * j, dw * j + sw * (out_w - 1) + 1, sw)


def spans(kernel: tuple, dilation: tuple) -> tuple:
    """The extent d (k - 1) + 1 of a dilated kernel along each axis."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def output_size(size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation=None) -> tuple:
    """out = (size + before + after - d (k - 1) - 1) // s + 1 along each axis (d = 1 when
    dilation is None)."""
    extents = kernel if dilation is None else spans(kernel, dilation)
    return tuple(
        (length + before + after - extent) // s + 1
        for length, extent, s, (before, after) in zip(size, extents, stride, pads)
    )


def ceil_mode_pads(size: tuple, kernel: tuple, stride: tuple, pads: Pads, op: str) -> Pads:
    """`pads` with the rows and columns added after the input that ceil_mode's last windows
    reach into, so that output_size gives PyTorch's ceil_mode output along each axis:
    ceil((size + before + after - k) / s) + 1 windows, less the last one when it would start
    past the input and its left padding. Nothing is added where the division is exact."""
    extended = []
    for length, k, s, (before, after) in zip(size, kernel, stride, pads):
        count = -(-(length + before + after - k) // s) + 1
        if (count - 1) * s >= length + before:
            count -= 1
        if count < 1:
            raise ValueError(
                f"{op}: the output would be empty: input {tuple(size)}, kernel {tuple(kernel)}, "
                f"stride {tuple(stride)}, padding {pads}, ceil_mode=True"
            )
        extended.append((before, max(after, (count - 1) * s + k - length - before)))
    return tuple(extended)


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


def strided_windows(padded: Any, kernel: Pair, stride: Pair, dilation: Pair = (1, 1)) -> Any:
    """A view (N, out_h, out_w, kh, kw, C), for reading, of a channels-last padded array
    (N, H_pad, W_pad, C): [n, p, q, i, j] is the window pixel
    x_pad[n, s_h p + d_h i, s_w q + d_w j].

    Built with as_strided from the array's own strides, so it copies nothing and, on CuPy,
    never synchronizes (CuPy's sliding_window_view copies the window shape to the device)."""
    n, rows, columns, channels = padded.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    out_h, out_w = output_size((rows, columns), kernel, stride, NO_PADS, dilation)
    step_n, step_row, step_column, step_channel = padded.strides
    return backend.array_module(padded).lib.stride_tricks.as_strided(
        padded,
        shape=(n, out_h, out_w, kh, kw, channels),
        strides=(
            step_n,
            sh * step_row,
            sw * step_column,
            dh * step_row,
            dw * step_column,
            step_channel,
        ),
    )


# --- arguments, checked at the boundary ---------------------------------------------------------


def sizes(value: Any, count: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of `count` ints as a tuple of `count` ints, one per spatial axis."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * count
    if len(values) != count or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        what = "a pair of ints" if count == 2 else f"a sequence of {count} int(s)"
        raise TypeError(f"{op}: {name} must be an int or {what}, got {value!r}")
    return values


def pair(value: Any, name: str, op: str) -> Pair:
    """An int or a 2-sequence of ints as (height, width)."""
    return sizes(value, 2, name, op)


def conv_pads(padding: Any, kernel: tuple, stride: tuple, dilation=None, op: str = "conv2d"):
    """Padding as ((before, after), ...) per spatial axis; "same" pads d (k - 1) in all, the odd
    extra one after (at the bottom/right), as PyTorch does; "valid" is no padding."""
    dilation = (1,) * len(kernel) if dilation is None else dilation
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding != "same":
            sequence = "a pair" if len(kernel) == 2 else f"a sequence of {len(kernel)} int(s)"
            raise ValueError(
                f"{op}: padding must be an int, {sequence}, 'same' or 'valid', got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in sizes(padding, len(kernel), "padding", op))


def check_input(x: Any, op: str, dims: int = 2) -> None:
    """x must be a floating (N, C, H, W) Tensor, or (N, C, L) for dims=1."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim != 2 + dims:
        layout = "(N, C, H, W)" if dims == 2 else "(N, C, L)"
        raise ValueError(f"{op}: expected input of shape {layout}, got {x.shape}")
    if not backend.is_floating(x.dtype):
        raise TypeError(f"{op}: expected a floating point input, got dtype {x.dtype}")


def check_geometry(x: Any, kernel: tuple, stride: tuple, pads: tuple, op: str, dilation=None):
    """Positive kernel and stride, non-negative padding, and a kernel (as dilated, when
    dilation is given) that fits the padded x."""
    if min(kernel) <= 0:
        raise ValueError(f"{op}: kernel size must be positive, got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(min(pads)) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {pads}")
    padded = tuple(size + before + after for size, (before, after) in zip(x.shape[2:], pads))
    extents = kernel if dilation is None else spans(kernel, dilation)
    if any(extent > size for extent, size in zip(extents, padded)):
        reach = f"kernel {kernel}"
        if extents != kernel:
            reach += f" with dilation {dilation} (spanning {extents})"
        raise ValueError(
            f"{op}: {reach} is larger than the padded input {padded} "
            f"(input {x.shape[2:]}, padding {pads})"
        )
