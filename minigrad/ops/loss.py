"""Losses as fused Functions: cross_entropy (stable log-softmax; class indices or probabilities,
class weights, ignore_index, label smoothing), nll_loss, binary cross-entropy on probabilities
and (stably) on logits, and the distance losses mse_loss, l1_loss and smooth_l1_loss.

Each takes reduction="mean", "sum" or "none" (the unreduced losses, one per element or position).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad import backend
from minigrad.arguments import check_like, checked_reduction
from minigrad.autograd.engine import Function
from minigrad.ops.reduce import log_softmax_array
from minigrad.tensor import Tensor, on_tensors_device, tensor


def _reduce(losses: Any, reduction: str, divisor: Any = None) -> Any:
    """The mean (sum / divisor when a divisor is given), the sum, or the losses themselves."""
    if reduction == "mean" and divisor is None:
        return losses.mean()
    if reduction == "mean":
        with backend.quiet_float_errors():  # no position kept: 0 / 0 is NaN, as in PyTorch
            return losses.sum() / divisor
    if reduction == "sum":
        return losses.sum()
    return losses


def _expand_grad(grad: Any, reduction: str, count: Any) -> Any:
    """The gradient of the reduced loss with respect to each per-element loss (broadcastable)."""
    if reduction == "mean":
        return grad / count
    return grad


# --- class losses: scores (N, C, d1, ...) as rows (M, C), one per position m = (n, d1, ...) --


def _rows(scores: Any) -> Any:
    """Scores (N, C, d1, ...) as rows (M, C): the array itself for (N, C), else a copy with the
    class axis moved last."""
    if scores.ndim == 2:
        return scores
    return backend.array_module(scores).moveaxis(scores, 1, -1).reshape(-1, scores.shape[1])


def _unrows(rows: Any, shape: tuple) -> Any:
    """The inverse of _rows: rows (M, C) as a contiguous array of `shape` (N, C, d1, ...)."""
    if len(shape) == 2:
        return rows
    xp = backend.array_module(rows)
    return xp.ascontiguousarray(xp.moveaxis(rows.reshape(shape[0], *shape[2:], shape[1]), -1, 1))


def _kept_weights(labels: Any, weight: Any, ignore_index: int, dtype: Any) -> tuple:
    """For the labels (M,): the labels with the ignored ones replaced by class 0 (safe to index
    with), the mask of the kept ones, and w[t_m] for each kept label (1 without class
    weights), 0 for each ignored one."""
    xp = backend.array_module(labels)
    keep = labels != ignore_index
    safe = xp.where(keep, labels, 0)
    kept = keep.astype(dtype) if weight is None else weight[safe] * keep
    return safe, keep, kept


def _per_position(grad: Any, reduction: str, divisor: Any, count: int) -> Any:
    """The gradient with respect to each of the `count` per-position losses: a (count,) array,
    or for a reduced loss one value (0-d) that broadcasts against them."""
    if reduction == "none":
        return grad.reshape(count)
    with backend.quiet_float_errors():  # a mean over no kept position divides by 0
        return _expand_grad(grad, reduction, divisor)


class CrossEntropy(Function):
    """Softmax cross-entropy of logits z (N, C, d1, ...) against a target distribution q at each
    position m = (n, d1, ...): loss_m = -sum_c q[m, c] log softmax(z_m)_c, then reduced, with
    class weights w (1 when not given) and label smoothing eps:

    - class indices t (N, d1, ...): q[m] = (1 - eps) w[t_m] onehot(t_m) + (eps / C) w, and
      q[m] = 0 where t_m == ignore_index; the mean divides by sum_m w[t_m] over the kept m.
    - class probabilities p (z's shape): q[m] = ((1 - eps) p_m + eps / C) w; the mean divides
      by the number of positions M.

    dz_m = (sum_c q[m, c] softmax(z_m) - q[m]) dloss_m, with dloss_m = dloss / divisor for the
    mean; for probabilities also dp_m = -(1 - eps) w log softmax(z_m) dloss_m. The log-softmax
    is the stable one (the row maximum subtracted first), so huge logits give finite values.
    """

    @staticmethod
    def forward(
        ctx, logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
    ):
        xp = backend.array_module(logits)
        classes = logits.shape[1]
        log_probs = log_softmax_array(_rows(logits), axis=1)
        if backend.is_floating(target.dtype):
            q = _rows(target)
            if label_smoothing:
                q = q * (1 - label_smoothing) + label_smoothing / classes
            if weight is not None:
                q = q * weight
            losses = -(q * log_probs).sum(axis=1)
            divisor = losses.shape[0]
            ctx.save_for_backward(log_probs, q, weight)
        else:
            safe, keep, kept = _kept_weights(target.ravel(), weight, ignore_index, logits.dtype)
            picked = log_probs[xp.arange(safe.shape[0]), safe]
            losses = -(1 - label_smoothing) * kept * picked
            if label_smoothing:
                spread = log_probs.sum(axis=1) if weight is None else log_probs @ weight
                losses -= (label_smoothing / classes) * keep * spread
            divisor = kept.sum()
            ctx.save_for_backward(log_probs, safe, keep, kept, weight)
        ctx.params = (logits.shape, reduction, label_smoothing, divisor)
        return _reduce(losses.reshape(logits.shape[:1] + logits.shape[2:]), reduction, divisor)

    @staticmethod
    def backward(ctx, grad):
        shape, reduction, smoothing, divisor = ctx.params
        xp = backend.array_module(grad)
        per_row = _per_position(grad, reduction, divisor, ctx.saved_tensors[0].shape[0])
        if len(ctx.saved_tensors) == 3:  # class probabilities
            log_probs, q, weight = ctx.saved_tensors
            per_row = per_row.reshape(-1, 1)
            grad_rows = xp.exp(log_probs) * (q.sum(axis=1, keepdims=True) * per_row) - q * per_row
            grad_target = None
            if ctx.needs_input_grad[1]:
                scale = (
                    (1 - smoothing) * per_row
                    if weight is None
                    else (1 - smoothing) * per_row * weight
                )
                grad_target = _unrows(-log_probs * scale, shape)
            return _unrows(grad_rows, shape), grad_target, None
        log_probs, safe, keep, kept, weight = ctx.saved_tensors
        per_row = xp.where(keep, per_row, 0)  # ignored rows get none, even from a 0 / 0 mean
        # sum_c q[m, c] = (1 - eps) w[t_m] + (eps / C) sum_c w_c on the kept rows
        spread_total = smoothing if weight is None else smoothing / shape[1] * weight.sum()
        grad_rows = xp.exp(log_probs) * (((1 - smoothing) * kept + spread_total) * per_row)[:, None]
        grad_rows[xp.arange(safe.shape[0]), safe] -= (1 - smoothing) * kept * per_row
        if smoothing:
            spread = per_row[:, None] if weight is None else per_row[:, None] * weight
            grad_rows -= (smoothing / shape[1]) * spread
        return _unrows(grad_rows, shape), None, None


class NLLLoss(Function):
    """loss_m = -w[t_m] x[m, t_m] for log-probabilities x (N, C, d1, ...) and labels t
    (N, d1, ...) at each position m = (n, d1, ...), 0 where t_m == ignore_index, then reduced
    (the mean divides by sum_m w[t_m] over the kept m); dx[m, t_m] = -w[t_m] dloss_m, and 0 at
    every other class."""

    name = "nll_loss"

    @staticmethod
    def forward(ctx, log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = backend.array_module(log_probs)
        safe, keep, kept = _kept_weights(target.ravel(), weight, ignore_index, log_probs.dtype)
        losses = -kept * _rows(log_probs)[xp.arange(safe.shape[0]), safe]
        divisor = kept.sum()
        ctx.save_for_backward(safe, keep, kept)
        ctx.params = (log_probs.shape, reduction, divisor)
        return _reduce(losses.reshape(target.shape), reduction, divisor)

    @staticmethod
    def backward(ctx, grad):
        safe, keep, kept = ctx.saved_tensors
        shape, reduction, divisor = ctx.params
        xp = backend.array_module(grad)
        per_row = xp.where(keep, _per_position(grad, reduction, divisor, safe.shape[0]), 0)
        grad_rows = xp.zeros((safe.shape[0], shape[1]), dtype=grad.dtype)
        grad_rows[xp.arange(safe.shape[0]), safe] = -kept * per_row
        return _unrows(grad_rows, shape), None, None


# --- binary cross-entropy ------------------------------------------------------------------


def _softplus(x: Any) -> Any:
    """ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|), which never overflows."""
    xp = backend.array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class BinaryCrossEntropy(Function):
    """loss = -w (y log x + (1 - y) log(1 - x)) elementwise for probabilities x and targets y,
    each log clamped at -100 as in PyTorch (x = 0 or 1 gives a finite loss), then reduced;
    dx = w (x - y) / max(x (1 - x), 1e-12) dloss (PyTorch's gradient, finite at 0 and 1 too),
    dy = w (log(1 - x) - log x) dloss."""

    @staticmethod
    def forward(ctx, x, y, weight=None, reduction="mean"):
        xp = backend.array_module(x)
        with backend.quiet_float_errors():  # log 0 = -inf, clamped
            log_x = xp.maximum(xp.log(x), -100)
            log_rest = xp.maximum(xp.log1p(-x), -100)
        losses = -(y * log_x + (1 - y) * log_rest)
        if weight is not None:
            losses *= weight
        ctx.save_for_backward(x, y, weight)
        ctx.reduction = reduction
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight = ctx.saved_tensors
        xp = backend.array_module(grad)
        need_x, need_y = ctx.needs_input_grad[:2]
        scale = _expand_grad(grad, ctx.reduction, x.size)
        if weight is not None:
            scale = scale * weight
        grad_x = scale * (x - y) / xp.maximum(x * (1 - x), 1e-12) if need_x else None
        grad_y = None
        if need_y:
            with backend.quiet_float_errors():
                grad_y = scale * (xp.log1p(-x) - xp.log(x))
        return grad_x, grad_y, None


class BinaryCrossEntropyWithLogits(Function):
    """loss = w ((1 - y) z + l softplus(-z)) with l = 1 + (pos_weight - 1) y, for logits z and
    targets y: that is -w (pos_weight y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))), computed
    with the softplus that never overflows; then reduced.
    dz = w (l (sigmoid(z) - 1) + 1 - y) dloss (w (sigmoid(z) - y) dloss without pos_weight),
    dy = w ((pos_weight - 1) softplus(-z) - z) dloss."""

    @staticmethod
    def forward(ctx, z, y, weight=None, pos_weight=None, reduction="mean"):
        weighted_softplus = _softplus(-z)
        if pos_weight is not None:
            weighted_softplus *= (pos_weight - 1) * y + 1
        losses = (1 - y) * z + weighted_softplus
        if weight is not None:
            losses *= weight
        ctx.save_for_backward(z, y, weight, pos_weight)
        ctx.reduction = reduction
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        z, y, weight, pos_weight = ctx.saved_tensors
        xp = backend.array_module(grad)
        need_z, need_y = ctx.needs_input_grad[:2]
        scale = _expand_grad(grad, ctx.reduction, z.size)
        if weight is not None:
            scale = scale * weight
        grad_z = grad_y = None
        if need_z:
            sigmoid_less_one = (xp.tanh(z * 0.5) - 1) * 0.5  # sigmoid(z) - 1, without overflow
            if pos_weight is not None:
                sigmoid_less_one *= (pos_weight - 1) * y + 1
            grad_z = scale * (sigmoid_less_one + (1 - y))
        if need_y:
            spread = -z if pos_weight is None else (pos_weight - 1) * _softplus(-z) - z
            grad_y = scale * spread
        return grad_z, grad_y, None, None


# --- distance losses -----------------------------------------------------------------------


class _DistanceLoss(Function):
    """What MSELoss, L1Loss and SmoothL1Loss share: loss = f(d) elementwise for d = x - y, then
    reduced over all m elements; dx = f'(d) dloss (/ m for the mean), dy = -dx. A subclass gives
    f as `loss` and f' as `slope`, both taking the op's options (beta)."""

    loss: Callable[..., Any]
    slope: Callable[..., Any]

    @staticmethod
    def forward(ctx, prediction, target, reduction="mean", **options):
        diff = prediction - target
        ctx.save_for_backward(diff)
        ctx.reduction, ctx.options = reduction, options
        return _reduce(type(ctx).loss(diff, **options), reduction)

    @staticmethod
    def backward(ctx, grad):
        diff = ctx.saved_tensors[0]
        grad_prediction = type(ctx).slope(diff, **ctx.options)
        grad_prediction *= _expand_grad(grad, ctx.reduction, diff.size)
        need_prediction, need_target = ctx.needs_input_grad
        return (
            grad_prediction if need_prediction else None,
            -grad_prediction if need_target else None,
        )


class MSELoss(_DistanceLoss):
    """f(d) = d^2, f'(d) = 2 d."""

    name = "mse_loss"

    @staticmethod
    def loss(diff):
        return diff * diff

    @staticmethod
    def slope(diff):
        return diff * 2


