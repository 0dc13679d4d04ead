"""Random numbers: one generator per device, all seeded by manual_seed; and Generator, a
seeded stream of its own for the data utilities (PyTorch's torch.Generator)."""

from __future__ import annotations

import secrets
from typing import Any

import numpy

from minigrad.backend.arrays import ensure_array, get_cupy, normalize_device, on_device

_generators: dict[str, Any] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed the generators of every device (existing ones are re-created)."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def rng(device: str) -> Any:
    """The random generator of a device ("cpu", "cuda", "cuda:N"): numpy.random.Generator or
    cupy's Generator."""
    device = normalize_device(device)
    generator = _generators.get(device)
    if generator is None:
        if device == "cpu":
            generator = numpy.random.default_rng(_seed)
        else:
            with on_device(device):
                generator = get_cupy().random.default_rng(_seed)
        _generators[device] = generator
    return generator


def random_uniform(shape: tuple, dtype: Any, device: str, low: float = 0.0, high: float = 1.0):
    """Uniform samples in [low, high) of `shape`, made on `device`."""
    with on_device(device):  # a GPU's generator draws on its own device only
        sample = rng(device).random(shape, dtype=dtype)
        if low != 0.0 or high != 1.0:
            sample = sample * (high - low) + low
        return ensure_array(sample.astype(dtype, copy=False))


def random_normal(shape: tuple, dtype: Any, device: str, mean: float = 0.0, std: float = 1.0):
    """Normal samples N(mean, std^2) of `shape`, made on `device`."""
    with on_device(device):
        sample = rng(device).standard_normal(shape, dtype=dtype)
        if mean != 0.0 or std != 1.0:
            sample = sample * std + mean
        return ensure_array(sample.astype(dtype, copy=False))


class Generator:
    """PyTorch's ``torch.Generator`` on the CPU, for the ``generator=`` of the data utilities
    (random_split, the samplers, DataLoader): a stream seeded on its own, apart from
    manual_seed's, whose state advances with each use. ``manual_seed(seed)`` restarts it and
    returns it, so ``Generator().manual_seed(0)`` works as in PyTorch; a new one starts from
    PyTorch's default seed, 67280421310721."""

    DEFAULT_SEED = 67280421310721

    def __init__(self, device: Any = "cpu") -> None:
        if normalize_device(device) != "cpu":
            raise ValueError(
                f"minigrad.Generator: only CPU generators exist (for the data utilities), got "
                f"device {device!r}; the random tensors of a GPU draw from minigrad.manual_seed's"
            )
        self.device = "cpu"
        self.manual_seed(self.DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"Generator.manual_seed: the seed must be >= 0, got {seed}")
        self._initial_seed = seed
        self.numpy = numpy.random.default_rng(seed)
        return self

    def initial_seed(self) -> int:
        return self._initial_seed

    def seed(self) -> int:
        """Restart from a non-deterministic seed, and return it."""
        seed = secrets.randbits(63)
        self.manual_seed(seed)
        return seed
