"""The autograd engine: accumulation, graph shapes, freeing, grad mode, and its errors."""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.engine import Function


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
    with pytest.warns(UserWarning, match="not a leaf"):
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


def test_a_backward_that_fails_midway_leaves_every_grad_as_it_was():
    # z's own node runs first and sends w a gradient; the walk then reaches y's freed node.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    z = (y * w).sum()
    with pytest.raises(RuntimeError, match="already freed"):
        z.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_nodes_run_after_every_node_that_feeds_them_whatever_the_argument_order():
    # b is recorded after a but is the first argument of c: c's gradient must reach x through
    # both branches before x's own node (x2 = x * x) runs.
    x0 = mg.tensor([1.5, -2.0], dtype=mg.float64, requires_grad=True)
    x = x0 * x0
    a = x * 2
    b = x.exp()
    c = b * a + a
    c.sum().backward()
    x_value = x0.data**2
    dx = np.exp(x_value) * 2 * x_value + np.exp(x_value) * 2 + 2
    np.testing.assert_allclose(x0.grad.numpy(), dx * 2 * x0.data, rtol=1e-12)


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


# --- every leaf's .grad owns its array --------------------------------------------------------


def test_leaf_gradients_never_share_an_array():
    lin = mg.nn.Linear(3, 2)
    q = mg.zeros(2, requires_grad=True)
    (lin.bias + q).sum().backward()
    assert not np.shares_memory(lin.bias.grad.data, q.grad.data)
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(q.grad.numpy(), [1.0, 1.0])  # q's gradient is its own
    q.grad.data *= 0.5  # clipping one gradient by hand leaves the other alone
    np.testing.assert_array_equal(lin.bias.grad.numpy(), [0.0, 0.0])

    p1, p2 = mg.ones(2, requires_grad=True), mg.ones(2, requires_grad=True)
    ((p1 + p2) * 2).sum().backward()
    assert p1.grad.data is not p2.grad.data
    assert not np.shares_memory(p1.grad.data, p2.grad.data)


def test_leaf_gradients_are_writable_contiguous_arrays_of_the_leafs_shape_and_dtype():
    p = mg.ones(2, 3, requires_grad=True)
    p.sum().backward()  # the sum's backward broadcasts a 0-d gradient: a read-only view
    grad = p.grad.data
    assert grad.flags.writeable and grad.flags.c_contiguous and grad.flags.owndata
    assert grad.shape == (2, 3) and grad.dtype == np.float32
    optimizer = mg.optim.SGD([p], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros((2, 3)))
    assert p.grad.data is grad  # zeroed in place, as PyTorch does


def test_leaf_gradient_is_not_the_callers_gradient_nor_a_saved_array():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    given = mg.tensor([3.0, 4.0])
    x.backward(given)
    assert not np.shares_memory(x.grad.data, given.data)

    class ReturnsItsInput(Function):  # y = x^2 / 2 for x = 1, whose gradient is x itself
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x / 2

        @staticmethod
        def backward(ctx, grad):
            return ctx.saved_tensors[0]

    w = mg.ones(2, requires_grad=True)
    ReturnsItsInput.apply(w).sum().backward()
    assert not np.shares_memory(w.grad.data, w.data)


# --- the engine checks what backward returns --------------------------------------------------


def _function_returning(make_grads):
    class Custom(Function):
        @staticmethod
        def forward(ctx, *arrays):
            return arrays[0] * 2

        @staticmethod
        def backward(ctx, grad):
            return make_grads(grad)

    return Custom


@pytest.mark.parametrize(
    "make_grads, shape, message",
    [
        (
            lambda g: np.ones((1, 2), np.float32),
            (3, 2),
            r"input 0: expected shape \(3, 2\), got \(1, 2\)",
        ),
        (lambda g: np.float32(1.0), (3,), r"input 0: expected shape \(3,\), got \(\)"),
    ],
)
def test_backward_returning_a_gradient_of_the_wrong_shape_raises(make_grads, shape, message):
    x = mg.ones(shape, requires_grad=True)
    y = _function_returning(make_grads).apply(x)
    with pytest.raises(
        RuntimeError, match=r"custom\.backward returned an invalid gradient for " + message
    ):
        y.sum().backward()


