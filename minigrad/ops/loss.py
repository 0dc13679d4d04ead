"""Losses as fused Functions: cross_entropy (stable log-sum-exp), nll_loss and mse_loss.

Each takes reduction="mean" (average over the batch), "sum" or "none" (one loss per sample).
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.arguments import check_like, check_reduction
from minigrad.autograd import Function
from minigrad.ops.reduce import log_softmax_array
from minigrad.tensor import Tensor, tensor


def _reduce(losses: Any, reduction: str) -> Any:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _expand_grad(grad: Any, reduction: str, count: int) -> Any:
    """The gradient of the reduced loss with respect to each per-element loss (broadcastable)."""
    if reduction == "mean":
        return grad / count
    return grad


class CrossEntropy(Function):
    """loss_i = logsumexp(z_i) - z_i[t_i] for logits z (N, C) and labels t (N,), then reduced;
    dz_i = (softmax(z_i) - onehot(t_i)) * dloss_i (dloss_i = dloss / N for the mean)."""

    @staticmethod
    def forward(ctx, logits, target, reduction="mean"):
        xp = backend.array_module(logits)
        rows = xp.arange(logits.shape[0])
        log_probs = log_softmax_array(logits, axis=1)
        ctx.save_for_backward(log_probs, target)
        ctx.reduction = reduction
        return _reduce(-log_probs[rows, target], reduction)

    @staticmethod
    def backward(ctx, grad):
        log_probs, target = ctx.saved_tensors
        xp = backend.array_module(log_probs)
        grad_logits = xp.exp(log_probs)
        grad_logits[xp.arange(target.shape[0]), target] -= 1
        per_sample = _expand_grad(grad, ctx.reduction, target.shape[0])
        grad_logits *= per_sample[:, None] if ctx.reduction == "none" else per_sample
        return grad_logits, None


class NLLLoss(Function):
    """loss_i = -x_i[t_i] for log-probabilities x (N, C) and labels t (N,), then reduced;
    dx_i = -onehot(t_i) * dloss_i."""

    @staticmethod
    def forward(ctx, log_probs, target, reduction="mean"):
        xp = backend.array_module(log_probs)
        ctx.save_for_backward(target)
        ctx.shape, ctx.reduction = log_probs.shape, reduction
        return _reduce(-log_probs[xp.arange(log_probs.shape[0]), target], reduction)

    @staticmethod
    def backward(ctx, grad):
        target = ctx.saved_tensors[0]
        xp = backend.array_module(grad)
        grad_input = xp.zeros(ctx.shape, dtype=grad.dtype)
        per_sample = _expand_grad(grad, ctx.reduction, target.shape[0])
        grad_input[xp.arange(target.shape[0]), target] = -per_sample
        return grad_input, None


class MSELoss(Function):
    """loss = (x - y)^2 elementwise, then reduced over all m elements;
    dx = 2 (x - y) * dloss (/ m for the mean), dy = -dx."""

    @staticmethod
    def forward(ctx, prediction, target, reduction="mean"):
        diff = prediction - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        diff = ctx.saved_tensors[0]
        grad_prediction = diff * _expand_grad(grad, ctx.reduction, diff.size)
        grad_prediction *= 2
        need_prediction, need_target = ctx.needs_input_grad
        return (
            grad_prediction if need_prediction else None,
            -grad_prediction if need_target else None,
        )


# --- the functional API: validation at the boundary -----------------------------------------


def _class_target(name: str, scores: Tensor, target: Any, what: str) -> Tensor:
    """Check (N, C) scores against (N,) integer labels in [0, C); return target as a Tensor.

    The range check moves one boolean to the host; the labels themselves only on error."""
    if not isinstance(target, Tensor):
        target = tensor(target, device=scores.device)
    if scores.ndim != 2:
        raise ValueError(f"{name}: expected {what} of shape (N, C), got shape {scores.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold integer class indices (e.g. int64), "
            f"got dtype {target.dtype} (shape {target.shape})"
        )
    if target.ndim != 1:
        raise ValueError(
            f"{name}: expected target of shape (N,) for {what} of shape {scores.shape}, "
            f"got target shape {target.shape}"
        )
    if target.shape[0] != scores.shape[0]:
        raise ValueError(
            f"{name}: {what} have batch size {scores.shape[0]} (shape {scores.shape}) but target "
            f"has {target.shape[0]} (shape {target.shape})"
        )
    _check_labels(name, target.data, scores.shape[1])
    return target


def _check_labels(name: str, labels: Any, classes: int) -> None:
    """Labels must lie in [0, classes). On the CPU the bad ones are named at once; on a GPU
    the check is deferred to the next read from the device (backend.defer_check), so that a
    training step never waits for the device just to check its labels."""
    if not labels.size:
        return
    out_of_range = (labels < 0).any() | (labels >= classes).any()
    if type(labels) is not backend.HostArray:
        backend.defer_check(
            out_of_range,
            f"{name}: a target label lay out of range for C={classes} classes (valid labels "
            f"are 0..{classes - 1}); on a GPU the labels are checked at the next read from "
            "the device, so the batch was one since the last read",
        )
    elif out_of_range:
        bad = sorted({int(v) for v in labels.ravel() if not 0 <= v < classes})
        shown = ", ".join(str(v) for v in bad[:10]) + (", ..." if len(bad) > 10 else "")
        raise IndexError(
            f"{name}: target has label(s) {shown} out of range for C={classes} classes "
            f"(valid labels are 0..{classes - 1})"
        )


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits (N, C) against integer labels (N,), computed stably
    in one op (log-softmax and the pick of the true class fused)."""
    check_reduction("cross_entropy", reduction)
    target = _class_target("cross_entropy", logits, target, "logits")
    return CrossEntropy.apply(logits, target, reduction=reduction)


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) (e.g. from log_softmax) at the
    integer labels (N,)."""
    check_reduction("nll_loss", reduction)
    target = _class_target("nll_loss", log_probs, target, "log_probs")
    return NLLLoss.apply(log_probs, target, reduction=reduction)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error between two tensors of the same shape."""
    check_reduction("mse_loss", reduction)
    if not isinstance(target, Tensor):
        target = tensor(target, dtype=input.dtype, device=input.device)
    check_like("mse_loss", "target", target, input, shape=input.shape)  # no broadcasting
    return MSELoss.apply(input, target, reduction=reduction)
