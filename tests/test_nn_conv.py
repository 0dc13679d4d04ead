"""Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d layers: shapes, init, repr, devices."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn

# --- Conv2d -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "output_shape"),
    [
        ((3, 8, 3), {}, (2, 8, 10, 12)),
        ((3, 8, 3), {"padding": 1}, (2, 8, 12, 14)),
        ((3, 8, 3), {"padding": "same"}, (2, 8, 12, 14)),
        ((3, 8, (4, 2)), {"padding": "same"}, (2, 8, 12, 14)),
        ((3, 8, 3), {"stride": 2, "padding": 1}, (2, 8, 6, 7)),
        ((3, 8, (5, 3)), {"stride": (2, 1)}, (2, 8, 4, 12)),
        ((3, 8, 1), {}, (2, 8, 12, 14)),
    ],
)
def test_conv2d_output_shapes(args, kwargs, output_shape):
    layer = nn.Conv2d(*args, **kwargs)
    assert layer(minigrad.randn(2, 3, 12, 14)).shape == output_shape


def test_conv2d_parameters_have_pytorch_shapes_and_names():
    layer = nn.Conv2d(3, 16, (5, 3))
    assert layer.weight.shape == (16, 3, 5, 3) and layer.bias.shape == (16,)
    assert layer.weight.dtype == minigrad.float32 and layer.weight.requires_grad
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_conv2d_default_init_matches_pytorch_bounds():
    layer = nn.Conv2d(16, 64, 3)
    fan_in = 16 * 3 * 3
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in) for weights
    weight, bias = np.abs(layer.weight.numpy()), np.abs(layer.bias.numpy())
    assert weight.max() <= bound and weight.max() > 0.99 * bound
    assert bias.max() <= bound and bias.max() > 0.8 * bound
    np.testing.assert_allclose(layer.weight.numpy().std(), bound / math.sqrt(3), rtol=0.05)


def test_conv2d_layer_is_the_functional_op_with_its_parameters():
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    x = minigrad.randn(2, 2, 7, 7)
    expected = F.conv2d(x, layer.weight, layer.bias, stride=2, padding=1)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())


def test_conv2d_backward_fills_parameter_gradients():
    layer = nn.Conv2d(2, 3, 3, padding=1)
    x = minigrad.randn(2, 2, 5, 5, requires_grad=True)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (3, 2, 3, 3) and layer.bias.grad.shape == (3,)
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(3, 2 * 5 * 5))
    assert x.grad.shape == x.shape


def test_conv2d_without_bias_registers_none():
    layer = nn.Conv2d(3, 4, 3, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]


def test_conv2d_float64_layer():
    layer = nn.Conv2d(2, 3, 3, dtype=minigrad.float64)
    out = layer(minigrad.randn(1, 2, 4, 4, dtype=minigrad.float64))
    assert layer.weight.dtype == minigrad.float64 and out.dtype == minigrad.float64


@pytest.mark.parametrize(
    ("layer", "text"),
    [
        (nn.Conv2d(3, 16, 3), "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))"),
        (
            nn.Conv2d(3, 16, (3, 5), stride=2, padding=(1, 2), bias=False),
            "Conv2d(3, 16, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), bias=False)",
        ),
        (
            nn.Conv2d(3, 16, 3, padding="same"),
            "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=same)",
        ),
        (
            nn.MaxPool2d(2),
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
        ),
        (
            nn.MaxPool2d((3, 2), 1, 1),
            "MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, dilation=1, ceil_mode=False)",
        ),
        (nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
        (nn.AdaptiveAvgPool2d((1, 1)), "AdaptiveAvgPool2d(output_size=(1, 1))"),
        (nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d(output_size=1)"),
    ],
)
def test_layer_repr_as_pytorch(layer, text):
    assert repr(layer) == text


def test_conv2d_rejects_bad_arguments_at_construction():
    with pytest.raises(ValueError, match=r"channel counts must be positive, got in_channels=0"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(TypeError, match=r"Conv2d: kernel_size must be an int or a pair of ints"):
        nn.Conv2d(3, 4, (3, 3, 3))


def test_conv2d_layer_checks_its_input():
    with pytest.raises(ValueError, match=r"input has 4 channels .* but weight expects 3"):
        nn.Conv2d(3, 4, 3)(minigrad.randn(1, 4, 8, 8))


# --- pooling layers -------------------------------------------------------------------------


def test_max_pool_layer_is_the_functional_op():
    x = minigrad.randn(2, 3, 7, 7)
    np.testing.assert_array_equal(
        nn.MaxPool2d(3, stride=2, padding=1)(x).numpy(), F.max_pool2d(x, 3, 2, 1).numpy()
    )
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 3)


def test_avg_pool_layer_is_the_functional_op():
    x = minigrad.randn(2, 3, 8, 8)
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).numpy(), F.avg_pool2d(x, 2).numpy())
    assert not isinstance(nn.AvgPool2d(2), nn.MaxPool2d)


def test_adaptive_avg_pool_layer_global_average():
    x = minigrad.randn(2, 3, 5, 4)
    out = nn.AdaptiveAvgPool2d((1, 1))(x)
    assert out.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(out.numpy(), x.numpy().mean(axis=(2, 3), keepdims=True), rtol=1e-6)


def test_pool_layers_have_no_parameters():
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)):
        assert list(layer.parameters()) == [] and list(layer.state_dict()) == []


def test_small_cnn_trains_one_step():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 3),
    )
    x, target = minigrad.randn(4, 1, 8, 8), minigrad.tensor([0, 1, 2, 1])
    loss = F.cross_entropy(model(x), target)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, name
        assert np.isfinite(param.grad.numpy()).all(), name


# --- devices --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_conv_and_pool_layers_agree_across_devices(device):
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    x_host = minigrad.randn(2, 3, 9, 8)
    expected = F.max_pool2d(conv(x_host), 2, 1, 1)
    expected_avg = F.avg_pool2d(expected, 2)
    conv.to(device)
    x = x_host.to(device).detach().requires_grad_(True)
    out = F.max_pool2d(conv(x), 2, 1, 1)
    assert out.device == minigrad.backend.normalize_device(device)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        F.avg_pool2d(out, 2).numpy(), expected_avg.numpy(), rtol=1e-5, atol=1e-6
    )
    F.adaptive_avg_pool2d(out, 1).sum().backward()
    assert x.grad.device == out.device and conv.weight.grad.device == out.device


@pytest.mark.gpu
def test_conv2d_gradients_on_gpu_match_cpu():
    conv = nn.Conv2d(2, 3, 3, padding="same")
    x_host = minigrad.randn(2, 2, 6, 5, requires_grad=True)
    conv(x_host).sum().backward()
    host_grads = [conv.weight.grad.numpy(), conv.bias.grad.numpy(), x_host.grad.numpy()]
    conv.zero_grad()
    conv.to("cuda")
    x = x_host.detach().to("cuda").requires_grad_(True)
    conv(x).sum().backward()
    device_grads = [conv.weight.grad.numpy(), conv.bias.grad.numpy(), x.grad.numpy()]
    for host, device in zip(host_grads, device_grads):
        np.testing.assert_allclose(device, host, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("in_channels", [1, 8])  # per-sample and channels-last products
def test_conv2d_on_an_empty_batch_gives_empty_outputs_and_gradients(in_channels):
    conv = nn.Conv2d(in_channels, 4, 3, padding=1)
    x = minigrad.zeros(0, in_channels, 6, 6, requires_grad=True)
    out = conv(x)
    assert out.shape == (0, 4, 6, 6)
    out.sum().backward()
    assert x.grad.shape == (0, in_channels, 6, 6)
    np.testing.assert_array_equal(conv.weight.grad.numpy(), np.zeros((4, in_channels, 3, 3)))
    np.testing.assert_array_equal(conv.bias.grad.numpy(), np.zeros(4))
