"""minigrad.autograd as torch.autograd: the Tensor-level Function (PyTorch's tutorial code run
unchanged), autograd.grad and backward, tensor hooks, retain_grad, and autograd.gradcheck."""

import warnings

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as torch
from minigrad.autograd import Function, gradcheck


# --- PyTorch's custom-Function tutorial, its bodies unchanged ---------------------------------
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class LinearFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MulConstant(Function):
    """PyTorch 2's style: forward without ctx, then setup_context."""

    @staticmethod
    def forward(tensor, constant):
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        tensor, constant = inputs
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


def double(*shape):
    return torch.randn(*shape, dtype=torch.double, requires_grad=True)


def test_my_relu_passes_on_positive_parts_and_checks_against_finite_differences():
    x = torch.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = MyReLU.apply(x)
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0, 0.0, 4.0])
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name == "MyReLU"
    y.backward(torch.tensor([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 20.0, 0.0, 40.0])
    away_from_the_kink = torch.tensor([[-0.7, 0.4, 1.3], [0.9, -1.1, -0.2]], dtype=torch.double)
    assert gradcheck(MyReLU.apply, (away_from_the_kink.requires_grad_(),), eps=1e-6, atol=1e-4)


def test_linear_function_as_in_the_tutorial_with_and_without_bias():
    input = (double(20, 20), double(30, 20))
    assert gradcheck(LinearFunction.apply, input, eps=1e-6, atol=1e-4)  # no bias: 3 grads
    assert gradcheck(LinearFunction.apply, (double(4, 3), double(5, 3), double(5)))
    x, w, b = torch.ones(2, 3), torch.full((4, 3), 2.0, requires_grad=True), torch.zeros(4)
    out = LinearFunction.apply(x, w, b)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 4), 6.0))
    out.sum().backward()  # d sum / dW = sum over the batch of x: 2 everywhere
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 3), 2.0))
    assert x.grad is None and b.grad is None


def test_needs_input_grad_has_one_entry_per_argument():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            seen["needs"] = ctx.needs_input_grad
            return a * b * scale

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None, None

    Probe.apply(torch.ones(2, requires_grad=True), torch.ones(2), 3.0)
    assert seen["needs"] == (True, False, False)


def test_setup_context_style_and_keyword_arguments():
    x = double(3)
    y = MulConstant.apply(x, 4.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])
    assert gradcheck(lambda t: MulConstant.apply(t, constant=-2.5), double(2, 2))


def test_output_is_untracked_without_grad_mode_or_inputs_requiring_grad():
    assert not MyReLU.apply(torch.ones(2)).requires_grad
    with torch.no_grad():
        assert MyReLU.apply(torch.ones(2, requires_grad=True)).grad_fn is None


