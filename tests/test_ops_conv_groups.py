"""conv2d with dilation and groups: values against a direct loop and by hand, float64
gradchecks in both column layouts and over threads, the layer, and the boundary's errors."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn

# --- the independent reference: a direct loop over every output element ---------------------


def naive_conv2d(x, weight, bias, stride, pads, dilation, groups):
    """y[n, o, p, q] = b[o] + sum over the group's channels c and the kernel offsets (i, j) of
    w[o, c, i, j] x_pad[n, g C_g + c, s_h p + d_h i, s_w q + d_w j], g = o // O_g."""
    (top, bottom), (left, right) = pads
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out_channels, group_channels, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    out_h = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    out_w = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], out_channels, out_h, out_w))
    for n in range(x.shape[0]):
        for o in range(out_channels):
            first = o // (out_channels // groups) * group_channels
            channels = x[n, first : first + group_channels]
            for p in range(out_h):
                for q in range(out_w):
                    rows = slice(p * sh, p * sh + dh * (kh - 1) + 1, dh)
                    columns = slice(q * sw, q * sw + dw * (kw - 1) + 1, dw)
                    out[n, o, p, q] = np.sum(channels[:, rows, columns] * weight[o])
            if bias is not None:
                out[n, o] += bias[o]
    return out


def random(*shape, requires_grad=True):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=requires_grad)


def as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


# (x shape, weight shape, stride, padding, dilation, groups, explicit pads)
CASES = {
    "dilation2": ((2, 3, 7, 7), (4, 3, 3, 3), 1, 0, 2, 1, ((0, 0), (0, 0))),
    "dilation_non_square_stride_padding": (
        (2, 2, 9, 8),
        (3, 2, 3, 2),
        (2, 1),
        (2, 1),
        (2, 3),
        1,
        ((2, 2), (1, 1)),
    ),
    # fewer kernel values than output positions: the per-sample products, dilated
    "dilation_per_sample": ((2, 1, 8, 8), (3, 1, 2, 2), 1, 1, 3, 1, ((1, 1), (1, 1))),
    "same_dilation_odd_kernel": ((2, 2, 6, 5), (3, 2, 3, 3), 1, "same", 2, 1, ((2, 2), (2, 2))),
    # d (k - 1) = 3 in all: the odd extra one after, as PyTorch
    "same_dilation_even_kernel": ((1, 2, 6, 6), (2, 2, 2, 4), 1, "same", 3, 1, ((1, 2), (4, 5))),
    "groups2": ((2, 4, 5, 5), (6, 2, 3, 3), 1, 1, 1, 2, ((1, 1), (1, 1))),
    "depthwise": ((2, 3, 6, 5), (3, 1, 3, 3), 1, 1, 1, 3, ((1, 1), (1, 1))),
    "depthwise_multiplier2_stride2": ((2, 2, 7, 7), (4, 1, 3, 3), 2, 0, 1, 2, ((0, 0), (0, 0))),
    "groups_and_dilation": (
        (2, 6, 9, 8),
        (4, 3, 3, 2),
        (2, 1),
        (2, 1),
        (2, 3),
        2,
        ((2, 2), (1, 1)),
    ),
    # many channels per group: the layout the rows products would take without groups
    "groups4_wide": ((2, 32, 4, 4), (8, 8, 3, 3), 1, 1, 1, 4, ((1, 1), (1, 1))),
    "groups_batch5": ((5, 4, 4, 4), (4, 2, 3, 3), 1, 1, 2, 2, ((1, 1), (1, 1))),  # 3 threads
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_conv2d_with_dilation_and_groups_matches_direct_loop(case, threads):
    x_shape, w_shape, stride, padding, dilation, groups, pads = case
    x, weight, bias = random(*x_shape), random(*w_shape), random(w_shape[0])
    out = F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    expected = naive_conv2d(
        x.numpy(), weight.numpy(), bias.numpy(), as_pair(stride), pads, as_pair(dilation), groups
    )
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_conv2d_with_dilation_and_groups_gradcheck(case, threads):
    x_shape, w_shape, stride, padding, dilation, groups, _ = case
    x, weight, bias = random(*x_shape), random(*w_shape), random(w_shape[0])

    def conv(x, weight, bias):
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)

    assert minigrad.gradcheck(conv, x, weight, bias)


def test_conv2d_dilation_skips_pixels_by_hand():
    # x[p, q] = 5 p + q; a 2x2 kernel of ones dilated by 2 adds x at (p, q), (p, q + 2),
    # (p + 2, q) and (p + 2, q + 2): 20 p + 4 q + 24
    x = minigrad.arange(25.0).reshape(1, 1, 5, 5)
    out = F.conv2d(x, minigrad.ones(1, 1, 2, 2), dilation=2)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[24, 28, 32], [44, 48, 52], [64, 68, 72]])


def test_conv2d_groups_keep_the_channels_apart_by_hand():
    # channel 0 all ones, channel 1 all twos; each group's 1x1 kernel sees its own channel only
    x = minigrad.tensor(
        np.stack([np.ones((3, 3)), np.full((3, 3), 2.0)])[None], dtype=minigrad.float32
    )
    weight = minigrad.tensor([[[[1.0]]], [[[10.0]]]])
    out = F.conv2d(x, weight, groups=2)
    np.testing.assert_array_equal(out.numpy()[0, :, 0, 0], [1, 20])


