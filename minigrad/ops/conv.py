"""Convolution on (N, C, H, W) tensors: conv2d by im2col and matrix products.

One fused Function on raw arrays. Its loops run over the kh*kw kernel offsets only (one strided
slice of the whole batch per offset, never over pixels or the batch), so NumPy and CuPy share
the code. On the CPU a large batch is cut into parts that run on minigrad's threads
(backend.over_parts), each part writing its own samples' outputs.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from minigrad import backend
from minigrad.arguments import check_like
from minigrad.autograd import Function
from minigrad.ops import window
from minigrad.ops.window import NO_PADS, Pads, Pair
from minigrad.tensor import Tensor


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
    minigrad's threads (backend.over_parts): each part fills its own samples' columns and
    its own slice of y or dx; the parts' dw and db are added at the end.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), pads=NO_PADS):
        xp = backend.array_module(x)
        out_channels, channels, kh, kw = weight.shape
        out_h, out_w = window.output_size(x.shape[2:], (kh, kw), stride, pads)
        k, positions = channels * kh * kw, out_h * out_w
        per_sample = _per_sample_products(k, positions)
        cols = None
        if ctx.needs_input_grad[1]:  # the weight gradient reads the column buffer again
            cols_shape = (x.shape[0], k, positions) if per_sample else (x.shape[0], positions, k)
            cols = xp.empty(cols_shape, dtype=x.dtype)
        out = xp.empty((x.shape[0], out_channels, out_h, out_w), dtype=x.dtype)
        layout = _forward_per_sample if per_sample else _forward_rows
        body = functools.partial(layout, weight=weight, bias=bias, stride=stride, pads=pads)
        backend.over_parts(body, (x, cols, out), work=x.shape[0] * k * positions)
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, stride, pads, per_sample)
        return out

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        x_shape, stride, pads, per_sample = ctx.geometry
        xp = backend.array_module(grad)
        grad_x = xp.empty(x_shape, dtype=grad.dtype) if need_x else None
        layout = _backward_per_sample if per_sample else _backward_rows
        body = functools.partial(
            layout, weight=weight, stride=stride, pads=pads, sums=(need_weight, need_bias)
        )
        work = grad.size * math.prod(weight.shape[1:])
        partials = backend.over_parts(body, (grad, cols, grad_x), work=work)
        grad_w_mat, grad_bias = (_add_up(column) for column in zip(*partials))
        grad_weight = None
        if need_weight and per_sample:  # (o, (c, i, j))
            grad_weight = grad_w_mat.reshape(weight.shape)
        elif need_weight:  # (o, (i, j, c))
            out_channels, channels, kh, kw = weight.shape
            grad_weight = grad_w_mat.reshape(out_channels, kh, kw, channels).transpose(0, 3, 1, 2)
            grad_weight = xp.ascontiguousarray(grad_weight)
        return grad_x, grad_weight, grad_bias


# --- the two layouts, each a body for backend.over_parts on a part of the batch -------------


def _forward_per_sample(x, cols, out, weight, bias, stride, pads) -> None:
    """out[n] = w_flat @ cols[n] + b, written in (N, C, H, W) order with no copy."""
    out_channels = weight.shape[0]
    cols = _im2col_per_sample(x, weight.shape[2:], stride, pads, cols)
    out_samples = out.reshape(len(x), out_channels, cols.shape[2])
    backend.array_module(x).matmul(weight.reshape(out_channels, -1), cols, out=out_samples)
    if bias is not None:
        out_samples += bias.reshape(-1, 1)


def _forward_rows(x, cols, out, weight, bias, stride, pads) -> None:
    """y_rows = cols @ w_mat, then moved from channels-last rows into out (N, C, H, W); the bias
    rides along with that copy."""
    _, out_channels, out_h, out_w = out.shape
    cols = _im2col(x, weight.shape[2:], stride, pads, cols)
    w_mat = weight.transpose(2, 3, 1, 0).reshape(-1, out_channels)  # ((i, j, c), o)
    rows = cols.reshape(-1, w_mat.shape[0]) @ w_mat  # ((n, p, q), o)
    y = rows.reshape(-1, out_h, out_w, out_channels).transpose(0, 3, 1, 2)
    if bias is None:
        out[...] = y
    else:
        backend.array_module(x).add(y, bias.reshape(-1, 1, 1), out=out)


def _backward_per_sample(grad, cols, grad_x, weight, stride, pads, sums) -> tuple:
    """This part's dw (o, (c, i, j)) = sum_n dy[n] @ cols[n]^T and db, and its dx."""
    xp = backend.array_module(grad)
    need_weight, need_bias = sums
    n, out_channels = grad.shape[:2]
    samples = grad.reshape(n, out_channels, grad.shape[2] * grad.shape[3])  # (n, o, (p, q))
    grad_w_mat = xp.matmul(samples, cols.transpose(0, 2, 1)).sum(axis=0) if need_weight else None
    grad_b = samples.sum(axis=(0, 2)) if need_bias else None
    if grad_x is not None:
        _conv2d_input_grad(_grad_rows(grad), weight, grad_x, stride, pads)
    return grad_w_mat, grad_b


