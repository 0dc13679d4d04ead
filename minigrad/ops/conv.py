"""Convolution and pooling on (N, C, H, W) tensors: conv2d by im2col, max, average and adaptive
average pooling (the last by two small matrix products, one per axis).

Each op is one fused Function on raw arrays. Its loops run over the kh*kw kernel offsets only
(one strided slice of the whole batch per offset, never over pixels or the batch), so NumPy and
CuPy share the code. On the CPU, conv2d and max_pool2d cut a large batch into parts that run on
minigrad's threads (backend.parallel_parts), each part writing its own samples' outputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from minigrad import backend
from minigrad.autograd import Function
from minigrad.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def _windows(kernel: Pair, out_size: Pair, stride: Pair) -> Iterator[tuple[int, int, slice, slice]]:
    """For each kernel offset (i, j), in row-major order: i, j and the row and column slices
    of the padded input that hold x_pad[s_h p + i, s_w q + j] for every output position (p, q)."""
    (kh, kw), (out_h, out_w), (sh, sw) = kernel, out_size, stride
    for i in range(kh):
        rows = slice(i, i + sh * (out_h - 1) + 1, sh)
        for j in range(kw):
            yield i, j, rows, slice(j, j + sw * (out_w - 1) + 1, sw)


def _output_size(size: Pair, kernel: Pair, stride: Pair, pads: Pads) -> Pair:
    return tuple(
        (length + before + after - k) // s + 1
        for length, k, s, (before, after) in zip(size, kernel, stride, pads)
    )


def _pad(x: Any, pads: Pads, fill: float) -> Any:
    """x (N, C, H, W) with `fill` around it (x itself when there is no padding)."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    n, c, h, w = x.shape
    xp = backend.array_module(x)
    padded = xp.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
    padded[:, :, top : top + h, left : left + w] = x
    return padded


def _pad_channels_last(x: Any, pads: Pads) -> Any:
    """x (N, C, H, W) zero-padded into a new (N, H_pad, W_pad, C) array."""
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    xp = backend.array_module(x)
    padded = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    padded[:, top : top + h, left : left + w, :] = x.transpose(0, 2, 3, 1)
    return padded


def _unpad(padded: Any, pads: Pads) -> Any:
    """The inverse of _pad for a gradient (N, C, H_pad, W_pad): the interior, contiguous."""
    (top, bottom), (left, right) = pads
    h, w = padded.shape[2] - top - bottom, padded.shape[3] - left - right
    xp = backend.array_module(padded)
    return xp.ascontiguousarray(padded[:, :, top : top + h, left : left + w])


