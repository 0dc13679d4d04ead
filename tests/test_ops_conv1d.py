"""conv1d and Conv1d on (N, C, L): values against a direct loop and by hand, float64 gradchecks,
one graph node, the layer's shapes, init and repr, and the boundary's errors."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def naive_conv1d(x, weight, bias, stride, pads, dilation, groups):
    """y[n, o, p] = b[o] + sum_{c, i} w[o, c, i] x_pad[n, g C_g + c, s p + d i], g = o // O_g."""
    x = np.pad(x, ((0, 0), (0, 0), pads))
    out_channels, group_channels, k = weight.shape
    out_l = (x.shape[2] - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((x.shape[0], out_channels, out_l))
    for o in range(out_channels):
        first = o // (out_channels // groups) * group_channels
        for p in range(out_l):
            taps = x[
                :,
                first : first + group_channels,
                p * stride : p * stride + dilation * (k - 1) + 1 : dilation,
            ]
            out[:, o, p] = np.sum(taps * weight[o], axis=(1, 2)) + (0 if bias is None else bias[o])
    return out


def random(*shape, requires_grad=True):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=requires_grad)


# (x shape, weight shape, stride, padding, dilation, groups, explicit pads (before, after))
CASES = {
    "k3": ((2, 3, 9), (4, 3, 3), 1, 0, 1, 1, (0, 0)),
    "stride2_padding1": ((2, 2, 10), (3, 2, 3), 2, 1, 1, 1, (1, 1)),
    "same_even_kernel": ((2, 2, 7), (3, 2, 4), 1, "same", 1, 1, (1, 2)),
    "dilation3_same": ((1, 2, 9), (2, 2, 3), 1, "same", 3, 1, (3, 3)),
    "groups2_dilation2": ((2, 6, 11), (4, 3, 3), 2, 2, 2, 2, (2, 2)),
    "depthwise": ((3, 4, 8), (4, 1, 3), 1, 1, 1, 4, (1, 1)),
    "many_channels_rows_layout": ((2, 16, 5), (4, 16, 3), 1, 1, 1, 1, (1, 1)),
    "batch5": ((5, 2, 12), (3, 2, 3), 1, 1, 1, 1, (1, 1)),  # 3 threads: 1, 2, 2 samples
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_conv1d_matches_direct_loop(case, threads):
    x_shape, w_shape, stride, padding, dilation, groups, pads = case
    x, weight, bias = random(*x_shape), random(*w_shape), random(w_shape[0])
    out = F.conv1d(x, weight, bias, stride, padding, dilation, groups)
    expected = naive_conv1d(x.numpy(), weight.numpy(), bias.numpy(), stride, pads, dilation, groups)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_conv1d_gradcheck_input_weight_and_bias(case, threads):
    x_shape, w_shape, stride, padding, dilation, groups, _ = case
    x, weight, bias = random(*x_shape), random(*w_shape), random(w_shape[0])

    def conv(x, weight, bias):
        return F.conv1d(x, weight, bias, stride, padding, dilation, groups)

    assert minigrad.gradcheck(conv, x, weight, bias)


def test_conv1d_by_hand():
    x = minigrad.tensor([[[1.0, 2, 3, 4, 5]]])
    out = F.conv1d(x, minigrad.tensor([[[1.0, 0, -1]]]), minigrad.tensor([0.5]), padding=1)
    # x[p - 1] - x[p + 1] with zeros outside, plus 0.5
    np.testing.assert_array_equal(out.numpy()[0, 0], [-1.5, -1.5, -1.5, -1.5, 4.5])


def test_conv1d_is_one_graph_node_keeping_float32():
    x = minigrad.randn(2, 3, 8, requires_grad=True)
    weight = minigrad.randn(4, 3, 3, requires_grad=True)
    out = F.conv1d(x, weight, padding=1)
    assert out.grad_fn.name == "conv1d" and out.grad_fn.inputs[0] is x
    out.sum().backward()
    for tensor in (out, x.grad, weight.grad):
        assert tensor.dtype == minigrad.float32 and tensor.data.flags.c_contiguous
    assert x.grad.shape == x.shape and weight.grad.shape == weight.shape


def test_conv1d_rejects_inputs_and_weights_of_other_ranks():
    with pytest.raises(ValueError, match=r"conv1d: expected input of shape \(N, C, L\), got"):
        F.conv1d(minigrad.randn(1, 3, 4, 4), minigrad.randn(2, 3, 3))
    with pytest.raises(ValueError, match=r"conv1d: expected weight of shape \(out_channels, in"):
        F.conv1d(minigrad.randn(1, 3, 8), minigrad.randn(2, 3, 3, 3))
    with pytest.raises(TypeError, match=r"conv1d: stride must be an int or a sequence of 1"):
        F.conv1d(minigrad.randn(1, 3, 8), minigrad.randn(2, 3, 3), stride=(1, 1))


def test_conv1d_rejects_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"conv1d: kernel \(5,\) is larger than the padded input"):
        F.conv1d(minigrad.randn(1, 1, 2), minigrad.randn(1, 1, 5), padding=1)


# --- the layer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "length"),
    [({}, 14), ({"padding": 1}, 16), ({"padding": "same", "dilation": 2}, 16), ({"stride": 3}, 5)],
)
def test_conv1d_layer_output_shapes(kwargs, length):
    assert nn.Conv1d(4, 6, 3, **kwargs)(minigrad.randn(2, 4, 16)).shape == (2, 6, length)


def test_conv1d_layer_parameters_init_and_repr_as_pytorch():
    layer = nn.Conv1d(4, 8, 5, groups=2)
    assert layer.weight.shape == (8, 2, 5) and layer.bias.shape == (8,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 5)
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert repr(nn.Conv1d(4, 8, 3)) == "Conv1d(4, 8, kernel_size=(3,), stride=(1,))"
    assert repr(nn.Conv1d(4, 8, 3, padding="same", dilation=2)) == (
        "Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,))"
    )


def test_conv1d_layer_is_the_functional_op_with_its_parameters():
    layer = nn.Conv1d(2, 3, 3, stride=2, padding=1, dilation=2)
    x = minigrad.randn(2, 2, 9)
    expected = F.conv1d(x, layer.weight, layer.bias, 2, 1, 2)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_conv1d_agrees_across_devices(device):
    layer = nn.Conv1d(4, 6, 3, padding=2, dilation=2, groups=2)
    x_host = minigrad.randn(3, 4, 10, requires_grad=True)
    expected = layer(x_host)
    expected.sum().backward()
    grads = [x_host.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy()]
    layer.zero_grad()
    layer.to(device)
    x = x_host.detach().to(device).requires_grad_(True)
    out = layer(x)
    out.sum().backward()
    assert out.device == minigrad.backend.normalize_device(device)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    for host, got in zip(
        grads, [x.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy()]
    ):
        np.testing.assert_allclose(got, host, rtol=1e-4, atol=1e-5)
