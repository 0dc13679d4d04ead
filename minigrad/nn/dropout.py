"""Dropout and Dropout2d: inverted dropout while training, the identity in eval mode."""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.dropout import check_probability, dropout, dropout2d
from minigrad.tensor import Tensor


class Dropout(Module):
    """Zeroes each element with probability p during training and scales the rest by
    1 / (1 - p), so eval mode needs no rescaling. inplace=True is accepted as in PyTorch but
    computes out of place (the same values and gradients; the input is left as it is)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        check_probability(p)
        self.p = p
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) inputs with probability p during training (each
    x[n, c] is kept or dropped as one) and scales the kept ones by 1 / (1 - p); the identity
    in eval mode. Neighbouring pixels are correlated, so element dropout barely regularizes
    conv features; dropping channels does. inplace as Dropout's."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training)