def test_backward_returning_too_few_or_too_many_gradients_raises():
    a, b = mg.ones(2, requires_grad=True), mg.ones(2, requires_grad=True)
    too_few = _function_returning(lambda g: g * 2).apply(a, b)
    with pytest.raises(RuntimeError, match="returned 1 gradients but forward took 2 inputs"):
        too_few.sum().backward()
    too_many = _function_returning(lambda g: (g, g, g)).apply(a, b)
    with pytest.raises(RuntimeError, match="returned 3 gradients but forward took 2 inputs"):
        too_many.sum().backward()


def test_backward_gradient_dtype_is_the_inputs_own():
    x = mg.ones(3, requires_grad=True)
    _function_returning(lambda g: g.astype(np.float64) * 2).apply(x).sum().backward()
    assert x.grad.dtype == np.float32  # another floating dtype is converted, as in PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    y = _function_returning(lambda g: np.ones(3, np.int64)).apply(mg.ones(3, requires_grad=True))
    with pytest.raises(TypeError, match="input 0: expected dtype float32, got int64"):
        y.sum().backward()


def test_backward_gradient_on_another_device_raises(device_array):
    """With a stand-in device array: a gradient on the wrong device names both devices."""
    y = _function_returning(lambda g: (g * 2).view(device_array)).apply(
        mg.ones(2, requires_grad=True)
    )
    with pytest.raises(RuntimeError, match="input 0: expected device cpu, got cuda:0"):
        y.sum().backward()


def test_forward_returning_several_arrays_raises():
    class TwoOutputs(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

    with pytest.raises(
        TypeError, match="two_outputs.forward returned tuple; a Function has one output"
    ):
        TwoOutputs.apply(mg.ones(2, requires_grad=True))


# --- tensors that changed after their op saved them -------------------------------------------


def test_backward_through_a_graph_whose_saved_weights_were_stepped_raises():
    model = mg.nn.Linear(3, 2)
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = model(mg.ones(4, 3)).sum()
    initialized = model.weight._version  # nn.init wrote it in place once
    loss.backward(retain_graph=True)
    optimizer.step()
    assert model.weight._version == initialized + 1 == 2
    with pytest.raises(
        RuntimeError,
        match=r"linear: input 1 \(shape \(2, 3\)\) was modified in place after the op saved it "
        r"for backward \(it is at version 2 now\)",
    ):
        loss.backward()


def test_in_place_writes_bump_the_version_and_unsaved_inputs_may_change():
    a = mg.ones(3, requires_grad=True)
    b = mg.ones(3)
    y = a + b  # add saves neither input
    b.add_(1)
    b[0] = 5.0
    assert b._version == 2
    y.sum().backward()  # nothing saved changed: the gradient is still right
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0, 1.0])

    z = a * b  # mul saves both
    b.zero_()
    with pytest.raises(RuntimeError, match=r"mul: input 1 \(shape \(3,\)\) was modified in place"):
        z.sum().backward()


def test_in_place_write_of_an_ops_saved_output_raises():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    with mg.no_grad():
        y.fill_(0.0)
    with pytest.raises(RuntimeError, match=r"exp: its output \(shape \(2,\)\) was modified"):
        y.sum().backward()


def test_in_place_writes_to_a_tensor_that_requires_grad_need_no_grad():
    p = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"zero_: a leaf tensor that requires grad cannot be"):
        p.zero_()
    with pytest.raises(RuntimeError, match=r"__setitem__: a tensor computed by an op"):
        (p * 2)[0] = 1.0
    with mg.no_grad():
        p.copy_(mg.tensor([3.0, 4.0]))
        p[1] = 7.0
    np.testing.assert_array_equal(p.numpy(), [3.0, 7.0])
    assert p._version == 2


def test_a_reshaped_gradient_is_taken_whole_but_a_shared_one_is_copied():
    w = mg.ones(2, 3, requires_grad=True)
    (w.reshape(6) * mg.arange(6.0)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 1, 2], [3, 4, 5]])
    assert w.grad.data.flags.c_contiguous and w.grad.data.flags.writeable

    p, q = mg.ones(2, 3, requires_grad=True), mg.ones(6, requires_grad=True)
    (p.reshape(6) + q).sum().backward()  # one upstream array: q's, and a reshape of it for p
    assert not np.shares_memory(p.grad.data, q.grad.data)

    a, b = mg.ones(2, requires_grad=True), mg.ones(3, requires_grad=True)
    mg.cat([a, b]).sum().backward()  # slices of one gradient array
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])
