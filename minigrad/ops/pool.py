"""Pooling on (N, C, H, W) tensors: max, average and adaptive average pooling (the windowed
two with PyTorch's ceil_mode, and count_include_pad for the average).

Max and average pooling loop over the kernel offsets like convolution (one strided slice of
the whole batch per offset, never over pixels or the batch); adaptive average pooling is two
small matrix products, one per axis. Max pooling cuts a large batch into parts that run on
minigrad's threads (backend.over_parts).
"""

from __future__ import annotations

import functools
from typing import Any

from minigrad import backend
from minigrad.autograd.engine import Function
from minigrad.ops import window
from minigrad.ops.window import NO_PADS, Pads, Pair
from minigrad.tensor import Tensor, on_tensors_device


class MaxPool2d(Function):
    """y[n, c, p, q] = max_{i, j} x_pad[n, c, s_h p + i, s_w q + j], x_pad padded with -inf.

    dx[n, c, s_h p + i*, s_w q + j*] += dy[n, c, p, q] at the window's argmax (i*, j*): the
    first maximum in row-major order (the last NaN when there are NaNs) among the window's real
    elements, as in PyTorch; padding is never a candidate, so a window of -inf sends dy to its
    first real element.
    Both passes split the batch over minigrad's threads, each part writing its own slice.
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), pads=NO_PADS):
        xp = backend.array_module(x)
        n, c, h, w = x.shape
        out = xp.empty((n, c, *window.output_size((h, w), kernel, stride, pads)), dtype=x.dtype)
        index_dtype = backend.uint8 if kernel[0] * kernel[1] <= 256 else backend.int32
        argmax = xp.empty(out.shape, dtype=index_dtype)
        body = functools.partial(_max_pool, kernel=kernel, stride=stride, pads=pads)
        backend.over_parts(body, (x, out, argmax))
        ctx.save_for_backward(argmax)
        ctx.geometry = (x.shape, kernel, stride, pads)
        return out

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        x_shape, kernel, stride, pads = ctx.geometry
        grad_x = backend.array_module(grad).empty(x_shape, dtype=grad.dtype)
        body = functools.partial(_max_pool_grad, kernel=kernel, stride=stride, pads=pads)
        backend.over_parts(body, (grad, argmax, grad_x), work=grad_x.size)
        return grad_x


def _max_pool(x: Any, out: Any, argmax: Any, kernel: Pair, stride: Pair, pads: Pads) -> None:
    """The pooled maxima of x into `out` and the offset index i*kw + j of each into `argmax`.

    Each window's argmax starts at its first real (unpadded) element and only a strictly
    greater value or a NaN moves it, so a window whose real elements are all -inf still sends
    its gradient to real input, never to the padding, as in PyTorch."""
    xp = backend.array_module(x)
    padded = window.pad(x, pads, float("-inf"))
    offsets = enumerate(window.windows(kernel, out.shape[2:], stride))
    if pads == NO_PADS:  # offset 0 is every window's first real element
        _, (_, _, rows, columns) = next(offsets)
        out[...] = padded[:, :, rows, columns]
        argmax[...] = 0
    else:
        out[...] = float("-inf")
        argmax[...] = _first_real_offsets(kernel, out.shape[2:], stride, pads, xp)
    values = xp.empty_like(out)
    for index, (_, _, rows, columns) in offsets:
        values[...] = padded[:, :, rows, columns]  # contiguous: the compares run faster
        wins = values > out
        wins |= xp.isnan(values)
        xp.maximum(out, values, out=out)
        # offsets come in increasing order, so the argmax is the last index that won (a masked
        # copyto does the same but is much slower in NumPy)
        xp.maximum(argmax, wins.astype(argmax.dtype) * index, out=argmax)


def _first_real_offsets(kernel: Pair, out_size: Pair, stride: Pair, pads: Pads, xp: Any) -> Any:
    """(out_h, out_w) offset indices i0*kw + j0 of each window's first real element in row-major
    order: i0 = max(top - s_h p, 0) and j0 = max(left - s_w q, 0), the first unpadded row and
    column of window (p, q); padding of at most half the kernel leaves each window one."""
    (_, kw), (out_h, out_w), (sh, sw), ((top, _), (left, _)) = kernel, out_size, stride, pads
    first_row = xp.maximum(top - sh * xp.arange(out_h), 0)
    first_column = xp.maximum(left - sw * xp.arange(out_w), 0)
    return first_row[:, None] * kw + first_column[None, :]


def _max_pool_grad(grad: Any, argmax: Any, out: Any, kernel: Pair, stride: Pair, pads: Pads):
    """dx into `out` (N, C, H, W): each dy goes to its window's argmax."""
    xp = backend.array_module(grad)
    offsets = enumerate(window.windows(kernel, grad.shape[2:], stride))
    if _tiles_exactly(out.shape, kernel, stride, pads):
        # every input position lies in exactly one window: write each offset's share
        # straight into its strided slice, with no zero fill and no read-modify-write
        for index, (_, _, rows, columns) in offsets:
            xp.multiply(grad, argmax == index, out=out[:, :, rows, columns])
        return
    grad_padded = xp.zeros(window.padded_shape(out.shape, pads), dtype=grad.dtype)
    for index, (_, _, rows, columns) in offsets:
        grad_padded[:, :, rows, columns] += grad * (argmax == index)
    out[...] = window.interior(grad_padded, pads)