class L1Loss(_DistanceLoss):
    """f(d) = |d|, f'(d) = sign(d) (0 at d = 0, as in PyTorch)."""

    @staticmethod
    def loss(diff):
        return backend.array_module(diff).abs(diff)

    @staticmethod
    def slope(diff):
        return backend.array_module(diff).sign(diff)


class SmoothL1Loss(_DistanceLoss):
    """f(d) = d^2 / (2 beta) where |d| < beta, else |d| - beta / 2 (the L1 loss for beta = 0);
    f'(d) = clip(d / beta, -1, 1) (sign(d) for beta = 0)."""

    @staticmethod
    def loss(diff, beta=1.0):
        xp = backend.array_module(diff)
        magnitude = xp.abs(diff)
        if not beta:
            return magnitude
        return xp.where(magnitude < beta, diff * diff * (0.5 / beta), magnitude - 0.5 * beta)

    @staticmethod
    def slope(diff, beta=1.0):
        xp = backend.array_module(diff)
        return xp.sign(diff) if not beta else xp.clip(diff * (1 / beta), -1, 1)


# --- the functional API: validation at the boundary -----------------------------------------


def _check_entries(bad: Any, values: Any, error: type, describe: Callable[[Any], str]) -> None:
    """Raise error(describe(shown)) when any entry of the boolean array `bad` is set, `shown`
    listing the bad entries of `values`. On the CPU the check is made at once; on a GPU it is
    deferred to the next read from the device (backend.defer_check, which raises IndexError;
    describe(None) gives its message), so that a training step never waits for the device
    just to check its inputs."""
    if not bad.size:
        return
    if type(bad) is not backend.HostArray:
        backend.defer_check(bad.any(), describe(None))
    elif bad.any():
        found = sorted(set(values[bad].tolist()), key=str)
        shown = ", ".join(str(v) for v in found[:10]) + (", ..." if len(found) > 10 else "")
        raise error(describe(shown))


