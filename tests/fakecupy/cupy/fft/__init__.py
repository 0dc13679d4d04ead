"""The stand-in's cupy.fft: CuPy's names, run by numpy.fft under CuPy's rules."""

from cupy import _namespace

_namespace.install(globals(), "cupy.fft")