def _tiles_exactly(x_shape: tuple, kernel: Pair, stride: Pair, pads: Pads) -> bool:
    """True when the windows cover the unpadded input without overlap or gaps (e.g. 2x2 pooling
    with stride 2 on an even-sized input)."""
    no_padding = pads == NO_PADS
    return no_padding and all(
        k == s and size % k == 0 for size, k, s in zip(x_shape[2:], kernel, stride)
    )


class AvgPool2d(Function):
    """y[n, c, p, q] = (1 / m[p, q]) sum_{i, j} x_pad[n, c, s_h p + i, s_w q + j], x_pad padded
    with zeros, where m[p, q] counts the window's cells that lie in the counted region: the
    input with its padding (count_include_pad=True, PyTorch's default) or the input alone.
    The rows and columns that ceil_mode adds after the padding never count, so there m is the
    window clipped to the padded input, as in PyTorch; elsewhere, with the padding counted,
    m = kh kw.

    dx_pad[n, c, s_h p + i, s_w q + j] += dy[n, c, p, q] / m[p, q] for every offset (i, j).
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), pads=NO_PADS, counted=None):
        xp = backend.array_module(x)
        n, c, h, w = x.shape
        out_size = window.output_size((h, w), kernel, stride, pads)
        padded = window.pad(x, pads)
        out = xp.zeros((n, c, *out_size), dtype=x.dtype)
        for _, _, rows, columns in window.windows(kernel, out_size, stride):
            out += padded[:, :, rows, columns]
        counted = pads if counted is None else counted
        divisor = _window_counts((h, w), kernel, stride, pads, counted, out_size, x.dtype, xp)
        out /= divisor
        ctx.geometry = (x.shape, kernel, stride, pads, divisor)
        return out

    @staticmethod
    def backward(ctx, grad):
        x_shape, kernel, stride, pads, divisor = ctx.geometry
        share = grad / divisor
        xp = backend.array_module(grad)
        grad_padded = xp.zeros(window.padded_shape(x_shape, pads), dtype=grad.dtype)
        for _, _, rows, columns in window.windows(kernel, grad.shape[2:], stride):
            grad_padded[:, :, rows, columns] += share
        return xp.ascontiguousarray(window.interior(grad_padded, pads))


def _window_counts(
    size: Pair, kernel: Pair, stride: Pair, pads: Pads, counted: Pads, out_size: Pair, dtype, xp
) -> Any:
    """m[p, q], the number of cells of window (p, q) inside the counted region, which reaches
    counted = ((top, bottom), (left, right)) beyond the input: kh kw when that region is all of
    the padded input, else an (out_h, out_w) array. Along each axis, window p spans padded
    positions [s p, s p + k) and the region [before - counted_before, before + size +
    counted_after); m is the product of the two axes' overlaps."""
    if counted == pads:
        return kernel[0] * kernel[1]
    overlaps = []
    for length, k, s, (before, _), (counted_before, counted_after), out in zip(
        size, kernel, stride, pads, counted, out_size
    ):
        start = xp.arange(out) * s
        first = xp.maximum(start, before - counted_before)
        end = xp.minimum(start + k, before + length + counted_after)
        overlaps.append(end - first)
    return (overlaps[0][:, None] * overlaps[1][None, :]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """y[n, c, p, q] = mean of x[n, c, h0(p) : h1(p), w0(q) : w1(q)], PyTorch's windows
    h0(p) = floor(p H / out_h), h1(p) = ceil((p + 1) H / out_h) (the same along W): they cover
    the input, may overlap and may have unequal sizes (any output size, larger ones too).

    A mean over a rectangle is separable: y[n, c] = A_h @ x[n, c] @ A_w^T with
    A_h[p, h] = 1 / (h1(p) - h0(p)) on window p's rows and 0 elsewhere (A_w likewise), so
    dx[n, c] = A_h^T @ dy[n, c] @ A_w. The product along W, which meets the full-size x or dx,
    is one 2-d matrix product over all (n, c, h) rows; only the smaller one is batched.
    """

    @staticmethod
    def forward(ctx, x, output_size=(1, 1)):
        xp = backend.array_module(x)
        n, c, height, width = x.shape
        out_h, out_w = output_size
        rows = _adaptive_window_means(height, out_h, x.dtype, xp)
        columns = _adaptive_window_means(width, out_w, x.dtype, xp)
        ctx.save_for_backward(rows, columns)
        ctx.x_shape = x.shape
        column_means = x.reshape(-1, width) @ columns.T
        return rows @ column_means.reshape(n, c, height, out_w)

    @staticmethod
    def backward(ctx, grad):
        rows, columns = ctx.saved_tensors
        grad_column_means = rows.T @ grad  # (N, C, H, out_w)
        return (grad_column_means.reshape(-1, columns.shape[0]) @ columns).reshape(ctx.x_shape)


def _adaptive_window_means(size: int, out_size: int, dtype: Any, xp: Any) -> Any:
    """A (out_size, size) with A[p, h] = 1 / (end - start) for start <= h < end, where
    start = floor(p size / out_size) and end = ceil((p + 1) size / out_size); 0 elsewhere."""
    positions = xp.arange(out_size)[:, None]
    start = positions * size // out_size
    end = -(-(positions + 1) * size // out_size)
    inputs = xp.arange(size)[None, :]
    inside = (inputs >= start) & (inputs < end)
    return (inside / (end - start)).astype(dtype)


# --- the functional API: argument checks at the boundary -----------------------------------


def _pool_args(x: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool, op: str):
    """The checked kernel, stride and padding of a windowed pool, the padding as
    ((top, bottom), (left, right)): once as given, and once with the rows and columns that
    ceil_mode's last windows reach into added at the bottom and right."""
    window.check_input(x, op)
    kernel = window.pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else window.pair(stride, "stride", op)
    pad_h, pad_w = window.pair(padding, "padding", op)
    pads = ((pad_h, pad_h), (pad_w, pad_w))
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{op}: ceil_mode must be True or False, got {ceil_mode!r}")
    extended = pads
    positive = min(kernel) > 0 and min(stride) > 0 and min(pad_h, pad_w) >= 0
    if ceil_mode and positive:  # (bad values get check_geometry's errors)
        extended = window.ceil_mode_pads(x.shape[2:], kernel, stride, pads, op)
    window.check_geometry(x, kernel, stride, extended, op)
    if 2 * pad_h > kernel[0] or 2 * pad_w > kernel[1]:
        raise ValueError(
            f"{op}: padding must be at most half the kernel size, got padding {(pad_h, pad_w)} "
            f"for kernel {kernel}"
        )
    return kernel, stride, pads, extended


@on_tensors_device
def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    *,
    ceil_mode: bool = False,
) -> Tensor:
    """Maximum over each kh x kw window of x (N, C, H, W); stride defaults to kernel_size and the
    padding is -inf, so it never wins. ceil_mode=True rounds the output size up, as PyTorch:
    out = ceil((size + 2 pad - k) / s) + 1, less one when the last window would start past the
    input and its left padding; the last windows may then be partial."""
    kernel, stride, _, pads = _pool_args(x, kernel_size, stride, padding, ceil_mode, "max_pool2d")
    return MaxPool2d.apply(x, kernel=kernel, stride=stride, pads=pads)


@on_tensors_device
def avg_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each kh x kw window of x (N, C, H, W); stride defaults to kernel_size. The zero
    padding counts in the mean with count_include_pad=True (the default), not with False;
    ceil_mode as in max_pool2d, where the cells past the padding never count (PyTorch's
    divisors for the partial windows)."""
    kernel, stride, pads, extended = _pool_args(
        x, kernel_size, stride, padding, ceil_mode, "avg_pool2d"
    )
    if not isinstance(count_include_pad, bool):
        raise TypeError(
            f"avg_pool2d: count_include_pad must be True or False, got {count_include_pad!r}"
        )
    counted = pads if count_include_pad else NO_PADS
    return AvgPool2d.apply(x, kernel=kernel, stride=stride, pads=extended, counted=counted)


@on_tensors_device
def adaptive_avg_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Mean pooling of x (N, C, H, W) to (N, C, out_h, out_w) (None keeps that input size).

    Window p along H spans rows floor(p H / out_h) to ceil((p + 1) H / out_h) (exclusive), as in
    PyTorch, and likewise along W: any output size works, also one that does not divide the
    input size (windows of unequal size that may overlap) or exceeds it. 1 (or (1, 1)) is the
    global average."""
    window.check_input(x, "adaptive_avg_pool2d")
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(size) != 2 or not all(
        s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in size
    ):
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be an int or a pair of ints or None, "
            f"got {output_size!r}"
        )
    size = tuple(x.shape[2 + axis] if s is None else s for axis, s in enumerate(size))
    if min(size) <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if size == (1, 1):
        return x.mean(dim=(2, 3), keepdim=True)
    return AdaptiveAvgPool2d.apply(x, output_size=size)
