"""Argument helpers shared by the functional API: shapes, dims and axes as users write them,
reduction modes, one check of a tensor against the input it goes with (shape, dtype, device),
and unbroadcast, which undoes broadcasting for the gradients.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from minigrad.backend import HostArray


def as_shape(shape: tuple) -> tuple[int, ...]:
    """A shape given as separate ints, f(2, 3), or as one sequence, f((2, 3)), as a tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def normalize_dim(dim: int, ndim: int) -> int:
    """dim as an index in [0, ndim), with PyTorch's error for one out of range. As in PyTorch,
    a 0-d tensor takes dim 0 or -1 (which index no axis: callers treat it as the whole)."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % rank


def normalize_axes(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """None stays None (all axes); an int or sequence becomes a sorted tuple of axes >= 0."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = tuple(sorted({normalize_dim(d, ndim) for d in dims}))
    return axes if ndim else ()  # a 0-d tensor takes dim 0 or -1 but has no axis to reduce


REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def checked_reduction(op: str, size_average: Any, reduce: Any, reduction: str) -> str:
    """A loss's reduction, checked: `reduction` itself, unless PyTorch's deprecated flags are
    given (not None), which override it as in PyTorch, with its warning: reduce=False gives
    'none', size_average=False 'sum', both True (their default) 'mean'."""
    if size_average is None and reduce is None:
        check_reduction(op, reduction)
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        f"{op}: size_average and reduce are deprecated, as in PyTorch; "
        f"use reduction={legacy!r} instead",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return legacy


def caller_stacklevel(inside: tuple[str, ...] = ("minigrad",)) -> int:
    """warnings.warn's stacklevel for the first frame outside the modules `inside` (names or
    package prefixes), so that a warning raised deep in the library names the user's line."""

    def is_inside(module: str) -> bool:
        return any(module == name or module.startswith(name + ".") for name in inside)

    frame, level = sys._getframe(2), 2  # the caller of warnings.warn's caller
    while frame.f_back is not None and is_inside(frame.f_globals.get("__name__", "")):
        frame, level = frame.f_back, level + 1
    return level


def check_like(
    op: str,
    name: str,
    tensor: Any,
    like: Any,
    like_name: str = "input",
    shape: Any = None,
    same_dtype: bool = True,
) -> None:
    """`tensor` (called `name`) must sit on like's device, have like's dtype (unless not
    `same_dtype`) and, when `shape` is given, that shape; the error names the op, both tensors
    and both values."""
    data, like_data = tensor.data, like.data
    if (  # the common case, decided without the properties: two host arrays that agree
        type(data) is HostArray
        and type(like_data) is HostArray
        and (not same_dtype or data.dtype == like_data.dtype)
        and (shape is None or data.shape == tuple(shape))
    ):
        return
    if tensor.device != like.device:
        raise RuntimeError(
            f"{op}: {like_name} is on {like.device} but {name} is on {tensor.device}; "
            "move them with .to(device) first"
        )
    if same_dtype and tensor.dtype != like.dtype:
        raise TypeError(
            f"{op}: {like_name} has dtype {like.dtype} but {name} has dtype {tensor.dtype}; "
            "convert one of them with .to(dtype)"
        )
    if shape is not None and tensor.shape != tuple(shape):
        raise ValueError(
            f"{op}: {name} has shape {tensor.shape}, expected {tuple(shape)} for the "
            f"{like_name} of shape {like.shape}"
        )


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum `grad` over the axes that broadcasting added or stretched, giving `shape`."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = [
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    ]
    axes = tuple(range(extra)) + tuple(stretched)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape) if extra else grad
