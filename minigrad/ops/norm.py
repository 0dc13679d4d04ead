"""Batch normalization: one fused Function with the derived backward, the same math as a graph
of primitive ops (to check and compare the two derivations), the running-statistics update and
the synchronized variant over a process group's ranks, which shares the per-channel kernels;
layer and group normalization built the same way (one fused Function and a graph version).
"""

from __future__ import annotations

import functools
import math
from typing import Any

from minigrad import backend
from minigrad.arguments import check_like, unbroadcast
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, on_tensors_device

BACKWARDS = ("fused", "graph")


class BatchNorm(Function):
    """y = gamma * x_hat + beta, normalized per channel over the reduction axes (m values each).

    Forward, training (batch statistics):
        mu = mean(x),  var = mean((x - mu)^2)  (biased),  inv_std = 1 / sqrt(var + eps),
        x_hat = (x - mu) * inv_std,  y = gamma * x_hat + beta.
    In eval mode mu and var are the running statistics, constants for the gradient.

    Backward (sums over the reduction axes, per channel), from the saved x_hat and inv_std:
        d_beta = sum(dy),  d_gamma = sum(dy * x_hat),
        training:  dx = (gamma * inv_std / m) * (m * dy - d_beta - x_hat * d_gamma)
        eval:      dx = gamma * inv_std * dy

    Why the training dx equals the chain rule through the graph of primitive ops: write
    c = x - mu, s = inv_std, x_hat = c * s and g = d x_hat = dy * gamma. Node by node,
        d var = sum(g * c) * -1/2 (var + eps)^(-3/2) = -(s^3 / 2) * sum(g * c)
        d mu  = sum(-g * s) + d var * mean(-2 c)     = -s * sum(g)        (mean(c) = 0)
        dx    = g * s + d var * 2 c / m + d mu / m
              = g * s - (s^3 c / m) * sum(g * c) - (s / m) * sum(g)
    and since s^3 c sum(g c) = s * x_hat * sum(g * x_hat):
        dx    = (s / m) * (m * g - sum(g) - x_hat * sum(g * x_hat)).
    gamma is constant over the sums, so sum(g) = gamma * d_beta and sum(g * x_hat) =
    gamma * d_gamma, which gives the fused formula: two reductions and one elementwise formula
    instead of about ten graph nodes and their temporaries.

    `axes` are the reduction axes, the batch axis 0 first ((0,) for (N, C), (0, 2) for
    (N, C, L), (0, 2, 3) for (N, C, H, W)); gamma, beta and the statistics broadcast as
    arrays of shape x.shape with those axes set to 1. Adjacent reduction axes are merged
    first ((N, C, H, W) is viewed as (N, C, H*W)): fewer, longer axes to loop over. Both
    passes are per channel, so they split the channels over minigrad's threads (_over_channels).
    """

    @staticmethod
    def forward(
        ctx,
        x,
        weight,
        bias,
        axes=(0,),
        eps=1e-5,
        training=True,
        running_mean=None,
        running_var=None,
        momentum=0.1,
    ):
        xp = backend.array_module(x)
        x_view, view_axes, param_shape, m, weight, bias = _channel_view(x, axes, weight, bias)
        stats = None
        if not training:
            mean = running_mean.reshape(param_shape).astype(x.dtype, copy=False)
            var = running_var.reshape(param_shape).astype(x.dtype, copy=False)
            stats = (mean, var)
        x_hat, out = xp.empty(x_view.shape, x.dtype), xp.empty(x_view.shape, x.dtype)

        arrays = (x_view, x_hat, out, stats, weight, bias)
        mean, var, inv_std = _over_channels(_normalize, arrays, view_axes, m, eps)
        if training and running_mean is not None:
            update_running_stats(running_mean, running_var, mean, var, m, momentum)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.view_axes, ctx.training, ctx.m = view_axes, training, m
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        axes, training, m = ctx.view_axes, ctx.training, ctx.m
        xp = backend.array_module(grad)
        dy = grad.reshape(x_hat.shape)
        grad_x = None
        if need_x:  # x_hat's own array when the graph is freed after this call (nobody reads it)
            grad_x = xp.empty(x_hat.shape, grad.dtype) if ctx.retain_graph else x_hat
        sums = need_weight or need_bias or (need_x and training)

        arrays = (dy, x_hat, grad_x, inv_std, weight)
        d_gamma, d_beta = _over_channels(_normalize_backward, arrays, axes, sums, m, training)
        return (
            None if grad_x is None else grad_x.reshape(grad.shape),
            d_gamma.reshape(-1) if need_weight else None,
            d_beta.reshape(-1) if need_bias else None,
        )


