"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad import backend
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
        data = param.data
        xp = backend.array_module(data)
        scratch = self._scratch(data)
        direction = descent_grad(grad, data, group["weight_decay"], group["maximize"], scratch)
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = direction.copy()
            else:
                buffer *= momentum
                dampening = group["dampening"]
                if dampening != 0:
                    direction = xp.multiply(direction, 1.0 - dampening, out=scratch)
                buffer += direction
            if group["nesterov"]:  # d = g + momentum * b (dampening is 0: direction is g)
                if direction is scratch:
                    direction += momentum * buffer
                else:
                    direction = xp.add(
                        xp.multiply(buffer, momentum, out=scratch), direction, out=scratch
                    )
            else:
                direction = buffer
        data -= xp.multiply(direction, lr, out=scratch)
