"""DistributedSampler: each rank's share of a dataset's indices, as
torch.utils.data.distributed.DistributedSampler.

Host-side module: it imports numpy for the random permutations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy

from minigrad.utils.data.generator import epoch_generator
from minigrad.utils.data.sampler import Sampler


class DistributedSampler(Sampler):
    """Rank `rank`'s indices of `dataset` among `num_replicas` ranks (default: the default
    process group's rank and world size).

    Every rank draws the same order of all the indices (seeded by `seed` and the epoch, which
    `set_epoch` sets before each epoch) and keeps every num_replicas-th of it from position
    rank on: the ranks' shares are disjoint and together cover the order. So the i-th batch of
    b indices of every rank together hold the order's i-th block of b * num_replicas indices:
    the global batch that one process with batch size b * num_replicas would draw.

    Uneven sizes, as in PyTorch: every rank gets num_samples = ceil(len / num_replicas)
    indices, the order padded with its own first indices (repeated samples) up to
    num_samples * num_replicas; with drop_last, num_samples = floor(len / num_replicas) and the
    order's tail is dropped instead.

    The order of epoch k is the permutation of generator.epoch_generator(seed, k), the one
    DataLoader(shuffle=True, seed=seed) draws for its epoch k: one replica visits a
    dataset in exactly the order of a plain shuffled loader.
    """

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from minigrad.distributed import process_group

            num_replicas = process_group.get_world_size() if num_replicas is None else num_replicas
            rank = process_group.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0
        count = len(dataset)
        if drop_last:
            self.num_samples = count // num_replicas
        else:
            self.num_samples = math.ceil(count / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        count = len(self.dataset)
        if self.shuffle:
            order = epoch_generator(self.seed, self.epoch).permutation(count)
        else:
            order = numpy.arange(count)
        if self.total_size > count:  # padded with the order's own first indices, repeated
            order = numpy.resize(order, self.total_size)
        order = order[self.rank : self.total_size : self.num_replicas]
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order the next iteration draws (call it before each epoch, or
        every epoch has the same order)."""
        self.epoch = epoch
