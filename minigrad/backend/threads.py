"""minigrad's CPU threads: how many (by default every core the process may use), how a large
op's batch is cut into parts, the pool that runs the parts at once (NumPy releases the GIL
inside its loops and BLAS calls), and BLAS held to one thread meanwhile (threadpoolctl).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy
from threadpoolctl import threadpool_info, threadpool_limits

_ENVIRONMENT = "MINIGRAD_NUM_THREADS"
# Below this much work (elements an op passes over) a hand-off to another thread does not
# pay: waking a pool thread costs 100-200 us here, as long as a pass over 2^19-2^20 elements.
PARALLEL_MIN_WORK = 1 << 20
# A matrix product's multiply-adds per element of work: BLAS does about 30 of them in the time
# a pass over memory takes per element, so (60, 784) @ (784, 100), the paper's net's largest,
# stays whole (4.7M multiply-adds: 110 us whole, 180 us split) and the CNN's head splits.
MULTIPLY_ADDS_PER_ELEMENT = 32


def default_num_threads() -> int:
    """$MINIGRAD_NUM_THREADS when it is a positive integer, else the cores this process may run
    on (os.sched_getaffinity: a container's or taskset's limit, not the machine's count)."""
    value = os.environ.get(_ENVIRONMENT)
    if value is not None:
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
        warnings.warn(
            f"{_ENVIRONMENT}={value!r} is not a positive integer; using the default", stacklevel=2
        )
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


_num_threads = 1  # minigrad's own: the parts its large CPU ops are split into (set below)
_executor = None
_blas_limit = None  # threadpoolctl's limiter while minigrad holds the BLAS libraries to 1 thread


def set_num_threads(count: int) -> bool:
    """CPU threads for minigrad's ops, like torch.set_num_threads. The default, without a call,
    is default_num_threads(): $MINIGRAD_NUM_THREADS, else every core the process may use.

    With count > 1 the large ops (convolution, max-pooling, ReLU, Linear's products, and batch
    norm, which splits its channels) split their work along the batch into `count` parts that
    run at once on minigrad's thread pool; NumPy releases the GIL inside its array loops and
    BLAS calls. Small ops (under PARALLEL_MIN_WORK) stay whole: a hand-off costs more than
    they take. The BLAS libraries NumPy loaded (OpenBLAS) are held to one thread through
    threadpoolctl, whatever the count (as torch.set_num_threads sets its BLAS): minigrad's
    threads do the splitting, and OpenBLAS's idle threads spin-wait for a while after every
    product, holding the cores that minigrad's threads need. With one other single-threaded
    job on this 2-core machine their straggling made the paper's net 200-300x slower (142 ms
    a step against 0.6). Each call restores the counts BLAS had before minigrad held it, then
    holds it again, so that libraries loaded since and counts changed since are held too.
    Returns whether a BLAS library whose threads can be set was found."""
    global _num_threads, _executor
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads: need a positive int, got {count!r}")
    if count != _num_threads and _executor is not None:
        _executor.shutdown()
        _executor = None
    _num_threads = count
    _release_blas()
    _hold_blas()
    return bool(_blas_info())


def _hold_blas() -> None:
    """Hold every loaded BLAS library to one thread (a no-op while held)."""
    global _blas_limit
    if _blas_limit is None:
        _blas_limit = threadpool_limits(1, user_api="blas")


def _release_blas() -> None:
    """Give the BLAS libraries back the thread counts they had before _hold_blas() (the
    counts threadpoolctl recorded then)."""
    global _blas_limit
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None


def _blas_info() -> list[dict]:
    return [library for library in threadpool_info() if library["user_api"] == "blas"]


def get_num_threads() -> int:
    """minigrad's thread count: set_num_threads's, else default_num_threads()."""
    return _num_threads


def blas_num_threads() -> int | None:
    """The first BLAS library's own thread count, or None when none is loaded."""
    libraries = _blas_info()
    return libraries[0]["num_threads"] if libraries else None


def parallel_parts(like: Any, work: int | None = None, axis: int = 0) -> list:
    """How to split an op on arrays like `like` along one axis (by default the first, the
    batch): one contiguous slice per thread when that pays (a CPU array, set_num_threads > 1,
    an item per thread and at least PARALLEL_MIN_WORK elements of `work`, by default
    like.size), else [Ellipsis], which indexes the whole array (0-d ones too). CuPy arrays are
    never split: the GPU runs each op on all its cores already."""
    if _num_threads == 1 or (like.size if work is None else work) < PARALLEL_MIN_WORK:
        return [Ellipsis]  # the common cases first: they cost small ops next to nothing
    length = like.shape[axis] if like.ndim else 1
    parts = min(_num_threads, length)
    if parts < 2 or not isinstance(like, numpy.ndarray):
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
    multiply_adds = a.shape[0] * a.shape[1] * b.shape[1]
    parts = parallel_parts(a, -(-multiply_adds // MULTIPLY_ADDS_PER_ELEMENT))
    if len(parts) == 1:
        return a @ b
    out = numpy.empty((a.shape[0], b.shape[1]), dtype=numpy.result_type(a, b))
    parallel_map(lambda part: numpy.matmul(a[part], b, out=out[part]), parts)
    return out


set_num_threads(default_num_threads())  # fast by default: every core the process may use
