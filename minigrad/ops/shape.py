"""Ops that move values around without arithmetic: reshape, permute, expand, index, cat, stack.

view, flatten, squeeze and unsqueeze are reshapes; transpose and .T are permutations.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import backend
from minigrad.arguments import as_shape, normalize_dim, unbroadcast
from minigrad.autograd import Function
from minigrad.tensor import Tensor, tensor_method

__all__ = ["reshape", "flatten", "permute", "transpose", "unsqueeze", "squeeze", "cat", "stack"]


class Reshape(Function):
    """y = x with a new shape of the same size;  dx = dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape=None):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """y = x with its axes reordered;  dx = dy with the inverse order."""

    @staticmethod
    def forward(ctx, x, axes=None):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.axes)
        for position, axis in enumerate(ctx.axes):
            inverse[axis] = position
        return grad.transpose(inverse)


class Expand(Function):
    """y = x broadcast to a larger shape (a view);  dx = dy summed over the broadcast axes."""

    @staticmethod
    def forward(ctx, x, shape=None):
        ctx.shape = x.shape
        return backend.array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape)


class GetItem(Function):
    """y = x[key];  dx = zeros with dy added at the indexed positions (repeats accumulate)."""

    @staticmethod
    def forward(ctx, x, key=None):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad)
        grad_x = xp.zeros(ctx.shape, dtype=ctx.dtype)
        if _has_integer_array(ctx.key):
            backend.scatter_add(grad_x, ctx.key, grad)
        else:
            grad_x[ctx.key] = grad
        return grad_x


def _has_integer_array(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(backend.is_array(part) and part.dtype.kind in "iu" for part in parts)


class Cat(Function):
    """y = inputs joined along `axis`;  each dx is its slice of dy."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.sizes = [array.shape[axis] for array in arrays]
        return backend.array_module(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size in ctx.sizes:
            index = (slice(None),) * ctx.axis + (slice(start, start + size),)
            grads.append(grad[index])
            start += size
        return tuple(grads)


class Stack(Function):
    """y = inputs stacked along a new `axis`;  each dx is dy indexed at its position."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis, ctx.count = axis, len(arrays)
        return backend.array_module(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        prefix = (slice(None),) * ctx.axis
        return tuple(grad[prefix + (i,)] for i in range(ctx.count))


# --- the functional API -------------------------------------------------------------------


@tensor_method("reshape", "view")
def reshape(x: Tensor, *shape: Any) -> Tensor:
    shape = as_shape(shape)
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot view a tensor of shape {x.shape} ({x.numel()} elements) as {shape}"
        ) from None


@tensor_method("flatten")
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    shape = x.shape
    merged = math.prod(shape[start : end + 1])
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


@tensor_method("permute")
def permute(x: Tensor, *dims: Any) -> Tensor:
    axes = tuple(normalize_dim(d, x.ndim) for d in as_shape(dims))
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {axes} are not a permutation of {x.ndim} dimensions")
    return Permute.apply(x, axes=axes)


@tensor_method("transpose")
def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    axes = list(range(x.ndim))
    dim0, dim1 = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    if axes:  # a 0-d tensor has no axes to swap
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return Permute.apply(x, axes=tuple(axes))


def T(x: Tensor) -> Tensor:  # noqa: N802 (PyTorch's name)
    """All axes reversed (the matrix transpose for 2-d tensors)."""
    return Permute.apply(x, axes=tuple(reversed(range(x.ndim))))


tensor_method("T")(property(T))


@tensor_method("unsqueeze")
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    dim = normalize_dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


@tensor_method("squeeze")
def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Drop size-1 dims (only `dim` when given, and only if its size is 1, as in PyTorch)."""
    if dim is None:
        return reshape(x, tuple(size for size in x.shape if size != 1))
    dim = normalize_dim(dim, x.ndim)
    if x.ndim == 0 or x.shape[dim] != 1:
        return x
    return reshape(x, x.shape[:dim] + x.shape[dim + 1 :])


@tensor_method("expand")
def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to `sizes` (-1 keeps a dim), without copying."""
    sizes = as_shape(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dims {sizes}")
    shape = tuple(x.shape[i - lead] if size == -1 else size for i, size in enumerate(sizes))
    try:
        return Expand.apply(x, shape=shape)
    except ValueError:
        raise ValueError(f"expand: cannot expand shape {x.shape} to {sizes}") from None


@tensor_method("__getitem__")
def getitem(x: Tensor, key: Any) -> Tensor:
    """x[key] for ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    return GetItem.apply(x, key=index_key(key, x.device))


def index_key(key: Any, device: str) -> Any:
    """An index as the arrays of `device` take it: Tensors and lists become arrays there."""
    if isinstance(key, tuple):
        return tuple(_index_part(part, device) for part in key)
    return _index_part(key, device)


def _index_part(part: Any, device: str) -> Any:
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, list):
        return backend.asarray(part, device=device)
    if backend.is_array(part):
        return backend.to_device(part, device)
    return part


def cat(tensors: Any, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    axis = normalize_dim(dim, tensors[0].ndim)
    _check_same_except(tensors, axis, "cat")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Any, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    axis = normalize_dim(dim, tensors[0].ndim + 1)
    _check_same_except(tensors, None, "stack")
    return Stack.apply(*tensors, axis=axis)


def _check_same_except(tensors: list, axis: int | None, name: str) -> None:
    first = tensors[0].shape
    for position, other in enumerate(tensors[1:], start=1):
        shape = other.shape
        same = len(shape) == len(first) and all(
            a == b for i, (a, b) in enumerate(zip(first, shape)) if i != axis
        )
        if not same:
            where = "" if axis is None else f" except in dim {axis}"
            raise ValueError(
                f"{name}: tensors must have the same shape{where}; tensor 0 has shape {first} "
                f"but tensor {position} has shape {shape}"
            )
