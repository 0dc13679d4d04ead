"""Loss layers: CrossEntropyLoss, NLLLoss and MSELoss as Modules over the fused loss ops."""

from __future__ import annotations

from typing import Any

from minigrad.arguments import check_reduction
from minigrad.nn.module import Module
from minigrad.ops.loss import cross_entropy, mse_loss, nll_loss
from minigrad.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,)."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return cross_entropy(logits, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) at integer labels (N,)."""

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return nll_loss(log_probs, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error between two tensors of the same shape."""

    def forward(self, prediction: Tensor, target: Any) -> Tensor:
        return mse_loss(prediction, target, self.reduction)