def _check_labels(name: str, labels: Any, classes: int, ignore_index: int) -> None:
    """Labels must lie in [0, classes) or equal ignore_index; the bad ones are named on the CPU
    and checked at the next read from the device on a GPU."""
    if type(labels) is backend.HostArray and (
        not labels.size or (labels.min() >= 0 and labels.max() < classes)
    ):
        return  # the common case, two reductions on the host
    valid = f"valid labels are 0..{classes - 1}, and ignore_index={ignore_index}"

    def describe(shown: Any) -> str:
        if shown is None:
            return (
                f"{name}: a target label lay out of range for C={classes} classes ({valid}); on "
                "a GPU the labels are checked at the next read from the device, so the batch "
                "was one since the last read"
            )
        return f"{name}: target has label(s) {shown} out of range for C={classes} classes ({valid})"

    bad = (labels < 0) | (labels >= classes)
    bad &= labels != ignore_index
    _check_entries(bad, labels, IndexError, describe)


def _as_target(target: Any, like: Tensor) -> Tensor:
    """target as a Tensor on like's device; floating data given as a list or array takes like's
    dtype."""
    if isinstance(target, Tensor):
        return target
    converted = tensor(target, device=like.device)
    if backend.is_floating(converted.dtype) and converted.dtype != like.dtype:
        converted = tensor(target, dtype=like.dtype, device=like.device)
    return converted


