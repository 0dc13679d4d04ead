"""The array backend: the one module that knows about NumPy and CuPy.

Everything else asks this module for the array module of an array (`array_module`), for
arrays on a device (`asarray`, `to_device`), for random numbers (`rng`) and for scatter-add.
CuPy is imported lazily, the first time a "cuda" device is asked for.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import numpy

float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
uint8 = numpy.dtype("uint8")
bool_ = numpy.dtype("bool")

HostArray = numpy.ndarray  # the array type of device "cpu"

_cupy: ModuleType | None = None


class DeviceError(RuntimeError):
    """A device was asked for that cannot be used here (no CuPy, no GPU, bad name)."""


def get_cupy() -> ModuleType:
    """Import CuPy on first use; raise one clear error when it or a GPU is missing."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError as exc:
        raise DeviceError(
            "device 'cuda' needs CuPy, which is not installed. Install the wheel matching your "
            "CUDA version, e.g. `pip install cupy-cuda12x` (CUDA 12) or `pip install cupy-cuda13x` "
            "(CUDA 13), or use device='cpu'."
        ) from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise DeviceError(
            f"device 'cuda': CuPy is installed but no CUDA GPU is usable ({exc}). "
            "Check `nvidia-smi`, or use device='cpu'."
        ) from exc
    if count == 0:
        raise DeviceError("device 'cuda': CuPy is installed but no CUDA GPU is visible.")
    _cupy = cupy
    return cupy


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        get_cupy()
    except DeviceError:
        return False
    return True


def normalize_device(device: str | None) -> str:
    """Turn None, "cpu", "cuda" or "cuda:N" into "cpu" or "cuda:N"."""
    if device is None:
        return default_device()
    if not isinstance(device, str):
        device = str(device)
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        return "cuda:0"
    if device.startswith("cuda:") and device[5:].isdigit():
        return device
    raise DeviceError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")


def default_device() -> str:
    """The device new tensors go to: $MINIGRAD_DEVICE, else "cpu"."""
    return normalize_device(os.environ.get("MINIGRAD_DEVICE", "cpu"))


def device_module(device: str) -> ModuleType:
    """The array module (numpy or cupy) for a normalized device name."""
    return numpy if device == "cpu" else get_cupy()


def array_module(array: Any) -> ModuleType:
    """numpy for host arrays, cupy for device arrays."""
    if isinstance(array, numpy.ndarray) or _cupy is None:
        return numpy
    return _cupy.get_array_module(array)


def device_of(array: Any) -> str:
    """ "cpu" for a NumPy array, "cuda:N" for a CuPy array on GPU N."""
    if isinstance(array, numpy.ndarray) or _cupy is None:
        return "cpu"
    if isinstance(array, _cupy.ndarray):
        return f"cuda:{array.device.id}"
    return "cpu"


def is_array(value: Any) -> bool:
    """True for a NumPy or CuPy ndarray."""
    if isinstance(value, numpy.ndarray):
        return True
    return _cupy is not None and isinstance(value, _cupy.ndarray)


def ensure_array(value: Any) -> Any:
    """Turn the NumPy scalars that ufuncs return for 0-d inputs back into 0-d arrays."""
    if isinstance(value, numpy.generic):
        return numpy.asarray(value)
    return value


def asarray(data: Any, dtype: Any = None, device: str | None = None) -> Any:
    """An array on `device` from any array-like (list, scalar, NumPy or CuPy array)."""
    device = normalize_device(device)
    if device == "cpu":
        if _cupy is not None and isinstance(data, _cupy.ndarray):
            data = data.get()
        return numpy.asarray(data, dtype=dtype)
    cupy = get_cupy()
    with cupy.cuda.Device(int(device[5:])):
        return cupy.asarray(data, dtype=dtype)


def to_device(array: Any, device: str) -> Any:
    """The same values on `device` (the array itself when it is already there)."""
    if device_of(array) == device:
        return array
    return asarray(array, device=device)


def to_numpy(array: Any) -> numpy.ndarray:
    """A host NumPy copy of a backend array."""
    if isinstance(array, numpy.ndarray):
        return array.copy()
    return array.get()


def whole_owner(array: Any) -> Any:
    """The array that owns `array`'s memory, when `array` is it or a contiguous writable view
    of all of it (a reshape); None otherwise (a slice, a broadcast, memory from elsewhere)."""
    flags = array.flags
    if not flags.c_contiguous or not getattr(flags, "writeable", True):  # CuPy: always writable
        return None
    owner = array.base
    if owner is None:
        return array
    if not is_array(owner) or owner.base is not None or owner.size != array.size:
        return None
    return owner


def may_share_memory(a: Any, b: Any) -> bool:
    """Whether two arrays of one device may overlap in memory (a cheap bounds test)."""
    return bool(array_module(a).may_share_memory(a, b))


