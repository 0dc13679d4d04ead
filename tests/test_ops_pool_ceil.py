"""max_pool2d and avg_pool2d with ceil_mode and count_include_pad: output sizes by PyTorch's
rule, values against a direct loop written as PyTorch's kernels and by hand, float64 gradchecks,
the layers, and the boundary's errors."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def pytorch_output_size(size, k, s, pad, ceil_mode):
    """PyTorch's pooling_output_shape: with ceil_mode the count rounds up, less the last window
    when it would start past the input and its left padding."""
    count = (size + 2 * pad - k + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (count - 1) * s >= size + pad:
        count -= 1
    return count


def naive_pool(x, kernel, stride, padding, ceil_mode, reduce, count_include_pad=True):
    """Each window clipped as in PyTorch's kernels: [start, start + k) with start = s p - pad,
    its real cells within [0, size); avg divides by the window clipped to the padded input
    [-pad, size + pad) (count_include_pad) or by its real cells."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    height, width = x.shape[2:]
    out_h = pytorch_output_size(height, kh, sh, ph, ceil_mode)
    out_w = pytorch_output_size(width, kw, sw, pw, ceil_mode)
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for p in range(out_h):
        top = p * sh - ph
        for q in range(out_w):
            left = q * sw - pw
            cells = x[
                :, :, max(top, 0) : min(top + kh, height), max(left, 0) : min(left + kw, width)
            ]
            if reduce == "max":
                out[:, :, p, q] = cells.max(axis=(2, 3))
                continue
            rows = min(top + kh, height + ph) - top
            columns = min(left + kw, width + pw) - left
            divisor = rows * columns if count_include_pad else cells.shape[2] * cells.shape[3]
            out[:, :, p, q] = cells.sum(axis=(2, 3)) / divisor
    return out


def as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


def random(*shape):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=True)


# (x shape, kernel_size, stride, padding)
CASES = {
    "2x2_odd_input": ((2, 2, 5, 5), 2, None, 0),
    "3x3_stride2_padding1": ((1, 2, 6, 6), 3, 2, 1),
    "last_window_would_start_in_the_right_padding": ((1, 1, 5, 5), 2, 2, 1),
    "non_square": ((2, 1, 6, 7), (3, 2), (2, 3), (1, 1)),
    "kernel4_stride3_padding2": ((1, 2, 7, 6), 4, 3, 2),
    "exact_division_adds_nothing": ((1, 1, 8, 8), 3, 3, 1),
    "kernel_larger_than_input": ((1, 2, 1, 1), 2, None, 0),
    "batch5": ((5, 2, 7, 7), 3, 2, 1),  # 3 threads: 1, 2, 2 samples
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_max_pool2d_ceil_mode_matches_direct_loop(case, threads):
    x_shape, kernel, stride, padding = case
    x = random(*x_shape)
    out = F.max_pool2d(x, kernel, stride, padding, ceil_mode=True)
    stride = kernel if stride is None else stride
    expected = naive_pool(
        x.numpy(), as_pair(kernel), as_pair(stride), as_pair(padding), True, "max"
    )
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("ceil_mode", [True, False])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_avg_pool2d_ceil_mode_and_count_include_pad_match_direct_loop(
    case, ceil_mode, count_include_pad
):
    x_shape, kernel, stride, padding = case
    if not ceil_mode and x_shape[2] < as_pair(kernel)[0]:
        pytest.skip("without ceil_mode the kernel must fit the input")
    x = random(*x_shape)
    out = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    stride = kernel if stride is None else stride
    expected = naive_pool(
        x.numpy(),
        as_pair(kernel),
        as_pair(stride),
        as_pair(padding),
        ceil_mode,
        "avg",
        count_include_pad,
    )
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_pools_with_ceil_mode_gradcheck(case):
    x_shape, kernel, stride, padding = case
    x = random(*x_shape)  # distinct values: no ties within eps
    assert minigrad.gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding, ceil_mode=True), x)
    for include in (True, False):
        assert minigrad.gradcheck(
            lambda x, include=include: F.avg_pool2d(x, kernel, stride, padding, True, include), x
        )


