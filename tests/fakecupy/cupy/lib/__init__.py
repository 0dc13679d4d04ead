"""The stand-in's cupy.lib: stride_tricks."""

from cupy import _namespace
from cupy.lib import stride_tricks  # noqa: F401 (cupy.lib.stride_tricks)

_namespace.install(globals(), "cupy.lib")