class SyncBatchNorm(Function):
    """BatchNorm in training mode over the global batch of a process group: every rank
    normalizes its own m values per channel with the statistics of all M = sum of the ranks'
    m values, and its backward uses the sums over all M. `group` is a
    minigrad.distributed Communicator; each collective below is one all_reduce of float64.

    Forward, two collectives:
        [sum(x), m]  summed over the ranks (C + 1 values)  ->  mu = sum(x) / M,
        sum((x - mu)^2)  summed over the ranks (C values)   ->  var = sum((x - mu)^2) / M,
        inv_std = 1 / sqrt(var + eps),  x_hat = (x - mu) * inv_std,  y = gamma * x_hat + beta,
    and running_var is updated with the unbiased var * M / (M - 1). The variance is a second
    pass around the global mean, as BatchNorm's is around its own: sum(x^2) / M - mu^2 from
    one collective would cancel when |mu| >> std. The second collective costs a latency of a
    few microseconds (benchmarks/bench_distributed.py), and the per-rank work is exactly
    BatchNorm's (one subtraction and one dot per value), so one rank gives BatchNorm's bits.

    Backward. Rank r's loss L_r depends on its own outputs y_r only, so for the total
    L = sum over r of L_r, dL/dy_r = dy_r is rank r's own gradient. BatchNorm's derivation
    (see BatchNorm) holds unchanged with its sums taken over the M values of all ranks,
    since mu and var are functions of all of them: with d_beta = sum(dy) and
    d_gamma = sum(dy * x_hat) summed over the ranks (one collective of 2C values),
        dx = (gamma * inv_std / M) * (M * dy - d_beta - x_hat * d_gamma)
    on every rank, for its own x. The gradients returned for gamma and beta are this rank's
    own sums: their sum over the ranks is dL/dgamma and dL/dbeta, and the average that
    DistributedDataParallel takes of every gradient divides them by the world size exactly as
    it divides the others (each rank's loss is its mean over its part of the global batch).
    """

    @staticmethod
    def forward(
        ctx,
        x,
        weight,
        bias,
        axes=(0,),
        eps=1e-5,
        running_mean=None,
        running_var=None,
        momentum=0.1,
        group=None,
    ):
        xp = backend.array_module(x)
        x_view, view_axes, _, m, weight, bias = _channel_view(x, axes, weight, bias)
        (local_sum,) = _over_channels(_sums, (x_view,), view_axes)
        (total,), count = _summed_over_ranks(group, (local_sum,), count=m)
        mean = (total / count).astype(x.dtype)
        x_hat, out = xp.empty(x_view.shape, x.dtype), xp.empty(x_view.shape, x.dtype)
        (local_squares,) = _over_channels(_center, (x_view, x_hat, mean), view_axes, True)
        (squares,), _ = _summed_over_ranks(group, (local_squares,))
        var = (squares / count).astype(x.dtype)
        arrays = (x_hat, out, var, weight, bias)
        (inv_std,) = _over_channels(_scale_and_shift, arrays, view_axes, eps)
        if running_mean is not None:
            update_running_stats(running_mean, running_var, mean, var, count, momentum)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.view_axes, ctx.m, ctx.group = view_axes, count, group
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        axes, m = ctx.view_axes, ctx.m
        xp = backend.array_module(grad)
        dy = grad.reshape(x_hat.shape)
        d_gamma, d_beta = _over_channels(_grad_sums, (dy, x_hat), axes)
        grad_x = None
        if need_x:  # the same on every rank: their models are the same
            totals, _ = _summed_over_ranks(ctx.group, (d_gamma, d_beta))
            total_gamma, total_beta = (total.astype(grad.dtype) for total in totals)
            grad_x = xp.empty(x_hat.shape, grad.dtype) if ctx.retain_graph else x_hat
            arrays = (dy, x_hat, grad_x, inv_std, weight, total_gamma, total_beta)
            _over_channels(_grad_input, arrays, axes, m, True)
        return (
            None if grad_x is None else grad_x.reshape(grad.shape),
            d_gamma.reshape(-1) if need_weight else None,
            d_beta.reshape(-1) if need_bias else None,
        )


