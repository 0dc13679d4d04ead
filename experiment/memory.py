"""Host memory: glibc's malloc tuned to keep freed memory for reuse. minigrad now does this
when it is imported (minigrad.backend.memory); the name stays here for train.py and the
benchmarks, which call it explicitly."""

from minigrad.backend.memory import retain_freed_host_memory

__all__ = ["retain_freed_host_memory"]