class Conv2d(Function):
    """y[n, o, p, q] = b[o] + sum_{c, i, j} w[o, c, i, j] * x_pad[n, c, s_h p + i, s_w q + j].

    As matrix products over a column buffer (im2col), in one of two layouts (see
    _per_sample_products for which one a layer gets), with K = C kh kw and P = out_h out_w:

    - rows, channels-last: cols[(n, p, q), (i, j, c)] = x_pad[n, c, s_h p + i, s_w q + j] and
      w_mat[(i, j, c), o] = w[o, c, i, j] give y_rows = cols @ w_mat + b, one (n P, K) @ (K, O)
      product; the weight gradient is dw_mat = dy_planes @ cols with dy_planes[o, (n, p, q)].
    - per sample: cols[n, (c, i, j), (p, q)] and w_flat[o, (c, i, j)] give
      y[n] = w_flat @ cols[n] + b, written in (N, C, H, W) order with no copy;
      dw_flat = sum_n dy[n] @ cols[n]^T.

    Both: db[o] = sum_{n, p, q} dy[n, o, p, q], and with dy_rows[(n, p, q), o] = dy[n, o, p, q],
    dx_pad[n, c, s_h p + i, s_w q + j] += sum_o dy_rows[(n, p, q), o] * w[o, c, i, j], one
    kernel offset (i, j) at a time (col2im), then dx = dx_pad without its padding.

    Every step works on whole samples, so both passes split the batch into parts that run on
    minigrad's threads (backend.parallel_parts): each part fills its own samples' columns and
    its own slice of y or dx; the parts' dw and db are added at the end.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), pads=((0, 0), (0, 0))):
        xp = backend.array_module(x)
        batch = x.shape[0]
        out_channels, channels, kh, kw = weight.shape
        out_h, out_w = _output_size(x.shape[2:], (kh, kw), stride, pads)
        k, positions = channels * kh * kw, out_h * out_w
        per_sample = _per_sample_products(k, positions)
        _, need_weight, _ = ctx.needs_input_grad
        cols_shape = (batch, k, positions) if per_sample else (batch, positions, k)
        cols = xp.empty(cols_shape, dtype=x.dtype) if need_weight else None
        result = xp.empty((batch, out_channels, out_h, out_w), dtype=x.dtype)
        if per_sample:
            w_flat = weight.reshape(out_channels, k)
        else:
            w_mat = weight.transpose(2, 3, 1, 0).reshape(k, out_channels)

        def run(part):
            part_cols = None if cols is None else cols[part]
            if per_sample:
                part_cols = _im2col_per_sample(x[part], (kh, kw), stride, pads, part_cols)
                out = result[part].reshape(len(part_cols), out_channels, positions)
                xp.matmul(w_flat, part_cols, out=out)
                if bias is not None:
                    out += bias.reshape(-1, 1)
                return
            part_cols = _im2col(x[part], (kh, kw), stride, pads, part_cols)
            out = part_cols.reshape(-1, k) @ w_mat  # ((n, p, q), o): to (n, o, p, q) below
            out = out.reshape(-1, out_h, out_w, out_channels).transpose(0, 3, 1, 2)
            if bias is None:
                result[part] = out
            else:  # the bias rides along with the copy from channels-last to (N, C, H, W)
                xp.add(out, bias.reshape(-1, 1, 1), out=result[part])

        backend.parallel_map(run, backend.parallel_parts(x, work=math.prod(cols_shape)))
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, stride, pads, per_sample)
        return result

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        x_shape, stride, pads, per_sample = ctx.geometry
        xp = backend.array_module(grad)
        out_channels, channels, kh, kw = weight.shape
        k, positions = channels * kh * kw, grad.shape[2] * grad.shape[3]
        grad_x = xp.empty(x_shape, dtype=grad.dtype) if need_x else None

        def run(part):
            grad_part = grad[part]
            grad_w_mat = grad_b = None
            if per_sample:  # dy as (n, o, (p, q)); sizes spelled out, as n may be 0
                samples = grad_part.reshape(len(grad_part), out_channels, positions)
                if need_weight:  # (o, (c, i, j))
                    grad_w_mat = xp.matmul(samples, cols[part].transpose(0, 2, 1)).sum(axis=0)
                if need_bias:
                    grad_b = samples.sum(axis=(0, 2))
            elif need_weight or need_bias:
                # dy as (o, (n, p, q)): moving axis 1 to the front copies whole (p, q) planes,
                # far faster than making the (n, p, q, o) rows, whose inner stride is o; the
                # input gradient's products do want rows, so only it pays for them
                planes = xp.ascontiguousarray(grad_part.transpose(1, 0, 2, 3))
                planes = planes.reshape(out_channels, len(grad_part) * positions)
                if need_weight:  # (o, (i, j, c))
                    grad_w_mat = planes @ cols[part].reshape(planes.shape[1], k)
                if need_bias:
                    grad_b = planes.sum(axis=1)
            if need_x:
                grad_rows = grad_part.transpose(0, 2, 3, 1).reshape(-1, out_channels)
                _conv2d_input_grad(grad_rows, weight, grad_x[part], stride, pads)
            return grad_w_mat, grad_b

        work = grad.size * kh * kw * channels
        partials = backend.parallel_map(run, backend.parallel_parts(grad, work))
        grad_w_mat, grad_bias = (_add_up(column) for column in zip(*partials))
        grad_weight = None
        if need_weight and per_sample:
            grad_weight = grad_w_mat.reshape(weight.shape)
        elif need_weight:
            grad_weight = grad_w_mat.reshape(out_channels, kh, kw, channels).transpose(0, 3, 1, 2)
            grad_weight = xp.ascontiguousarray(grad_weight)
        return grad_x, grad_weight, grad_bias


def _per_sample_products(k: int, positions: int) -> bool:
    """Whether a convolution uses per-sample products (True) or one product over channels-last
    rows (False), from the kernel's K = C kh kw values and the P output positions per sample.

    Per sample, the n products (O, K) @ (K, P) write y in (N, C, H, W) order with no copy, and
    the im2col copies runs of out_w values where the channels-last one copies runs of C. That
    wins while K < P, as in a first layer (forward 5x and weight gradient 2.5x faster, measured
    for 1 -> 32 channels on 28x28, K = 9, P = 784). With K >= P each product is small and the
    weight gradient sums n of them: one (n P, K) product is faster (1.5x for the weight gradient
    of 32 -> 64 channels on 14x14, K = 288, P = 196)."""
    return k < positions


def _add_up(partials: tuple) -> Any:
    """The sum of the parts' partial gradients (None when they were not computed)."""
    if partials[0] is None:
        return None
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total


