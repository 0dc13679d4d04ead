"""The autograd engine: accumulation, graph shapes, freeing, grad mode, and its errors."""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function


def test_tensor_used_twice_accumulates():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_diamond_graph():
    x = mg.tensor(3.0, dtype=mg.float64, requires_grad=True)
    a = x * 2
    b = x.exp()
    y = a * b + a  # dy/dx = 2 e^x + 2x e^x + 2
    y.backward()
    expected = 2 * np.exp(3.0) + 6 * np.exp(3.0) + 2
    assert x.grad.item() == pytest.approx(expected, rel=1e-12)
    assert mg.gradcheck(
        lambda t: (t * 2) * t.exp() + t * 2, mg.tensor([0.3, -0.2], requires_grad=True)
    )


def test_deep_chain_of_100000_ops_needs_no_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad.item() == 1.0


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_backward_with_explicit_gradient():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(mg.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 12.0])


def test_non_leaf_tensors_get_no_grad_and_leaves_are_leaves():
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    assert x.is_leaf and not y.is_leaf
    assert y.grad is None


def test_no_grad_records_nothing():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2 + 1
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_as_decorator():
    @mg.no_grad()
    def double(t):
        return t * 2

    assert not double(mg.tensor([1.0], requires_grad=True)).requires_grad
    assert mg.is_grad_enabled()


def test_graph_is_freed_after_backward():
    x = mg.tensor(np.ones(1000), requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert len(node.saved_tensors) == 1
    y.sum().backward()
    assert node.released and not hasattr(node, "inputs")
    assert node.saved_tensors == ()


def test_saved_arrays_are_released_for_garbage_collection():
    x = mg.tensor(np.ones(10), requires_grad=True)
    y = x * 2
    node = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y
    gc.collect()
    assert node() is None


def test_second_backward_raises_unless_retained():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_needs_a_gradient():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar output, got shape \(2,\)"):
        y.backward()
    with pytest.raises(
        RuntimeError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"
    ):
        y.backward(mg.ones(3))


def test_backward_without_grad_requirement_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mg.tensor([1.0]) * 2).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point tensors"):
        mg.tensor([1, 2], requires_grad=True)


def test_detach_cuts_the_graph():
    x = mg.tensor([2.0], requires_grad=True)
    y = x.detach() * x
    y.sum().backward()
    assert x.grad.item() == 2.0


class Cube(Function):
    """y = x^3;  dx = 3 x^2 dy (a user-defined op through the public mechanism)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


def test_user_defined_function():
    x = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(Cube.apply, x)
    assert Cube.apply(x).grad_fn.name == "cube"


def test_needs_input_grad_lets_backward_skip_work():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            seen["needs"] = ctx.needs_input_grad
            return grad, None

    a = mg.tensor([1.0], requires_grad=True)
    Probe.apply(a, mg.tensor([2.0])).sum().backward()
    assert seen["needs"] == (True, False)


def test_gradcheck_reports_input_element_and_both_values():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.saved_tensors[0]  # missing the factor 2

    x = mg.tensor([[0.5, 1.0]], requires_grad=True)
    with pytest.raises(
        mg.GradcheckError, match=r"input 0 .* element \(0, 0\): analytic .* numerical"
    ):
        mg.gradcheck(WrongSquare.apply, x)


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="no input Tensor has requires_grad"):
        mg.gradcheck(lambda t: t * 2, mg.tensor([1.0]))


class _RecordsRetainGraph(Function):
    seen: list = []

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        _RecordsRetainGraph.seen.append(ctx.retain_graph)
        return grad * 2


def test_backward_tells_the_node_whether_its_saved_arrays_outlive_it():
    _RecordsRetainGraph.seen = []
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = _RecordsRetainGraph.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert _RecordsRetainGraph.seen == [True, False]
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_tensor_passed_as_keyword_is_refused():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor=None):
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"keyword argument \['factor'\].*positionally"):
        Scale.apply(x, factor=mg.tensor([2.0]))
    assert Scale.apply(x, factor=2.0).item() == 2.0
