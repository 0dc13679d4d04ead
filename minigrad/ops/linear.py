"""The fused affine map y = x W^T + b behind nn.Linear: one GEMM forward, two GEMMs backward
(each split over minigrad's threads when large, see backend.parallel_matmul)."""

from __future__ import annotations

import math

from minigrad import backend
from minigrad.autograd import Function
from minigrad.tensor import Tensor


class Linear(Function):
    """y = x W^T + b for x of shape (*, in), W (out, in), b (out,) or None.

    With x and dy flattened to (m, in) and (m, out):  dx = dy W,  dW = dy^T x,  db = sum_m dy.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        rows = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # no -1: a size may be 0
        out = backend.parallel_matmul(rows, weight.T)
        if bias is not None:
            out += bias
        ctx.save_for_backward(rows, weight)
        ctx.input_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        rows, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        grad_rows = grad.reshape(rows.shape[0], weight.shape[0])
        grad_x = (
            backend.parallel_matmul(grad_rows, weight).reshape(ctx.input_shape) if need_x else None
        )
        grad_weight = backend.parallel_matmul(grad_rows.T, rows) if need_weight else None
        grad_bias = grad_rows.sum(axis=0) if need_bias else None
        return grad_x, grad_weight, grad_bias


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b: x of shape (*, in_features), weight (out_features, in_features), bias
    (out_features,) or None."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out, in), got shape {weight.shape}")
    out_features, in_features = weight.shape
    if x.ndim == 0 or x.shape[-1] != in_features:
        features = x.shape[-1] if x.ndim else "no"
        raise ValueError(
            f"linear: input has {features} features (shape {x.shape}) but weight expects "
            f"{in_features} (shape {weight.shape})"
        )
    if bias is not None and bias.shape != (out_features,):
        raise ValueError(
            f"linear: bias has shape {bias.shape} but weight has {out_features} output features "
            f"(shape {weight.shape}); expected bias shape ({out_features},)"
        )
    for name, other in (("weight", weight), ("bias", bias)):
        if other is not None and other.dtype != x.dtype:
            raise TypeError(
                f"linear: input has dtype {x.dtype} but {name} has dtype {other.dtype}; "
                "convert one of them with .to(dtype)"
            )
    return Linear.apply(x, weight, bias)