def test_ceil_mode_keeps_the_partial_windows_by_hand():
    x = minigrad.arange(25.0).reshape(1, 1, 5, 5)  # x[p, q] = 5 p + q
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    maxima = F.max_pool2d(x, 2, ceil_mode=True)
    np.testing.assert_array_equal(maxima.numpy()[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    # the last column's windows hold one column of two cells, the corner one cell
    means = F.avg_pool2d(x, 2, ceil_mode=True)
    expected = [[3, 5, 6.5], [13, 15, 16.5], [20.5, 22.5, 24]]
    np.testing.assert_array_equal(means.numpy()[0, 0], expected)


def test_avg_pool2d_partial_windows_count_the_padding_but_not_past_it_by_hand():
    ones = minigrad.ones(1, 1, 6, 6, requires_grad=True)
    # windows at -1, 1, 3, 5 along each axis: 3 cells of the padded input [-1, 7), except the
    # last, which starts at 5 and reaches only 2 cells of it (6 is past the padding); of those,
    # the cells inside the input are 2, 3, 3 and 1
    include = F.avg_pool2d(ones, 3, 2, 1, ceil_mode=True)
    along = np.array([2, 3, 3, 1])
    np.testing.assert_allclose(
        include.numpy()[0, 0], np.outer(along, along) / np.outer([3, 3, 3, 2], [3, 3, 3, 2])
    )
    exclude = F.avg_pool2d(ones, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(exclude.numpy(), np.ones((1, 1, 4, 4)))
    exclude.sum().backward()
    assert ones.grad.shape == ones.shape and ones.grad.dtype == minigrad.float32


def test_ceil_mode_drops_a_last_window_that_would_start_in_the_right_padding():
    # ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th would start at 5, in the padding
    x = minigrad.randn(1, 1, 5, 5)
    assert F.max_pool2d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)


def test_ceil_mode_rejects_an_empty_output_naming_the_values():
    pattern = r"max_pool2d: the output would be empty: input \(1, 1\), kernel \(3, 3\), stride"
    with pytest.raises(ValueError, match=pattern):
        F.max_pool2d(minigrad.randn(1, 1, 1, 1), 3, stride=1, ceil_mode=True)
    with pytest.raises(TypeError, match=r"avg_pool2d: ceil_mode must be True or False, got 1"):
        F.avg_pool2d(minigrad.randn(1, 1, 4, 4), 2, ceil_mode=1)
    with pytest.raises(TypeError, match=r"count_include_pad must be True or False, got 'no'"):
        F.avg_pool2d(minigrad.randn(1, 1, 4, 4), 2, count_include_pad="no")


def test_count_include_pad_false_averages_only_the_real_cells_by_hand():
    x = minigrad.ones(1, 1, 2, 2)
    out = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    np.testing.assert_allclose(out.numpy(), np.ones((1, 1, 2, 2)))  # 4 real ones each, not 4/9


# --- layers ------------------------------------------------------------------------------------


def test_pool_layers_pass_ceil_mode_and_count_include_pad():
    x = minigrad.randn(2, 3, 7, 7)
    np.testing.assert_array_equal(
        nn.MaxPool2d(2, ceil_mode=True)(x).numpy(), F.max_pool2d(x, 2, ceil_mode=True).numpy()
    )
    layer = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_array_equal(layer(x).numpy(), F.avg_pool2d(x, 3, 2, 1, True, False).numpy())
    assert layer(x).shape == (2, 3, 4, 4)


def test_pool_layer_repr_shows_ceil_mode_where_pytorch_does():
    assert repr(nn.MaxPool2d(2, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True)"
    )
    assert repr(nn.AvgPool2d(2, ceil_mode=True)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"


@pytest.mark.parametrize("device", DEVICES)
def test_ceil_mode_pools_agree_across_devices(device):
    x_host = minigrad.randn(2, 3, 7, 6, requires_grad=True)
    F.max_pool2d(x_host, 3, 2, 1, ceil_mode=True).sum().backward()
    expected_max = x_host.grad.numpy()
    x_host.grad = None
    F.avg_pool2d(x_host, 3, 2, 1, True, False).sum().backward()
    expected_avg = x_host.grad.numpy()
    x = x_host.detach().to(device).requires_grad_(True)
    out = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert out.device == minigrad.backend.normalize_device(device)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected_max, rtol=1e-6)
    x.grad = None
    F.avg_pool2d(x, 3, 2, 1, True, False).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected_avg, rtol=1e-5, atol=1e-6)
    assert math.isfinite(float(x.grad.numpy().sum()))
