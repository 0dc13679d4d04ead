"""Activation layers: ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softmax and LogSoftmax
as Modules over the ops.

`inplace=True` is accepted where PyTorch has it, but minigrad computes out of place (it does not
differentiate in-place writes): the values and gradients are the same, the input is unchanged.
"""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.activation import check_approximate, elu, gelu, leaky_relu, silu
from minigrad.ops.elementwise import relu, sigmoid, tanh
from minigrad.ops.reduce import log_softmax, softmax
from minigrad.tensor import Tensor


class _InplaceActivation(Module):
    """An activation with PyTorch's `inplace` flag (computed out of place, see above)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def _inplace_repr(self, separator: str = ", ") -> str:
        return f"{separator}inplace=True" if self.inplace else ""

    def extra_repr(self) -> str:
        return self._inplace_repr(separator="")


class ReLU(_InplaceActivation):
    """max(x, 0) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class LeakyReLU(_InplaceActivation):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{self._inplace_repr()}"


class ELU(_InplaceActivation):
    """x where x > 0, else alpha * (e^x - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{self._inplace_repr()}"


class SiLU(_InplaceActivation):
    """x * sigmoid(x) elementwise (swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return silu(x)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF (approximate="none"), or the tanh approximation
    x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        check_approximate(approximate)
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


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
