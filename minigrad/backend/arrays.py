"""Arrays and devices: the array module of an array, arrays on a device and moves between
devices, dtypes and PyTorch's promotion rules, scatter-add; CuPy is imported lazily, the first
time a "cuda" device is asked for.
"""

from __future__ import annotations

import contextlib
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
    _check_cuda_works(cupy)
    _cupy = cupy
    return cupy


def _check_cuda_works(cupy: ModuleType) -> None:
    """Run what every training step needs once, on GPU 0: a compiled elementwise kernel
    (NVRTC), a matrix product (cuBLAS) and a random draw (cuRAND). A CuPy wheel without its
    CUDA libraries imports and counts the GPUs, then fails in the first kernel: here, with the
    step that failed named, instead of inside some op."""
    steps = {
        "an elementwise kernel (NVRTC)": lambda: cupy.arange(4, dtype=cupy.float32) * 2,
        "a matrix product (cuBLAS)": lambda: cupy.ones((2, 2), dtype=cupy.float32) @ cupy.ones(2),
        "a random draw (cuRAND)": lambda: cupy.random.default_rng(0).random(2),
    }
    for what, step in steps.items():
        try:
            with cupy.cuda.Device(0):
                step()
                cupy.cuda.get_current_stream().synchronize()
        except Exception as exc:
            raise DeviceError(
                f"device 'cuda': CuPy sees the GPU but cannot run {what}: {exc}. The CuPy wheel "
                "needs the CUDA libraries of its version: `pip install cupy-cuda12x[ctk]` (or "
                "cupy-cuda13x[ctk]) brings them, or install the CUDA toolkit; or use "
                "device='cpu'."
            ) from exc


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        get_cupy()
    except DeviceError:
        return False
    return True


class device(str):  # noqa: N801 (PyTorch's name)
    """A device as PyTorch's torch.device spells it: device("cuda:1"), device("cuda", 1),
    device("cpu"), with .type and .index. It is the normalized name itself ("cpu", "cuda:N"),
    a str, so it works and compares wherever a device name does (t.device == "cpu")."""

    def __new__(cls, type: str, index: int | None = None) -> device:  # noqa: A002
        name = type if index is None else f"{type}:{index}"
        return as_device(normalize_device(name))

    type: str  # "cpu" or "cuda"  # noqa: A003
    index: int | None  # N of "cuda:N", None for "cpu"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"


_devices: dict[str, device] = {}


def as_device(name: str) -> device:
    """The device object of a normalized name, made once per name (Tensor.device's)."""
    found = _devices.get(name)
    if found is None:
        found = _devices[name] = str.__new__(device, name)
        kind, _, number = name.partition(":")
        found.type, found.index = kind, int(number) if number else None
    return found


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


def device_index(device: str) -> int:
    """N of a "cuda" or "cuda:N" device name, checked against the GPUs that CuPy sees."""
    device = normalize_device(device)
    if device == "cpu":
        raise DeviceError("device 'cpu' has no GPU index")
    index = int(device.split(":")[1])
    count = get_cupy().cuda.runtime.getDeviceCount()
    if index >= count:
        raise DeviceError(f"device {device!r} does not exist: CuPy sees {count} GPU(s)")
    return index


def on_device(device: str) -> Any:
    """A context in which CuPy creates arrays and runs kernels on `device` ("cuda", "cuda:N");
    nothing to do for "cpu"."""
    device = normalize_device(device)
    if device == "cpu":
        return _NO_DEVICE
    return get_cupy().cuda.Device(device_index(device))


_NO_DEVICE = contextlib.nullcontext()  # reusable and reentrant: one for every "cpu" context


def on_device_of(array: Any) -> Any:
    """on_device for the device that `array` lives on (nothing to do for a NumPy array): for
    array work done outside Function.apply, which runs each op under its inputs' device."""
    if isinstance(array, numpy.ndarray):
        return _NO_DEVICE
    return on_device(device_of(array))


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
            data = to_numpy(data)
        return numpy.asarray(data, dtype=dtype)
    cupy = get_cupy()
    if isinstance(data, cupy.ndarray) and device_of(data) != device:
        with on_device_of(data):  # CuPy copies between GPUs only from contiguous memory
            data = cupy.ascontiguousarray(data)
    with on_device(device):
        return cupy.asarray(data, dtype=dtype)


def to_device(array: Any, device: str) -> Any:
    """The same values on `device` (the array itself when it is already there)."""
    if device_of(array) == device:
        return array
    return asarray(array, device=device)


def to_numpy(array: Any) -> numpy.ndarray:
    """A host NumPy copy of a backend array (a read from the device for a CuPy one, which first
    runs the deferred checks)."""
    if isinstance(array, numpy.ndarray):
        return array.copy()
    raise_deferred()
    return array.get()


def item(array: Any) -> Any:
    """The one value of an array as a Python scalar (for a CuPy array: a read from the device,
    after the deferred checks)."""
    if not isinstance(array, numpy.ndarray):
        raise_deferred()
    return array.item()


# Checks of device data that would cost a read from the device of their own each time (a
# stall of the GPU's queue), kept as device bools until minigrad next reads from a device.
_deferred: dict[tuple[str, str], Any] = {}  # (device, message) -> a device bool


def defer_check(failed: Any, message: str) -> None:
    """Remember `failed`, a 0-d device bool that is True where a check failed; the next read
    from a device (to_numpy, item, synchronize) raises IndexError(message) if it ever was.
    The checks of one message on one device are OR-ed together there, with no read."""
    key = (device_of(failed), message)
    previous = _deferred.get(key)
    if previous is None:
        _deferred[key] = failed
    else:
        with on_device_of(failed):
            _deferred[key] = previous | failed


def raise_deferred() -> None:
    """Read the deferred checks (one small read each) and raise for the first that failed."""
    if not _deferred:
        return
    pending = list(_deferred.items())
    _deferred.clear()
    for (_, message), failed in pending:
        if bool(failed.item()):
            raise IndexError(message)


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


def broadcast_view(array: Any, shape: tuple) -> Any:
    """array broadcast to `shape` as a read-only view (xp.broadcast_to). A 0-d NumPy array, the
    gradient of a sum or mean over everything, is viewed directly: a fifth of the cost of
    numpy.broadcast_to, whose Python took 5 us of a 7 us op on (60, 100)."""
    if type(array) is not numpy.ndarray or array.ndim:
        return array_module(array).broadcast_to(array, shape)
    view = numpy.ndarray(shape, array.dtype, array, 0, (0,) * len(shape))
    view.flags.writeable = False
    return view


def may_share_memory(a: Any, b: Any) -> bool:
    """Whether two arrays of one device may overlap in memory (a cheap bounds test)."""
    return bool(array_module(a).may_share_memory(a, b))


def quiet_float_errors() -> Any:
    """A context in which NumPy does not warn of division by zero or invalid values (CuPy never
    does): for formulas whose inf and nan entries are then masked away."""
    return numpy.errstate(divide="ignore", invalid="ignore")


def synchronize(device: str) -> None:
    """Wait until every kernel queued on `device` has finished (a no-op on the CPU); for timing."""
    if normalize_device(device) != "cpu":
        with on_device(device):
            get_cupy().cuda.get_current_stream().synchronize()
        raise_deferred()


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
