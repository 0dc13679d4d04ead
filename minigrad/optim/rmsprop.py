"""RMSprop: steps divided by the root of a running average of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, check_non_negative, descent_grad
from minigrad.tensor import Tensor


class RMSprop(Optimizer):
    """PyTorch's RMSprop (Hinton). With g = grad (negated when `maximize`) +
    weight_decay * p, and v = a = b = 0 at first:

    v = alpha * v + (1 - alpha) * g^2;  d = sqrt(v) + eps, or when `centered`
    a = alpha * a + (1 - alpha) * g and d = sqrt(v - a^2) + eps;
    p = p - lr * g / d, or with momentum b = momentum * b + g / d and p = p - lr * b.

    v, a and b are the state's "square_avg", "grad_avg" and "momentum_buffer".
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _init_state(self, data: Any, state: dict[str, Any], group: dict) -> None:
        xp = backend.array_module(data)
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(data)
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(data)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(data)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        lr, alpha, momentum = group["lr"], group["alpha"], group["momentum"]
        xp = backend.array_module(param.data)
        grad = descent_grad(grad, param.data, group["weight_decay"], group["maximize"])
        square_avg = state["square_avg"]
        state["step"] += 1
        denom = xp.multiply(grad, grad, out=self._scratch(param.data))
        denom *= 1.0 - alpha
        square_avg *= alpha
        square_avg += denom
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1.0 - alpha) * grad
            xp.multiply(grad_avg, grad_avg, out=denom)
            xp.subtract(square_avg, denom, out=denom)
            xp.sqrt(denom, out=denom)
        else:
            xp.sqrt(square_avg, out=denom)
        denom += group["eps"]
        step = xp.divide(grad, denom, out=denom)
        if momentum > 0:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += step
            step = buffer
        param.data -= xp.multiply(step, lr, out=denom)
