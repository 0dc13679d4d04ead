"""Datasets: the base class, TensorDataset (rows of arrays), Subset, ConcatDataset and
random_split, under PyTorch's names.

A dataset may define ``__getitems__(indices) -> batch``: the samples at an integer array of
indices already collated (one array per field), fetched with one array index per field. The
DataLoader then calls it once per batch instead of reading and stacking sample by sample.

Host-side module: it imports numpy for index arrays and permutations.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy

from minigrad import backend
from minigrad.tensor import Tensor
from minigrad.utils.data.collate import collate
from minigrad.utils.data.generator import numpy_generator


class Dataset:
    """A sized collection of samples: subclasses define ``__getitem__(index)`` and ``__len__``,
    and may define ``__getitems__`` (see the module docstring). ``a + b`` concatenates."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


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

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The inputs as Tensors sharing the stored arrays (PyTorch's attribute)."""
        return tuple(Tensor(array) for array in self.arrays)

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
            with backend.on_device(device):
                batch.append(array[on_device[device]])
        return tuple(batch)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: ``subset[i]`` is
    ``dataset[indices[i]]``. Batches go through the dataset's ``__getitems__`` when it has one
    (one array index per batch), otherwise sample by sample."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    @property
    def indices(self) -> Sequence[int]:
        return self._indices

    @indices.setter
    def indices(self, indices: Sequence[int]) -> None:
        self._indices = indices
        self._index_array = numpy.asarray(indices, dtype=numpy.int64).reshape(-1)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[position] for position in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: Any) -> Any:
        chosen = self._index_array[indices]
        fetch_batch = getattr(self.dataset, "__getitems__", None)
        if fetch_batch is not None:
            return fetch_batch(chosen)
        chosen = chosen.tolist()
        return collate([self.dataset[index] for index in chosen], chosen)

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets one after another; ``cumulative_sizes[k]`` is the
    length of the first k + 1 together. Read sample by sample (as PyTorch's is)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(part) for part in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        part = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[part - 1] if part > 0 else 0
        return self.datasets[part][index - start]


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: Any = None
) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    `lengths` are sizes that sum to len(dataset), or fractions that sum to 1: each split then
    gets floor(fraction * len(dataset)) samples and the remainder is dealt out one by one,
    round-robin from the first split (PyTorch's rule). The order is one permutation drawn from
    `generator` (an int seed, a numpy Generator, or an object with initial_seed(); None:
    minigrad's CPU generator, so minigrad.manual_seed reproduces it).
    """
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_of_fractions(lengths, total)
    if sum(lengths) != total:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
            f"dataset ({total})!"
        )
    order = numpy_generator(generator).permutation(total).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length : end]) for end, length in zip(ends, lengths)]


def _lengths_of_fractions(fractions: Sequence[float], total: int) -> list[int]:
    lengths = []
    for position, fraction in enumerate(fractions):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {position} is not between 0 and 1")
        lengths.append(math.floor(total * fraction))
    for turn in range(total - sum(lengths)):
        lengths[turn % len(lengths)] += 1
    for position, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"Length of split at index {position} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return lengths


def _as_array(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.data
    if backend.is_array(value):
        return value
    return backend.asarray(value, dtype=backend.default_dtype_for(value), device="cpu")
