"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class SGD(Optimizer):
    """PyTorch's SGD. With g = grad + weight_decay * p, on each step:

    - momentum: b = g on the first step, else b = momentum * b + (1 - dampening) * g;
      the direction is d = g + momentum * b (nesterov) or d = b;
    - without momentum d = g;
    - p = p - lr * d.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        if options["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {options['lr']} (must be >= 0)")
        if options["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {options['momentum']} (must be >= 0)")
        if options["weight_decay"] < 0.0:
            raise ValueError(
                f"Invalid weight_decay value: {options['weight_decay']} (must be >= 0)"
            )
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={options['momentum']}, dampening={options['dampening']}"
            )

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        direction = grad
        # `owned`: direction is a fresh array of this step that may be overwritten.
        owned = False
        if weight_decay != 0:
            direction = param.data * weight_decay
            direction += grad
            owned = True
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = direction if owned else direction.copy()
                state["momentum_buffer"] = buffer
            else:
                buffer *= momentum
                dampening = group["dampening"]
                buffer += direction if dampening == 0 else (1.0 - dampening) * direction
            if group["nesterov"]:
                direction = direction + momentum * buffer
                owned = True
            else:
                direction = buffer
                owned = False
        if owned:
            direction *= lr
            param.data -= direction
        else:
            param.data -= lr * direction
