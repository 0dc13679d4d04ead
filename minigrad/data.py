"""Datasets and the DataLoader: whole batches by array indexing, seeded shuffling, PyTorch's
default collation of structured samples, and one move to the device per batch.

Host-side module: it imports numpy for the index permutations, their random generators and
for collating the samples of generic datasets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy

from minigrad import backend
from minigrad.tensor import Tensor


class Dataset:
    """A sized collection of samples: subclasses define ``__getitem__(index)`` and ``__len__``.

    A dataset that can fetch many samples with one array index may also define
    ``__getitems__(indices) -> tuple of batch arrays``; the DataLoader then uses it instead of
    fetching and stacking the samples one by one.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the rows (first-axis slices) of equally long Tensors or arrays.

    ``dataset[i]`` gives one sample, ``dataset[indices]`` (an integer array or list) a batch:
    a tuple with one array per input, on that input's device.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        arrays = tuple(_as_array(value) for value in tensors)
        for number, array in enumerate(arrays):
            if array.ndim == 0:
                raise ValueError(f"TensorDataset: input {number} is 0-d; each needs a first axis")
        sizes = [int(array.shape[0]) for array in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"TensorDataset: all inputs must have the same size along the first axis, "
                f"got sizes {sizes}"
            )
        self.arrays = arrays

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        if isinstance(index, list) or backend.is_array(index):
            return self.__getitems__(index)
        return tuple(array[index] for array in self.arrays)

    def __getitems__(self, indices: Any) -> tuple[Any, ...]:
        """The samples at `indices` as one batch array per input: a single fancy index each
        (the index array is copied to each input's device once)."""
        on_device: dict[str, Any] = {}
        batch = []
        for array in self.arrays:
            device = backend.device_of(array)
            if device not in on_device:
                on_device[device] = backend.asarray(indices, device=device)
            batch.append(array[on_device[device]])
        return tuple(batch)


class DataLoader:
    """Iterate over a dataset in batches; each ``iter(loader)`` is one epoch.

    - Datasets with ``__getitems__`` (TensorDataset) are indexed once per batch, giving a
      tuple of Tensors. Others are read sample by sample and collated as PyTorch's
      default_collate does, field by field: arrays, Tensors and NumPy scalars are stacked
      (dtypes kept: float32 images stay float32), Python numbers become a 1-d Tensor (int ->
      int64, float -> float64, bool -> bool), str fields a list of str; dicts, tuples, lists
      and namedtuples keep their structure, so (image, label) samples give a tuple of Tensors
      and dict samples a dict. Anything else (None, other objects) is a TypeError.
    - With `device`, each batch array is moved there once; otherwise it stays where the
      dataset keeps it.
    - Shuffling is reproducible: the order of epoch k is a function of (seed, k) only. The
      loader counts epochs itself (``loader.epoch`` is the one the next ``iter()`` uses);
      ``set_epoch(k, start_batch=b)`` makes the next ``iter()`` epoch k from its batch b on,
      to resume an interrupted run without replaying the batches it already trained on.
    - ``transform(batch, rng) -> batch`` is applied to each batch of arrays before they become
      Tensors and move to the device (augmentation); `rng` is a numpy Generator that is a
      function of (seed, k, batch number) only, independent of the one that shuffles.
    - With ``seed=None`` and shuffle or transform on, a seed is drawn once from minigrad's CPU
      generator, so ``minigrad.manual_seed`` makes the run reproducible too.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        device: str | None = None,
        transform: Callable[[Any, numpy.random.Generator], Any] | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if seed is None and (shuffle or transform is not None):
            seed = int(backend.rng("cpu").integers(2**63))
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.device = None if device is None else backend.normalize_device(device)
        self.transform = transform
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Make the next ``iter()`` produce epoch `epoch` (its order and augmentation),
        starting at its batch number `start_batch`."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        if not 0 <= start_batch <= len(self):
            raise ValueError(f"start_batch must lie in [0, {len(self)}], got {start_batch}")
        self.epoch = epoch
        self.start_batch = start_batch

    def __len__(self) -> int:
        """The number of batches per epoch."""
        count = len(self.dataset)
        if self.drop_last:
            return count // self.batch_size
        return -(-count // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        epoch, start_batch = self.epoch, self.start_batch
        self.epoch, self.start_batch = epoch + 1, 0
        return self._batches(epoch, start_batch)

    def _batches(self, epoch: int, start_batch: int) -> Iterator[Any]:
        count = len(self.dataset)
        if self.shuffle:
            order = self._generator(epoch).permutation(count)
        else:
            order = numpy.arange(count)
        fetch_batch = getattr(self.dataset, "__getitems__", None)
        for number in range(start_batch, len(self)):
            indices = order[number * self.batch_size : (number + 1) * self.batch_size]
            if fetch_batch is not None:
                batch = fetch_batch(indices)
            else:
                indices = indices.tolist()
                batch = _collate([self.dataset[index] for index in indices], indices)
            if self.transform is not None:
                batch = self.transform(batch, self._generator(epoch, number))
            yield self._to_tensors(batch)

    def _generator(self, epoch: int, batch: int | None = None) -> numpy.random.Generator:
        """The Generator of an epoch's order (batch None) or of one batch's transform."""
        key = (epoch, 0) if batch is None else (epoch, 1, batch)
        return numpy.random.default_rng(numpy.random.SeedSequence(self.seed, spawn_key=key))

    def _to_tensors(self, batch: Any) -> Any:
        """The batch with its arrays made Tensors (on `device`), its structure and str kept."""
        if isinstance(batch, (str, bytes)):
            return batch
        if isinstance(batch, Mapping):
            return {key: self._to_tensors(value) for key, value in batch.items()}
        if _is_namedtuple(batch):
            return type(batch)(*(self._to_tensors(value) for value in batch))
        if isinstance(batch, list):
            return [self._to_tensors(value) for value in batch]
        if isinstance(batch, tuple):
            return tuple(self._to_tensors(value) for value in batch)
        if self.device is not None:
            batch = backend.asarray(batch, device=self.device)
        return Tensor(batch)


def _as_array(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.data
    if backend.is_array(value):
        return value
    return backend.asarray(value, dtype=backend.default_dtype_for(value), device="cpu")


def _collate(samples: list[Any], indices: list[int], path: tuple[Any, ...] = ()) -> Any:
    """Combine samples field by field, as PyTorch's default_collate does.

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
            key: _collate([sample[key] for sample in samples], indices, (*path, key))
            for key in first
        }
    _check_lengths(samples, indices, path)
    names = first._fields if _is_namedtuple(first) else range(len(first))
    fields = [
        _collate(list(column), indices, (*path, name)) for name, column in zip(names, zip(*samples))
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