def _sums(x, axes):
    return (_channel_sum(x, axes),)


def _summed_over_ranks(group: Any, parts: tuple, count: int | None = None) -> tuple:
    """The per-channel arrays `parts` (and a count) each summed over the ranks of `group`,
    in one all_reduce of a float64 buffer: (the float64 sums, shaped as the parts, and the
    summed count as an int, or None). A float32 sum is exact in float64, so on one rank the
    sums are the parts' own values. Reading the count is a host read on a GPU."""
    xp = backend.array_module(parts[0])
    size = parts[0].size
    buffer = xp.empty(size * len(parts) + (count is not None), dtype=backend.float64)
    for index, part in enumerate(parts):
        buffer[index * size : (index + 1) * size] = part.reshape(-1)
    if count is not None:
        buffer[-1] = count
    group.all_reduce(buffer)
    sums = tuple(
        buffer[index * size : (index + 1) * size].reshape(part.shape)
        for index, part in enumerate(parts)
    )
    return sums, None if count is None else int(backend.item(buffer[-1]))


def _over_channels(function: Any, arrays: tuple, axes: tuple, *constants: Any) -> tuple:
    """function(*arrays, axes, *constants) on all channels at once, or over minigrad's threads
    on slices of the channels (axis 1 of the merged view): batch norm's statistics and every
    elementwise step are per channel, so the parts share nothing. Entries of `arrays` may be
    None or tuples of arrays; the per-channel arrays that function returns are joined back.

    Only (N, C, L) views are split, where a part's rows of C_part * L values are contiguous;
    the channel slices of an (N, C) batch are strided columns, slower split than whole
    (benchmarks/bench_batchnorm.py times both layouts)."""

    def body(*parts: Any) -> tuple:
        return function(*parts, axes, *constants)

    if axes != (0, 2) or arrays[0].ndim != 3:
        return body(*arrays)
    results = backend.over_parts(body, arrays, axis=1)
    if len(results) == 1:
        return results[0]
    xp = backend.array_module(arrays[0])
    joined = zip(*results)
    return tuple(None if r[0] is None else xp.concatenate(r, axis=1) for r in joined)


def _normalize(x, x_hat, out, stats, weight, bias, axes, m, eps):
    """BatchNorm's forward for some channels: x_hat and out written in place; returns the
    mean, var (the batch's when stats is None, else stats) and inv_std, each (1, C, 1)."""
    mean = _channel_sum(x, axes) / m if stats is None else stats[0]
    (var,) = _center(x, x_hat, mean, axes, stats is None)
    var = var / m if stats is None else stats[1]
    (inv_std,) = _scale_and_shift(x_hat, out, var, weight, bias, axes, eps)
    return mean, var, inv_std


def _center(x, x_hat, mean, axes, dot):
    """x_hat = x - mean, in place; returns (sum(x_hat^2),) when `dot`, else (None,)."""
    backend.array_module(x).subtract(x, _spread(mean, x.shape), out=x_hat)
    return (_channel_dot(x_hat, x_hat, axes) if dot else None,)


def _scale_and_shift(x_hat, out, var, weight, bias, axes, eps):
    """x_hat *= inv_std and out = weight * x_hat + bias, in place; returns (inv_std,)."""
    xp = backend.array_module(x_hat)
    inv_std = 1 / xp.sqrt(var + eps)
    x_hat *= _spread(inv_std, x_hat.shape)
    if weight is None:
        out[...] = x_hat
    else:
        xp.multiply(x_hat, _spread(weight, x_hat.shape), out=out)
    if bias is not None:
        out += _spread(bias, x_hat.shape)
    return (inv_std,)


def _normalize_backward(dy, x_hat, grad_x, inv_std, weight, axes, sums, m, training):
    """BatchNorm's backward for some channels: grad_x written in place (it may be x_hat
    itself; None: not wanted); returns d_gamma and d_beta when `sums`, else (None, None)."""
    d_gamma, d_beta = _grad_sums(dy, x_hat, axes) if sums else (None, None)
    if grad_x is not None:
        _grad_input(dy, x_hat, grad_x, inv_std, weight, d_gamma, d_beta, axes, m, training)
    return d_gamma, d_beta