def _im2col(x: Any, kernel: Pair, stride: Pair, pads: Pads, out: Any = None) -> Any:
    """cols[n, (p, q), (i, j, c)] = x_pad[n, c, s_h p + i, s_w q + j], into `out` when given.

    Channels-last, so the (i, j, c) columns meet w_mat without a transpose of the big buffer.
    One copy out of a sliding-window view of the padded input, not one copy per kernel offset:
    with NumPy that is 3x faster, since the per-offset copies move runs of only C values."""
    xp = backend.array_module(x)
    padded = _pad_channels_last(x, pads)
    windows = xp.lib.stride_tricks.sliding_window_view(padded, kernel, axis=(1, 2))
    windows = windows[:, :: stride[0], :: stride[1]]  # (N, out_h, out_w, C, kh, kw)
    windows = windows.transpose(0, 1, 2, 4, 5, 3)
    n, out_h, out_w = windows.shape[:3]
    if out is None:
        out = xp.empty((n, out_h * out_w, math.prod(windows.shape[3:])), dtype=x.dtype)
    out.reshape(windows.shape)[...] = windows
    return out


def _im2col_per_sample(x: Any, kernel: Pair, stride: Pair, pads: Pads, out: Any = None) -> Any:
    """cols[n, (c, i, j), (p, q)] = x_pad[n, c, s_h p + i, s_w q + j], into `out` when given:
    one strided copy of the padded input per kernel offset, moving runs of out_w values."""
    xp = backend.array_module(x)
    padded = _pad(x, pads, 0)
    n, channels = x.shape[:2]
    out_size = _output_size(x.shape[2:], kernel, stride, pads)
    if out is None:
        out = xp.empty((n, channels * kernel[0] * kernel[1], math.prod(out_size)), x.dtype)
    blocks = out.reshape(n, channels, *kernel, *out_size)
    for i, j, rows, columns in _windows(kernel, out_size, stride):
        blocks[:, :, i, j] = padded[:, :, rows, columns]
    return out


def _conv2d_input_grad(grad_rows: Any, weight: Any, out: Any, stride: Pair, pads: Pads):
    """dx (N, C, H, W) into `out`: col2im fused with its matrix product. For each kernel
    offset (i, j), the (n, p, q) x c block dy_rows @ w[:, :, i, j] is added to its strided
    window of dx_pad, so the full (n, p, q) x (i, j, c) gradient of the column buffer never
    exists at once."""
    xp = backend.array_module(grad_rows)
    n, channels, h, w = out.shape
    _, _, kh, kw = weight.shape
    (top, bottom), (left, right) = pads
    out_h, out_w = _output_size((h, w), (kh, kw), stride, pads)
    grad_padded = xp.zeros((n, h + top + bottom, w + left + right, channels), dtype=weight.dtype)
    for i, j, rows, columns in _windows((kh, kw), (out_h, out_w), stride):
        block = grad_rows @ weight[:, :, i, j]
        grad_padded[:, rows, columns, :] += block.reshape(n, out_h, out_w, channels)
    out[...] = grad_padded[:, top : top + h, left : left + w, :].transpose(0, 3, 1, 2)


