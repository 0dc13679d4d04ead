"""Finite-difference gradient checking: the analytic gradient against central differences."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from minigrad import backend
from minigrad.autograd.engine import no_grad
from minigrad.tensor import Tensor


class GradcheckError(AssertionError, RuntimeError):
    """An analytic gradient disagrees with the numerical one (a RuntimeError, as PyTorch's,
    and an AssertionError, as a failed check)."""


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check d fn / d input for every input Tensor that requires grad; True or GradcheckError.

    The inputs are copied to float64. fn may return a Tensor of any shape (or a tuple of them):
    it is reduced to the scalar L = sum(out * w) with fixed random weights w, so one backward
    pass gives the vector-Jacobian product that central differences
    (L(x + eps) - L(x - eps)) / (2 eps), one element at a time, must match within
    atol + rtol * |numerical|. A NaN or Inf on either side is a mismatch. The error names the
    input, its first element off and the worst one (both values each), and how many are off.
    """
    tensors = [value for value in inputs if isinstance(value, Tensor)]
    with backend.on_device_of(tensors[0].data) if tensors else backend.on_device("cpu"):
        return _gradcheck(fn, inputs, eps, atol, rtol, seed)


def autograd_gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """torch.autograd.gradcheck's signature over the same check: `inputs` is a Tensor or a
    tuple of arguments; True, else GradcheckError, or False with raise_exception=False.
    Unlike PyTorch's, the inputs are copied to float64 first (so float32 ones check as well),
    and each input's gradient is checked as one vector-Jacobian product with random weights
    rather than as the whole Jacobian."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    try:
        return gradcheck(func, *inputs, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(fn, inputs, eps, atol, rtol, seed) -> bool:
    inputs = tuple(_as_float64_leaf(value) for value in inputs)
    checked = [
        i for i, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad
    ]
    if not checked:
        raise ValueError("gradcheck: no input Tensor has requires_grad=True")
    outputs = _as_tuple(fn(*inputs))
    weights = _weights(outputs, seed)
    _weighted_sum(outputs, weights).backward()
    for index in checked:
        _check_input(fn, inputs, index, weights, eps, atol, rtol)
    return True


def _as_float64_leaf(value: Any) -> Any:
    if not isinstance(value, Tensor):
        return value
    if not backend.is_floating(value.dtype):
        return value
    data = value.data.astype(backend.float64)
    return Tensor(data, requires_grad=value.requires_grad)


def _as_tuple(outputs: Any) -> tuple:
    return outputs if isinstance(outputs, tuple) else (outputs,)


def _weights(outputs: tuple, seed: int) -> list:
    weights = []
    for position, output in enumerate(outputs):
        xp = backend.array_module(output.data)
        generator = xp.random.default_rng(seed + position)
        weights.append(generator.standard_normal(output.shape).astype(backend.float64))
    return weights


def _weighted_sum(outputs: tuple, weights: list) -> Tensor:
    total = None
    for output, weight in zip(outputs, weights):
        term = (output * Tensor(weight)).sum()
        total = term if total is None else total + term
    return total


def _scalar_loss(fn, inputs, weights) -> float:
    with no_grad():
        return float(_weighted_sum(_as_tuple(fn(*inputs)), weights).item())


def _check_input(fn, inputs, index, weights, eps, atol, rtol) -> None:
    tensor = inputs[index]
    analytic = tensor.grad.data if tensor.grad is not None else tensor.data * 0
    if tuple(analytic.shape) != tensor.shape:
        raise GradcheckError(
            f"input {index}: gradient has shape {tuple(analytic.shape)}, tensor has {tensor.shape}"
        )
    flat = tensor.data.reshape(-1)  # a view: perturbing it perturbs the input in place
    analytic = analytic.reshape(-1)
    mismatches = []  # (how far outside the tolerance, element, analytic, numerical)
    for element in range(flat.size):
        original = flat[element].item()
        flat[element] = original + eps
        plus = _scalar_loss(fn, inputs, weights)
        flat[element] = original - eps
        minus = _scalar_loss(fn, inputs, weights)
        flat[element] = original
        numeric = (plus - minus) / (2 * eps)
        exact = analytic[element].item()
        # Finiteness is checked apart: NaN makes every comparison false, an Inf numerical value
        # makes the tolerance Inf, and either would let a broken gradient pass.
        excess = abs(numeric - exact) - (atol + rtol * abs(numeric))
        if not (math.isfinite(numeric) and math.isfinite(exact)):
            excess = math.inf
        if excess > 0:
            mismatches.append((excess, element, exact, numeric))
    if mismatches:
        raise GradcheckError(_mismatch_message(index, tensor.shape, mismatches))


def _mismatch_message(index: int, shape: tuple, mismatches: list) -> str:
    """The first element outside the tolerance, and the worst one when that is another."""

    def described(mismatch: tuple) -> str:
        _, element, exact, numeric = mismatch
        position = _unravel(element, shape)
        return f"element {position}: analytic {exact:.8g} vs numerical {numeric:.8g}"

    first = mismatches[0]
    worst = max(mismatches, key=lambda mismatch: mismatch[0])
    message = f"gradcheck failed for input {index} (shape {shape}) at {described(first)}"
    if len(mismatches) > 1:
        message += f" ({len(mismatches)} elements off"
        message += ")" if worst is first else f", the worst at {described(worst)})"
    return message


def _unravel(flat_index: int, shape: tuple) -> tuple:
    position = []
    for size in reversed(shape):
        position.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(position))
