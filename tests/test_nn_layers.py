"""Layers: Linear (op, init, gradients), weight init formulas, activations and dropout."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn import init

# --- Linear -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_shape", "output_shape"),
    [((3, 4), (3, 10)), ((1, 4), (1, 10)), ((2, 3, 4), (2, 3, 10)), ((4,), (10,))],
)
def test_linear_accepts_any_leading_dims(input_shape, output_shape):
    layer = nn.Linear(4, 10)
    assert layer.weight.shape == (10, 4) and layer.bias.shape == (10,)
    assert layer(minigrad.randn(*input_shape)).shape == output_shape


def test_linear_computes_x_times_weight_transposed_plus_bias():
    layer = nn.Linear(3, 2)
    x = minigrad.randn(5, 3)
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    out = layer(x)
    assert out.dtype == minigrad.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_linear_default_init_matches_pytorch_bounds():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in) for weights
    weight, bias = np.abs(layer.weight.numpy()), np.abs(layer.bias.numpy())
    assert weight.max() <= bound and weight.max() > 0.99 * bound
    assert bias.max() <= bound and bias.max() > 0.9 * bound
    np.testing.assert_allclose(layer.weight.numpy().std(), bound / math.sqrt(3), rtol=0.02)


def test_linear_without_bias_registers_none():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


@pytest.mark.parametrize("input_shape", [(1, 4), (3, 4), (2, 3, 4)])
def test_linear_gradcheck(input_shape):
    x = minigrad.randn(*input_shape, requires_grad=True)
    weight = minigrad.randn(3, 4, requires_grad=True)
    bias = minigrad.randn(3, requires_grad=True)
    assert minigrad.gradcheck(F.linear, x, weight, bias)


def test_linear_gradcheck_without_bias():
    x = minigrad.randn(3, 4, requires_grad=True)
    weight = minigrad.randn(2, 4, requires_grad=True)
    assert minigrad.gradcheck(lambda a, w: F.linear(a, w), x, weight)


def test_linear_is_one_graph_node():
    x = minigrad.randn(2, 4)
    out = nn.Linear(4, 3)(x)
    assert out.grad_fn.name == "linear"
    assert all(value is x or isinstance(value, nn.Parameter) for value in out.grad_fn.inputs)


def test_linear_skips_input_gradient_when_not_needed():
    layer = nn.Linear(4, 3)
    x = minigrad.randn(2, 4)
    layer(x).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(layer.bias.grad.numpy(), [2.0, 2.0, 2.0])


def test_linear_feature_mismatch_names_both_shapes():
    weight = minigrad.randn(10, 4)
    message = (
        r"linear: input has 5 features \(shape \(3, 5\)\) but weight expects 4 \(shape \(10, 4\)\)"
    )
    with pytest.raises(ValueError, match=message):
        F.linear(minigrad.randn(3, 5), weight)


def test_linear_bias_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"bias has shape \(3,\).*expected bias shape \(10,\)"):
        F.linear(minigrad.randn(2, 4), minigrad.randn(10, 4), minigrad.randn(3))


def test_linear_dtype_mismatch_is_reported():
    with pytest.raises(TypeError, match="input has dtype float64 but weight has dtype float32"):
        F.linear(minigrad.randn(2, 4, dtype=minigrad.float64), minigrad.randn(3, 4))


@pytest.mark.gpu
def test_linear_on_gpu_matches_cpu():
    cpu_layer = nn.Linear(4, 3)
    gpu_layer = nn.Linear(4, 3).to("cuda")
    gpu_layer.load_state_dict(cpu_layer.state_dict())
    x = minigrad.randn(5, 4)
    x_gpu = x.to("cuda")
    cpu_layer(x).sum().backward()
    out = gpu_layer(x_gpu)
    out.sum().backward()
    assert out.device == "cuda:0" and gpu_layer.weight.grad.device == "cuda:0"
    np.testing.assert_allclose(out.numpy(), cpu_layer(x).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        gpu_layer.weight.grad.numpy(), cpu_layer.weight.grad.numpy(), rtol=1e-5, atol=1e-6
    )


# --- init ---------------------------------------------------------------------------------


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'"):
        init.calculate_gain("gelu")


def test_fan_in_and_fan_out_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(10, 4)) == (4, 10)
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(minigrad.zeros(5))


def test_kaiming_uniform_bound():
    weight = minigrad.zeros(256, 128)
    assert init.kaiming_uniform_(weight, nonlinearity="relu") is weight
    bound = math.sqrt(2) * math.sqrt(3 / 128)
    values = np.abs(weight.numpy())
    assert values.max() <= bound and values.max() > 0.99 * bound


def test_kaiming_uniform_fan_out_mode():
    weight = init.kaiming_uniform_(minigrad.zeros(64, 512), mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 64)
    assert np.abs(weight.numpy()).max() > 0.99 * bound


def test_kaiming_normal_std():
    weight = init.kaiming_normal_(minigrad.zeros(256, 128), nonlinearity="relu")
    np.testing.assert_allclose(weight.numpy().std(), math.sqrt(2 / 128), rtol=0.02)


def test_xavier_uniform_bound():
    weight = init.xavier_uniform_(minigrad.zeros(200, 100), gain=2.0)
    bound = 2.0 * math.sqrt(6 / 300)
    values = np.abs(weight.numpy())
    assert values.max() <= bound and values.max() > 0.99 * bound


def test_xavier_normal_std():
    weight = init.xavier_normal_(minigrad.zeros(200, 100))
    np.testing.assert_allclose(weight.numpy().std(), math.sqrt(2 / 300), rtol=0.02)


def test_normal_and_uniform_fill_in_place_keeping_dtype():
    weight = minigrad.zeros(100, 100, dtype=minigrad.float64)
    data = weight.data
    init.normal_(weight, mean=3.0, std=0.5)
    assert weight.data is data and weight.dtype == minigrad.float64
    np.testing.assert_allclose([data.mean(), data.std()], [3.0, 0.5], rtol=0.02)
    init.uniform_(weight, -2.0, 1.0)
    assert data.min() >= -2.0 and data.max() < 1.0
    np.testing.assert_allclose(data.mean(), -0.5, atol=0.03)


def test_constant_zeros_ones():
    weight = minigrad.randn(2, 3)
    assert np.all(init.zeros_(weight).numpy() == 0)
    assert np.all(init.ones_(weight).numpy() == 1)
    assert np.all(init.constant_(weight, 0.25).numpy() == 0.25)


def test_init_is_reproducible_with_manual_seed():
    minigrad.manual_seed(123)
    first = nn.Linear(5, 5).weight.numpy()
    minigrad.manual_seed(123)
    np.testing.assert_array_equal(nn.Linear(5, 5).weight.numpy(), first)


@pytest.mark.parametrize("device", DEVICES)
def test_init_stays_on_the_tensors_device(device):
    weight = minigrad.zeros(4, 3, device=device)
    init.kaiming_uniform_(weight)
    assert weight.device == minigrad.backend.normalize_device(device)
    assert np.abs(weight.numpy()).max() > 0


# --- activations --------------------------------------------------------------------------


def test_activation_modules_match_their_formulas():
    values = np.array([[-2.0, -0.5, 0.0, 1.5]], dtype=np.float32)
    x = minigrad.tensor(values)
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(values, 0))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-values)), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(values), rtol=1e-6)
    exp = np.exp(values - values.max())
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), exp / exp.sum(), rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(x).numpy(), np.log(exp / exp.sum()), rtol=1e-5)


def test_softmax_over_dim_zero_sums_to_one_down_columns():
    out = nn.Softmax(dim=0)(minigrad.randn(3, 4))
    np.testing.assert_allclose(out.numpy().sum(axis=0), np.ones(4), rtol=1e-6)
    assert repr(nn.Softmax(dim=0)) == "Softmax(dim=0)"


# --- dropout ------------------------------------------------------------------------------


def test_dropout_statistics_and_inverted_scaling():
    x = minigrad.ones(200, 500)
    out = F.dropout(x, p=0.3).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((out == 0).mean() - 0.3) < 0.01
    assert abs(out.mean() - 1.0) < 0.02
    assert out.dtype == np.float32


def test_dropout_gradient_is_the_same_scaled_mask():
    x = minigrad.ones(50, 40, requires_grad=True)
    out = F.dropout(x, p=0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = minigrad.randn(3, 4)
    layer = nn.Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout(x, p=0.0) is x


def test_dropout_with_p_one_zeroes_everything():
    assert np.all(F.dropout(minigrad.randn(3, 4), p=1.0).numpy() == 0)


@pytest.mark.parametrize("p", [-0.1, 1.5, "half"])
def test_dropout_rejects_probabilities_outside_zero_one(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(minigrad.ones(2), p=p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


def test_dropout_is_reproducible_with_manual_seed():
    x = minigrad.ones(10, 10)
    minigrad.manual_seed(7)
    first = nn.Dropout(0.5)(x).numpy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), first)
    assert not np.array_equal(nn.Dropout(0.5)(x).numpy(), first)


@pytest.mark.gpu
def test_dropout_on_gpu_keeps_device_and_statistics():
    out = F.dropout(minigrad.ones(200, 500, device="cuda"), p=0.3)
    assert out.device == "cuda:0"
    assert abs((out.numpy() == 0).mean() - 0.3) < 0.01


def test_linear_with_no_inputs_initializes_an_empty_weight_as_pytorch():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = nn.Linear(0, 3)
    assert layer.weight.shape == (3, 0)
    out = layer(minigrad.zeros(2, 0))
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(layer.bias.numpy(), (2, 3)))
    out.sum().backward()
    assert layer.weight.grad.shape == (3, 0)
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [2.0, 2.0, 2.0])