def test_forward_returning_its_input_gives_a_new_tensor_in_the_graph():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    x = torch.ones(3, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn is not None and x.is_leaf
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_mark_non_differentiable_output_and_integer_outputs_need_no_node():
    class ArgMaxAsFloat(Function):
        @staticmethod
        def forward(ctx, x):
            output = x.argmax().float()
            ctx.mark_non_differentiable(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            return None

    x = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    index = ArgMaxAsFloat.apply(x)
    assert index.item() == 1.0 and not index.requires_grad and index.grad_fn is None


def test_mark_dirty_of_a_leaf_that_requires_grad_raises_as_pytorch():
    class DoubleInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    leaf = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used"):
        DoubleInPlace.apply(leaf)
    x = torch.ones(2, requires_grad=True)
    doubled = DoubleInPlace.apply(x * 1)
    doubled.sum().backward()
    np.testing.assert_array_equal(doubled.detach().numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_ctx_keeps_plain_attributes_and_set_materialize_grads_is_accepted():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.set_materialize_grads(False)
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.factor, None

    x = torch.ones(2, requires_grad=True)
    Scale.apply(x, 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# --- errors -----------------------------------------------------------------------------
def test_wrong_count_of_returned_gradients_names_the_function():
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output

    y = TwoGrads.apply(torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="TwoGrads.backward returned 2 gradients but forward"):
        y.sum().backward()


def test_gradient_of_the_wrong_shape_or_type_names_the_function_and_input():
    class Truncates(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output[:1]

    class ReturnsANumber(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return 3.0

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Truncates.backward .* input 0: expected shape \(2,\)"):
        Truncates.apply(x).sum().backward()
    with pytest.raises(TypeError, match="ReturnsANumber.backward returned float as gradient 0"):
        ReturnsANumber.apply(x).sum().backward()


def test_saved_tensor_modified_in_place_raises_pytorchs_error():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output

    x = torch.ones(3, requires_grad=True)
    hidden = x * 1
    out = Square.apply(hidden)
    with torch.no_grad():
        hidden.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"modified by an inplace operation: saved tensor 0 of Square \(shape \(3,\), "
        r"dtype float32\) is at version 1; expected version 0",
    ):
        out.sum().backward()


def test_saved_tensors_after_backward_freed_the_graph():
    class Saves(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    out = Saves.apply(torch.ones(2, requires_grad=True))
    out.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        _ = out.grad_fn.saved_tensors
    assert repr(out).endswith("grad_fn=Saves)")


def test_forward_returning_a_tuple_is_a_clear_error():
    class TwoOutputs(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a * 2 + grad_b * 3

    with pytest.raises(TypeError, match="TwoOutputs.forward returned a tuple of 2 values; a min"):
        TwoOutputs.apply(torch.ones(2, requires_grad=True))


def test_save_for_backward_takes_only_tensors():
    class SavesANumber(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    with pytest.raises(TypeError, match="can only save Tensors .* argument 1 is float"):
        SavesANumber.apply(torch.ones(2, requires_grad=True))


# --- autograd.grad and autograd.backward --------------------------------------------------
def test_grad_returns_a_tuple_of_hand_computed_values_and_leaves_grad_alone():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    hidden = x * w
    y = (hidden * hidden).sum()  # y = sum (x w)^2: dy/dx = 2 x w^2, dy/dw = 2 w x^2
    grad_x, grad_w, grad_hidden = torch.autograd.grad(y, (x, w, hidden))
    np.testing.assert_allclose(grad_x.numpy(), [0.5, 4.0, 24.0])
    np.testing.assert_allclose(grad_w.numpy(), [1.0, -8.0, 36.0])
    np.testing.assert_allclose(grad_hidden.numpy(), [1.0, -4.0, 12.0])  # 2 x w
    assert x.grad is None and w.grad is None


def test_grad_of_one_tensor_with_grad_outputs_and_retain_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    (first,) = torch.autograd.grad(y, x, grad_outputs=torch.tensor([1.0, 10.0]), retain_graph=True)
    np.testing.assert_array_equal(first.numpy(), [2.0, 40.0])
    (again,) = torch.autograd.grad([y], [x], [torch.ones(2)])
    np.testing.assert_array_equal(again.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="already freed"):
        torch.autograd.grad(y, x, torch.ones(2))


def test_grad_of_several_outputs_sums_them():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (total,) = torch.autograd.grad([(x * 3).sum(), (x * x).sum()], x)  # 3 + 2x
    np.testing.assert_array_equal(total.numpy(), [5.0, 7.0])


def test_grad_through_a_custom_function():
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    (grad_x,) = torch.autograd.grad(MulConstant.apply(MyReLU.apply(x), 3.0).sum(), x)
    np.testing.assert_array_equal(grad_x.numpy(), [0.0, 3.0])


def test_grad_of_an_unused_input_raises_unless_allowed():
    x = torch.ones(2, requires_grad=True)
    unused = torch.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"Tensor at index 1 \(shape \(3,\)\) appears to not have been used"
    ):
        torch.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
    grad_x, grad_unused = torch.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert grad_unused is None
    np.testing.assert_array_equal(grad_x.numpy(), [2.0, 2.0])
    _, zeros = torch.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(zeros.numpy(), [0.0, 0.0, 0.0])


def test_grad_refuses_what_it_cannot_differentiate():
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require"):
        torch.autograd.grad((x * 2).sum(), [torch.ones(2)])
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        torch.autograd.grad(torch.ones(2).sum(), [x])
    with pytest.raises(NotImplementedError, match="create_graph=True .* not supported"):
        torch.autograd.grad((x * 2).sum(), x, create_graph=True)


def test_grad_stops_at_its_inputs():
    x = torch.ones(2, requires_grad=True)
    hidden = x * 2
    calls = []
    x.register_hook(lambda grad: calls.append("x"))
    hidden.register_hook(lambda grad: calls.append("hidden"))
    torch.autograd.grad((hidden * 3).sum(), hidden)
    assert calls == ["hidden"]  # nothing below hidden ran


def test_autograd_backward_with_inputs_fills_only_those():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    torch.autograd.backward((x * w).sum(), inputs=[w])
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    torch.autograd.backward([(x * w).sum(), (x * 2).sum()], [None, torch.tensor(10.0)])
    np.testing.assert_array_equal(x.grad.numpy(), [23.0, 24.0])  # w + 20


# --- hooks and retain_grad --------------------------------------------------------------
def test_hook_on_a_non_leaf_replaces_the_gradient_flowing_down():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda grad: seen.append(grad.numpy().copy()))
    y.register_hook(lambda grad: grad * 10)
    y.sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])


def test_hook_on_a_leaf_sees_its_total_gradient_once_and_can_be_removed():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def clip(grad):
        seen.append(grad.numpy().copy())
        return grad.clamp(max=3.0)

    handle = x.register_hook(clip)
    (x * x).sum().backward()  # 2x = [2, 4] arrives in two parts, the hook sees the sum
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])
    handle.remove()
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_leaf_grad_after_a_hook_owns_its_array():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda grad: None)
    seed = torch.tensor([5.0, 6.0])
    (x + 0).backward(seed)  # add hands the caller's gradient array on as it is
    x.grad.zero_()
    np.testing.assert_array_equal(seed.numpy(), [5.0, 6.0])
    hidden = x * 1
    (grad_hidden,) = torch.autograd.grad(hidden + 0, hidden, seed)
    grad_hidden.zero_()
    np.testing.assert_array_equal(seed.numpy(), [5.0, 6.0])


def test_hook_errors():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't"):
        torch.ones(2).register_hook(lambda grad: grad)
    x = torch.ones(2, requires_grad=True)
    y = x * 2

    def shrink(grad):
        return grad[:1]

    y.register_hook(shrink)
    with pytest.raises(RuntimeError, match=r"hook 'shrink' has changed the size .* got \(1,\)"):
        y.sum().backward()


def test_retain_grad_keeps_a_non_leaf_gradient_after_hooks_and_accumulates():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda grad: grad * 10)  # registered after retain_grad, runs before it
    assert y.retains_grad and not x.retains_grad and not y.is_leaf
    (y * y).sum().backward(retain_graph=True)  # d/dy = 2y = [4, 8]
    np.testing.assert_array_equal(y.grad.numpy(), [40.0, 80.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [80.0, 160.0])
    x.retain_grad()  # a leaf: nothing to do
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad"):
        torch.ones(2).retain_grad()


def test_reading_grad_of_a_non_leaf_warns_as_pytorch():
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None and torch.ones(2).grad is None


# --- gradcheck --------------------------------------------------------------------------
def test_gradcheck_names_the_input_and_the_worst_element_or_returns_false():
    class WrongScale(Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output  # d/dx should be w; d/dw should be x

    x = torch.tensor([1.0, 1.0, 1.0], dtype=torch.double, requires_grad=True)
    w = torch.tensor([1.0, 3.0, -5.0], dtype=torch.double, requires_grad=True)
    with pytest.raises(
        torch.autograd.GradcheckError,
        match=r"input 0 \(shape \(3,\)\) at element \(1,\): .*2 elements off, the worst at "
        r"element \(2,\)",
    ) as raised:
        gradcheck(WrongScale.apply, (x, w))
    assert isinstance(raised.value, RuntimeError)
    assert gradcheck(WrongScale.apply, (x, w), raise_exception=False) is False
    assert gradcheck(MyReLU.apply, torch.tensor([0.5, -2.0], requires_grad=True))


def test_autograd_exposes_pytorchs_names():
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"):
        assert getattr(torch.autograd, name) is getattr(torch, name)
    assert torch.Function is not torch.autograd.Function  # the array-level base stays
    assert not hasattr(torch.autograd, "gradgradcheck")  # no higher-order gradients


@pytest.mark.parametrize("device", DEVICES)
def test_custom_functions_grad_and_hooks_run_on_the_device(device):
    x = torch.tensor([[-1.0, 2.0], [3.0, -4.0]], device=device, requires_grad=True)
    w = torch.tensor([[1.0, 0.5], [-2.0, 1.0], [0.0, 3.0]], device=device, requires_grad=True)
    b = torch.zeros(3, device=device, requires_grad=True)
    w.register_hook(lambda grad: grad * 2)
    hidden = LinearFunction.apply(MyReLU.apply(x), w, b)
    hidden.retain_grad()
    hidden.sum().backward()
    assert w.grad.device == x.device and hidden.grad.device == x.device
    np.testing.assert_array_equal(w.grad.numpy(), [[6.0, 4.0]] * 3)  # 2 * relu(x) summed
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 4.5], [-1.0, 0.0]])  # sums of w's columns
    (grad_b,) = torch.autograd.grad(LinearFunction.apply(x, w, b).sum(), b)
    assert grad_b.device == x.device
    np.testing.assert_array_equal(grad_b.numpy(), [2.0, 2.0, 2.0])
