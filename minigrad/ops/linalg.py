"""Matrix products: matmul with NumPy's rules (1-d operands, batched and broadcast stacks)."""

from __future__ import annotations

from minigrad.autograd import Function
from minigrad.ops.elementwise import unbroadcast
from minigrad.tensor import Tensor


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
