"""Activations (GELU, LeakyReLU, ELU, SiLU, ReLU's inplace flag) and Dropout2d: values by hand,
gradients against finite differences, float32 kept, reprs and errors as PyTorch's."""

import math
import warnings

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.ops.activation import normal_cdf

X = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]

# the values at X and the gradients of their sums, computed by hand in float64 (math.erfc,
# math.tanh, ...) and rounded to 8 digits; float32 results must agree to float32's precision
EXPECTED = {
    "gelu": (
        lambda x: F.gelu(x),
        [-0.0040496941, -0.15865525, -0.15426877, 0.0, 0.34573123, 0.84134475, 2.9959503],
        [-0.011945647, -0.083315471, 0.13250488, 0.5, 0.86749512, 1.0833155, 1.0119456],
    ),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        [-0.0036373921, -0.15880801, -0.15428599, 0.0, 0.34571401, 0.84119199, 2.9963626],
        [-0.011584167, -0.082964084, 0.1326301, 0.5, 0.8673699, 1.0829641, 1.0115842],
    ),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.1),
        [-0.3, -0.1, -0.05, 0.0, 0.5, 1.0, 3.0],
        [0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0],  # the slope at 0, as PyTorch
    ),
    "elu": (
        lambda x: F.elu(x, 0.5),
        [-0.47510647, -0.31606028, -0.19673467, 0.0, 0.5, 1.0, 3.0],
        [0.024893534, 0.18393972, 0.30326533, 0.5, 1.0, 1.0, 1.0],  # alpha at 0, as PyTorch
    ),
    "silu": (
        F.silu,
        [-0.14227762, -0.26894142, -0.18877033, 0.0, 0.31122967, 0.73105858, 2.8577224],
        [-0.088104106, 0.072329488, 0.26003881, 0.5, 0.73996119, 0.92767051, 1.0881041],
    ),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_activation_values_and_gradients_match_hand_computed(name):
    fn, values, grads = EXPECTED[name]
    x = mg.tensor(X, requires_grad=True)
    out = fn(x)
    out.sum().backward()
    assert out.dtype == mg.float32 and x.grad.dtype == mg.float32
    np.testing.assert_allclose(out.numpy(), values, rtol=1e-6, atol=3e-7)
    np.testing.assert_allclose(x.grad.numpy(), grads, rtol=1e-6, atol=3e-7)


def test_gelu_is_x_times_the_normal_cdf_to_float64_precision():
    xs = [-8.0, -3.7, -1.25, -0.3, 1e-9, 0.6, 0.7, 2.2, 5.0, 6.5, 9.0]
    x = mg.tensor(xs, dtype=mg.float64)
    expected = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in xs]
    np.testing.assert_allclose(F.gelu(x).numpy(), expected, rtol=1e-14, atol=0)


def test_normal_cdf_keeps_its_relative_precision_in_the_tails():
    xs = np.linspace(-12, 12, 4801)  # every range of the approximation, both signs
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in xs])
    np.testing.assert_allclose(normal_cdf(xs), expected, rtol=1e-13, atol=0)
    # -10 is far out in the lower tail: 1 - Phi(10) computed from erf would be 0 here
    np.testing.assert_allclose(normal_cdf(np.array([-10.0])), [7.619853024160527e-24], rtol=1e-13)