def _grad_sums(dy, x_hat, axes):
    """(d_gamma, d_beta) = (sum(dy * x_hat), sum(dy)) over the reduction axes."""
    return _channel_dot(dy, x_hat, axes), _channel_sum(dy, axes)


def _grad_input(dy, x_hat, grad_x, inv_std, weight, d_gamma, d_beta, axes, m, training):
    """grad_x = dL/dx in place (it may be x_hat itself), from the sums over m values; returns
    (None,), the shape _over_channels expects."""
    xp = backend.array_module(dy)
    scale = _spread(inv_std if weight is None else weight * inv_std, dy.shape)
    if training:
        # the derived formula, read plainly:
        #     dx = (gamma * inv_std / m) * (m * dy - d_beta - x_hat * d_gamma)
        # computed in place, one pass each, as scale * (x_hat * (-d_gamma / m) + dy - d_beta / m)
        xp.multiply(x_hat, _spread(-d_gamma / m, dy.shape), out=grad_x)
        grad_x += dy
        grad_x -= _spread(d_beta / m, dy.shape)
        grad_x *= scale
    else:
        xp.multiply(dy, scale, out=grad_x)
    return (None,)


def _spread(values: Any, shape: tuple) -> Any:
    """Per-channel values (shape (1, C, 1) for a view (N, C, L)) repeated along L into a
    contiguous row (1, C, L). Broadcasting that row over the input runs NumPy's contiguous
    inner loop; a (1, C, 1) column makes it loop over short runs of L and takes about twice
    as long. For (N, C) it is the values as they are."""
    if len(shape) == 2:  # (N, C): nothing to repeat
        return values
    row_shape = (1, *shape[1:])
    xp = backend.array_module(values)
    return xp.ascontiguousarray(xp.broadcast_to(values, row_shape))


@functools.lru_cache(maxsize=256)  # called with the same few shapes on every step
def merge_reduced_axes(shape: tuple, axes: tuple) -> tuple[tuple, tuple]:
    """`shape` with each run of adjacent reduction axes merged into one, and the reduction
    axes of the merged shape: ((8, 16, 4, 4), (0, 2, 3)) -> ((8, 16, 16), (0, 2))."""
    merged: list[int] = []
    merged_axes: list[int] = []
    for axis, size in enumerate(shape):
        if axis in axes and axis - 1 in axes:
            merged[-1] *= size
            continue
        if axis in axes:
            merged_axes.append(len(merged))
        merged.append(size)
    return tuple(merged), tuple(merged_axes)