class MaxPool2d(Function):
    """y[n, c, p, q] = max_{i, j} x_pad[n, c, s_h p + i, s_w q + j], x_pad padded with -inf.

    dx[n, c, s_h p + i*, s_w q + j*] += dy[n, c, p, q] at the window's argmax (i*, j*): the
    first maximum in row-major order (the last NaN when there are NaNs) among the window's real
    elements, as in PyTorch; padding is never a candidate, so a window of -inf sends dy to its
    first real element.
    Both passes split the batch over minigrad's threads, each part writing its own slice.
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), pads=((0, 0), (0, 0))):
        xp = backend.array_module(x)
        n, c, h, w = x.shape
        out = xp.empty((n, c, *_output_size((h, w), kernel, stride, pads)), dtype=x.dtype)
        index_dtype = backend.uint8 if kernel[0] * kernel[1] <= 256 else backend.int32
        argmax = xp.empty(out.shape, dtype=index_dtype)

        def run(part):
            _max_pool(x[part], kernel, stride, pads, out[part], argmax[part])

        backend.parallel_map(run, backend.parallel_parts(x))
        ctx.save_for_backward(argmax)
        ctx.geometry = (x.shape, kernel, stride, pads)
        return out

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        x_shape, kernel, stride, pads = ctx.geometry
        grad_x = backend.array_module(grad).empty(x_shape, dtype=grad.dtype)

        def run(part):
            _max_pool_grad(grad[part], argmax[part], kernel, stride, pads, grad_x[part])

        backend.parallel_map(run, backend.parallel_parts(grad, grad_x.size))
        return grad_x


def _max_pool(x: Any, kernel: Pair, stride: Pair, pads: Pads, out: Any, argmax: Any) -> None:
    """The pooled maxima of x into `out` and the offset index i*kw + j of each into `argmax`.

    Each window's argmax starts at its first real (unpadded) element and only a strictly
    greater value or a NaN moves it, so a window whose real elements are all -inf still sends
    its gradient to real input, never to the padding, as in PyTorch."""
    xp = backend.array_module(x)
    padded = _pad(x, pads, float("-inf"))
    windows = enumerate(_windows(kernel, out.shape[2:], stride))
    if pads == ((0, 0), (0, 0)):  # offset 0 is every window's first real element
        _, (_, _, rows, columns) = next(windows)
        out[...] = padded[:, :, rows, columns]
        argmax[...] = 0
    else:
        out[...] = float("-inf")
        argmax[...] = _first_real_offsets(kernel, out.shape[2:], stride, pads, xp)
    window = xp.empty_like(out)
    for index, (_, _, rows, columns) in windows:
        window[...] = padded[:, :, rows, columns]  # contiguous: the compares run faster
        wins = window > out
        wins |= xp.isnan(window)
        xp.maximum(out, window, out=out)
        # offsets come in increasing order, so the argmax is the last index that won
        # (a masked copyto does the same but is 50x slower in NumPy)
        xp.maximum(argmax, wins.astype(argmax.dtype) * index, out=argmax)


def _first_real_offsets(kernel: Pair, out_size: Pair, stride: Pair, pads: Pads, xp: Any) -> Any:
    """(out_h, out_w) offset indices i0*kw + j0 of each window's first real element in row-major
    order: i0 = max(top - s_h p, 0) and j0 = max(left - s_w q, 0), the first unpadded row and
    column of window (p, q); padding of at most half the kernel leaves each window one."""
    (_, kw), (out_h, out_w), (sh, sw), ((top, _), (left, _)) = kernel, out_size, stride, pads
    first_row = xp.maximum(top - sh * xp.arange(out_h), 0)
    first_column = xp.maximum(left - sw * xp.arange(out_w), 0)
    return first_row[:, None] * kw + first_column[None, :]


def _max_pool_grad(grad: Any, argmax: Any, kernel: Pair, stride: Pair, pads: Pads, out: Any):
    """dx into `out` (N, C, H, W): each dy goes to its window's argmax."""
    xp = backend.array_module(grad)
    windows = enumerate(_windows(kernel, grad.shape[2:], stride))
    if _tiles_exactly(out.shape, kernel, stride, pads):
        # every input position lies in exactly one window: write each offset's share
        # straight into its strided slice, with no zero fill and no read-modify-write
        for index, (_, _, rows, columns) in windows:
            xp.multiply(grad, argmax == index, out=out[:, :, rows, columns])
        return
    grad_padded = _zeros_padded(grad, out.shape, pads)
    for index, (_, _, rows, columns) in windows:
        grad_padded[:, :, rows, columns] += grad * (argmax == index)
    (top, _), (left, _) = pads
    out[...] = grad_padded[:, :, top : top + out.shape[2], left : left + out.shape[3]]


