"""Collation: combine the samples of a batch field by field, as PyTorch's default_collate does,
and turn a batch's arrays into Tensors (on a device) with its structure kept.

Host-side module: it imports numpy to collate Python numbers and to test for NumPy scalars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy

from minigrad import backend
from minigrad.tensor import Tensor


def default_collate(batch: Sequence[Any]) -> Any:
    """Collate a list of samples into a batch of Tensors (PyTorch's default_collate).

    Arrays, Tensors and NumPy scalars are stacked along a new first axis (dtypes kept), Python
    numbers become a 1-d Tensor (int -> int64, float -> float64, bool -> bool), str fields a
    list of str; dicts, tuples, lists and namedtuples keep their structure.
    """
    return to_tensors(collate(list(batch), list(range(len(batch)))))


def to_tensors(batch: Any, device: str | None = None) -> Any:
    """The batch with its arrays made Tensors and its Tensors moved to `device` (None: left
    where they are); dicts, tuples, lists and namedtuples keep their structure, and str and
    other leaves (Python numbers from a custom collate_fn) are returned as they are."""
    if isinstance(batch, Tensor):
        if device is None or batch.device == device:
            return batch
        return Tensor(backend.asarray(batch.data, device=device))
    if backend.is_array(batch):
        return Tensor(batch if device is None else backend.asarray(batch, device=device))
    if isinstance(batch, (str, bytes)):
        return batch
    if isinstance(batch, Mapping):
        return {key: to_tensors(value, device) for key, value in batch.items()}
    if _is_namedtuple(batch):
        return type(batch)(*(to_tensors(value, device) for value in batch))
    if isinstance(batch, list):
        return [to_tensors(value, device) for value in batch]
    if isinstance(batch, tuple):
        return tuple(to_tensors(value, device) for value in batch)
    return batch


def collate(samples: list[Any], indices: list[int], path: tuple[Any, ...] = ()) -> Any:
    """Combine samples field by field into host (or device) arrays, as default_collate does.

    Arrays, Tensors and NumPy scalars are stacked along a new first axis; Python numbers become
    a 1-d array (bool if all are bools, else float64 if any is a float, else int64); str stay a
    list; dicts collate per key, tuples and lists per position (namedtuples keep their type).
    `indices` (the samples' dataset indices) and `path` (the keys down to these values) only
    name the place in error messages.
    """
    first = samples[0]
    kind = _kind_of(first, indices[0], path)
    for sample, index in zip(samples[1:], indices[1:]):
        if _kind_of(sample, index, path) != kind:
            raise TypeError(
                f"DataLoader cannot collate {_field(path)}: type {type(sample).__name__} in "
                f"sample {index} but {type(first).__name__} in sample {indices[0]}"
            )
    if kind == "array":
        return _stack(samples, indices, path)
    if kind == "number":
        return numpy.asarray(samples, dtype=_number_dtype(samples))
    if kind == "str":
        return list(samples)
    if kind == "mapping":
        _check_keys(samples, indices, path)
        return {
            key: collate([sample[key] for sample in samples], indices, (*path, key))
            for key in first
        }
    _check_lengths(samples, indices, path)
    names = first._fields if _is_namedtuple(first) else range(len(first))
    fields = [
        collate(list(column), indices, (*path, name)) for name, column in zip(names, zip(*samples))
    ]
    if _is_namedtuple(first):
        return type(first)(*fields)
    return tuple(fields) if isinstance(first, tuple) else fields


def _kind_of(value: Any, index: int, path: tuple[Any, ...]) -> str:
    """How `value` collates: "array", "number", "str", "mapping" or "sequence"."""
    if isinstance(value, (str, bytes)):
        return "str"
    if isinstance(value, (Tensor, numpy.generic)) or backend.is_array(value):
        if value.dtype.kind not in "biufc":
            raise TypeError(
                f"DataLoader cannot collate {_where(path, index)}: type {type(value).__name__} "
                f"with dtype {value.dtype} (only bool and numeric arrays make Tensors)"
            )
        return "array"
    if isinstance(value, (bool, int, float)):
        return "number"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (tuple, list)):
        return "sequence"
    raise TypeError(
        f"DataLoader cannot collate {_where(path, index)}: type {type(value).__name__} (it "
        f"collates arrays, Tensors, numbers, str, and dicts, tuples and lists of them)"
    )


def _stack(values: list[Any], indices: list[int], path: tuple[Any, ...]) -> Any:
    arrays = [value.data if isinstance(value, Tensor) else value for value in values]
    shape = arrays[0].shape
    for array, index in zip(arrays[1:], indices[1:]):
        if array.shape != shape:
            raise ValueError(
                f"DataLoader cannot stack {_field(path)}: shape {tuple(shape)} in sample "
                f"{indices[0]} but {tuple(array.shape)} in sample {index}"
            )
    return backend.array_module(arrays[0]).stack(arrays)


def _number_dtype(numbers: list[Any]) -> Any:
    if all(isinstance(number, bool) for number in numbers):
        return backend.bool_
    if any(isinstance(number, float) for number in numbers):
        return backend.float64
    return backend.int64


def _check_keys(samples: list[Mapping], indices: list[int], path: tuple[Any, ...]) -> None:
    first = samples[0]
    for sample, index in zip(samples[1:], indices[1:]):
        missing = [key for key in first if key not in sample]
        extra = [key for key in sample if key not in first]
        if missing or extra:
            raise ValueError(
                f"DataLoader cannot collate {_field(path)}: sample {index} misses keys "
                f"{missing} and has extra keys {extra} compared with sample {indices[0]}"
            )


def _check_lengths(samples: list[Any], indices: list[int], path: tuple[Any, ...]) -> None:
    length = len(samples[0])
    for sample, index in zip(samples[1:], indices[1:]):
        if len(sample) != length:
            raise ValueError(
                f"DataLoader cannot collate {_field(path)}: length {len(sample)} in sample "
                f"{index} but {length} in sample {indices[0]}"
            )


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _field(path: tuple[Any, ...]) -> str:
    """The collated place for messages: "field 'meta.size'" (keys joined like state_dict's)."""
    return f"field {'.'.join(map(str, path))!r}" if path else "the samples"


def _where(path: tuple[Any, ...], index: int) -> str:
    return f"{_field(path)} of sample {index}" if path else f"sample {index}"