@functools.lru_cache(maxsize=256)
def _param_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of per-channel arrays that broadcast against `shape`: `axes` set to 1."""
    return tuple(1 if axis in axes else size for axis, size in enumerate(shape))


def _channel_view(x: Any, axes: tuple, weight: Any, bias: Any) -> tuple:
    """What both batch norms work on: x viewed with its adjacent reduced axes merged, those
    axes in the view, the shape of per-channel arrays, the m values per channel, and gamma
    and beta (or None) shaped to broadcast against the view."""
    view_shape, view_axes = merge_reduced_axes(x.shape, axes)
    param_shape = _param_shape(view_shape, view_axes)
    weight = None if weight is None else weight.reshape(param_shape)
    bias = None if bias is None else bias.reshape(param_shape)
    m = x.size // math.prod(param_shape)
    return x.reshape(view_shape), view_axes, param_shape, m, weight, bias


def _channel_sum(a: Any, axes: tuple) -> Any:
    """Sum over `axes`, kept as size-1 dims. The batch axis goes first: adding whole rows is
    one vectorized pass, and the other axes then reduce a result that is N times smaller
    (faster than NumPy's own order: benchmarks/bench_choices.py). A BLAS product ones(N) @ a
    can be faster still on an idle machine, but its threads stall when the cores are busy, so
    the sum stays in NumPy."""
    total = a.sum(axis=axes[0], keepdims=True)
    if len(axes) > 1:
        total = total.sum(axis=axes[1:], keepdims=True)
    return total


def _channel_dot(a: Any, b: Any, axes: tuple) -> Any:
    """sum(a * b) over `axes`, kept as size-1 dims, in one pass without the product array."""
    total = backend.array_module(a).einsum(_dot_subscripts(a.ndim, axes), a, b)
    return total.reshape(_param_shape(a.shape, axes))


@functools.lru_cache(maxsize=64)
def _dot_subscripts(ndim: int, axes: tuple) -> str:
    """einsum's subscripts for a product summed over `axes`: (3, (0, 2)) -> "abc,abc->b"."""
    letters = "abcdefghijklmnopqrstuvwxyz"[:ndim]
    kept = "".join(letter for axis, letter in enumerate(letters) if axis not in axes)
    return f"{letters},{letters}->{kept}"


def update_running_stats(
    running_mean: Any, running_var: Any, mean: Any, var: Any, m: int, momentum: float
) -> None:
    """PyTorch's update, in place on the buffers' arrays (no graph):
    running_mean = (1 - momentum) running_mean + momentum mean,
    running_var = (1 - momentum) running_var + momentum var m / (m - 1)  (unbiased)."""
    running_mean *= 1 - momentum
    running_mean += (momentum * mean).reshape(running_mean.shape)
    running_var *= 1 - momentum
    running_var += (var * (momentum * m / (m - 1))).reshape(running_var.shape)


def batch_norm_graph(
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    axes: tuple,
    eps: float,
    training: bool,
    running_mean: Any,
    running_var: Any,
    momentum: float,
) -> Tensor:
    """The same forward built step by step from primitive autograd ops, so that the engine
    differentiates it node by node (mean, subtract, square, mean, add eps, sqrt, reciprocal,
    multiply, scale and shift). Slower; it exists to check the fused derivation against."""
    param_shape = _param_shape(x.shape, axes)
    if training:
        mean = x.mean(dim=axes, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=axes, keepdim=True)
        if running_mean is not None:
            m = x.numel() // math.prod(param_shape)
            update_running_stats(running_mean, running_var, mean.data, var.data, m, momentum)
    else:
        centered = x - Tensor(running_mean.reshape(param_shape).astype(x.dtype, copy=False))
        var = Tensor(running_var.reshape(param_shape).astype(x.dtype, copy=False))
    inv_std = 1 / (var + eps).sqrt()
    out = centered * inv_std
    if weight is not None:
        out = out * weight.reshape(param_shape)
    if bias is not None:
        out = out + bias.reshape(param_shape)
    return out


@on_tensors_device
def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    backward: str = "fused",
) -> Tensor:
    """Batch normalization of x (N, C, *) per channel C, as torch.nn.functional.batch_norm.

    training=True normalizes with the statistics of this batch (over N and all dims after C)
    and, when running_mean/running_var are given, updates them in place with `momentum`;
    training=False normalizes with running_mean/running_var. weight (gamma) and bias (beta)
    have shape (C,) or are None. backward="fused" (default) is one op with the derived
    gradient; backward="graph" builds the same math from primitive ops (see BatchNorm).
    """
    _check_arguments(x, running_mean, running_var, weight, bias, training, backward)
    axes = (0,) + tuple(range(2, x.ndim))
    running_mean = None if running_mean is None else running_mean.data
    running_var = None if running_var is None else running_var.data
    if backward == "graph":
        return batch_norm_graph(
            x, weight, bias, axes, eps, training, running_mean, running_var, momentum
        )
    return BatchNorm.apply(
        x,
        weight,
        bias,
        axes=axes,
        eps=eps,
        training=training,
        running_mean=running_mean,
        running_var=running_var,
        momentum=momentum,
    )


@on_tensors_device
def sync_batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    momentum: float,
    eps: float,
    group: Any,
) -> Tensor:
    """Batch normalization in training mode with the statistics of the global batch, the
    union of every rank's x in `group` (a minigrad.distributed Communicator); the running
    statistics, when given, are updated in place with them (see SyncBatchNorm)."""
    _check_arguments(x, running_mean, running_var, weight, bias, True, "fused")
    return SyncBatchNorm.apply(
        x,
        weight,
        bias,
        axes=(0,) + tuple(range(2, x.ndim)),
        eps=eps,
        running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data,
        momentum=momentum,
        group=group,
    )


