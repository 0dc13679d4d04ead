"""Matrix products: matmul with NumPy's rules (1-d operands, batched and broadcast stacks), and
the fused affine map y = x W^T + b behind nn.Linear (one GEMM forward, two backward, each split
over minigrad's threads when large: backend.parallel_matmul)."""

from __future__ import annotations

import math

from minigrad import backend
from minigrad.arguments import check_like, unbroadcast
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, on_tensors_device, tensor_method

__all__ = ["matmul", "mm"]


class MatMul(Function):
    """y = a @ b;  da = dy @ b^T, db = a^T @ dy (stacked dims summed back to each shape).

    A 1-d a is treated as a row (1, k) and a 1-d b as a column (k, 1), then squeezed away."""

    name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if a.ndim == 1:
            grad = grad[..., None, :] if b.ndim > 1 else grad[..., None]
        if b.ndim == 1:
            grad = grad[..., None]
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(grad @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b


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


@tensor_method("matmul", "__matmul__", reflected="__rmatmul__")
def matmul(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {a.shape} @ {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align "
            f"({inner_a} columns vs {inner_b} rows)"
        )
    return MatMul.apply(a, b)


@tensor_method("mm")
def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two matrices (2-d only, as torch.mm; matmul broadcasts)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both operands must be 2-d matrices, got {a.shape} and {b.shape}")
    return matmul(a, b)


@on_tensors_device
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
    check_like("linear", "weight", weight, x)
    if bias is not None:
        check_like("linear", "bias", bias, x)
    return Linear.apply(x, weight, bias)