def _backward_rows(grad, cols, grad_x, weight, stride, pads, sums) -> tuple:
    """This part's dw (o, (i, j, c)) = dy_planes @ cols and db, and its dx."""
    xp = backend.array_module(grad)
    need_weight, need_bias = sums
    grad_w_mat = grad_b = None
    if need_weight or need_bias:
        # dy as (o, (n, p, q)): moving axis 1 to the front copies whole (p, q) planes, far
        # faster than making the (n, p, q, o) rows, whose inner stride is o; the input
        # gradient's products do want rows, so only it pays for them
        planes = xp.ascontiguousarray(grad.transpose(1, 0, 2, 3))
        planes = planes.reshape(grad.shape[1], grad.shape[0] * grad.shape[2] * grad.shape[3])
        if need_weight:
            grad_w_mat = planes @ cols.reshape(planes.shape[1], cols.shape[2])
        if need_bias:
            grad_b = planes.sum(axis=1)
    if grad_x is not None:
        _conv2d_input_grad(_grad_rows(grad), weight, grad_x, stride, pads)
    return grad_w_mat, grad_b


def _grad_rows(grad: Any) -> Any:
    """dy_rows[(n, p, q), o] = dy[n, o, p, q] (sizes spelled out: n may be 0)."""
    n, out_channels, out_h, out_w = grad.shape
    return grad.transpose(0, 2, 3, 1).reshape(n * out_h * out_w, out_channels)


def _per_sample_products(k: int, positions: int) -> bool:
    """Whether a convolution uses per-sample products (True) or one product over channels-last
    rows (False), from the kernel's K = C kh kw values and the P output positions per sample.

    Per sample, the n products (O, K) @ (K, P) write y in (N, C, H, W) order with no copy, and
    the im2col copies runs of out_w values where the channels-last one copies runs of C. That
    wins while K < P, as in a first layer. With K >= P each product is small and the weight
    gradient sums n of them: one (n P, K) product is faster. benchmarks/bench_choices.py times
    both layouts on the CNN's two layers."""
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
    One copy out of a sliding-window view of the padded input, not one copy per kernel offset,
    which would move runs of only C values."""
    xp = backend.array_module(x)
    padded = window.pad(x, pads, channels_last=True)
    windows = window.strided_windows(padded, kernel, stride)  # (N, out_h, out_w, kh, kw, C)
    n, out_h, out_w = windows.shape[:3]
    if out is None:
        out = xp.empty((n, out_h * out_w, math.prod(windows.shape[3:])), dtype=x.dtype)
    out.reshape(windows.shape)[...] = windows
    return out


def _im2col_per_sample(x: Any, kernel: Pair, stride: Pair, pads: Pads, out: Any = None) -> Any:
    """cols[n, (c, i, j), (p, q)] = x_pad[n, c, s_h p + i, s_w q + j], into `out` when given:
    one strided copy of the padded input per kernel offset, moving runs of out_w values."""
    xp = backend.array_module(x)
    padded = window.pad(x, pads)
    n, channels = x.shape[:2]
    out_size = window.output_size(x.shape[2:], kernel, stride, pads)
    if out is None:
        out = xp.empty((n, channels * kernel[0] * kernel[1], math.prod(out_size)), x.dtype)
    blocks = out.reshape(n, channels, *kernel, *out_size)
    for i, j, rows, columns in window.windows(kernel, out_size, stride):
        blocks[:, :, i, j] = padded[:, :, rows, columns]
    return out


def _conv2d_input_grad(grad_rows: Any, weight: Any, out: Any, stride: Pair, pads: Pads):
    """dx (N, C, H, W) into `out`: col2im fused with its matrix product. For each kernel
    offset (i, j), the (n, p, q) x c block dy_rows @ w[:, :, i, j] is added to its strided
    window of dx_pad, so the full (n, p, q) x (i, j, c) gradient of the column buffer never
    exists at once."""
    xp = backend.array_module(grad_rows)
    n, channels, h, w = out.shape
    kernel = weight.shape[2:]
    out_h, out_w = window.output_size((h, w), kernel, stride, pads)
    shape = window.padded_shape(out.shape, pads, channels_last=True)
    grad_padded = xp.zeros(shape, dtype=weight.dtype)
    for i, j, rows, columns in window.windows(kernel, (out_h, out_w), stride):
        block = grad_rows @ weight[:, :, i, j]
        grad_padded[:, rows, columns, :] += block.reshape(n, out_h, out_w, channels)
    out[...] = window.interior(grad_padded, pads, channels_last=True)


# --- the functional API: argument checks at the boundary -----------------------------------


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
) -> Tensor:
    """2-d cross-correlation of x (N, C, H, W) with weight (out_channels, C, kh, kw), plus bias
    (out_channels,): output (N, out_channels, out_h, out_w), out = (size + 2 pad - k) // s + 1."""
    window.check_input(x, "conv2d")
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
    check_like("conv2d", "weight", weight, x)
    if bias is not None:
        check_like("conv2d", "bias", bias, weight, "weight", shape=(weight.shape[0],))
    kernel = weight.shape[2:]
    stride = window.pair(stride, "stride", "conv2d")
    if min(stride) <= 0:
        raise ValueError(f"conv2d: stride must be positive, got {stride}")
    pads = window.conv_pads(padding, kernel, stride)
    window.check_geometry(x, kernel, stride, pads, "conv2d")
    return Conv2d.apply(x, weight, bias, stride=stride, pads=pads)
