"""Gradient clipping, as torch.nn.utils: the total norm of the gradients (get_total_norm),
scaling them to a maximum norm (clip_grad_norm_) and clamping their values (clip_grad_value_).
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.autograd.engine import no_grad
from minigrad.tensor import Tensor, tensor

_CLIP_EPS = 1e-6  # PyTorch's: keeps max_norm / total_norm finite when every gradient is 0


def _as_list(tensors: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(array: Any, norm_type: float) -> Any:
    """The norm_type-norm of all of array's values (inf: the largest magnitude, -inf: the
    smallest, 0: the count of non-zeros), a 0-d array of array's dtype."""
    xp = backend.array_module(array)
    magnitudes = xp.abs(array.reshape(-1))
    if magnitudes.size == 0:
        norm = xp.zeros((), dtype=array.dtype)
    elif norm_type == math.inf:
        norm = magnitudes.max()
    elif norm_type == -math.inf:
        norm = magnitudes.min()
    elif norm_type == 0:
        norm = (magnitudes != 0).sum().astype(array.dtype)
    else:
        norm = (magnitudes**norm_type).sum() ** (1.0 / norm_type)
    return backend.ensure_array(norm)


@no_grad()
def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """The norm of all the tensors' values taken as one vector (the norm of their norms), a 0-d
    Tensor on the first tensor's device; tensor(0.) for none. error_if_nonfinite raises for a
    NaN or infinite norm (which costs a read from the device)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    device = tensors[0].device
    norms = []
    for t in tensors:
        with backend.on_device_of(t.data):
            norms.append(backend.to_device(_vector_norm(t.data, norm_type), device))
    with backend.on_device(device):
        total = _vector_norm(backend.array_module(norms[0]).stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(backend.item(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor(total)


@no_grad()
def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor
) -> None:
    """grad *= min(max_norm / (total_norm + 1e-6), 1) for every parameter with a grad, in place
    (mul_), so gradients are only ever scaled down."""
    grads = [param.grad for param in _as_list(parameters) if param.grad is not None]
    if not grads:
        return
    xp = backend.array_module(total_norm.data)
    with backend.on_device_of(total_norm.data):
        coefficient = xp.minimum(float(max_norm) / (total_norm.data + _CLIP_EPS), 1.0)
    for grad in grads:
        grad.mul_(Tensor(backend.to_device(coefficient, grad.device)))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients of `parameters` (one Tensor or an iterable) in place so that their
    total norm (all of them as one vector; norm_type may be inf) is at most max_norm:
    grad *= min(max_norm / (total_norm + 1e-6), 1). Returns the total norm before clipping,
    a 0-d Tensor."""
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                stacklevel=2,
            )
    parameters = _as_list(parameters)
    grads = [param.grad for param in parameters if param.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


@no_grad()
def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient of `parameters` (one Tensor or an iterable) into
    [-clip_value, clip_value], in place (clamp_)."""
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        if param.grad is not None:
            param.grad.clamp_(min=-clip_value, max=clip_value)
