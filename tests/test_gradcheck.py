"""minigrad.gradcheck: a NaN or Inf on either side (analytic or numerical) is a failure, reported
like any other mismatch with the input, the element and both values."""

import math

import numpy
import pytest

import minigrad as mg
from minigrad import Function


def backward_times(factor: float):
    """The identity function whose backward scales its gradient by `factor`."""

    class Scaled(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad * factor

    return Scaled.apply


@pytest.mark.parametrize("factor", [math.nan, math.inf, -math.inf])
def test_non_finite_analytic_gradient_fails(factor):
    x = mg.tensor([[0.5, 1.0]], requires_grad=True)
    expected = rf"input 0 \(shape \(1, 2\)\) at element \(0, 0\): analytic {factor} vs numerical"
    with pytest.raises(mg.GradcheckError, match=expected):
        mg.gradcheck(backward_times(factor), x)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_nan_numerical_gradient_fails():
    # log(x - 1) just above 1: x - eps leaves the domain, so the central difference is NaN
    # while the analytic 1 / (x - 1) is finite.
    x = mg.tensor([1 + 5e-7], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"element \(0,\): analytic \S+ vs numerical nan"):
        mg.gradcheck(lambda t: (t - 1).log(), x)


class JumpToInf(Function):
    """x up to 0.5, Inf above; its backward passes the gradient through (right below 0.5)."""

    @staticmethod
    def forward(ctx, x):
        return numpy.where(x > 0.5, numpy.inf, x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_infinite_numerical_gradient_fails():
    # Before, an Inf numerical value made the tolerance (atol + rtol * |numeric|) Inf too.
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"analytic [-\d.]+ vs numerical -?inf"):
        mg.gradcheck(JumpToInf.apply, x)


def test_finite_matching_gradients_still_pass():
    x = mg.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    assert mg.gradcheck(lambda t: (t * t).exp(), x)
