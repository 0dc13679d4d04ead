"""The array backend, the one package that knows about NumPy and CuPy: arrays and devices
(arrays), random numbers (random), minigrad's CPU threads (threads) and host memory (memory).

Everything else asks it for the array module of an array (`array_module`), for arrays on a
device (`asarray`, `to_device`), for random numbers (`rng`) and for scatter-add.
"""

# ruff: noqa: F401 (the names imported here are the package's API)

from minigrad.backend.arrays import (
    DeviceError,
    HostArray,
    array_module,
    as_device,
    asarray,
    bool_,
    broadcast_view,
    can_cast,
    cuda_is_available,
    default_device,
    default_dtype_for,
    defer_check,
    device,
    device_index,
    device_module,
    device_of,
    ensure_array,
    float16,
    float32,
    float64,
    get_cupy,
    int32,
    int64,
    is_array,
    is_floating,
    item,
    may_share_memory,
    normalize_device,
    on_device,
    on_device_of,
    quiet_float_errors,
    raise_deferred,
    result_dtype,
    scatter_add,
    synchronize,
    to_device,
    to_numpy,
    uint8,
    whole_owner,
)
from minigrad.backend.memory import retain_freed_host_memory
from minigrad.backend.random import Generator, manual_seed, random_normal, random_uniform, rng
from minigrad.backend.threads import (
    blas_num_threads,
    get_num_threads,
    over_parts,
    parallel_map,
    parallel_matmul,
    parallel_parts,
    set_num_threads,
)
