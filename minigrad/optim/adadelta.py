"""Adadelta: steps scaled by running averages of squared gradients and squared steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, check_non_negative, descent_grad
from minigrad.tensor import Tensor


class Adadelta(Optimizer):
    """PyTorch's Adadelta (Zeiler, 2012). With g = grad (negated when `maximize`) +
    weight_decay * p, and v = u = 0 at first:

    v = rho * v + (1 - rho) * g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta^2;  p = p - lr * delta

    v is the state's "square_avg", u its "acc_delta".
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr")
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {options['rho']} (need [0, 1])")
        check_non_negative(options, "eps", "weight_decay")

    def _init_state(self, data: Any, state: dict[str, Any], group: dict) -> None:
        xp = backend.array_module(data)
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(data)
        state["acc_delta"] = xp.zeros_like(data)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        xp = backend.array_module(param.data)
        grad = descent_grad(grad, param.data, group["weight_decay"], group["maximize"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        state["step"] += 1
        scratch = xp.multiply(grad, grad, out=self._scratch(param.data))
        scratch *= 1.0 - rho
        square_avg *= rho
        square_avg += scratch
        std = square_avg + eps
        xp.sqrt(std, out=std)
        delta = acc_delta + eps
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        xp.multiply(delta, delta, out=scratch)
        scratch *= 1.0 - rho
        acc_delta *= rho
        acc_delta += scratch
        delta *= lr
        param.data -= delta
