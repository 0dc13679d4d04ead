"""Random numbers: one generator per device, all seeded by manual_seed."""

from __future__ import annotations

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
