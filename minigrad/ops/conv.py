"""Convolution on (N, C, H, W) and (N, C, L) tensors: conv2d by im2col and matrix products,
with stride, padding, dilation and groups; conv1d as conv2d on a height-1 view.

One fused Function on raw arrays. Its loops run over the kh*kw kernel offsets only (one strided
slice of the whole batch per offset, never over pixels or the batch), so NumPy and CuPy share
the code. On the CPU a large batch is cut into parts that run on minigrad's threads
(backend.over_parts), each part writing its own samples' outputs.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

from minigrad import backend
from minigrad.arguments import check_like
from minigrad.autograd.engine import Function
from minigrad.ops import window
from minigrad.ops.window import NO_PADS, Pads, Pair
from minigrad.tensor import Tensor, on_tensors_device


class Geometry(NamedTuple):
    """How the kernel slides: stride, padding ((top, bottom), (left, right)), dilation, groups."""

    stride: Pair = (1, 1)
    pads: Pads = NO_PADS
    dilation: Pair = (1, 1)
    groups: int = 1


PLAIN = Geometry()  # stride 1, no padding, no dilation, one group
COLUMN_CHUNK_BYTES = 4 << 20  # the column buffer the channels-last layout fills at a time


class Conv2d(Function):
    """y[n, o, p, q] = b[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, g C_g + c, s_h p + d_h i,
    s_w q + d_w j], where channel o lies in group g = o // O_g of the G groups, each of
    C_g = C / G input and O_g = O / G output channels (G = 1: every input channel).

    As matrix products over a column buffer (im2col), in one of two layouts (see
    _per_sample_products for which one a layer gets), with K = C kh kw and P = out_h out_w,
    writing x_win[n, c, i, j, p, q] = x_pad[n, c, s_h p + d_h i, s_w q + d_w j]:

    - rows, channels-last (G = 1): cols[(n, p, q), (i, j, c)] = x_win[n, c, i, j, p, q] and
      w_mat[(i, j, c), o] = w[o, c, i, j] give y_rows = cols @ w_mat + b, one (n P, K) @ (K, O)
      product; the weight gradient is dw_mat = dy_planes @ cols with dy_planes[o, (n, p, q)].
    - per sample: cols[n, (c, i, j), (p, q)] = x_win[n, c, i, j, p, q], whose rows fall into
      G contiguous blocks of K / G, one per group, and w_flat[g, o', (c, i, j)] give
      y[n, g] = w_flat[g] @ cols[n, g] + b, written in (N, C, H, W) order with no copy;
      dw_flat[g] = sum_n dy[n, g] @ cols[n, g]^T.

    Both: db[o] = sum_{n, p, q} dy[n, o, p, q], and with dy_rows[(n, p, q), o] = dy[n, o, p, q],
    dx_pad[n, g C_g + c, s_h p + d_h i, s_w q + d_w j] += sum_{o in group g} dy_rows[(n, p, q), o]
    w[o, c, i, j], one kernel offset (i, j) at a time (col2im), then dx = dx_pad without its
    padding.

    Every step works on whole samples, so both passes split the batch into parts that run on
    minigrad's threads (backend.over_parts): each part fills its own samples' columns and
    its own slice of y or dx; the parts' dw and db are added at the end.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, geometry=PLAIN):
        xp = backend.array_module(x)
        out_channels, _, kh, kw = weight.shape
        out_h, out_w = window.output_size(
            x.shape[2:], (kh, kw), geometry.stride, geometry.pads, geometry.dilation
        )
        k, positions = x.shape[1] * kh * kw, out_h * out_w
        per_sample = geometry.groups > 1 or _per_sample_products(k, positions)
        out = xp.empty((x.shape[0], out_channels, out_h, out_w), dtype=x.dtype)
        layout = _forward_per_sample if per_sample else _forward_rows
        body = functools.partial(layout, weight=weight, bias=bias, geometry=geometry)
        backend.over_parts(body, (x, out), work=x.shape[0] * k * positions)
        # the weight gradient needs the columns again: they are made anew from x (which the
        # graph holds anyway) rather than kept, the largest array of a step otherwise (27.6 MiB
        # of the CNN's 75 held for backward, for 1-2% of its time)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, weight)
        ctx.geometry = (x.shape, geometry, per_sample)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        x_shape, geometry, per_sample = ctx.geometry
        xp = backend.array_module(grad)
        grad_x = xp.empty(x_shape, dtype=grad.dtype) if need_x else None
        layout = _backward_per_sample if per_sample else _backward_rows
        body = functools.partial(
            layout, weight=weight, geometry=geometry, sums=(need_weight, need_bias)
        )
        work = grad.size * math.prod(weight.shape[1:])
        partials = backend.over_parts(body, (grad, x, grad_x), work=work)
        grad_w_mat, grad_bias = (_add_up(column) for column in zip(*partials))
        grad_weight = None
        if need_weight and per_sample:  # (g, o', (c, i, j))
            grad_weight = grad_w_mat.reshape(weight.shape)
        elif need_weight:  # (o, (i, j, c))
            out_channels, channels, kh, kw = weight.shape
            grad_weight = grad_w_mat.reshape(out_channels, kh, kw, channels).transpose(0, 3, 1, 2)
            grad_weight = xp.ascontiguousarray(grad_weight)
        return grad_x, grad_weight, grad_bias


class Conv1d(Function):
    """conv2d on height-1 views, y[n, o, p] = b[o] + sum_{c, i} w[o, c, i] x_pad[n, g C_g + c,
    s p + d i]: x (N, C, L) is seen as (N, C, 1, L) and w (O, C_g, k) as (O, C_g, 1, k), so the
    gradients are conv2d's, seen back without the height axis."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, geometry=PLAIN):
        return Conv2d.forward(ctx, x[:, :, None], weight[:, :, None], bias, geometry)[:, :, 0]

    @staticmethod
    def backward(ctx, grad):
        grad_x, grad_weight, grad_bias = Conv2d.backward(ctx, grad[:, :, None])
        return (
            None if grad_x is None else grad_x[:, :, 0],
            None if grad_weight is None else grad_weight[:, :, 0],
            grad_bias,
        )


# --- the two layouts, each a body for backend.over_parts on a part of the batch -------------


def _forward_per_sample(x, out, weight, bias, geometry) -> None:
    """out[n, g] = w_flat[g] @ cols[n, g] + b, written in (N, C, H, W) order with no copy."""
    out_channels, groups = weight.shape[0], geometry.groups
    cols = _im2col_per_sample(x, weight.shape[2:], geometry)
    n, k, positions = cols.shape
    out_samples = out.reshape(n, out_channels, positions)
    backend.array_module(x).matmul(
        weight.reshape(groups, out_channels // groups, k // groups),
        cols.reshape(n, groups, k // groups, positions),
        out=out_samples.reshape(n, groups, out_channels // groups, positions),
    )
    if bias is not None:
        out_samples += bias.reshape(-1, 1)


def _forward_rows(x, out, weight, bias, geometry) -> None:
    """y_rows = cols @ w_mat, then moved from channels-last rows into out (N, C, H, W); the bias
    rides along with that copy. A few samples at a time (_chunk_samples), so that the column
    buffer never exists whole."""
    xp = backend.array_module(x)
    _, out_channels, out_h, out_w = out.shape
    w_mat = weight.transpose(2, 3, 1, 0).reshape(-1, out_channels)  # ((i, j, c), o)
    chunk = _chunk_samples(x, weight.shape[2:], out_h * out_w)
    for start in range(0, len(x), chunk):
        cols = _im2col(x[start : start + chunk], weight.shape[2:], geometry)
        rows = cols.reshape(-1, w_mat.shape[0]) @ w_mat  # ((n, p, q), o)
        y = rows.reshape(-1, out_h, out_w, out_channels).transpose(0, 3, 1, 2)
        if bias is None:
            out[start : start + chunk] = y
        else:
            xp.add(y, bias.reshape(-1, 1, 1), out=out[start : start + chunk])


def _chunk_samples(x: Any, kernel: Pair, positions: int) -> int:
    """How many samples' columns (positions x C kh kw values each) fill COLUMN_CHUNK_BYTES."""
    sample_bytes = positions * x.shape[1] * math.prod(kernel) * x.itemsize
    return max(1, COLUMN_CHUNK_BYTES // max(sample_bytes, 1))


def _backward_per_sample(grad, x, grad_x, weight, geometry, sums) -> tuple:
    """This part's dw (g, o', (c, i, j)) = sum_n dy[n, g] @ cols[n, g]^T and db, and its dx;
    cols made again from this part's x."""
    xp = backend.array_module(grad)
    need_weight, need_bias = sums
    n, out_channels = grad.shape[:2]
    groups = geometry.groups
    samples = grad.reshape(n, out_channels, grad.shape[2] * grad.shape[3])  # (n, o, (p, q))
    grad_w_mat = grad_b = None
    if need_weight:  # per group: (n, g, o', (p, q)) @ (n, g, (p, q), (c, i, j))
        cols = _im2col_per_sample(x, weight.shape[2:], geometry)
        k, positions = cols.shape[1:]
        by_group = samples.reshape(n, groups, out_channels // groups, positions)
        cols_by_group = cols.reshape(n, groups, k // groups, positions)
        grad_w_mat = xp.matmul(by_group, cols_by_group.transpose(0, 1, 3, 2)).sum(axis=0)
    if need_bias:
        grad_b = samples.sum(axis=(0, 2))
    if grad_x is not None:
        _conv2d_input_grad(_grad_rows(grad), weight, grad_x, geometry)
    return grad_w_mat, grad_b


def _backward_rows(grad, x, grad_x, weight, geometry, sums) -> tuple:
    """This part's dw (o, (i, j, c)) = dy_planes @ cols and db, and its dx."""
    grad_w_mat, grad_b = _weight_and_bias_rows(grad, x, weight.shape[2:], geometry, sums)
    if grad_x is not None:
        _conv2d_input_grad(_grad_rows(grad), weight, grad_x, geometry)
    return grad_w_mat, grad_b


def _weight_and_bias_rows(grad, x, kernel, geometry, sums) -> tuple:
    """dw (o, (i, j, c)) = dy_planes @ cols and db, the columns made again from x a few samples
    at a time (_chunk_samples), so that they never exist whole: on the CNN's second layer the
    whole buffer would be 27.6 MiB at batch 128, the largest array of a step."""
    xp = backend.array_module(grad)
    need_weight, need_bias = sums
    if not (need_weight or need_bias):
        return None, None
    # dy as (o, (n, p, q)): moving axis 1 to the front copies whole (p, q) planes, far faster
    # than making the (n, p, q, o) rows, whose inner stride is o; the input gradient's
    # products do want rows, so only it pays for them
    n, out_channels, out_h, out_w = grad.shape
    planes = xp.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(out_channels, -1)
    grad_w_mat = None
    if need_weight:
        positions = out_h * out_w
        chunk = _chunk_samples(x, kernel, positions)
        for start in range(0, max(n, 1), chunk):
            cols = _im2col(x[start : start + chunk], kernel, geometry)
            rows = planes[:, start * positions : (start + len(cols)) * positions]
            product = rows @ cols.reshape(-1, cols.shape[2])
            grad_w_mat = (
                product if grad_w_mat is None else xp.add(grad_w_mat, product, out=grad_w_mat)
            )
    return grad_w_mat, planes.sum(axis=1) if need_bias else None


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
    both layouts on the CNN's two layers. Grouped convolutions always take the per-sample
    products, whose (c, i, j) rows split into the groups' blocks without a copy."""
    return k < positions


def _add_up(partials: tuple) -> Any:
    """The sum of the parts' partial gradients (None when they were not computed)."""
    if partials[0] is None:
        return None
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total


def _im2col(x: Any, kernel: Pair, geometry: Geometry) -> Any:
    """cols[n, (p, q), (i, j, c)] = x_pad[n, c, s_h p + d_h i, s_w q + d_w j].

    Channels-last, so the (i, j, c) columns meet w_mat without a transpose of the big buffer.
    One copy out of a sliding-window view of the padded input, not one copy per kernel offset,
    which would move runs of only C values."""
    xp = backend.array_module(x)
    padded = window.pad(x, geometry.pads, channels_last=True)
    # (N, out_h, out_w, kh, kw, C)
    windows = window.strided_windows(padded, kernel, geometry.stride, geometry.dilation)
    n, out_h, out_w = windows.shape[:3]
    out = xp.empty((n, out_h * out_w, math.prod(windows.shape[3:])), dtype=x.dtype)
    out.reshape(windows.shape)[...] = windows
    return out


def _im2col_per_sample(x: Any, kernel: Pair, geometry: Geometry) -> Any:
    """cols[n, (c, i, j), (p, q)] = x_pad[n, c, s_h p + d_h i, s_w q + d_w j]: one strided copy
    of the padded input per kernel offset, moving runs of out_w values."""
    xp = backend.array_module(x)
    stride, pads, dilation, _ = geometry
    padded = window.pad(x, pads)
    n, channels = x.shape[:2]
    out_size = window.output_size(x.shape[2:], kernel, stride, pads, dilation)
    out = xp.empty((n, channels * kernel[0] * kernel[1], math.prod(out_size)), x.dtype)
    blocks = out.reshape(n, channels, *kernel, *out_size)
    for i, j, rows, columns in window.windows(kernel, out_size, stride, dilation):
        blocks[:, :, i, j] = padded[:, :, rows, columns]
    return out


def _conv2d_input_grad(grad_rows: Any, weight: Any, out: Any, geometry: Geometry) -> None:
    """dx (N, C, H, W) into `out`: col2im fused with its matrix products. For each kernel
    offset (i, j) and group g, the (n, p, q) x c block dy_rows[:, group g] @ w[group g, :, i, j]
    (one batched product over the groups) is added to its strided window of dx_pad's group-g
    channels, so the full (n, p, q) x (i, j, c) gradient of the column buffer never exists at
    once."""
    xp = backend.array_module(grad_rows)
    stride, pads, dilation, groups = geometry
    n = out.shape[0]
    out_channels, group_channels, *kernel = weight.shape
    out_size = window.output_size(out.shape[2:], kernel, stride, pads, dilation)
    shape = window.padded_shape(out.shape, pads, channels_last=True)
    grad_padded = xp.zeros(shape, dtype=weight.dtype)
    grad_groups = grad_padded.reshape(*shape[:3], groups, group_channels)
    # (g, (n, p, q), o'): per group, rows with a unit column stride, as the products want
    rows_by_group = grad_rows.reshape(len(grad_rows), groups, out_channels // groups)
    rows_by_group = rows_by_group.transpose(1, 0, 2)
    weight_by_group = weight.reshape(groups, out_channels // groups, group_channels, *kernel)
    block_shape = (n, *out_size, groups, group_channels)
    for i, j, rows, columns in window.windows(kernel, out_size, stride, dilation):
        block = rows_by_group @ weight_by_group[:, :, :, i, j]  # (g, (n, p, q), c)
        grad_groups[:, rows, columns] += block.transpose(1, 0, 2).reshape(block_shape)
    out[...] = window.interior(grad_padded, pads, channels_last=True)


# --- the functional API: argument checks at the boundary -----------------------------------


@on_tensors_device
def conv2d(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation of input (N, C, H, W) with weight (out_channels, C / groups, kh, kw),
    plus bias (out_channels,): output (N, out_channels, out_h, out_w), where
    out = (size + 2 pad - dilation (k - 1) - 1) // stride + 1 along each axis. With groups G,
    output channels o of group g = o // (out_channels / G) see input channels g C / G to
    (g + 1) C / G - 1 only."""
    geometry = _conv_arguments("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
    return Conv2d.apply(input, weight, bias, geometry=geometry)


@on_tensors_device
def conv1d(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation of input (N, C, L) with weight (out_channels, C / groups, k), plus
    bias (out_channels,): output (N, out_channels, out_l), out_l = (L + 2 pad - dilation (k - 1)
    - 1) // stride + 1; groups as in conv2d."""
    geometry = _conv_arguments("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)
    stride, pads, dilation, groups = geometry
    height_one = Geometry((1, *stride), ((0, 0), *pads), (1, *dilation), groups)
    return Conv1d.apply(input, weight, bias, geometry=height_one)


def _conv_arguments(
    op: str,
    dims: int,
    x: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
) -> Geometry:
    """Check the arguments of a convolution over `dims` spatial axes (1 or 2) and return its
    geometry, each size a tuple with one entry per spatial axis."""
    window.check_input(x, op, dims)
    kernel_layout = "(out_channels, in_channels / groups, " + ("kh, kw)" if dims == 2 else "k)")
    if not isinstance(weight, Tensor) or weight.ndim != dims + 2:
        shape = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"{op}: expected weight of shape {kernel_layout}, got {shape}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if weight.shape[0] % groups:
        raise ValueError(
            f"{op}: weight has {weight.shape[0]} output channels (shape {weight.shape}), "
            f"not divisible by groups={groups}"
        )
    if x.shape[1] != groups * weight.shape[1]:
        grouping = "" if groups == 1 else f", groups={groups}"
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels (shape {x.shape}) but weight expects "
            f"{groups * weight.shape[1]} (shape {weight.shape}{grouping})"
        )
    check_like(op, "weight", weight, x)
    if bias is not None:
        check_like(op, "bias", bias, weight, "weight", shape=(weight.shape[0],))
    kernel = weight.shape[2:]
    stride = window.sizes(stride, dims, "stride", op)
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    dilation = window.sizes(dilation, dims, "dilation", op)
    if min(dilation) <= 0:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    pads = window.conv_pads(padding, kernel, stride, dilation, op)
    window.check_geometry(x, kernel, stride, pads, op, dilation)
    return Geometry(stride, pads, dilation, groups)