def _check_scores(name: str, scores: Any, what: str) -> None:
    if not isinstance(scores, Tensor):
        raise TypeError(f"{name}: expected {what} as a Tensor, got {type(scores).__name__}")
    if scores.ndim < 2:
        raise ValueError(
            f"{name}: expected {what} of shape (N, C) or (N, C, d1, ...), got shape {scores.shape}"
        )


def _class_target(
    name: str, scores: Tensor, target: Any, what: str, ignore_index: int, probabilities: bool
) -> Tensor:
    """Check the target of (N, C, d1, ...) scores: integer labels (N, d1, ...) in [0, C) (or
    ignore_index), or, where `probabilities` are allowed, floating class probabilities of the
    scores' shape. The range check moves one boolean to the host; the labels only on error."""
    target = _as_target(target, scores)
    check_like(name, "target", target, scores, what, same_dtype=False)
    if probabilities and target.shape == scores.shape:
        if not backend.is_floating(target.dtype):
            raise TypeError(
                f"{name}: a target of the {what}' shape {scores.shape} holds class probabilities "
                f"and must be floating, got dtype {target.dtype}"
            )
        check_like(name, "target", target, scores, what)
        if ignore_index >= 0:
            raise ValueError(
                f"{name}: ignore_index={ignore_index} is not supported for class-probability "
                "targets (only a negative ignore_index, which matches no class)"
            )
        return target
    if target.dtype.kind not in "iu":
        or_probabilities = (
            f" or class probabilities of shape {scores.shape}" if probabilities else ""
        )
        raise TypeError(
            f"{name}: target must hold integer class indices (e.g. int64){or_probabilities}, "
            f"got dtype {target.dtype} (shape {target.shape})"
        )
    expected = scores.shape[:1] + scores.shape[2:]
    if target.ndim == len(expected) and target.shape[0] != scores.shape[0]:
        raise ValueError(
            f"{name}: {what} have batch size {scores.shape[0]} (shape {scores.shape}) but target "
            f"has {target.shape[0]} (shape {target.shape})"
        )
    if target.shape != expected:
        raise ValueError(
            f"{name}: expected target of shape {expected} for {what} of shape {scores.shape}, "
            f"got target shape {target.shape}"
        )
    _check_labels(name, target.data, scores.shape[1], ignore_index)
    return target


