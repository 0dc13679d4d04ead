"""Reductions (sum, mean, prod, max/min and amax/amin, var/std, norm, logsumexp, all/any,
argmax), cumsum and the softmax family, with PyTorch's `dim`/`keepdim` arguments.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minigrad import backend
from minigrad.arguments import normalize_axes, normalize_dim
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, tensor_method

__all__ = [
    "sum",
    "mean",
    "prod",
    "var",
    "std",
    "max",
    "min",
    "amax",
    "amin",
    "norm",
    "logsumexp",
    "cumsum",
    "all",
    "any",
    "argmax",
    "softmax",
    "log_softmax",
]


def _expand_back(grad: Any, axes: tuple | None, keepdims: bool, shape: tuple) -> Any:
    """Broadcast a reduced gradient back over the reduced axes (a read-only view)."""
    if not keepdims and axes is not None and len(shape) > 0:
        grad = backend.array_module(grad).expand_dims(grad, axes)
    return backend.broadcast_view(grad, shape)


def _dropped(out: Any, axes: tuple | None, keepdims: bool) -> Any:
    """A reduction computed with keepdims=True, its reduced axes dropped unless `keepdims`."""
    return out if keepdims else out.squeeze(axis=axes)


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


class Prod(Function):
    """y = product of x along `axis` (of all of x when axis is None);  dx_i = dy * the product
    of the other entries, taken as (product of those before i) * (product of those after i), so
    that it is exact where x has zeros: no division by x_i."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims = axis, keepdims
        dtype = None if backend.is_floating(x.dtype) else backend.int64  # PyTorch's for ints
        return x.prod(axis=axis, keepdims=keepdims, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
        xp = backend.array_module(x)
        line, axis = (x.reshape(-1), 0) if ctx.axis is None else (x, ctx.axis)
        after = xp.flip(_exclusive_cumprod(xp.flip(line, axis), axis), axis)
        others = (_exclusive_cumprod(line, axis) * after).reshape(x.shape)
        axes = None if ctx.axis is None else (ctx.axis,)
        return _expand_back(grad, axes, ctx.keepdims, x.shape) * others


def _exclusive_cumprod(x: Any, axis: int) -> Any:
    """The product of the entries before each entry along axis (1 for the first)."""
    xp = backend.array_module(x)
    before = xp.roll(xp.cumprod(x, axis=axis), 1, axis=axis)
    before[(slice(None),) * axis + (slice(0, 1),)] = 1
    return before


class Amax(Function):
    """y = max of x over axes;  dx = dy split evenly between the entries equal to y in each
    reduced slice (NaN over a slice that holds a NaN, as PyTorch's amax)."""

    largest = True
    nan_wins = False  # whether a NaN extreme sends the gradient to the NaNs (Max, Min)

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False):
        xp = backend.array_module(x)
        out = (x.max if ctx.largest else x.min)(axis=axes, keepdims=True)
        winners = x == out
        if ctx.nan_wins and backend.is_floating(x.dtype):
            winners |= xp.isnan(x) & xp.isnan(out)
        ctx.save_for_backward(winners)
        ctx.axes, ctx.keepdims = axes, keepdims
        return _dropped(out, axes, keepdims)

    @staticmethod
    def backward(ctx, grad):
        winners = ctx.saved_tensors[0]
        grad = _expand_back(grad, ctx.axes, ctx.keepdims, winners.shape)
        ties = winners.sum(axis=ctx.axes, keepdims=True, dtype=grad.dtype)
        with backend.quiet_float_errors():  # no winner (a NaN in the slice): 0 * inf = NaN
            return winners * (grad / ties)


class Amin(Amax):
    """y = min of x over axes;  dx as for amax."""

    largest = False


class Max(Amax):
    """y = max of all of x;  dx = dy split evenly between the entries equal to y, or between
    the NaNs when y is NaN (PyTorch's rule for a full reduction)."""

    nan_wins = True


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


