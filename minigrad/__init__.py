"""minigrad: tensors on NumPy or CuPy, reverse-mode autograd, and the layers to train real nets.

The op modules' functional APIs (their `__all__`) are minigrad's functions; importing them also
makes their Tensor methods and operators (declared beside each op with @tensor_method).
"""

# ruff: noqa: F401, F403 (the names imported here are the package's API)

from types import ModuleType as _ModuleType

from minigrad import accelerator, autograd, backend, backends, cuda, data, nn, optim
from minigrad.autograd.engine import (
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.backend import (
    Generator,
    bool_,
    cuda_is_available,
    device,
    float16,
    float32,
    float64,
    get_num_threads,
    int32,
    int64,
    manual_seed,
    set_num_threads,
    uint8,
)
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.ops.elementwise import *
from minigrad.ops.linalg import *
from minigrad.ops.reduce import *
from minigrad.ops.shape import *
from minigrad.serialization import load, save
from minigrad.tensor import (
    DTYPE_ALIASES,
    Tensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)

globals().update(DTYPE_ALIASES)  # minigrad.float, double, half, int, long, bool, as in PyTorch
_BUILTIN_NAMES = {"float", "int", "bool"}  # attributes, but kept out of `import *`

__all__ = sorted(
    [
        name
        for name, value in globals().items()
        if not name.startswith("_")
        and not isinstance(value, _ModuleType)
        and name not in _BUILTIN_NAMES | {"DTYPE_ALIASES"}
    ]
    + ["accelerator", "autograd", "backend", "backends", "cuda", "data", "nn", "optim"]
)