def _constant(name: str, label: str, value: Any, like: Tensor, fits: Callable, wanted: str):
    """An optional weight-like tensor: None, or a Tensor (made from a list or array if need be)
    on like's device with like's dtype whose shape passes `fits`, that needs no gradient."""
    if value is None:
        return None
    if not isinstance(value, Tensor):
        value = tensor(value, dtype=like.dtype, device=like.device)
    check_like(name, label, value, like)
    if not fits(value.shape):
        raise ValueError(
            f"{name}: {label} has shape {value.shape}, expected {wanted} for the input of shape "
            f"{like.shape}"
        )
    if value.requires_grad:
        raise ValueError(
            f"{name}: {label} must not require grad: the loss is not differentiable with "
            "respect to it (as in PyTorch)"
        )
    return value


def _class_weight(name: str, weight: Any, scores: Tensor) -> Tensor | None:
    classes = scores.shape[1]
    return _constant(
        name, "weight", weight, scores, lambda shape: shape == (classes,), f"({classes},)"
    )


def _broadcast_weight(name: str, label: str, weight: Any, like: Tensor) -> Tensor | None:
    def fits(shape: tuple) -> bool:
        return len(shape) <= like.ndim and all(
            size in (1, full) for size, full in zip(shape[::-1], like.shape[::-1])
        )

    return _constant(name, label, weight, like, fits, "a shape that broadcasts to it")


def check_class_options(name: str, ignore_index: Any, label_smoothing: Any = 0.0) -> None:
    """ignore_index must be an int and label_smoothing a number in [0, 1]."""
    if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    if (
        not isinstance(label_smoothing, (int, float))
        or isinstance(label_smoothing, bool)
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(
            f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}"
        )


def check_beta(name: str, beta: Any) -> None:
    """beta must be a number >= 0 (0 is the L1 loss)."""
    if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not beta >= 0:
        raise ValueError(f"{name}: beta must be a non-negative number, got {beta!r}")


