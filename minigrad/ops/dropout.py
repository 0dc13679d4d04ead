"""Inverted dropout: zero each element (dropout) or each whole channel (dropout2d) with
probability p, and scale the survivors by 1 / (1 - p)."""

from __future__ import annotations

import warnings
from numbers import Real

from minigrad import backend
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, on_tensors_device


class Dropout(Function):
    """y = x * keep / (1 - p) with keep ~ Bernoulli(1 - p) per element (all zero for p = 1);
    dx = dy * keep / (1 - p). With `mask_shape` (x's shape with some dims 1) one draw of keep
    covers each broadcast run: (N, C, 1, 1) drops whole channels."""

    @staticmethod
    def forward(ctx, x, p=0.5, mask_shape=None):
        shape = x.shape if mask_shape is None else mask_shape
        uniform = backend.random_uniform(shape, backend.float32, backend.device_of(x))
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


@on_tensors_device
def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout with the device's generator; x itself when not training or p == 0."""
    check_probability(p)
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=float(p))


@on_tensors_device
def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of x (N, C, H, W): each channel x[n, c] is zeroed whole with probability
    p, the others scaled by 1 / (1 - p); x itself when not training or p == 0.

    A 3-d input is taken as (N, C, L), as PyTorch 2.13 does (with its warning that this will
    change to (C, H, W)). inplace=True is accepted but computes out of place: the same values
    and gradients, and x is left as it is."""
    check_probability(p)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected input of shape (N, C, H, W) or (N, C, L), got {x.shape}"
        )
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim, as in PyTorch 2.13 (which will change this to (C, H, W))",
            stacklevel=2,
        )
    if not training or p == 0:
        return x
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
    return Dropout.apply(x, p=float(p), mask_shape=mask_shape)
