"""The strict CuPy stand-in that the GPU-marked tests run on without a GPU (MINIGRAD_FAKE_GPU=1).

Arrays are NumPy arrays tagged with a device; only CuPy's own names exist (cupy_names.py, read
from CuPy's sources); host arrays never enter device ops; every read to the host, copy from
it and device sync is logged with its caller (see cupy._fake for the tests' side).
"""

import numpy as _numpy
from cupy_names import VERSION as __version__  # noqa: F401 (CuPy's attribute)

from cupy import _array, _devices, _fake, _namespace, _ufunc  # noqa: F401 (_fake: tests')

ndarray = _array.ndarray
ufunc = _ufunc.ufunc


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if subok:
        raise NotImplementedError
    return _array.to_device(obj, dtype, copy, order, ndmin, blocking, "cupy.array")


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    return _array.to_device(a, dtype, copy, order, 0, blocking, "cupy.asarray")


def asanyarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    return _array.to_device(a, dtype, copy, order, 0, blocking, "cupy.asanyarray")


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out, blocking=blocking)
    host = _numpy.asarray(a, order=order)
    if out is None:
        return host
    out[...] = host
    return out


def get_array_module(*args):
    import sys

    if any(isinstance(arg, ndarray) for arg in args):
        return sys.modules[__name__]
    return _numpy


def take_along_axis(a, indices, axis):
    """CuPy's take_along_axis, whose out-of-bounds indices wrap around (NumPy's raise)."""

    def wrapped(host, host_indices, axis):
        size = host.size if axis is None else host.shape[axis]
        return _numpy.take_along_axis(host, host_indices % size if size else host_indices, axis)

    return _array.run("cupy.take_along_axis", wrapped, (a, indices, axis), {})


def is_available():
    return _devices.count() > 0


def get_default_memory_pool():
    return cuda._default_memory_pool


def get_default_pinned_memory_pool():
    return cuda._default_pinned_memory_pool


from cupy import cuda, fft, lib, linalg, random  # noqa: E402, F401 (after the names they use)

_namespace.install(globals(), "cupy")
