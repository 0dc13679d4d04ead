"""The DataLoader: whole batches by array indexing, seeded shuffling, PyTorch's default
collation of structured samples, and one move to the device per batch.

Host-side module: it imports numpy for the index orders and their random generators.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy

from minigrad import backend
from minigrad.utils.data.collate import collate, to_tensors
from minigrad.utils.data.generator import epoch_generator, seed_of


class DataLoader:
    """Iterate over a dataset in batches; each ``iter(loader)`` is one epoch.

    PyTorch's arguments, with these meanings here:

    - `batch_size`, `drop_last`, `shuffle`, `sampler` (any iterable of indices with a
      ``__len__``, e.g. a minigrad.utils.data Sampler; read once per epoch) and
      `batch_sampler` (an iterable of index lists) choose the batches as in PyTorch.
      ``batch_size=None`` turns batching off: each sample comes alone, its arrays made
      Tensors, nothing stacked.
    - Datasets with ``__getitems__`` (TensorDataset, Subset, minigrad.vision's data sets) are
      indexed once per batch. Others are read sample by sample and collated as
      default_collate does: arrays, Tensors and NumPy scalars stacked (dtypes kept), Python
      numbers made a 1-d Tensor (int -> int64, float -> float64, bool -> bool), str fields a
      list of str; dicts, tuples, lists and namedtuples keep their structure.
    - `collate_fn(samples) -> batch` replaces that collation; the loader then reads the
      samples one by one (``dataset[i]``), never through ``__getitems__``, whose batches come
      collated already. Arrays in what it returns are made Tensors, other leaves kept.
    - Shuffling is reproducible: the order of epoch k is a function of (seed, k) only.
      `generator` gives the seed: an int, an object with ``initial_seed()`` (torch.Generator-
      like, read once here) or a numpy Generator (one seed drawn from it). With neither
      `generator` nor `seed` and shuffle or transform on, the seed is drawn once from
      minigrad's CPU generator, so ``minigrad.manual_seed`` makes the run reproducible too.
    - `num_workers`, `prefetch_factor`, `persistent_workers`, `timeout`, `worker_init_fn`,
      `multiprocessing_context` and `in_order` are checked as PyTorch checks them and
      otherwise ignored: batches are always made in this process, in order (the batch path
      costs far less than a training step, so worker threads would not pay, and a per-sample
      Python ``__getitem__`` holds the GIL). `worker_init_fn` is never called, as with
      ``num_workers=0``. `pin_memory` and `pin_memory_device` are ignored too: a batch goes to
      the device in one copy from pageable memory.

    minigrad's additions, keyword-only:

    - `seed`: the shuffling seed as a plain int (the same as ``generator=seed``).
    - `device`: each batch array is moved there once; otherwise it stays where the dataset
      keeps it.
    - `transform(batch, rng) -> batch` is applied to each batch as the dataset (or
      collate_fn) made it, before its arrays become Tensors and move to the device (batch
      augmentation); `rng` is a numpy Generator that is a function of (seed, epoch, batch
      number) only, independent of the one that shuffles.
    - Epochs: the loader counts them itself (``loader.epoch`` is the one the next ``iter()``
      uses); ``set_epoch(k, start_batch=b)`` makes the next ``iter()`` epoch k from its batch
      b on, to resume an interrupted run without replaying the batches it already trained on.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable[int] | None = None,
        batch_sampler: Iterable[Sequence[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
        device: str | None = None,
        transform: Callable[[Any, numpy.random.Generator], Any] | None = None,
    ) -> None:
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if seed is not None and generator is not None:
            raise ValueError("give the shuffling seed as seed= or as generator=, not both")
        if generator is not None:
            seed = seed_of(generator)
        elif seed is None and (shuffle or transform is not None):
            seed = seed_of(None)
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator
        self.seed = seed
        self.device = None if device is None else backend.normalize_device(device)
        self.transform = transform
        self.num_workers = num_workers
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
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
        """The number of batches per epoch (of samples, with ``batch_size=None``)."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        count = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.batch_size is None:
            return count
        if self.drop_last:
            return count // self.batch_size
        return -(-count // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        epoch, start_batch = self.epoch, self.start_batch
        self.epoch, self.start_batch = epoch + 1, 0
        return self._batches(epoch, start_batch)

    def _batches(self, epoch: int, start_batch: int) -> Iterator[Any]:
        selections = itertools.islice(self._selections(epoch), start_batch, None)
        for number, selection in enumerate(selections, start_batch):
            batch = self._fetch(selection)
            if self.transform is not None:
                batch = self.transform(batch, self._generator(epoch, number))
            yield to_tensors(batch, self.device)

    def _selections(self, epoch: int) -> Iterator[Any]:
        """What each batch of an epoch reads: an int64 index array, or one index when
        batching is off."""
        if self.batch_sampler is not None:
            return (numpy.asarray(batch, dtype=numpy.int64) for batch in self.batch_sampler)
        if self.sampler is not None:
            order = numpy.fromiter(self.sampler, dtype=numpy.int64)
        elif self.shuffle:
            order = self._generator(epoch).permutation(len(self.dataset))
        else:
            order = numpy.arange(len(self.dataset))
        if self.batch_size is None:
            return iter(order.tolist())
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        return (order[start : start + self.batch_size] for start in starts)

    def _fetch(self, selection: Any) -> Any:
        """The batch (or, with batching off, the sample) at `selection`, collated."""
        if self.batch_size is None and self.batch_sampler is None:
            sample = self.dataset[selection]
            return sample if self.collate_fn is None else self.collate_fn(sample)
        fetch_batch = getattr(self.dataset, "__getitems__", None)
        if fetch_batch is not None and self.collate_fn is None:
            return fetch_batch(selection)
        indices = selection.tolist()
        samples = [self.dataset[index] for index in indices]
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        return collate(samples, indices)

    def _generator(self, epoch: int, batch: int | None = None) -> numpy.random.Generator:
        """The Generator of an epoch's order (batch None) or of one batch's transform."""
        return epoch_generator(self.seed, epoch, batch)


def _check_worker_options(
    num_workers: int, timeout: float, prefetch_factor: int | None, persistent_workers: bool
) -> None:
    """PyTorch's checks of the worker options, which are otherwise ignored here."""
    if num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            "multiprocessing."
        )
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing. let "
            "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
