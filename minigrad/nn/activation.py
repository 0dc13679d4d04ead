"""Activation layers: ReLU, Sigmoid, Tanh, Softmax and LogSoftmax as Modules over the ops."""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.elementwise import relu, sigmoid, tanh
from minigrad.ops.reduce import log_softmax, softmax
from minigrad.tensor import Tensor


class ReLU(Module):
    """max(x, 0) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class Softmax(Module):
    """exp(x) normalised to sum to 1 along `dim`."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed stably."""

    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, self.dim)
