"""What the ``generator=`` arguments of the data utilities accept, reduced to a seed or a
numpy Generator: an int seed, a numpy.random.Generator, a minigrad.Generator (drawn from, so
its state advances as a torch.Generator's does), or any other object with ``initial_seed()``.
None means minigrad's CPU generator, so ``minigrad.manual_seed`` makes the result
reproducible.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy

from minigrad import backend

SEED_BOUND = 2**63  # seeds drawn from a generator lie in [0, SEED_BOUND)


def seed_of(generator: Any) -> int:
    """The seed `generator` stands for: the int itself, ``generator.initial_seed()``, or a
    number drawn from a numpy Generator (None: from minigrad's CPU generator)."""
    if generator is None:
        return int(backend.rng("cpu").integers(SEED_BOUND))
    if isinstance(generator, backend.Generator):
        generator = generator.numpy
    if isinstance(generator, numpy.random.Generator):
        return int(generator.integers(SEED_BOUND))
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        seed = int(generator)
    elif callable(getattr(generator, "initial_seed", None)):
        seed = int(generator.initial_seed())
    else:
        raise TypeError(
            f"generator must be an int seed, a numpy.random.Generator or an object with "
            f"initial_seed() (like torch.Generator), got {type(generator).__name__}"
        )
    if seed < 0:
        raise ValueError(f"a generator's seed must be a non-negative integer, got {seed}")
    return seed


def numpy_generator(generator: Any) -> numpy.random.Generator:
    """A numpy Generator for `generator`: a numpy Generator itself (its state advances with
    each use), else a new one seeded with ``seed_of(generator)``."""
    if isinstance(generator, backend.Generator):
        return generator.numpy
    if isinstance(generator, numpy.random.Generator):
        return generator
    return numpy.random.default_rng(seed_of(generator))


def epoch_generator(seed: int, epoch: int, batch: int | None = None) -> numpy.random.Generator:
    """The numpy Generator of epoch `epoch`'s order (batch None) or of one batch's transform,
    for the loader's `seed`: DataLoader and DistributedSampler draw their orders from it, so
    one replica visits a dataset in exactly a shuffled loader's order."""
    key = (epoch, 0) if batch is None else (epoch, 1, batch)
    return numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=key))
