"""Ops that move values around without arithmetic: reshape, permute, expand, repeat, flip,
clone, index (getitem, gather, index_select), split and chunk, cat, stack.

view, flatten, squeeze and unsqueeze are reshapes; transpose, t() and .T are permutations.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import backend
from minigrad.arguments import as_shape, normalize_dim, unbroadcast
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, tensor_method

__all__ = [
    "reshape",
    "flatten",
    "permute",
    "transpose",
    "t",
    "unsqueeze",
    "squeeze",
    "flip",
    "clone",
    "gather",
    "index_select",
    "split",
    "chunk",
    "cat",
    "stack",
]


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


class Repeat(Function):
    """y = x tiled `repeats[d]` times along each dim d (x given leading size-1 dims first, so
    that it has one per repeat);  dx = dy summed over the copies: dy viewed as
    (r0, n0, r1, n1, ...) and summed over the r axes."""

    @staticmethod
    def forward(ctx, x, repeats=()):
        ctx.shape, ctx.repeats = x.shape, repeats
        padded = (1,) * (len(repeats) - x.ndim) + x.shape
        return backend.array_module(x).tile(x.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, grad):
        padded = (1,) * (len(ctx.repeats) - len(ctx.shape)) + ctx.shape
        copies_and_sizes = tuple(n for pair in zip(ctx.repeats, padded) for n in pair)
        copies_axes = tuple(range(0, 2 * len(padded), 2))
        return grad.reshape(copies_and_sizes).sum(axis=copies_axes).reshape(ctx.shape)


class Flip(Function):
    """y = x with the order of its entries reversed along axes;  dx = dy reversed back."""

    @staticmethod
    def forward(ctx, x, axes=()):
        ctx.axes = axes
        return backend.array_module(x).flip(x, axes).copy()  # a copy, as PyTorch's flip

    @staticmethod
    def backward(ctx, grad):
        return backend.array_module(grad).flip(grad, ctx.axes)


class Clone(Function):
    """y = a copy of x;  dx = dy."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


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


class Gather(GetItem):
    """y[i][j] = x[index[i][j]][j] for axis 0 (x[i][index[i][j]] for axis 1, and so on): x
    indexed by `index` along axis and by each position's own coordinates along the others;
    dx = zeros with dy added at the gathered positions (repeats accumulate), as for getitem."""

    @staticmethod
    def forward(ctx, x, index=None, axis=0):
        xp = backend.array_module(index)
        key = tuple(
            index
            if other_axis == axis
            else xp.arange(size).reshape((-1,) + (1,) * (index.ndim - other_axis - 1))
            for other_axis, size in enumerate(index.shape)
        )
        return GetItem.forward(ctx, x, key=key)


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


@tensor_method("t")
def t(x: Tensor) -> Tensor:
    """The matrix transpose: a 2-d tensor with its dims swapped, a 0-d or 1-d one as it is."""
    if x.ndim > 2:
        raise ValueError(
            f"t: expects a tensor with at most 2 dimensions, got shape {x.shape}; use "
            "transpose(dim0, dim1) or permute"
        )
    return T(x)


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


def _shape_of(op: str, other: Any) -> tuple:
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: other must be a Tensor, got {type(other).__name__}")
    return other.shape


@tensor_method("view_as")
def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x viewed with other's shape: x.view(other.shape)."""
    return reshape(x, _shape_of("view_as", other))


@tensor_method("reshape_as")
def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """x reshaped to other's shape: x.reshape(other.shape)."""
    return reshape(x, _shape_of("reshape_as", other))


@tensor_method("expand_as")
def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """x broadcast to other's shape, without copying: x.expand(other.shape)."""
    return expand(x, _shape_of("expand_as", other))


@tensor_method("repeat")
def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """x tiled sizes[d] times along each dim d (a copy); more sizes than dims add leading dims,
    as numpy.tile does."""
    repeats = as_shape(sizes)
    if len(repeats) < x.ndim:
        raise ValueError(
            f"repeat: got {len(repeats)} repeat sizes {repeats} for a tensor of shape {x.shape}; "
            "give one per dimension at least"
        )
    if any(size < 0 for size in repeats):
        raise ValueError(f"repeat: repeat sizes must be non-negative, got {repeats}")
    return Repeat.apply(x, repeats=repeats)


@tensor_method("flip")
def flip(x: Tensor, *dims: Any) -> Tensor:
    """x with its entries in reverse order along each of dims (a copy)."""
    dims = as_shape(dims)
    axes = [normalize_dim(dim, x.ndim) for dim in dims]
    for position, axis in enumerate(axes):
        if axis in axes[:position]:
            raise ValueError(f"flip: dim {axis} appears more than once in dims {dims}")
    return Flip.apply(x, axes=tuple(axes) if x.ndim else ())


@tensor_method("clone")
def clone(x: Tensor) -> Tensor:
    """A copy of x that stays in the graph (the gradient flows back to x)."""
    return Clone.apply(x)


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