@pytest.mark.parametrize("name", EXPECTED)
def test_activation_gradients_match_finite_differences(name):
    fn = EXPECTED[name][0]
    points = [-4.1, -2.3, -0.7, -0.05, 0.05, 0.3, 0.69, 1.8, 6.2]  # off the kink at 0
    x = mg.tensor(points, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(fn, x)


@pytest.mark.parametrize(
    "fn",
    [F.gelu, lambda x: F.gelu(x, "tanh"), F.leaky_relu, F.elu, F.silu],
    ids=["gelu", "gelu_tanh", "leaky_relu", "elu", "silu"],
)
def test_activations_stay_finite_and_silent_for_large_inputs(fn):
    x = mg.tensor([-1e4, -80.0, 80.0, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in a branch that is not taken
        out = fn(x)
        out.sum().backward()
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    assert out.dtype == mg.float32


@pytest.mark.parametrize(
    ("module", "text"),
    [
        (nn.GELU(), "GELU(approximate='none')"),
        (nn.GELU("tanh"), "GELU(approximate='tanh')"),
        (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
        (nn.LeakyReLU(0.2, inplace=True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
        (nn.ELU(), "ELU(alpha=1.0)"),
        (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"),
        (nn.SiLU(), "SiLU()"),
        (nn.SiLU(inplace=True), "SiLU(inplace=True)"),
        (nn.ReLU(), "ReLU()"),
        (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    ],
)
def test_activation_modules_have_pytorch_reprs_and_no_state(module, text):
    assert repr(module) == text
    assert list(module.state_dict()) == []


@pytest.mark.parametrize(
    ("module", "fn"),
    [
        (nn.GELU(), F.gelu),
        (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh")),
        (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
        (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
        (nn.SiLU(), F.silu),
    ],
)
def test_activation_modules_compute_the_functional_op(module, fn):
    x = mg.randn(3, 4)
    np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())


@pytest.mark.parametrize(
    "module", [nn.ReLU(inplace=True), nn.LeakyReLU(inplace=True), nn.ELU(inplace=True)]
)
def test_inplace_flag_computes_out_of_place_with_the_same_values_and_gradients(module):
    plain = type(module)()
    data = [[-1.5, 0.25], [2.0, -0.5]]
    x_inplace = mg.tensor(data, requires_grad=True)
    x_plain = mg.tensor(data, requires_grad=True)
    out_inplace, out_plain = module(x_inplace), plain(x_plain)
    out_inplace.sum().backward()
    out_plain.sum().backward()
    np.testing.assert_array_equal(out_inplace.numpy(), out_plain.numpy())
    np.testing.assert_array_equal(x_inplace.grad.numpy(), x_plain.grad.numpy())
    np.testing.assert_array_equal(x_inplace.numpy(), data)  # the input is left as it was


def test_functional_inplace_arguments_are_accepted():
    x = mg.tensor([-1.0, 2.0])
    np.testing.assert_array_equal(F.leaky_relu(x, 0.5, inplace=True).numpy(), [-0.5, 2.0])
    np.testing.assert_array_equal(F.elu(x, inplace=True).numpy(), F.elu(x).numpy())
    np.testing.assert_array_equal(F.silu(x, inplace=True).numpy(), F.silu(x).numpy())
    np.testing.assert_array_equal(x.numpy(), [-1.0, 2.0])


def test_gelu_rejects_an_unknown_approximation_naming_it():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(mg.ones(2), approximate="erf")
    with pytest.raises(ValueError, match="got 'fast'"):
        nn.GELU("fast")


def test_activation_arguments_must_be_numbers():
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a number, got 'a'"):
        F.leaky_relu(mg.ones(2), "a")
    with pytest.raises(TypeError, match="elu: alpha must be a number, got None"):
        F.elu(mg.ones(2), None)


@pytest.mark.parametrize("fn", [F.gelu, F.leaky_relu, F.elu, F.silu])
def test_activations_reject_integer_tensors_naming_the_dtype(fn):
    with pytest.raises(TypeError, match="expected a floating tensor, got dtype int64"):
        fn(mg.tensor([1, 2]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fn", [F.gelu, lambda x: F.gelu(x, "tanh"), F.leaky_relu, F.elu, F.silu])
def test_activations_on_each_device_match_the_cpu(fn, device):
    data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32) * 3
    x = mg.tensor(data, device=device, requires_grad=True)
    out = fn(x)
    out.sum().backward()
    reference = mg.tensor(data, requires_grad=True)
    expected = fn(reference)
    expected.sum().backward()
    assert out.device == x.device and x.grad.device == x.device
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), rtol=1e-6, atol=1e-7)


# --- Dropout2d ------------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = mg.ones(8, 16, 3, 4, requires_grad=True)
    out = F.dropout2d(x, p=0.25)
    values = out.numpy()
    per_channel = values.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 1 / 0.75).all(axis=2))
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert 0.1 < dropped < 0.4  # 128 channel draws at p = 0.25
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the same scaled mask
    assert out.dtype == mg.float32


def test_dropout2d_takes_a_3d_input_as_n_c_l_with_pytorchs_warning():
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        out = F.dropout2d(mg.ones(4, 6, 5), p=0.5).numpy()
    assert np.all((out == 0).all(axis=2) | (out == 2).all(axis=2))


def test_dropout2d_module_is_the_identity_in_eval_mode_and_has_pytorchs_repr():
    layer = nn.Dropout2d()
    assert repr(layer) == "Dropout2d(p=0.5, inplace=False)"
    assert repr(nn.Dropout2d(0.2, inplace=True)) == "Dropout2d(p=0.2, inplace=True)"
    x = mg.randn(2, 3, 4, 4)
    layer.eval()
    assert layer(x) is x
    assert F.dropout2d(x, training=False) is x and F.dropout2d(x, p=0.0) is x
    layer.train()
    assert np.any(layer(x).numpy() == 0)


def test_dropout2d_is_reproducible_with_manual_seed():
    x = mg.ones(4, 8, 2, 2)
    mg.manual_seed(3)
    first = nn.Dropout2d()(x).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout2d()(x).numpy(), first)


def test_dropout2d_errors_name_the_value():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(N, C, L\), got \(2, 3\)"):
        F.dropout2d(mg.ones(2, 3))


@pytest.mark.gpu
def test_dropout2d_on_gpu_keeps_the_device_and_drops_channels():
    out = F.dropout2d(mg.ones(50, 40, 2, 2, device="cuda"), p=0.3)
    assert out.device == "cuda:0"
    values = out.numpy().reshape(50, 40, 4)
    assert np.all((values == 0).all(axis=2) | (values == values.max()).all(axis=2))
    assert abs((values[:, :, 0] == 0).mean() - 0.3) < 0.05
