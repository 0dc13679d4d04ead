"""minigrad's CPU threads: how many, how a large op's batch is cut into parts, and the pool
that runs the parts at once (NumPy releases the GIL inside its loops and BLAS calls).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

_BLAS_PREFIXES = ("scipy_openblas_", "openblas_")  # NumPy's bundled OpenBLAS, a system one
_BLAS_SUFFIXES = ("64_", "")


def _openblas_functions(verb: str) -> list:
    """`{prefix}{verb}_num_threads{suffix}` from every OpenBLAS loaded in this process (found
    through /proc/self/maps; an empty list elsewhere or for other BLAS libraries)."""
    import ctypes
    import re

    try:
        with open("/proc/self/maps") as maps:
            paths = set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read()))
    except OSError:
        return []
    functions = []
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for prefix in _BLAS_PREFIXES:
            for suffix in _BLAS_SUFFIXES:
                function = getattr(library, f"{prefix}{verb}_num_threads{suffix}", None)
                if function is not None:
                    functions.append(function)
                    break
            else:
                continue
            break
    return functions


_num_threads = 1  # minigrad's own: the parts its large CPU ops are split into
_executor = None
PARALLEL_MIN_WORK = 1 << 18  # below this much work a hand-off to another thread does not pay


def set_num_threads(count: int) -> bool:
    """CPU threads for minigrad's ops, like torch.set_num_threads (default 1).

    With count > 1 the large ops (convolution, max-pooling, ReLU, Linear's products, and batch
    norm, which splits its channels) split their work along the batch into `count` parts that
    run at once on minigrad's thread pool; NumPy releases the GIL inside its array loops and
    BLAS calls. OpenBLAS is set to one thread in both cases: its idle threads spin-wait for
    about 100 ms after every product, holding the cores that minigrad's threads need, and one
    thread is faster for small products.
    Until this is called, ops are not split and OpenBLAS keeps its own thread count.
    Returns False when no OpenBLAS was found (its threads untouched)."""
    global _num_threads, _executor
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads: need a positive int, got {count!r}")
    if count != _num_threads and _executor is not None:
        _executor.shutdown()
        _executor = None
    _num_threads = count
    functions = _openblas_functions("set")
    for function in functions:
        function(1)
    return bool(functions)


def get_num_threads() -> int:
    """The thread count set by set_num_threads (1 until it is called)."""
    return _num_threads


def blas_num_threads() -> int | None:
    """OpenBLAS's own thread count, or None when no OpenBLAS is loaded."""
    functions = _openblas_functions("get")
    return int(functions[0]()) if functions else None


def parallel_parts(like: Any, work: int | None = None, axis: int = 0) -> list:
    """How to split an op on arrays like `like` along one axis (by default the first, the
    batch): one contiguous slice per thread when that pays (a CPU array, set_num_threads > 1,
    an item per thread and at least PARALLEL_MIN_WORK elements of `work`, by default
    like.size), else [Ellipsis], which indexes the whole array (0-d ones too). CuPy arrays are
    never split: the GPU runs each op on all its cores already."""
    if _num_threads == 1:  # the common case first: it costs small ops next to nothing
        return [Ellipsis]
    length = like.shape[axis] if like.ndim else 1
    parts = min(_num_threads, length)
    work = like.size if work is None else work
    if parts < 2 or work < PARALLEL_MIN_WORK or not isinstance(like, numpy.ndarray):
        return [Ellipsis]
    bounds = [length * k // parts for k in range(parts + 1)]
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]


def parallel_map(function: Any, parts: list) -> list:
    """[function(part) for part in parts], run at once when there are several parts: the
    first on the calling thread, the others on minigrad's thread pool. Each part writes its
    own slice of the outputs. An exception in any part is raised here, after all have ended."""
    global _executor
    if len(parts) == 1:
        return [function(parts[0])]
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="minigrad")
    futures = [_executor.submit(function, part) for part in parts[1:]]
    try:
        first = function(parts[0])
    finally:
        others = [future.exception() for future in futures]  # waits for every part
    for error in others:
        if error is not None:
            raise error
    return [first] + [future.result() for future in futures]


def over_parts(function: Callable, arrays: tuple, axis: int = 0, work: int | None = None):
    """[function(*arrays_part) for each part]: the arrays cut along `axis` into the parts of
    parallel_parts(arrays[0], work, axis) and run at once over minigrad's threads, or called
    whole when there is one part. Entries may be None (passed as None) or tuples of arrays
    (each cut). This is how a splitting op runs: `function` is its per-part body, which writes
    its own slice of the outputs and may return partial results for the caller to combine."""
    parts = parallel_parts(arrays[0], work, axis)
    if len(parts) == 1:
        return [function(*arrays)]
    lead = (slice(None),) * axis

    def run(part):
        return function(*(_cut(value, lead + (part,)) for value in arrays))

    return parallel_map(run, parts)


def _cut(value: Any, key: tuple) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(_cut(item, key) for item in value)
    return value[key]


def parallel_matmul(a: Any, b: Any) -> Any:
    """a @ b for 2-d arrays, a's rows split over minigrad's threads (each part one BLAS call
    into its own rows of the result)."""
    if _num_threads == 1:
        return a @ b
    parts = parallel_parts(a, a.shape[0] * a.shape[1] * b.shape[1])
    if len(parts) == 1:
        return a @ b
    out = numpy.empty((a.shape[0], b.shape[1]), dtype=numpy.result_type(a, b))
    parallel_map(lambda part: numpy.matmul(a[part], b, out=out[part]), parts)
    return out
