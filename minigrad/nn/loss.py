"""Loss layers as Modules over the fused loss ops: CrossEntropyLoss, NLLLoss, BCELoss,
BCEWithLogitsLoss, MSELoss, L1Loss and SmoothL1Loss, with PyTorch's arguments."""

from __future__ import annotations

from typing import Any

from minigrad.arguments import checked_reduction
from minigrad.nn.module import Module
from minigrad.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    check_beta,
    check_class_options,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.tensor import Tensor


class _Loss(Module):
    """A loss with its reduction; repr shows the options that differ from `defaults`."""

    defaults: dict = {"reduction": "mean"}

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        reduction = checked_reduction(type(self).__name__, size_average, reduce, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name, default in self.defaults.items()
            if getattr(self, name) != default
        ]
        return ", ".join(changed)


class _WeightedLoss(_Loss):
    """A loss with optional weights, kept as the buffer `weight` (so in the state_dict when
    given, and moved by .to(), as in PyTorch)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer labels (N,)
    or (N, d1, ...) or class probabilities of the logits' shape; weight (C,) per class,
    ignore_index and label_smoothing as in F.cross_entropy."""

    defaults = {"ignore_index": -100, "reduction": "mean", "label_smoothing": 0.0}

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        check_class_options(type(self).__name__, ignore_index, label_smoothing)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...) at integer labels
    (N,) or (N, d1, ...); weight (C,) per class and ignore_index as in F.nll_loss."""

    defaults = {"ignore_index": -100, "reduction": "mean"}

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        check_class_options(type(self).__name__, ignore_index)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] against targets of the same shape (each
    log clamped at -100); weight broadcasts to the input."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of sigmoid(logits) against targets of the same shape, computed
    stably from the logits; weight broadcasts to the input, pos_weight (kept as a buffer too)
    to the target, e.g. one per class."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class MSELoss(_Loss):
    """Mean squared error between two tensors of the same shape."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between two tensors of the same shape."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss between two tensors of the same shape: quadratic where |x - y| < beta,
    linear beyond (beta = 0: the L1 loss)."""

    defaults = {"reduction": "mean", "beta": 1.0}

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        check_beta(type(self).__name__, beta)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)
