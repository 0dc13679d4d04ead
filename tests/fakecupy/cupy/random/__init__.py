"""The stand-in's cupy.random: Generator and default_rng (NumPy's PCG64 behind CuPy's methods;
a generator draws on the device it was made on, which must be current), and the legacy
functions through NumPy's."""

import numpy as _numpy
from cupy_names import CLASSES as _CLASSES

from cupy import _array, _devices, _namespace


class XORWOW:
    """CuPy's default bit generator, here NumPy's PCG64 with the same seed (other numbers than
    a GPU draws, the same for the same seed), its state on the current device."""

    def __init__(self, seed=None, *, size=-1):
        self._numpy = _numpy.random.PCG64(seed)
        self._device = _devices.current()


def default_rng(seed=None):
    if isinstance(seed, Generator):
        return seed
    return Generator(seed if isinstance(seed, XORWOW) else XORWOW(seed))


class Generator:
    """cupy.random.Generator: CuPy's methods, drawn by a NumPy Generator on the host and
    stored as a device array (no transfer: a GPU would draw them in place)."""

    def __init__(self, bit_generator):
        if not isinstance(bit_generator, XORWOW):
            raise TypeError("bit_generator must be a cupy.random.BitGenerator")
        self.bit_generator = bit_generator
        self._numpy = _numpy.random.Generator(bit_generator._numpy)


_CAST_AFTER = {"uniform", "beta"}  # CuPy takes dtype=, NumPy's method does not


def _generator_method(name: str, params: tuple):
    api = f"cupy.random.Generator.{name}"

    def method(self, *args, **kwargs):
        _array.check_arguments(api, params, args, kwargs)
        if _devices.current() != self.bit_generator._device:
            raise RuntimeError("This Generator state is allocated in a different device")
        dtype = kwargs.pop("dtype", None) if name in _CAST_AFTER else None
        sample = _array.run(api, getattr(self._numpy, name), args, kwargs)
        return sample if dtype is None else sample.astype(dtype, copy=False)

    method.__name__ = method.__qualname__ = name
    return method


for _name, _params in _CLASSES["random.Generator"].items():
    if _params is not None and not _name.startswith("__"):
        setattr(Generator, _name, _generator_method(_name, _params))

_namespace.install(globals(), "cupy.random")
