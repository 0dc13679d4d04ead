"""Samplers: the orders in which a DataLoader visits a dataset's indices (PyTorch's
Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler and BatchSampler).

Host-side module: it imports numpy for the random permutations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy

from minigrad.utils.data.generator import numpy_generator


class Sampler:
    """An iterable over dataset indices; subclasses define ``__iter__`` and usually ``__len__``.

    ``DataLoader(sampler=...)`` takes any iterable of indices with a ``__len__``, and
    ``DataLoader(batch_sampler=...)`` any iterable of index lists.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """The indices 0, 1, ..., len(data_source) - 1 in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices: each iteration a new permutation (repeated to give
    `num_samples` indices), or with `replacement` `num_samples` independent uniform draws.

    `generator` (see minigrad.utils.data.generator) is made a numpy Generator once, so the
    orders of successive iterations follow from it; None draws a fresh seed from minigrad's
    CPU generator at each iteration.
    """

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        count = self.num_samples
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got {count!r}")
        self.generator = generator
        self._rng = None if generator is None else numpy_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        rng = self._rng if self._rng is not None else numpy_generator(None)
        count = len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, count, size=self.num_samples).tolist())
        rounds = -(-self.num_samples // count)
        orders = [rng.permutation(count) for _ in range(rounds)]
        return iter(numpy.concatenate(orders)[: self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one each iteration (generator: as for
    RandomSampler)."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator
        self._rng = None if generator is None else numpy_generator(generator)

    def __iter__(self) -> Iterator[int]:
        rng = self._rng if self._rng is not None else numpy_generator(None)
        return (self.indices[position] for position in rng.permutation(len(self.indices)))

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter unless
    `drop_last`)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
