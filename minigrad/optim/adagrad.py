"""Adagrad: steps divided by the root of the sum of all squared gradients so far."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, check_non_negative, descent_grad
from minigrad.tensor import Tensor


class Adagrad(Optimizer):
    """PyTorch's Adagrad (Duchi et al., 2011). With g = grad (negated when `maximize`) +
    weight_decay * p, t the step count (from 1) and s = initial_accumulator_value at first:

    lr_t = lr / (1 + (t - 1) * lr_decay);  s = s + g^2;  p = p - lr_t * g / (sqrt(s) + eps)

    s is the state's "sum". As in PyTorch, the constructor creates every parameter's state.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                with backend.on_device_of(param.data):  # its state lives with it
                    self._init_state(param.data, self.state.setdefault(param, {}), group)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(
            options, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"
        )

    def _init_state(self, data: Any, state: dict[str, Any], group: dict) -> None:
        xp = backend.array_module(data)
        state["step"] = 0
        state["sum"] = xp.full_like(data, group["initial_accumulator_value"])

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        xp = backend.array_module(param.data)
        grad = descent_grad(grad, param.data, group["weight_decay"], group["maximize"])
        state["step"] += 1
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state_sum = state["sum"]
        step = xp.multiply(grad, grad, out=self._scratch(param.data))
        state_sum += step
        xp.sqrt(state_sum, out=step)
        step += group["eps"]
        xp.divide(grad, step, out=step)
        step *= lr
        param.data -= step
