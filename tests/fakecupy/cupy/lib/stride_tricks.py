"""The stand-in's cupy.lib.stride_tricks: as_strided, and sliding_window_view as CuPy 14 has
it, which copies window_shape to the device and reads each entry back to check its sign (one
write and len(window_shape) reads, each a sync), and takes window_shape only as a tuple."""

import numpy as _numpy

from cupy import _array, _devices, _namespace, _transfers


def as_strided(x, shape=None, strides=None):
    if not isinstance(x, _array.ndarray):
        raise TypeError(f"as_strided: expected a cupy.ndarray, got {type(x).__name__}")
    host = _numpy.lib.stride_tricks.as_strided(x._host, shape=shape, strides=strides)
    return _array.view(host, x)


def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    api = "cupy.lib.stride_tricks.sliding_window_view"
    if writeable:
        raise NotImplementedError("Writeable views are not supported.")
    if not isinstance(x, _array.ndarray):
        x = _array.to_device(x, None, False, "K", 0, False, api)
    shape_on_device = _numpy.array(window_shape)
    _transfers.note(
        "write",
        f"{api} (window_shape copied to the device)",
        _devices.current(),
        shape_on_device.nbytes,
    )
    for dim in shape_on_device.reshape(-1):  # CuPy's `if dim < 0` on each device entry
        _transfers.note("read", f"{api} (a window_shape entry read back)", _devices.current())
        if dim < 0:
            raise ValueError("`window_shape` cannot contain negative values")
    if axis is None:
        axis = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axis = (axis,)
    axis = tuple(ax % x.ndim for ax in axis)
    if len(window_shape) != len(axis):
        raise ValueError(
            f"Must provide matching length window_shape and axis; got {len(window_shape)} "
            f"window_shape elements and {len(axis)} axes elements."
        )
    trimmed = list(x.shape)
    for ax, dim in zip(axis, window_shape):
        if trimmed[ax] < dim:
            raise ValueError("window shape cannot be larger than input array shape")
        trimmed[ax] -= dim - 1
    strides = x.strides + tuple(x.strides[ax] for ax in axis)
    return as_strided(x, shape=tuple(trimmed) + window_shape, strides=strides)


_namespace.install(globals(), "cupy.lib.stride_tricks")