def _tiles_exactly(x_shape: tuple, kernel: Pair, stride: Pair, pads: Pads) -> bool:
    """True when the windows cover the unpadded input without overlap or gaps (e.g. 2x2 pooling
    with stride 2 on an even-sized input)."""
    no_padding = pads == ((0, 0), (0, 0))
    return no_padding and all(
        k == s and size % k == 0 for size, k, s in zip(x_shape[2:], kernel, stride)
    )


class AvgPool2d(Function):
    """y[n, c, p, q] = (1 / (kh kw)) sum_{i, j} x_pad[n, c, s_h p + i, s_w q + j], x_pad padded
    with zeros that count in the average (count_include_pad=True, PyTorch's default).

    dx_pad[n, c, s_h p + i, s_w q + j] += dy[n, c, p, q] / (kh kw) for every offset (i, j).
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), pads=((0, 0), (0, 0))):
        xp = backend.array_module(x)
        n, c, h, w = x.shape
        out_size = _output_size((h, w), kernel, stride, pads)
        padded = _pad(x, pads, 0)
        out = xp.zeros((n, c, *out_size), dtype=x.dtype)
        for _, _, rows, columns in _windows(kernel, out_size, stride):
            out += padded[:, :, rows, columns]
        out /= kernel[0] * kernel[1]
        ctx.geometry = (x.shape, kernel, stride, pads)
        return out

    @staticmethod
    def backward(ctx, grad):
        x_shape, kernel, stride, pads = ctx.geometry
        share = grad / (kernel[0] * kernel[1])
        grad_padded = _zeros_padded(grad, x_shape, pads)
        for _, _, rows, columns in _windows(kernel, grad.shape[2:], stride):
            grad_padded[:, :, rows, columns] += share
        return _unpad(grad_padded, pads)


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


def _zeros_padded(grad: Any, x_shape: tuple, pads: Pads) -> Any:
    n, c, h, w = x_shape
    (top, bottom), (left, right) = pads
    xp = backend.array_module(grad)
    return xp.zeros((n, c, h + top + bottom, w + left + right), dtype=grad.dtype)


# --- the functional API: argument checks at the boundary -----------------------------------


def _pair(value: Any, name: str, op: str) -> Pair:
    """An int or a 2-sequence of ints as (height, width)."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return pair


def _check_input(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}")
    if not backend.is_floating(x.dtype):
        raise TypeError(f"{op}: expected a floating point input, got dtype {x.dtype}")


def _check_geometry(x: Tensor, kernel: Pair, stride: Pair, pads: Pads, op: str) -> None:
    if min(kernel) <= 0:
        raise ValueError(f"{op}: kernel size must be positive, got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(min(pads)) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {pads}")
    padded = tuple(size + before + after for size, (before, after) in zip(x.shape[2:], pads))
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"{op}: kernel {kernel} is larger than the padded input {padded} "
            f"(input {x.shape[2:]}, padding {pads})"
        )


