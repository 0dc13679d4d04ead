"""The stand-in's cupyx: scatter_add, scatter_max and scatter_min (a[slices] op= value,
accumulating repeated indices), with CuPy's rules for host data in the indices and values."""

from cupy import _namespace, _ufunc


def scatter_add(a, slices, value):
    _ufunc.scatter(_ufunc.UFUNCS["add"], a, slices, value, "cupyx.scatter_add")


def scatter_max(a, slices, value):
    _ufunc.scatter(_ufunc.UFUNCS["maximum"], a, slices, value, "cupyx.scatter_max")


def scatter_min(a, slices, value):
    _ufunc.scatter(_ufunc.UFUNCS["minimum"], a, slices, value, "cupyx.scatter_min")


_namespace.install(globals(), "cupyx")
