"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad.optim.optimizer import Optimizer, check_non_negative, descent_grad
from minigrad.tensor import Tensor


class SGD(Optimizer):
    """PyTorch's SGD. With g = grad + weight_decay * p (grad negated when `maximize`), on each
    step:

    - momentum: b = g on the first step, else b = momentum * b + (1 - dampening) * g;
      the direction is d = g + momentum * b (nesterov) or d = b;
    - without momentum d = g;
    - p = p - lr * d.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "momentum", "weight_decay")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={options['momentum']}, dampening={options['dampening']}"
            )

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        lr, momentum = group["lr"], group["momentum"]
        direction = descent_grad(grad, param.data, group["weight_decay"], group["maximize"])
        # `owned`: direction is a fresh array of this step that may be overwritten.
        owned = direction is not grad
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
