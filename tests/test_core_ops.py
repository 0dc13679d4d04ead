"""Every differentiable core op: gradients against central differences in float64, values
against NumPy, float32 kept through forward and backward."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg


def leaf(*shape, low=-1.0, high=1.0, device="cpu", seed=0):
    values = np.random.default_rng(seed).uniform(low, high, size=shape)
    return mg.tensor(values, dtype=mg.float64, device=device, requires_grad=True)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((5,), (2, 5)), ((), (2, 3)), ((2, 3), ())]


@pytest.mark.parametrize("shape_a, shape_b", BINARY_SHAPES)
@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        mg.maximum,
        mg.minimum,
    ],
    ids=["add", "sub", "mul", "div", "pow", "maximum", "minimum"],
)
@pytest.mark.parametrize("device", DEVICES)
def test_binary_op_gradients_with_broadcasting(op, shape_a, shape_b, device):
    a = leaf(*shape_a, low=0.5, high=2.0, device=device, seed=1)
    b = leaf(*shape_b, low=0.5, high=2.0, device=device, seed=2)
    assert mg.gradcheck(op, a, b)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: 2.0 + x,
        lambda x: x + 2,
        lambda x: 3.0 - x,
        lambda x: x - 1.5,
        lambda x: 2 * x,
        lambda x: x * 0.5,
        lambda x: 1.0 / x,
        lambda x: x / 4,
        lambda x: x**2,
        lambda x: x**0.5,
        lambda x: 2.0**x,
        lambda x: -x,
    ],
)
def test_scalar_operands_on_either_side(op):
    assert mg.gradcheck(op, leaf(2, 3, low=0.5, high=2.0))


UNARY = {
    "exp": (mg.exp, np.exp, (-1, 1)),
    "log": (mg.log, np.log, (0.5, 2)),
    "sqrt": (mg.sqrt, np.sqrt, (0.5, 2)),
    "abs": (mg.abs, np.abs, (-1, 1)),
    "tanh": (mg.tanh, np.tanh, (-2, 2)),
    "sigmoid": (mg.sigmoid, lambda v: 1 / (1 + np.exp(-v)), (-3, 3)),
    "relu": (mg.relu, lambda v: np.maximum(v, 0), (-1, 1)),
    "clamp": (lambda x: mg.clamp(x, -0.5, 0.3), lambda v: np.clip(v, -0.5, 0.3), (-1, 1)),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda v: np.maximum(v, 0.1), (-1, 1)),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("device", DEVICES)
def test_unary_op_values_and_gradients(name, device):
    op, reference, (low, high) = UNARY[name]
    x = leaf(3, 4, low=low, high=high, device=device)
    np.testing.assert_allclose(op(x).numpy(), reference(x.numpy()), rtol=1e-12)
    assert mg.gradcheck(op, x)


def test_sigmoid_does_not_overflow():
    x = mg.tensor([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(mg.sigmoid(x).numpy(), [0.0, 0.5, 1.0])


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.sum(),
        lambda x: x.sum(dim=1),
        lambda x: x.sum(dim=(0, 2), keepdim=True),
        lambda x: x.sum(dim=-1, keepdim=True),
        lambda x: x.mean(),
        lambda x: x.mean(dim=0),
        lambda x: x.mean(dim=(1, 2)),
        lambda x: x.max(),
        lambda x: x.max(dim=1).values,
        lambda x: x.min(dim=2, keepdim=True).values,
        lambda x: x.min(),
        lambda x: x.var(),
        lambda x: x.var(dim=1),
        lambda x: x.var(dim=(0, 2), keepdim=True, unbiased=False),
        lambda x: x.softmax(dim=1),
        lambda x: x.log_softmax(dim=-1),
        lambda x: mg.softmax(x, dim=0),
    ],
)
@pytest.mark.parametrize("device", DEVICES)
def test_reduction_gradients(op, device):
    assert mg.gradcheck(op, leaf(2, 3, 4, device=device))


def test_reductions_match_numpy():
    x = leaf(2, 3, 4)
    values = x.numpy()
    np.testing.assert_allclose(x.sum(dim=(0, 2)).numpy(), values.sum(axis=(0, 2)))
    np.testing.assert_allclose(x.mean(dim=1, keepdim=True).numpy(), values.mean(1, keepdims=True))
    np.testing.assert_allclose(x.var(dim=1).numpy(), values.var(axis=1, ddof=1))
    np.testing.assert_allclose(x.var(dim=1, correction=0).numpy(), values.var(axis=1))
    result = x.max(dim=2)
    np.testing.assert_allclose(result.values.numpy(), values.max(axis=2))
    np.testing.assert_array_equal(result.indices.numpy(), values.argmax(axis=2))
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), values.argmax(axis=1))
    assert x.argmax().item() == values.argmax()


def test_max_splits_the_gradient_between_ties():
    x = mg.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


def test_softmax_is_stable_and_normalized():
    x = mg.tensor([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]])
    probs = x.softmax(dim=1).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), [1.0, 1.0], rtol=1e-6)
    expected = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    np.testing.assert_allclose(probs[0], expected, rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(dim=1).numpy()[0], np.log(expected), rtol=1e-6)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.reshape(4, 6),
        lambda x: x.view(-1),
        lambda x: x.flatten(),
        lambda x: x.flatten(1),
        lambda x: x.transpose(0, 2),
        lambda x: x.permute(2, 0, 1),
        lambda x: x.T,
        lambda x: x.unsqueeze(1),
        lambda x: x.unsqueeze(-1),
        lambda x: x[:, :1].squeeze(1),
        lambda x: x[:1].squeeze(),
        lambda x: x[:, :1, :].expand(2, 5, 4),
        lambda x: x[:, :1, :].expand(-1, 3, -1),
    ],
)
@pytest.mark.parametrize("device", DEVICES)
def test_shape_op_gradients(op, device):
    assert mg.gradcheck(op, leaf(2, 3, 4, device=device))


@pytest.mark.parametrize(
    "key",
    [
        1,
        -1,
        slice(None, None, 2),
        (slice(None), 1),
        (Ellipsis, 2),
        (None, 0),
        (0, None, slice(1, 3)),
        np.array([2, 0, 2, 2]),
        (np.array([0, 1, 1]), np.array([3, 0, 3])),
        (slice(None), np.array([1, 1, 0])),
        [0, 0, 2],
    ],
)
@pytest.mark.parametrize("device", DEVICES)
def test_indexing_gradients_accumulate_repeats(key, device):
    x = leaf(3, 4, device=device)
    np.testing.assert_array_equal(x[key].numpy(), x.numpy()[key])
    assert mg.gradcheck(lambda t: t[key], x)


def test_repeated_integer_index_accumulates_exactly():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[mg.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_boolean_mask_indexing():
    x = leaf(3, 4)
    mask = x.numpy() > 0
    np.testing.assert_array_equal(x[mg.tensor(mask)].numpy(), x.numpy()[mask])
    assert mg.gradcheck(lambda t: t[mask] * 2, x)


def test_cat_stack_where_gradients():
    a, b = leaf(2, 3, seed=1), leaf(2, 5, seed=2)
    assert mg.gradcheck(lambda p, q: mg.cat([p, q, p], dim=1), a, b)
    c = leaf(2, 3, seed=3)
    assert mg.gradcheck(lambda p, q: mg.stack([p, q], dim=1), a, c)
    assert mg.gradcheck(lambda p, q: mg.stack([p, q], dim=-1), a, c)
    condition = a.numpy() > 0
    assert mg.gradcheck(lambda p, q: mg.where(condition, p, q), a, c)
    assert mg.gradcheck(lambda p: mg.where(condition, p, 0.0), a)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3, 4), (4, 5)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (2, 4, 5)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
    ],
)
def test_matmul_gradients_batched_and_broadcast(shape_a, shape_b):
    a, b = leaf(*shape_a, seed=1), leaf(*shape_b, seed=2)
    np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12)
    assert mg.gradcheck(lambda p, q: p @ q, a, b)


def test_non_contiguous_inputs():
    x = leaf(4, 3)
    y = leaf(4, 5, seed=3)
    assert mg.gradcheck(lambda t, u: (t.T @ u).exp(), x, y)
    assert mg.gradcheck(lambda t: t.T * t.T, x)


def test_zero_dim_tensors():
    x = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
    y = leaf(3)
    assert mg.gradcheck(lambda s, v: (s * v).sum() + s.exp(), x, y)


@pytest.mark.parametrize(
    "op",
    [
        lambda x, y: x + y,
        lambda x, y: x * 2.5 - y / 3,
        lambda x, y: (x**2).sum(),
        lambda x, y: 2.0**x,
        lambda x, y: (x @ y.T).relu().exp(),
        lambda x, y: x.sigmoid().tanh().abs().sqrt().log(),
        lambda x, y: x.mean(0) + x.var(1).sum() + x.max(),
        lambda x, y: mg.maximum(x, y).softmax(1).log_softmax(0),
        lambda x, y: mg.cat([x, y])[::2].T.reshape(-1).clamp(0.1, 0.9),
        lambda x, y: mg.where(x > y, x, y),
    ],
)
def test_float32_stays_float32_forward_and_backward(op):
    x = (mg.rand(3, 4) + 0.1).detach().requires_grad_()
    y = mg.rand(3, 4, requires_grad=True)
    out = op(x, y)
    assert out.dtype == mg.float32
    out.sum().backward()
    assert x.grad is not None
    for t in (x, y):
        if t.grad is not None:
            assert t.grad.dtype == mg.float32
            assert t.grad.shape == t.shape


def test_comparisons_return_tensors_without_grad():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype == mg.bool_ and not result.requires_grad
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])
    np.testing.assert_array_equal((x == mg.tensor([1.0, 0.0, 3.0])).numpy(), [True, False, True])


def test_shape_errors_name_both_shapes():
    a, b = mg.ones(3, 4), mg.ones(5, 6)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 6\)"):
        a @ b
    with pytest.raises(ValueError, match=r"\(3,4\).*\(5,6\)|\(3, 4\).*\(5, 6\)"):
        a + b
    with pytest.raises(ValueError, match=r"cannot view a tensor of shape \(3, 4\).*\(5,\)"):
        a.reshape(5)
    with pytest.raises(ValueError, match=r"tensor 0 has shape \(3, 4\) but tensor 1 has shape"):
        mg.cat([a, b], dim=0)
    with pytest.raises(IndexError, match="dim 3 is out of range"):
        a.sum(dim=3)


def test_reducing_a_0d_tensor_over_dim_0_is_the_identity():
    x = mg.tensor(2.5, dtype=mg.float64, requires_grad=True)
    assert x.sum(dim=0).item() == 2.5 and x.mean(dim=-1).item() == 2.5
    assert mg.gradcheck(lambda t: t.sum(dim=0) * t.mean(dim=0), x)
    with pytest.raises(IndexError, match="dim 1 is out of range"):
        x.sum(dim=1)


# --- PyTorch's rules at the edges -------------------------------------------------------------


def test_max_and_min_over_a_dim_send_the_gradient_to_the_returned_index_only():
    x = mg.tensor([[4.0, 4.0, -2.0, 4.0], [1.0, -3.0, -3.0, 0.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [4.0, 1.0])
    np.testing.assert_array_equal(indices.numpy(), [0, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 0, 0], [1, 0, 0, 0]])
    x.grad = None
    values, indices = x.min(dim=1, keepdim=True)
    assert values.shape == (2, 1) and indices.shape == (2, 1)
    np.testing.assert_array_equal(indices.numpy(), [[2], [1]])
    (values * mg.tensor([[2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 2, 0], [0, 3, 0, 0]])
    assert mg.gradcheck(
        lambda t: t.max(dim=0).values, mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    )


def test_max_over_a_dim_of_a_0d_tensor_is_the_tensor_at_index_0():
    x = mg.tensor(2.5, requires_grad=True)
    values, indices = x.max(dim=0)
    assert values.item() == 2.5 and indices.item() == 0 and values.shape == ()
    values.backward()
    assert x.grad.item() == 1.0


def test_full_max_with_nan_is_nan_and_its_gradient_goes_to_the_nans():
    x = mg.tensor([1.0, float("nan"), 3.0, float("nan")], requires_grad=True)
    out = x.max()
    assert np.isnan(out.item())
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.0, 0.5])  # split between the NaNs
    x.grad = None
    x.min().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.0, 0.5])
    y = mg.tensor([[1.0, float("nan"), 3.0]], requires_grad=True)
    values, indices = y.max(dim=1)
    assert np.isnan(values.item()) and indices.item() == 1
    values.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0.0, 1.0, 0.0]])


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: mg.tensor([1, 2, 3]) * 2.5, mg.float32),
        (lambda: mg.tensor([1, 2, 3]) / mg.tensor([2, 2, 2]), mg.float32),
        (lambda: mg.tensor([1, 2, 3]) / 2, mg.float32),
        (lambda: 3 / mg.tensor([1, 2, 3]), mg.float32),
        (lambda: mg.tensor([1.0, 2.0]) + mg.tensor([1, 2]), mg.float32),
        (lambda: mg.tensor([1, 2]) + mg.tensor(2.0), mg.float32),
        (lambda: mg.tensor([1.0, 2.0]) * mg.tensor([1.0, 2.0], dtype=mg.float64), mg.float64),
        (lambda: mg.tensor([1, 2], dtype=mg.int32) + mg.tensor(5), mg.int32),
        (lambda: mg.tensor([1, 2], dtype=mg.int32) * 3, mg.int32),
        (lambda: mg.tensor([True, False]) + 1, mg.int64),
        (lambda: mg.tensor([1.0, 2.0], dtype=mg.float16) * 2.5, mg.float16),
        (lambda: mg.tensor([1.0, 2.0], dtype=mg.float16) + mg.tensor(1.0), mg.float16),
        (lambda: mg.tensor([1, 2]) ** 0.5, mg.float32),
        (lambda: mg.maximum(mg.tensor([1, 5]), mg.tensor([2.0, 3.0])), mg.float32),
        (
            lambda: mg.where(mg.tensor([True, False]), mg.tensor([1, 2]), mg.tensor([0.5, 0.5])),
            mg.float32,
        ),
    ],
)
def test_type_promotion_follows_pytorch(make, expected):
    assert make().dtype == expected


def test_each_input_gradient_has_that_inputs_own_dtype():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True)
    out = a * b
    assert out.dtype == mg.float64
    out.sum().backward()
    assert a.grad.dtype == mg.float32 and b.grad.dtype == mg.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_a_float32_network_times_an_int_mask_stays_float32():
    net = mg.nn.Linear(4, 3)
    x = mg.randn(2, 4)
    masked = net(x) * mg.tensor([[1, 0, 1], [0, 1, 1]])
    assert masked.dtype == mg.float32
    masked.sum().backward()
    assert net.weight.grad.dtype == mg.float32


def test_pow_gradients_at_zero_follow_pytorch():
    a = mg.tensor([0.0, 0.0, 2.0], requires_grad=True)
    b = mg.tensor([2.0, 0.0, 3.0], requires_grad=True)
    (a**b).sum().backward()
    # d/db a^b = a^b ln a, 0 where a = 0 (and b >= 0); d/da = b a^(b-1), 0 where b = 0
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0, 8 * np.log(2.0)], rtol=1e-6)
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 12.0])
    x = mg.tensor([0.0, 1.5], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    e = mg.tensor([1.0, 2.0], requires_grad=True)
    (0.0**e).sum().backward()  # a Python 0 as the base
    np.testing.assert_array_equal(e.grad.numpy(), [0.0, 0.0])


def test_var_over_a_single_element_is_nan_with_a_nan_gradient():
    x = mg.tensor([[1.0], [2.0]], requires_grad=True)
    out = x.var(dim=1)
    assert np.isnan(out.numpy()).all()
    out.sum().backward()
    assert np.isnan(x.grad.numpy()).all()
    np.testing.assert_array_equal(x.var(dim=1, correction=0).numpy(), [0.0, 0.0])


def test_transpose_and_squeeze_of_a_0d_tensor_return_it():
    x = mg.tensor(3.0, requires_grad=True)
    for dims in ((0, 0), (-1, -1), (0, -1)):
        y = x.transpose(*dims)
        assert y.shape == () and y.item() == 3.0
    assert x.squeeze(0).shape == ()
    x.transpose(0, 0).backward()
    assert x.grad.item() == 1.0
    with pytest.raises(IndexError, match="dim 1 is out of range for a tensor with 0 dimensions"):
        x.transpose(0, 1)


# --- in-place arithmetic ----------------------------------------------------------------------


def test_augmented_assignment_under_no_grad_updates_the_parameter_itself():
    model = mg.nn.Linear(2, 1)
    before = model.weight.numpy()
    model(mg.ones(3, 2)).sum().backward()
    with mg.no_grad():
        for param in model.parameters():
            param -= 0.1 * param.grad  # the PyTorch tutorials' hand-written SGD step
    np.testing.assert_allclose(model.weight.numpy(), before - 0.1 * 3.0, rtol=1e-6)
    assert model.weight.data.dtype == mg.float32


def test_in_place_methods_write_into_the_tensor():
    x = mg.tensor([1.0, 2.0])
    same = x
    x.add_(1).mul_(2)
    x -= 1
    x /= 2
    assert same is x
    np.testing.assert_array_equal(x.numpy(), [1.5, 2.5])
    with pytest.raises(
        TypeError, match="has dtype float32, which cannot be stored in a tensor of dtype int64"
    ):
        mg.tensor([1, 2]).add_(0.5)
    with pytest.raises(
        RuntimeError, match=r"result has shape \(2, 2\) but the tensor has shape \(2,\)"
    ):
        x.add_(mg.ones(2, 2))
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad cannot be changed"):
        p = mg.ones(2, requires_grad=True)
        p += 1


def test_summing_losses_with_plus_equals_stays_differentiable():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    total = 0
    for scale in (1.0, 2.0, 3.0):
        total += (w * scale).sum()
    total.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 6.0])