@on_tensors_device
def cross_entropy(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer labels
    (N,) or (N, d1, ...), or against class probabilities of the logits' shape, computed stably
    in one op (log-softmax and the pick of the true class fused).

    weight (C,) weighs each class; labels equal to ignore_index add nothing (and their gradient
    is 0); label_smoothing eps mixes the target with the uniform distribution, eps / C each.
    The mean over labels divides by the summed weights of the kept labels (their count without
    weights); over probabilities, by the number of positions N d1 ..., as in PyTorch."""
    reduction = checked_reduction("cross_entropy", size_average, reduce, reduction)
    check_class_options("cross_entropy", ignore_index, label_smoothing)
    _check_scores("cross_entropy", input, "logits")
    target = _class_target("cross_entropy", input, target, "logits", ignore_index, True)
    weight = _class_weight("cross_entropy", weight, input)
    return CrossEntropy.apply(
        input,
        target,
        weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=float(label_smoothing),
    )


@on_tensors_device
def nll_loss(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...) (e.g. from
    log_softmax) at the integer labels (N,) or (N, d1, ...); weight and ignore_index as in
    cross_entropy, and so is the mean's divisor."""
    reduction = checked_reduction("nll_loss", size_average, reduce, reduction)
    check_class_options("nll_loss", ignore_index)
    _check_scores("nll_loss", input, "log_probs")
    target = _class_target("nll_loss", input, target, "log_probs", ignore_index, False)
    weight = _class_weight("nll_loss", weight, input)
    return NLLLoss.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction)


def _paired(name: str, prediction: Any, target: Any) -> Tensor:
    """The target of an elementwise loss: a Tensor of the floating input's shape, dtype and
    device (no broadcasting)."""
    if not isinstance(prediction, Tensor) or not backend.is_floating(prediction.dtype):
        what = type(prediction).__name__
        if isinstance(prediction, Tensor):
            what = f"dtype {prediction.dtype}"
        raise TypeError(f"{name}: expected a floating point input Tensor, got {what}")
    if not isinstance(target, Tensor):
        target = tensor(target, dtype=prediction.dtype, device=prediction.device)
    check_like(name, "target", target, prediction, shape=prediction.shape)
    return target


@on_tensors_device
def binary_cross_entropy(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy -w (y log x + (1 - y) log(1 - x)) of probabilities x in [0, 1]
    against targets y of the same shape, each log clamped at -100 as in PyTorch; weight
    broadcasts to the input. For logits use binary_cross_entropy_with_logits, which is stable."""
    reduction = checked_reduction("binary_cross_entropy", size_average, reduce, reduction)
    target = _paired("binary_cross_entropy", input, target)
    weight = _broadcast_weight("binary_cross_entropy", "weight", weight, input)

    def describe(shown: Any) -> str:
        if shown is None:
            return (
                "binary_cross_entropy: an input value lay outside [0, 1]; on a GPU the input is "
                "checked at the next read from the device, so the batch was one since the last "
                "read"
            )
        return f"binary_cross_entropy: input values must lie in [0, 1], got {shown}"

    probabilities = input.data
    _check_entries(
        ~((probabilities >= 0) & (probabilities <= 1)), probabilities, RuntimeError, describe
    )
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


@on_tensors_device
def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of sigmoid(input) against targets of the same shape, computed from
    the logits without overflow: -w (pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).
    weight broadcasts to the input, pos_weight (e.g. (C,) for (N, C): one per class) to the
    target."""
    name = "binary_cross_entropy_with_logits"
    reduction = checked_reduction(name, size_average, reduce, reduction)
    target = _paired(name, input, target)
    weight = _broadcast_weight(name, "weight", weight, input)
    pos_weight = _broadcast_weight(name, "pos_weight", pos_weight, input)
    return BinaryCrossEntropyWithLogits.apply(
        input, target, weight, pos_weight, reduction=reduction
    )


@on_tensors_device
def mse_loss(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Mean squared error (x - y)^2 between two tensors of the same shape."""
    reduction = checked_reduction("mse_loss", size_average, reduce, reduction)
    target = _paired("mse_loss", input, target)
    return MSELoss.apply(input, target, reduction=reduction)


@on_tensors_device
def l1_loss(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Mean absolute error |x - y| between two tensors of the same shape."""
    reduction = checked_reduction("l1_loss", size_average, reduce, reduction)
    target = _paired("l1_loss", input, target)
    return L1Loss.apply(input, target, reduction=reduction)


@on_tensors_device
def smooth_l1_loss(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1 (Huber-like) loss of d = x - y between two tensors of the same shape:
    d^2 / (2 beta) where |d| < beta, else |d| - beta / 2; beta = 0 gives the L1 loss."""
    reduction = checked_reduction("smooth_l1_loss", size_average, reduce, reduction)
    check_beta("smooth_l1_loss", beta)
    target = _paired("smooth_l1_loss", input, target)
    return SmoothL1Loss.apply(input, target, reduction=reduction, beta=float(beta))
