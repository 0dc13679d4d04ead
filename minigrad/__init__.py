"""minigrad: tensors on NumPy or CuPy, reverse-mode autograd, and the layers to train real nets."""

from minigrad import backend
from minigrad.autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.backend import (
    bool_,
    cuda_is_available,
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
from minigrad.ops import _bind
from minigrad.ops.elementwise import (
    abs,
    clamp,
    exp,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    sqrt,
    tanh,
    where,
)
from minigrad.ops.linalg import matmul
from minigrad.ops.reduce import argmax, log_softmax, max, mean, min, softmax, sum, var
from minigrad.ops.shape import cat, flatten, permute, reshape, stack, transpose
from minigrad.serialization import load, save
from minigrad.tensor import (
    Tensor,
    arange,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)

_bind.bind_tensor_methods(Tensor)

__all__ = [
    "data",
    "nn",
    "optim",
    "save",
    "load",
    "Function",
    "GradcheckError",
    "Tensor",
    "abs",
    "arange",
    "argmax",
    "backend",
    "bool_",
    "cat",
    "clamp",
    "cuda_is_available",
    "enable_grad",
    "exp",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "full",
    "gradcheck",
    "int32",
    "int64",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "manual_seed",
    "set_num_threads",
    "get_num_threads",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "no_grad",
    "ones",
    "ones_like",
    "permute",
    "rand",
    "randn",
    "relu",
    "reshape",
    "set_grad_enabled",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "uint8",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

from minigrad import data, nn, optim  # noqa: E402 (they build on everything above)