class Std(Var):
    """y = sqrt(var(x));  dx = dy / (2 y) * dvar/dx = dy (x - mean) / ((m - correction) y), 0
    where y = 0 (all values equal), as PyTorch's."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False, correction=1):
        variance = Var.forward(ctx, x, axes=axes, keepdims=keepdims, correction=correction)
        out = backend.array_module(x).sqrt(variance)
        ctx.save_for_backward(*ctx.saved_tensors, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad)
        out = ctx.saved_tensors[1]
        with backend.quiet_float_errors():  # the inf where y = 0, masked to 0
            grad_variance = xp.where(out == 0, 0, grad / (2 * out))
        return Var.backward(ctx, grad_variance)


class Norm(Function):
    """y = (sum |x|^p)^(1/p) over axes, for a finite p != 0;  dx = dy sign(x) (|x| / y)^(p-1)
    (dy x / y for p = 2), 0 where y = 0 or x = 0. p = 0 counts the nonzero entries and has no
    gradient."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False, p=2):
        ctx.axes, ctx.keepdims, ctx.p = axes, keepdims, p
        if p == 0:
            return (x != 0).sum(axis=axes, keepdims=keepdims, dtype=x.dtype)
        xp = backend.array_module(x)
        with backend.quiet_float_errors():  # |0|^p = inf for p < 0, which makes y = 0
            out = (xp.abs(x) ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(x, out)
        return _dropped(out, axes, keepdims)

    @staticmethod
    def backward(ctx, grad):
        if ctx.p == 0:
            return None
        x, out = ctx.saved_tensors
        xp = backend.array_module(x)
        grad = _expand_back(grad, ctx.axes, ctx.keepdims, x.shape)
        with backend.quiet_float_errors():  # 0/0 and 0^-1 where the mask then puts 0
            grad_x = grad * xp.sign(x) * (xp.abs(x) / out) ** (ctx.p - 1)
            return xp.where((x == 0) | (out == 0), 0, grad_x)


class LogSumExp(Function):
    """y = m + ln(sum exp(x - m)) over axes, m the max (0 where it is infinite, so that all
    -inf gives -inf);  dx = dy * exp(x - y)."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False):
        xp = backend.array_module(x)
        shift = x.max(axis=axes, keepdims=True)
        shift = xp.where(xp.isfinite(shift), shift, 0)
        with backend.quiet_float_errors():  # ln 0 = -inf where every entry is -inf
            out = xp.log(xp.exp(x - shift).sum(axis=axes, keepdims=True)) + shift
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return _dropped(out, axes, keepdims)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = backend.array_module(x)
        grad = _expand_back(grad, ctx.axes, ctx.keepdims, x.shape)
        with backend.quiet_float_errors():  # -inf - (-inf) = NaN, as in PyTorch
            return grad * xp.exp(x - out)


class Cumsum(Function):
    """y_i = sum of x_j for j <= i along axis;  dx_j = sum of dy_i for i >= j: the cumulative
    sum of dy taken from the end."""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        dtype = None if backend.is_floating(x.dtype) else backend.int64  # PyTorch's for ints
        return backend.array_module(x).cumsum(x, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad)
        return xp.flip(xp.cumsum(xp.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


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


def _check_floating(op: str, x: Tensor) -> None:
    if not backend.is_floating(x.dtype):
        raise TypeError(
            f"{op}: needs a floating point tensor, got dtype {x.dtype}; convert it with .float()"
        )


@tensor_method("sum")
def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(x, axes=normalize_axes(dim, x.ndim), keepdims=keepdim)


@tensor_method("mean")
def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return Mean.apply(x, axes=normalize_axes(dim, x.ndim), keepdims=keepdim)


@tensor_method("prod")
def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The product of all entries, or of those along one dim (integer and bool tensors give
    int64, as in PyTorch)."""
    if dim is None:
        return Prod.apply(x)
    if not isinstance(dim, int):
        raise TypeError(f"prod: dim must be one int (prod reduces one dim or all), got {dim!r}")
    axis = normalize_dim(dim, x.ndim)
    if x.ndim == 0:  # dim 0 of a 0-d tensor: the tensor itself
        return Prod.apply(x)
    return Prod.apply(x, axis=axis, keepdims=keepdim)


def _variance_args(op: str, x: Tensor, dim: Any, correction: Any, unbiased: Any) -> tuple:
    """(axes, correction) from the arguments of var and std (PyTorch's default correction is
    1, Bessel's); var(False) is PyTorch's older var(unbiased)."""
    _check_floating(op, x)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    return normalize_axes(dim, x.ndim), correction


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
    axes, correction = _variance_args("var", x, dim, correction, unbiased)
    return Var.apply(x, axes=axes, keepdims=keepdim, correction=correction)


@tensor_method("std")
def std(
    x: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation, sqrt of var with the same arguments (divide by m - 1 by default)."""
    axes, correction = _variance_args("std", x, dim, correction, unbiased)
    return Std.apply(x, axes=axes, keepdims=keepdim, correction=correction)


def _over(x: Tensor, axes: tuple | None, keepdim: bool, op: type[Amax]) -> Tensor:
    """op (Amax, Amin, Max, Min) over axes (None: all), refusing an empty slice, which has no
    extreme."""
    for axis in range(x.ndim) if axes is None else axes:
        if x.shape[axis] == 0:
            raise IndexError(
                f"{op.__name__.lower()}: cannot reduce dim {axis} of size 0 (shape {x.shape}): "
                "an empty slice has no extreme value"
            )
    return op.apply(x, axes=axes, keepdims=keepdim)


def _extreme(x: Tensor, dim: Any, keepdim: bool, op: type[Max]) -> Any:
    """max/min of all of x, or (values, indices) over one dim: the first extreme entry (the
    first NaN if there is one, as in PyTorch), which alone gets the gradient."""
    if dim is None:
        return _over(x, None, False, op)
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


def _reduced_axes(dim: Any, ndim: int) -> tuple | None:
    """amax's dim: () or None reduce all dims, as in PyTorch."""
    return None if dim is None or dim == () else normalize_axes(dim, ndim)


@tensor_method("amax")
def amax(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The maximum over dim (all dims by default), the gradient split evenly between ties."""
    return _over(x, _reduced_axes(dim, x.ndim), keepdim, Amax)


@tensor_method("amin")
def amin(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The minimum over dim (all dims by default), the gradient split evenly between ties."""
    return _over(x, _reduced_axes(dim, x.ndim), keepdim, Amin)


@tensor_method("norm")
def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm over dim (all of x by default): p = 'fro' (the default) or 2, sqrt(sum x^2);
    1, sum |x|; inf, max |x| and -inf, min |x| (the gradient split between ties, as amax's);
    0, the count of nonzero entries; any other number, (sum |x|^p)^(1/p)."""
    _check_floating("norm", x)
    axes = normalize_axes(dim, x.ndim)
    if p == "fro":
        if axes is not None and len(axes) > 2:
            raise ValueError(f"norm: p='fro' takes at most 2 dims, got dim={dim}")
        p = 2
    if not isinstance(p, (int, float)):
        raise ValueError(f"norm: p must be 'fro' or a number, got {p!r}")
    if math.isinf(p):
        return (amax if p > 0 else amin)(x.abs(), dim=axes, keepdim=keepdim)
    return Norm.apply(x, axes=axes, keepdims=keepdim, p=p)


@tensor_method("logsumexp")
def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """ln(sum(exp(x))) over dim, without overflow (integer tensors as float32, as PyTorch)."""
    if not backend.is_floating(x.dtype):
        x = x.float()
    return LogSumExp.apply(x, axes=normalize_axes(dim, x.ndim), keepdims=keepdim)


@tensor_method("cumsum")
def cumsum(x: Tensor, dim: int) -> Tensor:
    """Cumulative sums along dim (integer and bool tensors give int64, as in PyTorch)."""
    axis = normalize_dim(dim, x.ndim)
    if x.ndim == 0:  # dim 0 of a 0-d tensor: the tensor itself
        return cumsum(x.reshape(1), 0).reshape(())
    return Cumsum.apply(x, axis=axis)


def _logical(x: Tensor, dim: Any, keepdim: bool, reduction: str) -> Tensor:
    """all/any over dim (all of x by default): a bool tensor (uint8 for uint8, as PyTorch),
    with no graph."""
    axes = normalize_axes(dim, x.ndim)
    with backend.on_device_of(x.data):
        out = backend.ensure_array(getattr(x.data, reduction)(axis=axes, keepdims=keepdim))
        return Tensor(out.astype(backend.uint8) if x.dtype == backend.uint8 else out)


@tensor_method("all")
def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every entry over dim (all of x by default) is nonzero."""
    return _logical(x, dim, keepdim, "all")


@tensor_method("any")
def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some entry over dim (all of x by default) is nonzero."""
    return _logical(x, dim, keepdim, "any")


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
