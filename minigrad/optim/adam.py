"""Adam (L2 weight decay added to the gradient, or decoupled) and AdamW (decoupled weight
decay), each with the AMSGrad variant."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, check_non_negative, descent_grad
from minigrad.tensor import Tensor


class Adam(Optimizer):
    """PyTorch's Adam. With g = grad (negated when `maximize`) + weight_decay * p and t the
    step count (from 1):

    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2   (m = v = 0 at first)
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v_max) / sqrt(1 - beta2^t) + eps)

    where v_max = v, or with `amsgrad` the largest v so far (v_max = max(v_max, v), from 0).
    With `decoupled_weight_decay` (AdamW), g leaves out the decay and the step begins with
    p = p * (1 - lr * weight_decay).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "eps")
        for index, beta in enumerate(options["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta} (need [0, 1))")
        check_non_negative(options, "weight_decay")

    def _init_state(self, data: Any, state: dict[str, Any], group: dict) -> None:
        xp = backend.array_module(data)
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(data)
        state["exp_avg_sq"] = xp.zeros_like(data)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(data)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        data = param.data
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        xp = backend.array_module(data)
        state["step"] += 1
        step = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if group["decoupled_weight_decay"]:
            if weight_decay != 0:
                data *= 1.0 - lr * weight_decay
            weight_decay = 0.0
        grad = descent_grad(grad, data, weight_decay, group["maximize"])
        # One scratch array serves every intermediate below.
        scratch = xp.multiply(grad, 1.0 - beta1, out=self._scratch(data))
        exp_avg *= beta1
        exp_avg += scratch
        xp.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += scratch
        if group["amsgrad"]:
            max_exp_avg_sq = state["max_exp_avg_sq"]
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
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

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As Adam's, but the weight decay stays decoupled whatever the saved groups say."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
