"""Smooth and leaky activations (GELU, LeakyReLU, ELU, SiLU): one Function each, forward and
gradient side by side, and the normal CDF that GELU needs (NumPy and CuPy have no erf).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from minigrad import backend
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, on_tensors_device

__all__ = ["gelu", "leaky_relu", "elu", "silu"]

APPROXIMATIONS = ("none", "tanh")
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715  # the cubic term of GELU's tanh approximation (Hendrycks & Gimpel)


class GELU(Function):
    """approximate="none":  y = x * Phi(x), Phi the standard normal CDF;
        dx = dy * (Phi(x) + x * phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
    approximate="tanh":  y = x/2 * (1 + t),  t = tanh(u),  u = sqrt(2/pi) (x + 0.044715 x^3);
        dx = dy * ((1 + t) / 2 + x/2 * (1 - t^2) * sqrt(2/pi) (1 + 3 * 0.044715 x^2))."""

    @staticmethod
    def forward(ctx, x, approximate="none"):
        xp = backend.array_module(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x * x * x))
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = normal_cdf(x)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, cdf_or_t = ctx.saved_tensors  # Phi(x), or t for approximate="tanh"
        if ctx.approximate == "tanh":
            t = cdf_or_t
            du_dx = _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du_dx)
        pdf = backend.array_module(x).exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf_or_t + x * pdf)


class LeakyReLU(Function):
    """y = x where x > 0, else negative_slope * x;
    dx = dy where x > 0, else negative_slope * dy (PyTorch's choice at x = 0)."""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return backend.array_module(x).where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return backend.array_module(grad).where(positive, grad, grad * ctx.negative_slope)


class ELU(Function):
    """y = x where x > 0, else alpha * (e^x - 1);  dx = dy where x > 0, else dy * alpha * e^x.

    e^x - 1 is expm1, exact for small |x|; x is clipped at 0 first so that the branch not
    taken cannot overflow."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        xp = backend.array_module(x)
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = backend.array_module(x)
        return xp.where(x > 0, grad, grad * (ctx.alpha * xp.exp(xp.minimum(x, 0))))


class SiLU(Function):
    """y = x * s,  s = sigmoid(x) = 1 / (1 + e^-x) (computed as (tanh(x/2) + 1) / 2, which
    never overflows);  dx = dy * s * (1 + x * (1 - s))."""

    name = "silu"

    @staticmethod
    def forward(ctx, x):
        s = backend.array_module(x).tanh(x * 0.5)
        s += 1
        s *= 0.5
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * s * (1 + x * (1 - s))


# W. J. Cody's rational Chebyshev approximations of the normal CDF (Math. Comp. 23 (1969),
# 631-637; the algorithm of R's pnorm), each polynomial's coefficients from the highest power
# down. Central range |x| <= _CENTRAL_END: Phi(x) = 1/2 + x * P(x^2) / Q(x^2).
_CENTRAL_END = 0.67448975
_CENTRAL_P = (
    0.065682337918207449113,
    2.2352520354606839287,
    161.02823106855587881,
    1067.6894854603709582,
    18154.981253343561249,
)
_CENTRAL_Q = (
    1.0,
    47.20258190468824187,
    976.09855173777669322,
    10260.932208618978205,
    45507.789335026729956,
)
# Middle range up to sqrt(32): the lower tail Phi(-|x|) = exp(-x^2 / 2) * P(|x|) / Q(|x|).
_MIDDLE_END = math.sqrt(32)
_MIDDLE_P = (
    1.0765576773720192317e-8,
    0.39894151208813466764,
    8.8831497943883759412,
    93.506656132177855979,
    597.27027639480026226,
    2494.5375852903726711,
    6848.1904505362823326,
    11602.651437647350124,
    9842.7148383839780218,
)
_MIDDLE_Q = (
    1.0,
    22.266688044328115691,
    235.38790178262499861,
    1519.377599407554805,
    6485.558298266760755,
    18615.571640885098091,
    34900.952721145977266,
    38912.003286093271411,
    19685.429676859990727,
)
# Far tail: Phi(-|x|) = exp(-x^2 / 2) / |x| * (1 / sqrt(2 pi) - w P(w) / Q(w)), w = 1 / x^2.
_TAIL_P = (
    0.02307344176494017303,
    0.21589853405795699,
    0.1274011611602473639,
    0.022235277870649807,
    0.001421619193227893466,
    2.9112874951168792e-5,
)
_TAIL_Q = (
    1.0,
    1.28426009614491121,
    0.468238212480865118,
    0.0659881378689285515,
    0.00378239633202758244,
    7.29751555083966205e-5,
)


def _polynomial(coefficients: tuple, x: Any) -> Any:
    """sum(c_k x^k) by Horner's rule, coefficients from the highest power down."""
    value = coefficients[0]
    for coefficient in coefficients[1:]:
        value = value * x + coefficient
    return value


def _ratio(numerator: tuple, denominator: tuple, x: Any) -> Any:
    return _polynomial(numerator, x) / _polynomial(denominator, x)


def normal_cdf(x: Any) -> Any:
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2 of an array, in its dtype: Cody's approximations,
    relative error below 1e-13 in float64 over [-12, 12] (tested against math.erfc).

    Each range is evaluated on the whole array with x clipped into it (no overflow or 0 / 0 in
    the ranges not taken), and xp.where picks the right one. The tails are computed as
    Phi(-|x|) directly, so GELU keeps its relative precision for very negative x. Beyond
    |x| = 40 the tail exp(-x^2 / 2) is 0 even in float64: |x| is clipped there, which changes
    no value and keeps x^2 finite. float16 is computed in float32: the polynomials' values
    overflow float16."""
    if x.dtype == backend.float16:
        return normal_cdf(x.astype(backend.float32)).astype(x.dtype)
    xp = backend.array_module(x)
    magnitude = xp.minimum(xp.abs(x), 40.0)
    central_x = xp.clip(x, -_CENTRAL_END, _CENTRAL_END)
    central = 0.5 + central_x * _ratio(_CENTRAL_P, _CENTRAL_Q, central_x * central_x)
    middle = _ratio(_MIDDLE_P, _MIDDLE_Q, xp.clip(magnitude, _CENTRAL_END, _MIDDLE_END))
    far = xp.maximum(magnitude, _MIDDLE_END)
    w = 1 / (far * far)
    tail = (1 / math.sqrt(2 * math.pi) - w * _ratio(_TAIL_P, _TAIL_Q, w)) / far
    lower_tail = xp.exp(-0.5 * magnitude * magnitude)
    lower_tail *= xp.where(magnitude <= _MIDDLE_END, middle, tail)
    outer = xp.where(x > 0, 1 - lower_tail, lower_tail)
    return xp.where(magnitude <= _CENTRAL_END, central, outer)


# --- the functional API -------------------------------------------------------------------


def _check_number(op: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")


def check_approximate(approximate: Any) -> None:
    """ValueError unless approximate is "none" or "tanh"."""
    if approximate not in APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _check_floating(op: str, x: Tensor) -> None:
    if not backend.is_floating(x.dtype):
        raise TypeError(f"{op}: expected a floating tensor, got dtype {x.dtype}")


@on_tensors_device
def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 (PyTorch's name)
    """GELU(x) = x * Phi(x) (approximate="none"), or its tanh approximation
    x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")."""
    check_approximate(approximate)
    _check_floating("gelu", input)
    return GELU.apply(input, approximate=approximate)


@on_tensors_device
def leaky_relu(
    input: Tensor,  # noqa: A002
    negative_slope: float = 0.01,
    inplace: bool = False,
) -> Tensor:
    """x where x > 0, else negative_slope * x. inplace=True is accepted as in PyTorch but
    computes out of place: the same values and gradients, and the input is left as it is."""
    _check_number("leaky_relu", "negative_slope", negative_slope)
    _check_floating("leaky_relu", input)
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


@on_tensors_device
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else alpha * (e^x - 1). inplace=True computes out of place (same values
    and gradients; the input is left as it is)."""
    _check_number("elu", "alpha", alpha)
    _check_floating("elu", input)
    return ELU.apply(input, alpha=float(alpha))


@on_tensors_device
def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (also called swish). inplace=True computes out of place (same values and
    gradients; the input is left as it is)."""
    _check_floating("silu", input)
    return SiLU.apply(input)
