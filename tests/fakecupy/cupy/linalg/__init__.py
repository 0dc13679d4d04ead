"""The stand-in's cupy.linalg: CuPy's names, run by numpy.linalg under CuPy's rules."""

from cupy import _namespace

_namespace.install(globals(), "cupy.linalg")