def _checked_index(op: str, index: Any, device: str) -> Any:
    """The array of an index Tensor (int64 or int32, as PyTorch takes) on `device`."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a Tensor of int64, got {type(index).__name__}")
    if index.dtype not in (backend.int64, backend.int32):
        raise TypeError(f"{op}: index must have dtype int64 or int32, got {index.dtype}")
    return backend.to_device(index.data, device)


def _check_in_range(op: str, index: Any, size: int, dim: int) -> None:
    """Every index must lie in [0, size) (PyTorch's rule: no negative indices). On the CPU the
    bad ones are named at once; on a GPU the check is deferred to the next read from the device
    (backend.defer_check), so that indexing never waits for the device."""
    if not index.size:
        return
    with backend.on_device_of(index):
        out_of_range = ((index < 0) | (index >= size)).any()
    if type(index) is not backend.HostArray:
        backend.defer_check(
            out_of_range,
            f"{op}: an index lay out of range for dim {dim} of size {size} (valid indices are "
            f"0..{size - 1}); on a GPU indices are checked at the next read from the device",
        )
    elif out_of_range:
        bad = sorted({value for value in index.ravel().tolist() if not 0 <= value < size})
        shown = ", ".join(str(value) for value in bad[:10]) + (", ..." if len(bad) > 10 else "")
        raise IndexError(
            f"{op}: index {shown} out of range for dim {dim} of size {size} (valid indices are "
            f"0..{size - 1})"
        )


@tensor_method("gather")
def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """x at `index` along dim (out[i][j] = x[i][index[i][j]] for dim 1), index having x's
    number of dims and no larger a size than x's in the others; see Gather."""
    axis = normalize_dim(dim, x.ndim)
    index_data = _checked_index("gather", index, x.device)
    if index.ndim != x.ndim:
        raise ValueError(
            f"gather: index has shape {index.shape} but the input has shape {x.shape}; they "
            "must have the same number of dimensions"
        )
    if x.ndim == 0:  # dim 0 of a 0-d tensor: index 0 of the tensor as one entry
        return gather(x.reshape(1), 0, index.reshape(1)).reshape(())
    for other_axis, (wanted, size) in enumerate(zip(index.shape, x.shape)):
        if other_axis != axis and wanted > size:
            raise ValueError(
                f"gather: index has shape {index.shape}, larger than the input's {x.shape} in "
                f"dim {other_axis} (only dim {axis}, the gathered one, may be larger)"
            )
    _check_in_range("gather", index_data, x.shape[axis], axis)
    return Gather.apply(x, index=index_data, axis=axis)


@tensor_method("index_select")
def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of x at `index` (a 0-d or 1-d int tensor) along dim, in that order, repeats
    allowed; the gradient is added back at those entries (repeats accumulate)."""
    axis = normalize_dim(dim, x.ndim)
    index_data = _checked_index("index_select", index, x.device)
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 0-d or 1-d, got shape {index.shape}")
    if x.ndim == 0:  # dim 0 of a 0-d tensor: the tensor itself, at index 0
        return index_select(x.reshape(1), 0, index).reshape(())
    index_data = index_data.reshape(-1)
    _check_in_range("index_select", index_data, x.shape[axis], axis)
    return GetItem.apply(x, key=(slice(None),) * axis + (index_data,))


@tensor_method("split")
def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along dim into pieces of split_size_or_sections entries (an int: the last piece
    may be smaller) or of the sizes it lists (which must add up to the dim's size). The pieces
    are views of x, as in PyTorch."""
    axis, length = _split_dim("split", x, dim)
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and length > 0):
            raise ValueError(
                f"split: split_size must be positive (0 only for an empty dim), got {size} for "
                f"dim {axis} of size {length}"
            )
        whole, rest = divmod(length, size) if size else (0, 0)
        sizes = [size] * whole + ([rest] if rest else [])
        return _pieces(x, axis, sizes or [0])  # an empty dim: one empty piece
    sizes = list(split_size_or_sections)
    if any(size < 0 for size in sizes) or sum(sizes) != length:
        raise ValueError(
            f"split: the sizes {sizes} must be non-negative and add up to {length}, the size "
            f"of dim {axis}"
        )
    return _pieces(x, axis, sizes)


@tensor_method("chunk")
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along dim into `chunks` pieces of ceil(size / chunks) entries, the last one
    smaller; fewer pieces when the size does not need them all, as in PyTorch."""
    axis, length = _split_dim("chunk", x, dim)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    if length == 0:
        return _pieces(x, axis, [0] * chunks)
    return split(x, -(-length // chunks), axis)


def _split_dim(op: str, x: Tensor, dim: int) -> tuple[int, int]:
    if x.ndim == 0:
        raise ValueError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d tensor")
    axis = normalize_dim(dim, x.ndim)
    return axis, x.shape[axis]


def _pieces(x: Tensor, axis: int, sizes: list[int]) -> tuple[Tensor, ...]:
    """x cut along axis into consecutive pieces of these sizes, each a slice of x."""
    pieces, start = [], 0
    for size in sizes:
        key = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(GetItem.apply(x, key=key))
        start += size
    return tuple(pieces)


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