def _conv_pads(padding: Any, kernel: Pair, stride: Pair) -> Pads:
    """Padding as ((top, bottom), (left, right)); "same" puts the odd extra row/column of an
    even kernel at the bottom/right, as PyTorch does; "valid" is no padding."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding != "same":
            raise ValueError(
                f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
            )
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        return tuple(((k - 1) // 2, (k - 1) - (k - 1) // 2) for k in kernel)
    top, left = _pair(padding, "padding", "conv2d")
    return ((top, top), (left, left))


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
) -> Tensor:
    """2-d cross-correlation of x (N, C, H, W) with weight (out_channels, C, kh, kw), plus bias
    (out_channels,): output (N, out_channels, out_h, out_w), out = (size + 2 pad - k) // s + 1."""
    _check_input(x, "conv2d")
    if weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected weight of shape (out_channels, in_channels, kh, kw), "
            f"got {weight.shape}"
        )
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but weight expects "
            f"{weight.shape[1]} (shape {weight.shape})"
        )
    if x.dtype != weight.dtype:
        raise TypeError(
            f"conv2d: input dtype {x.dtype} and weight dtype {weight.dtype} differ; "
            "convert one with .to(dtype)"
        )
    if bias is not None:
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"conv2d: expected bias of shape ({weight.shape[0]},) for weight {weight.shape}, "
                f"got {bias.shape}"
            )
        if bias.dtype != weight.dtype:
            raise TypeError(
                f"conv2d: bias dtype {bias.dtype} and weight dtype {weight.dtype} differ"
            )
    kernel = weight.shape[2:]
    stride = _pair(stride, "stride", "conv2d")
    if min(stride) <= 0:
        raise ValueError(f"conv2d: stride must be positive, got {stride}")
    pads = _conv_pads(padding, kernel, stride)
    _check_geometry(x, kernel, stride, pads, "conv2d")
    return Conv2d.apply(x, weight, bias, stride=stride, pads=pads)


def _pool_args(x: Tensor, kernel_size: Any, stride: Any, padding: Any, op: str):
    _check_input(x, op)
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    pad_h, pad_w = _pair(padding, "padding", op)
    pads = ((pad_h, pad_h), (pad_w, pad_w))
    _check_geometry(x, kernel, stride, pads, op)
    if 2 * pad_h > kernel[0] or 2 * pad_w > kernel[1]:
        raise ValueError(
            f"{op}: padding must be at most half the kernel size, got padding {(pad_h, pad_w)} "
            f"for kernel {kernel}"
        )
    return kernel, stride, pads


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """Maximum over each kh x kw window of x (N, C, H, W); stride defaults to kernel_size and the
    padding is -inf, so it never wins."""
    kernel, stride, pads = _pool_args(x, kernel_size, stride, padding, "max_pool2d")
    return MaxPool2d.apply(x, kernel=kernel, stride=stride, pads=pads)


def avg_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """Mean over each kh x kw window of x (N, C, H, W); stride defaults to kernel_size and the
    zero padding counts in the mean (count_include_pad=True)."""
    kernel, stride, pads = _pool_args(x, kernel_size, stride, padding, "avg_pool2d")
    return AvgPool2d.apply(x, kernel=kernel, stride=stride, pads=pads)


def adaptive_avg_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Mean pooling of x (N, C, H, W) to (N, C, out_h, out_w) (None keeps that input size).

    Window p along H spans rows floor(p H / out_h) to ceil((p + 1) H / out_h) (exclusive), as in
    PyTorch, and likewise along W: any output size works, also one that does not divide the
    input size (windows of unequal size that may overlap) or exceeds it. 1 (or (1, 1)) is the
    global average."""
    _check_input(x, "adaptive_avg_pool2d")
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