def test_conv2d_groups_equal_separate_convolutions_of_the_channel_blocks():
    x, weight, bias = random(2, 6, 5, 5), random(9, 2, 3, 3), random(9)
    out = F.conv2d(x, weight, bias, padding=1, groups=3)
    blocks = [
        F.conv2d(x[:, 2 * g : 2 * g + 2], weight[3 * g : 3 * g + 3], bias[3 * g : 3 * g + 3], 1, 1)
        for g in range(3)
    ]
    np.testing.assert_allclose(out.numpy(), minigrad.cat(blocks, dim=1).numpy(), rtol=1e-12)


def test_grouped_conv2d_keeps_float32_and_returns_contiguous_gradients():
    x = minigrad.randn(3, 4, 6, 6, requires_grad=True)
    weight = minigrad.randn(8, 2, 3, 3, requires_grad=True)
    bias = minigrad.randn(8, requires_grad=True)
    out = F.conv2d(x, weight, bias, padding=2, dilation=2, groups=2)
    out.sum().backward()
    for tensor in (out, x.grad, weight.grad, bias.grad):
        assert tensor.dtype == minigrad.float32 and tensor.data.flags.c_contiguous


def test_conv2d_dilated_kernel_must_fit_the_padded_input():
    pattern = (
        r"conv2d: kernel \(3, 3\) with dilation \(3, 3\) \(spanning \(7, 7\)\) is larger than "
        r"the padded input \(6, 6\)"
    )
    with pytest.raises(ValueError, match=pattern):
        F.conv2d(minigrad.randn(1, 1, 4, 4), minigrad.randn(1, 1, 3, 3), padding=1, dilation=3)


def test_conv2d_groups_errors_name_the_values():
    x = minigrad.randn(1, 5, 5, 5)
    pattern = r"input has 5 channels \(shape \(1, 5, 5, 5\)\) but weight expects 6 \(shape "
    with pytest.raises(ValueError, match=pattern + r"\(4, 3, 3, 3\), groups=2\)"):
        F.conv2d(x, minigrad.randn(4, 3, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"weight has 3 output channels .* by groups=2"):
        F.conv2d(minigrad.randn(1, 4, 5, 5), minigrad.randn(3, 2, 3, 3), groups=2)
    for groups in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=r"conv2d: groups must be a positive int, got"):
            F.conv2d(x, minigrad.randn(5, 5, 3, 3), groups=groups)


@pytest.mark.parametrize("dilation", [0, (1, -1)])
def test_conv2d_rejects_non_positive_dilation(dilation):
    with pytest.raises(ValueError, match=r"conv2d: dilation must be positive, got \("):
        F.conv2d(minigrad.randn(1, 1, 5, 5), minigrad.randn(1, 1, 3, 3), dilation=dilation)
    with pytest.raises(TypeError, match=r"conv2d: dilation must be an int or a pair of ints"):
        F.conv2d(minigrad.randn(1, 1, 5, 5), minigrad.randn(1, 1, 3, 3), dilation=(1, 2, 3))


# --- the layer ---------------------------------------------------------------------------------


def test_conv2d_layer_with_groups_has_pytorch_weight_shape_and_init():
    layer = nn.Conv2d(8, 16, 3, groups=4)
    assert layer.weight.shape == (16, 2, 3, 3) and layer.bias.shape == (16,)
    bound = 1 / math.sqrt(2 * 3 * 3)  # fan_in = in_channels / groups * kh * kw
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() > 0.8 * bound


@pytest.mark.parametrize(
    ("kwargs", "output_shape"),
    [
        ({"dilation": 2}, (2, 6, 8, 10)),
        ({"dilation": 2, "padding": "same"}, (2, 6, 12, 14)),
        ({"dilation": (2, 1), "padding": 1, "stride": 2, "groups": 3}, (2, 6, 5, 7)),
    ],
)
def test_conv2d_layer_output_size_with_dilation(kwargs, output_shape):
    layer = nn.Conv2d(3, 6, 3, **kwargs)
    assert layer(minigrad.randn(2, 3, 12, 14)).shape == output_shape


def test_conv2d_layer_repr_shows_dilation_and_groups_as_pytorch():
    text = "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(2, 2), "
    assert repr(nn.Conv2d(4, 8, 3, padding=1, dilation=2, groups=2, bias=False)) == (
        text + "groups=2, bias=False)"
    )


def test_conv2d_layer_rejects_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match=r"in_channels=6, out_channels=4, groups=4"):
        nn.Conv2d(6, 4, 3, groups=4)
    with pytest.raises(ValueError, match=r"Conv2d: groups must be a positive int, got 0"):
        nn.Conv2d(4, 4, 3, groups=0)


@pytest.mark.parametrize("device", DEVICES)
def test_grouped_dilated_conv2d_agrees_across_devices(device):
    layer = nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2)
    x_host = minigrad.randn(2, 4, 7, 6, requires_grad=True)
    layer(x_host).sum().backward()
    host = [layer(x_host).numpy(), x_host.grad.numpy(), layer.weight.grad.numpy()]
    layer.zero_grad()
    layer.to(device)
    x = x_host.detach().to(device).requires_grad_(True)
    out = layer(x)
    out.sum().backward()
    assert out.device == minigrad.backend.normalize_device(device)
    for expected, got in zip(host, [out.numpy(), x.grad.numpy(), layer.weight.grad.numpy()]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