def _check_arguments(x, running_mean, running_var, weight, bias, training, backward) -> None:
    if backward not in BACKWARDS:
        raise ValueError(f"batch_norm: backward must be 'fused' or 'graph', got {backward!r}")
    if x.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input of shape (N, C, *) with at least 2 dims, got {x.shape}"
        )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError(
            "batch_norm: training=False normalizes with running_mean and running_var, which "
            "are None; pass them, or training=True to use the batch statistics"
        )
    channels = x.data.shape[1:2]  # one value per channel; the statistics keep their dtype
    for name, other, same_dtype in (
        ("running_mean", running_mean, False),
        ("running_var", running_var, False),
        ("weight", weight, True),
        ("bias", bias, True),
    ):
        if other is not None:
            check_like("batch_norm", name, other, x, shape=channels, same_dtype=same_dtype)
    if training and x.data.size // channels[0] <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {x.shape}"
        )


# --- layer norm and group norm --------------------------------------------------------------


class LayerNorm(Function):
    """y = gamma * x_hat + beta, x_hat normalized over the trailing `axes` of a view of x
    (m values per group), gamma and beta broadcast as arrays of shape `param_view`.

    layer_norm views x (*, D1..Dk) as (R, M) with M = D1...Dk, axes (1,), and gamma (1, M);
    group_norm views x (N, C, *) as (N, G, C/G, L), axes (2, 3), and gamma (1, G, C/G, 1).

    Forward, per group:  mu = mean(x),  var = mean((x - mu)^2)  (biased),
        inv_std = 1 / sqrt(var + eps),  x_hat = (x - mu) * inv_std,  y = gamma * x_hat + beta.

    Backward, from the saved x_hat and inv_std, with g = dy * gamma (elementwise):
        d_beta = sum(dy),  d_gamma = sum(dy * x_hat)   (over the axes gamma is broadcast on),
        dx = (inv_std / m) * (m * g - sum(g) - x_hat * sum(g * x_hat))   (sums over the group).

    The derivation is batch norm's with g in place of dy * gamma (see BatchNorm): write
    c = x - mu, s = inv_std and x_hat = c * s; node by node
        d var = -(s^3 / 2) * sum(g * c),   d mu = -s * sum(g)   (as mean(c) = 0),
        dx    = g * s + d var * 2 c / m + d mu / m
              = g * s - (s^3 c / m) * sum(g * c) - (s / m) * sum(g)
              = (s / m) * (m * g - sum(g) - x_hat * sum(g * x_hat))
    since s^3 c * sum(g * c) = s * x_hat * sum(g * x_hat).
    Unlike batch norm, gamma varies inside a group (per feature for layer norm, per channel
    for group norm), so it cannot come out of the sums: g is formed first.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, view_shape=None, axes=(1,), param_view=None, eps=1e-5):
        xp = backend.array_module(x)
        x_view = x.reshape(view_shape)
        m = math.prod(view_shape[axis] for axis in axes)
        x_hat = x_view - _channel_sum(x_view, axes) / m
        inv_std = 1 / xp.sqrt(_channel_dot(x_hat, x_hat, axes) / m + eps)
        x_hat *= inv_std
        ctx.param_shape = next((p.shape for p in (weight, bias) if p is not None), None)
        weight = None if weight is None else weight.reshape(param_view)
        out = x_hat.copy() if weight is None else x_hat * weight
        if bias is not None:
            out += bias.reshape(param_view)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.m, ctx.param_view = axes, m, param_view
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        axes, m, param_view, param_shape = ctx.axes, ctx.m, ctx.param_view, ctx.param_shape
        dy = grad.reshape(x_hat.shape)
        grad_x = d_gamma = d_beta = None
        if need_x:
            g = dy if weight is None else dy * weight
            sum_g, sum_g_x_hat = _channel_sum(g, axes), _channel_dot(g, x_hat, axes)
            grad_x = ((m * g - sum_g - x_hat * sum_g_x_hat) * (inv_std / m)).reshape(grad.shape)
        if need_weight:
            d_gamma = unbroadcast(dy * x_hat, param_view).reshape(param_shape)
        if need_bias:
            d_beta = unbroadcast(dy, param_view).reshape(param_shape)
        return grad_x, d_gamma, d_beta


class GroupNorm(LayerNorm):
    """LayerNorm's op on group_norm's view (N, G, C/G, L); a class of its own so that graphs
    and errors name it group_norm."""


def _norm_graph(
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    view_shape: tuple,
    axes: tuple,
    param_view: tuple,
    eps: float,
) -> Tensor:
    """LayerNorm's forward built from primitive autograd ops (reshape, mean, subtract, square,
    mean, add eps, sqrt, reciprocal, multiply, scale and shift), which the engine
    differentiates node by node; it exists to check the fused derivation against."""
    x_view = x.reshape(view_shape)
    centered = x_view - x_view.mean(dim=axes, keepdim=True)
    var = (centered * centered).mean(dim=axes, keepdim=True)
    out = centered * (1 / (var + eps).sqrt())
    if weight is not None:
        out = out * weight.reshape(param_view)
    if bias is not None:
        out = out + bias.reshape(param_view)
    return out.reshape(x.shape)


def _grouped_norm(
    op: type[LayerNorm],
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    view_shape: tuple,
    axes: tuple,
    param_view: tuple,
    eps: float,
    backward: str,
) -> Tensor:
    if backward == "graph":
        return _norm_graph(x, weight, bias, view_shape, axes, param_view, eps)
    return op.apply(
        x, weight, bias, view_shape=view_shape, axes=axes, param_view=param_view, eps=eps
    )


@on_tensors_device
def layer_norm(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    backward: str = "fused",
) -> Tensor:
    """Layer normalization, as torch.nn.functional.layer_norm: each sample is normalized over
    its last len(normalized_shape) dims (which must equal normalized_shape) with its own mean
    and biased variance, then scaled by weight and shifted by bias (both of shape
    normalized_shape, or None). backward="fused" (default) is one op with the derived
    gradient; backward="graph" builds the same math from primitive ops (see LayerNorm)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    _check_backward("layer_norm", backward)
    if not shape:
        raise ValueError(
            "layer_norm: normalized_shape must have at least one dim, got normalized_shape=()"
        )
    if input.ndim < len(shape) or input.shape[input.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm: given normalized_shape={shape}, expected input of shape (*, "
            f"{', '.join(map(str, shape))}), got {input.shape}"
        )
    _check_affine("layer_norm", input, weight, bias, shape)
    view_shape = (math.prod(input.shape[: input.ndim - len(shape)]), math.prod(shape))
    return _grouped_norm(
        LayerNorm, input, weight, bias, view_shape, (1,), (1, view_shape[1]), eps, backward
    )


@on_tensors_device
def group_norm(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    backward: str = "fused",
) -> Tensor:
    """Group normalization, as torch.nn.functional.group_norm: the C channels of x (N, C, *)
    are split into num_groups groups of C / num_groups channels, each group of each sample is
    normalized over its channels and all dims after them, then each channel is scaled by
    weight and shifted by bias (shape (C,), or None). backward as for layer_norm."""
    _check_backward("group_norm", backward)
    if input.ndim < 2:
        raise ValueError(
            f"group_norm: expected input of shape (N, C, *) with at least 2 dims, got {input.shape}"
        )
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups <= 0:
        raise ValueError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    if channels % num_groups:
        raise ValueError(
            f"group_norm: the number of channels must be divisible by num_groups, got input "
            f"of shape {input.shape} (C={channels}) and num_groups={num_groups}"
        )
    _check_affine("group_norm", input, weight, bias, (channels,))
    group = channels // num_groups
    view_shape = (input.shape[0], num_groups, group, math.prod(input.shape[2:]))
    param_view = (1, num_groups, group, 1)
    return _grouped_norm(
        GroupNorm, input, weight, bias, view_shape, (2, 3), param_view, eps, backward
    )


def _check_backward(op: str, backward: str) -> None:
    if backward not in BACKWARDS:
        raise ValueError(f"{op}: backward must be 'fused' or 'graph', got {backward!r}")


def _check_affine(op: str, x: Tensor, weight: Any, bias: Any, shape: tuple) -> None:
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None:
            check_like(op, name, value, x, shape=shape)
