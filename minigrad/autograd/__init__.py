"""minigrad.autograd as torch.autograd: Tensor-level Function, grad, backward, gradcheck, grad mode.

The engine and the array-level Function that every built-in op subclasses live in
minigrad/autograd/engine.py (`minigrad.Function` is that one).
"""

# ruff: noqa: F401 (the names imported here are the package's API)

from minigrad.autograd.api import backward, grad
from minigrad.autograd.engine import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.autograd.function import BackwardFunction, Function
from minigrad.gradcheck import GradcheckError
from minigrad.gradcheck import autograd_gradcheck as gradcheck

__all__ = [
    "BackwardFunction",
    "Function",
    "GradcheckError",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
