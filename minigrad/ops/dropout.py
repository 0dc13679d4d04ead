"""Inverted dropout: zero each element with probability p, scale the survivors by 1 / (1 - p)."""

from __future__ import annotations

from numbers import Real

from minigrad import backend
from minigrad.autograd import Function
from minigrad.tensor import Tensor


class Dropout(Function):
    """y = x * keep / (1 - p) with keep ~ Bernoulli(1 - p) per element (all zero for p = 1);
    dx = dy * keep / (1 - p)."""

    @staticmethod
    def forward(ctx, x, p=0.5):
        uniform = backend.random_uniform(x.shape, backend.float32, backend.device_of(x))
        keep = uniform >= p
        ctx.scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        ctx.save_for_backward(keep)
        out = x * keep
        out *= ctx.scale
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad * ctx.saved_tensors[0]
        grad_x *= ctx.scale
        return grad_x


def check_probability(p: float) -> None:
    """ValueError unless p is a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout with the device's generator; x itself when not training or p == 0."""
    check_probability(p)
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=float(p))
