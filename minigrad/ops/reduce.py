"""Reductions (sum, mean, max, min, var, argmax) and the softmax family, with PyTorch's
`dim`/`keepdim` arguments.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minigrad import backend
from minigrad.arguments import normalize_axes
from minigrad.autograd import Function
from minigrad.tensor import Tensor, tensor_method

__all__ = ["sum", "mean", "var", "max", "min", "argmax", "softmax", "log_softmax"]


def _expand_back(grad: Any, axes: tuple | None, keepdims: bool, shape: tuple) -> Any:
    """Broadcast a reduced gradient back over the reduced axes (a read-only view)."""
    xp = backend.array_module(grad)
    if not keepdims and axes is not None and len(shape) > 0:
        grad = xp.expand_dims(grad, axes)
    return xp.broadcast_to(grad, shape)


def _count(shape: tuple, axes: tuple | None) -> int:
    """How many values a reduction over `axes` (None: all) combines."""
    return math.prod(size for axis, size in enumerate(shape) if axes is None or axis in axes)


class Sum(Function):
    """y = sum of x over axes;  dx = dy broadcast back over those axes."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.axes, ctx.keepdims, ctx.shape)


class Mean(Function):
    """y = mean of x over axes (m values);  dx = dy / m broadcast back."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        count = _count(ctx.shape, ctx.axes)
        return _expand_back(grad / count, ctx.axes, ctx.keepdims, ctx.shape)


class Max(Function):
    """y = max of all of x;  dx = dy split evenly between the entries equal to y, or between
    the NaNs when y is NaN (PyTorch's rule for a full reduction)."""

    largest = True

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        out = x.max() if ctx.largest else x.min()
        winners = x == out
        if backend.is_floating(x.dtype):
            winners |= xp.isnan(x) & xp.isnan(out)
        ctx.save_for_backward(winners)
        return out

    @staticmethod
    def backward(ctx, grad):
        winners = ctx.saved_tensors[0]
        return winners * (grad / winners.sum(dtype=grad.dtype))


class Min(Max):
    """y = min of all of x;  dx as for max."""

    largest = False


class TakeAlongDim(Function):
    """y = x at `indices` along `axis` (one index per position, size 1 along axis: what max and
    min over one dim select);  dx = dy at those indices, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, indices, axis=0, keepdims=False):
        xp = backend.array_module(x)
        ctx.indices, ctx.axis, ctx.keepdims, ctx.length = indices, axis, keepdims, x.shape[axis]
        out = xp.take_along_axis(x, indices, axis=axis)
        return out if keepdims else out.squeeze(axis)

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad)
        if not ctx.keepdims:
            grad = xp.expand_dims(grad, ctx.axis)
        position = xp.arange(ctx.length).reshape((-1,) + (1,) * (grad.ndim - ctx.axis - 1))
        return (position == ctx.indices) * grad, None


class Var(Function):
    """y = sum((x - mean)^2) / (m - correction);  dx = dy * 2 (x - mean) / (m - correction)."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False, correction=1):
        centered = x - x.mean(axis=axes, keepdims=True)
        divisor = _count(x.shape, axes) - correction
        # no degrees of freedom left (one value, correction 1): NaN, with a NaN gradient
        ctx.scale = 1 / divisor if divisor > 0 else math.nan
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdims = axes, keepdims
        return (centered * centered).sum(axis=axes, keepdims=keepdims) * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        centered = ctx.saved_tensors[0]
        grad = _expand_back(grad, ctx.axes, ctx.keepdims, centered.shape)
        return grad * centered * (2 * ctx.scale)


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max));  dx = y * (dy - sum(dy * y))."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        xp = backend.array_module(x)
        out = xp.exp(x - x.max(axis=axis, keepdims=True))
        out /= out.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved_tensors[0]
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max)));  dx = dy - softmax(x) * sum(dy)."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        out = log_softmax_array(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad)
        out = ctx.saved_tensors[0]
        return grad - xp.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


def log_softmax_array(x: Any, axis: int) -> Any:
    """The numerically stable log-softmax of a raw array (shared with cross-entropy)."""
    xp = backend.array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


# --- the functional API -------------------------------------------------------------------


class MaxResult(NamedTuple):
    """What max(dim=...)/min(dim=...) return, as in PyTorch: the values and their indices."""

    values: Tensor
    indices: Tensor


@tensor_method("sum")
def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(x, axes=normalize_axes(dim, x.ndim), keepdims=keepdim)


@tensor_method("mean")
def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return Mean.apply(x, axes=normalize_axes(dim, x.ndim), keepdims=keepdim)


@tensor_method("var")
def var(
    x: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance with PyTorch's default Bessel correction (divide by m - 1)."""
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = normalize_axes(dim, x.ndim)
    return Var.apply(x, axes=axes, keepdims=keepdim, correction=correction)


def _extreme(x: Tensor, dim: Any, keepdim: bool, op: type[Max]) -> Any:
    """max/min of all of x, or (values, indices) over one dim: the first extreme entry (the
    first NaN if there is one, as in PyTorch), which alone gets the gradient."""
    if dim is None:
        return op.apply(x)
    if x.ndim == 0:  # dim 0 of a 0-d tensor: the tensor itself, index 0
        normalize_axes(dim, 0)
        values, indices = _extreme(x.reshape(1), 0, False, op)
        return MaxResult(values, indices)
    axes = normalize_axes(dim, x.ndim)
    if len(axes) != 1:
        raise ValueError(f"max/min with indices reduce one dim, got dim={dim}")
    find = x.data.argmax if op.largest else x.data.argmin
    indices = find(axis=axes[0], keepdims=True)
    values = TakeAlongDim.apply(x, indices, axis=axes[0], keepdims=keepdim)
    return MaxResult(values, Tensor(indices if keepdim else indices.squeeze(axes[0])))


@tensor_method("max")
def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """max(x) is a 0-d tensor; max(x, dim) is (values, indices) as in PyTorch."""
    return _extreme(x, dim, keepdim, Max)


@tensor_method("min")
def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """min(x) is a 0-d tensor; min(x, dim) is (values, indices) as in PyTorch."""
    return _extreme(x, dim, keepdim, Min)


@tensor_method("argmax")
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices of the maxima (of the flattened tensor when dim is None); no gradient."""
    if dim is None:
        return Tensor(backend.ensure_array(x.data.argmax()))
    (axis,) = normalize_axes(dim, x.ndim)
    return Tensor(backend.ensure_array(x.data.argmax(axis=axis, keepdims=keepdim)))


@tensor_method("softmax")
def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return Softmax.apply(x, axis=dim)


@tensor_method("log_softmax")
def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return LogSoftmax.apply(x, axis=dim)