def quiet_float_errors() -> Any:
    """A context in which NumPy does not warn of division by zero or invalid values (CuPy never
    does): for formulas whose inf and nan entries are then masked away."""
    return numpy.errstate(divide="ignore", invalid="ignore")


def synchronize(device: str) -> None:
    """Wait until every kernel queued on `device` has finished (a no-op on the CPU); for timing."""
    if device != "cpu":
        cupy = get_cupy()
        with cupy.cuda.Device(int(device[5:])):
            cupy.cuda.get_current_stream().synchronize()


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """target[index] += values, accumulating where `index` repeats positions."""
    if isinstance(target, numpy.ndarray):
        numpy.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def is_floating(dtype: Any) -> bool:
    """True for float16/32/64."""
    return numpy.dtype(dtype).kind == "f"


# PyTorch's type promotion: the result's category (bool < integer < floating) is the highest
# among the operands; its dtype comes from the operands of that category in the first of three
# tiers that has one: arrays with dims, then 0-d arrays, then Python scalars (which give the
# default dtype of their category). So int64 * 2.5 and int64 + a float32 0-d array are float32.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def result_dtype(*operands: Any) -> Any:
    """The dtype PyTorch gives the result of an elementwise op on these operands: backend
    arrays (their dtype and whether they are 0-d count) and Python scalars."""
    tiers: tuple[list, list, list] = ([], [], [])
    for value in operands:
        if isinstance(value, bool):
            tiers[2].append(bool_)
        elif isinstance(value, int):
            tiers[2].append(int64)
        elif isinstance(value, float):
            tiers[2].append(float32)
        else:
            tiers[0 if value.ndim else 1].append(numpy.dtype(value.dtype))
    category = max(_CATEGORY[dtype.kind] for tier in tiers for dtype in tier)
    leading = next(
        [dtype for dtype in tier if _CATEGORY[dtype.kind] == category]
        for tier in tiers
        if any(_CATEGORY[dtype.kind] == category for dtype in tier)
    )
    return numpy.result_type(*leading)


def can_cast(source: Any, target: Any) -> bool:
    """Whether an in-place op may store a `source` result in a `target` tensor: within a kind
    or up one (int into float), never float into int or int into bool, as in PyTorch."""
    return bool(numpy.can_cast(source, target, casting="same_kind"))


def default_dtype_for(data: Any) -> Any:
    """PyTorch's choice for Python data: float32 for floats, int64 for ints, bool for bools.

    Arrays keep their own dtype, except float64 NumPy arrays which also keep theirs (as
    torch.tensor does)."""
    if is_array(data) or isinstance(data, numpy.generic):
        return None
    probe = numpy.asarray(data)
    if probe.dtype.kind == "f":
        return float32
    if probe.dtype.kind in "iu":
        return int64
    return None


# --- CPU threads ------------------------------------------------------------------------

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
PARALLEL_MIN_WORK = 1 << 18  # below this much work a thread hand-off (~20 µs) does not pay


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


# --- host memory ------------------------------------------------------------------------

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # the largest value glibc accepts on 64-bit


def retain_freed_host_memory() -> bool:
    """Make glibc's malloc serve arrays of up to 32 MiB from its heap and keep freed memory
    for reuse, instead of mapping fresh pages for every large array and returning them to the
    OS on free. Each fresh page costs a page fault: a training step that allocates the same
    arrays every time spends up to 20% of its time there (the CNN: 88 -> 69 ms a step).

    A process-wide setting, so minigrad never makes it on import: train.py and the benchmarks
    call this; your own scripts may. Returns False where malloc is not glibc's."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 8 * _MMAP_THRESHOLD_MAX)
    )


# --- random numbers ---------------------------------------------------------------------

_generators: dict[str, Any] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed the generators of every device (existing ones are re-created)."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def rng(device: str) -> Any:
    """The random generator of a device: numpy.random.Generator or cupy's Generator."""
    generator = _generators.get(device)
    if generator is None:
        if device == "cpu":
            generator = numpy.random.default_rng(_seed)
        else:
            cupy = get_cupy()
            with cupy.cuda.Device(int(device[5:])):
                generator = cupy.random.default_rng(_seed)
        _generators[device] = generator
    return generator


def random_uniform(shape: tuple, dtype: Any, device: str, low: float = 0.0, high: float = 1.0):
    """Uniform samples in [low, high) of `shape`, made on `device`."""
    sample = rng(device).random(shape, dtype=dtype)
    if low != 0.0 or high != 1.0:
        sample = sample * (high - low) + low
    return ensure_array(sample.astype(dtype, copy=False))


def random_normal(shape: tuple, dtype: Any, device: str, mean: float = 0.0, std: float = 1.0):
    """Normal samples N(mean, std^2) of `shape`, made on `device`."""
    sample = rng(device).standard_normal(shape, dtype=dtype)
    if mean != 0.0 or std != 1.0:
        sample = sample * std + mean
    return ensure_array(sample.astype(dtype, copy=False))
