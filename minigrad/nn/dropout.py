"""Dropout: inverted dropout while training, the identity in eval mode."""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.dropout import check_probability, dropout
from minigrad.tensor import Tensor


class Dropout(Module):
    """Zeroes each element with probability p during training and scales the rest by
    1 / (1 - p), so eval mode needs no rescaling."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        check_probability(p)
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
