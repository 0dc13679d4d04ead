"""Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class Adam(Optimizer):
    """PyTorch's Adam. With g = grad + weight_decay * p and t the step count (from 1):

    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2   (m = v = 0 at first)
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        if options["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {options['lr']} (must be >= 0)")
        if options["eps"] < 0.0:
            raise ValueError(f"Invalid epsilon value: {options['eps']} (must be >= 0)")
        for index, beta in enumerate(options["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta} (need [0, 1))")
        if options["weight_decay"] < 0.0:
            raise ValueError(
                f"Invalid weight_decay value: {options['weight_decay']} (must be >= 0)"
            )

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        data = param.data
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        xp = backend.array_module(data)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(data)
            state["exp_avg_sq"] = xp.zeros_like(data)
        state["step"] += 1
        step = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if weight_decay != 0:
            if self.decoupled_weight_decay:
                data *= 1.0 - lr * weight_decay
            else:
                decayed = data * weight_decay
                decayed += grad
                grad = decayed
        # One scratch array serves every intermediate below.
        scratch = xp.multiply(grad, 1.0 - beta1)
        exp_avg *= beta1
        exp_avg += scratch
        xp.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += scratch
        bias_correction1 = 1.0 - beta1**step
        bias_correction2 = 1.0 - beta2**step
        xp.sqrt(exp_avg_sq, out=scratch)
        scratch /= math.sqrt(bias_correction2)
        scratch += eps
        xp.divide(exp_avg, scratch, out=scratch)
        scratch *= lr / bias_correction1
        data -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before the Adam step,
    p = p * (1 - lr * weight_decay); the gradient itself is not decayed."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
