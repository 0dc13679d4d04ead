"""conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d: values against direct loops and hand
computations, float64 gradchecks, max-pool gradient routing, and the boundary's error messages."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad.ops import conv as conv_ops
from minigrad.ops import window

# --- independent references: direct loops over every output element ----------------------


def padded(x: np.ndarray, pads, fill=0.0) -> np.ndarray:
    (top, bottom), (left, right) = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def naive_conv2d(x, weight, bias, stride, pads):
    x = padded(x, pads)
    (sh, sw), (kh, kw) = stride, weight.shape[2:]
    out_h = (x.shape[2] - kh) // sh + 1
    out_w = (x.shape[3] - kw) // sw + 1
    out = np.zeros((x.shape[0], weight.shape[0], out_h, out_w))
    for n in range(x.shape[0]):
        for o in range(weight.shape[0]):
            for p in range(out_h):
                for q in range(out_w):
                    window = x[n, :, p * sh : p * sh + kh, q * sw : q * sw + kw]
                    out[n, o, p, q] = np.sum(window * weight[o])
            if bias is not None:
                out[n, o] += bias[o]
    return out


def naive_pool(x, kernel, stride, pad, reduce, fill):
    x = padded(x, ((pad[0], pad[0]), (pad[1], pad[1])), fill)
    (kh, kw), (sh, sw) = kernel, stride
    out_h = (x.shape[2] - kh) // sh + 1
    out_w = (x.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for p in range(out_h):
        for q in range(out_w):
            out[:, :, p, q] = reduce(x[:, :, p * sh : p * sh + kh, q * sw : q * sw + kw], (2, 3))
    return out


def naive_adaptive_avg_pool(x, output_size):
    """PyTorch's adaptive windows: rows floor(p H / out_h) to ceil((p + 1) H / out_h), and so on."""
    (height, width), (out_h, out_w) = x.shape[2:], output_size
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for p in range(out_h):
        rows = slice(math.floor(p * height / out_h), math.ceil((p + 1) * height / out_h))
        for q in range(out_w):
            columns = slice(math.floor(q * width / out_w), math.ceil((q + 1) * width / out_w))
            out[:, :, p, q] = x[:, :, rows, columns].mean(axis=(2, 3))
    return out


def as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


def numpy_of(tensor):
    return None if tensor is None else tensor.numpy()


def random(*shape, requires_grad=True):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=requires_grad)


# --- conv2d ---------------------------------------------------------------------------------

# (x shape, weight shape, stride, padding, explicit pads ((top, bottom), (left, right)))
CONV_CASES = {
    "3x3": ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, ((0, 0), (0, 0))),
    "stride2_kernel_larger_than_stride": ((2, 2, 7, 6), (3, 2, 3, 3), 2, 0, ((0, 0), (0, 0))),
    "padding1": ((2, 2, 4, 5), (3, 2, 3, 3), 1, 1, ((1, 1), (1, 1))),
    "stride2_padding1": ((1, 2, 5, 6), (2, 2, 3, 3), 2, 1, ((1, 1), (1, 1))),
    "same_odd_kernel": ((2, 2, 4, 5), (2, 2, 3, 3), 1, "same", ((1, 1), (1, 1))),
    "same_even_kernel": ((2, 2, 4, 5), (2, 2, 4, 2), 1, "same", ((1, 2), (0, 1))),
    "non_square": ((2, 2, 6, 4), (3, 2, 3, 2), (2, 1), (1, 0), ((1, 1), (0, 0))),
    "batch1": ((1, 3, 4, 4), (2, 3, 2, 2), 1, 0, ((0, 0), (0, 0))),
    "kernel1x1": ((2, 4, 3, 3), (5, 4, 1, 1), 1, 0, ((0, 0), (0, 0))),
    "stride_larger_than_kernel": ((2, 2, 7, 7), (2, 2, 2, 2), 3, 0, ((0, 0), (0, 0))),
    "batch5": ((5, 2, 4, 4), (3, 2, 3, 3), 1, 1, ((1, 1), (1, 1))),  # 3 threads: 1, 2, 2
    # fewer kernel values (C kh kw) than output positions: the per-sample products
    "per_sample_first_layer": ((5, 1, 6, 6), (4, 1, 3, 3), 1, 1, ((1, 1), (1, 1))),
    "per_sample_stride2": ((2, 2, 9, 8), (3, 2, 2, 2), 2, 0, ((0, 0), (0, 0))),
    "per_sample_same_even_kernel": ((3, 1, 7, 6), (2, 1, 2, 4), 1, "same", ((0, 1), (1, 2))),
}


def test_conv2d_cases_cover_both_column_layouts():
    layouts = set()
    for x_shape, w_shape, stride, _, pads in CONV_CASES.values():
        out = window.output_size(x_shape[2:], w_shape[2:], as_pair(stride), pads)
        k = w_shape[1] * w_shape[2] * w_shape[3]
        layouts.add(conv_ops._per_sample_products(k, out[0] * out[1]))
    assert layouts == {True, False}
    assert conv_ops._per_sample_products(1 * 3 * 3, 28 * 28)  # the CNN's first layer
    assert not conv_ops._per_sample_products(32 * 3 * 3, 14 * 14)  # and its second


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d_matches_direct_loop(case, threads):
    x_shape, w_shape, stride, padding, pads = case
    x, weight, bias = random(*x_shape), random(*w_shape), random(w_shape[0])
    out = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    expected = naive_conv2d(x.numpy(), weight.numpy(), bias.numpy(), as_pair(stride), pads)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d_gradcheck_input_weight_and_bias(case, threads):
    x_shape, w_shape, stride, padding, _ = case
    x, weight, bias = random(*x_shape), random(*w_shape), random(w_shape[0])

    def conv(x, weight, bias):
        return F.conv2d(x, weight, bias, stride=stride, padding=padding)

    assert minigrad.gradcheck(conv, x, weight, bias)


def test_conv2d_gradcheck_without_bias():
    x, weight = random(2, 2, 4, 4), random(3, 2, 2, 3)
    assert minigrad.gradcheck(lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=1), x, weight)


def test_conv2d_sums_each_window_by_hand():
    x = minigrad.arange(16.0).reshape(1, 1, 4, 4)  # rows 0..3, 4..7, 8..11, 12..15
    out = F.conv2d(x, minigrad.ones(1, 1, 2, 2))
    expected = [[10, 14, 18], [26, 30, 34], [42, 46, 50]]
    np.testing.assert_array_equal(out.numpy()[0, 0], expected)


def test_conv2d_stride2_padding1_with_bias_by_hand():
    x = minigrad.tensor([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    weight = minigrad.tensor([[[[1.0, 0], [0, -1]]]])
    out = F.conv2d(x, weight, minigrad.tensor([0.5]), stride=2, padding=1)
    # windows of the zero-padded 5x5 input at (0,0), (0,2), (2,0), (2,2): top-left - bottom-right
    np.testing.assert_array_equal(out.numpy()[0, 0], [[-0.5, -2.5], [-6.5, -3.5]])


def test_conv2d_same_even_kernel_pads_bottom_and_right_as_pytorch():
    x = minigrad.tensor([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    out = F.conv2d(x, minigrad.ones(1, 1, 2, 2), padding="same")
    np.testing.assert_array_equal(out.numpy()[0, 0], [[12, 16, 9], [24, 28, 15], [15, 17, 9]])


def test_conv2d_valid_padding_is_no_padding():
    x, weight = random(1, 2, 5, 5), random(3, 2, 3, 3)
    np.testing.assert_array_equal(
        F.conv2d(x, weight, padding="valid").numpy(), F.conv2d(x, weight).numpy()
    )


def test_conv2d_keeps_float32_and_returns_contiguous_arrays():
    x = minigrad.randn(2, 3, 5, 5, requires_grad=True)
    weight = minigrad.randn(4, 3, 3, 3, requires_grad=True)
    bias = minigrad.randn(4, requires_grad=True)
    out = F.conv2d(x, weight, bias, padding=1)
    out.sum().backward()  # the sum's gradient arrives as a read-only broadcast view
    for tensor in (out, x.grad, weight.grad, bias.grad):
        assert tensor.dtype == minigrad.float32
        assert tensor.data.flags.c_contiguous
    assert x.grad.shape == x.shape and weight.grad.shape == weight.shape


def test_conv2d_computes_only_the_gradients_asked_for():
    x = random(2, 2, 4, 4, requires_grad=False)
    weight, bias = random(3, 2, 3, 3), random(3, requires_grad=False)
    out = F.conv2d(x, weight, bias)
    assert out.grad_fn.saved_tensors[0] is not None  # the columns, kept for the weight gradient
    out.sum().backward()
    assert x.grad is None and bias.grad is None
    # d sum(out) / d w[o, c, i, j] = sum over n, p, q of x[n, c, p + i, q + j] (2x2 outputs)
    x_np = x.numpy()
    windows = [
        [[x_np[:, c, i : i + 2, j : j + 2].sum() for j in range(3)] for i in range(3)]
        for c in range(2)
    ]
    np.testing.assert_allclose(weight.grad.numpy(), np.broadcast_to(windows, (3, 2, 3, 3)))


def test_conv2d_keeps_no_columns_when_the_weight_needs_no_gradient():
    x, weight = random(1, 2, 4, 4), random(3, 2, 3, 3, requires_grad=False)
    out = F.conv2d(x, weight)
    assert out.grad_fn.saved_tensors[0] is None


def test_conv2d_accepts_a_non_contiguous_input():
    base = random(2, 5, 5, 3, requires_grad=False)
    x = base.permute(0, 3, 1, 2)
    weight = random(2, 3, 3, 3, requires_grad=False)
    expected = naive_conv2d(x.numpy(), weight.numpy(), None, (1, 1), ((1, 1), (1, 1)))
    np.testing.assert_allclose(F.conv2d(x, weight, padding=1).numpy(), expected, rtol=1e-12)


def test_conv2d_under_no_grad_records_nothing():
    x, weight = random(1, 2, 4, 4), random(3, 2, 3, 3)
    with minigrad.no_grad():
        out = F.conv2d(x, weight)
    assert not out.requires_grad and out.grad_fn is None


# --- max_pool2d -----------------------------------------------------------------------------

# (x shape, kernel_size, stride, padding)
POOL_CASES = {
    "2x2": ((2, 3, 4, 6), 2, None, 0),
    "3x3_stride2_padding1": ((2, 2, 7, 6), 3, 2, 1),
    "overlapping_stride1": ((1, 2, 4, 5), 2, 1, 0),
    "non_square": ((2, 2, 6, 5), (3, 2), (2, 1), (1, 1)),
    "remainder_cropped": ((1, 2, 5, 7), 2, 2, 0),
    "batch1_global": ((1, 3, 3, 4), (3, 4), 1, 0),
    "batch5_tiling": ((5, 2, 4, 6), 2, None, 0),  # 3 threads: 1, 2, 2 samples
    "batch5_overlapping_padded": ((5, 2, 5, 5), 3, 2, 1),
}


@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_max_pool2d_matches_direct_loop(case, threads):
    x_shape, kernel, stride, padding = case
    x = random(*x_shape)
    out = F.max_pool2d(x, kernel, stride, padding)
    stride = kernel if stride is None else stride
    expected = naive_pool(
        x.numpy(), as_pair(kernel), as_pair(stride), as_pair(padding), np.max, -np.inf
    )
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_max_pool2d_gradcheck(case, threads):
    x_shape, kernel, stride, padding = case
    x = random(*x_shape)  # distinct values: no ties within eps
    assert minigrad.gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), x)


def test_max_pool2d_routes_each_gradient_to_its_window_maximum():
    x = minigrad.tensor(
        [[[[1.0, 9, 2, 3], [4, 5, 8, 7], [6, 6, 0, 1], [6, 2, 1, 1]]]], requires_grad=True
    )
    out = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[9, 8], [6, 1]])
    out.backward(minigrad.tensor([[[[10.0, 20], [30, 40]]]]))
    # ties go to the first maximum in row-major order: 6 at (2, 0), 1 at (2, 3)
    expected = [[0, 10, 0, 0], [0, 0, 20, 0], [30, 0, 0, 40], [0, 0, 0, 0]]
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool2d_overlapping_windows_accumulate_gradient():
    x = minigrad.tensor([[[[1.0, 2, 1], [2, 9, 2], [1, 2, 1]]]], requires_grad=True)
    out = F.max_pool2d(x, 2, stride=1)  # the 9 is the maximum of all four windows
    np.testing.assert_array_equal(out.numpy()[0, 0], [[9, 9], [9, 9]])
    out.backward(minigrad.tensor([[[[1.0, 2], [3, 4]]]]))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_pool2d_padding_never_wins():
    x = minigrad.full((1, 1, 2, 2), -5.0, requires_grad=True)
    out = F.max_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_array_equal(out.numpy(), np.full((1, 1, 3, 3), -5.0))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[4, 2], [2, 1]])  # first max wins


INF = float("inf")

# (x (H, W), kernel_size, stride, padding, dy = 1, 2, 3, ... in row-major order: expected dx);
# the padding is never a candidate, so a window whose real elements are all -inf sends its dy
# to its first real element in row-major order (values checked against PyTorch 2.13)
MINUS_INF_WINDOW_CASES = {
    # 3x3 outputs: windows (0, 0), (0, 1), (1, 0) hold only -inf, first real x[0, 0]
    # (dy 1 + 2 + 4); window (0, 2) only x[0, 1] (dy 3); (2, 0) only x[1, 0] (dy 7)
    "2x2_stride1_padding1": (
        [[-INF, -INF], [-INF, 3.0]],
        2,
        1,
        1,
        [[7, 3], [7, 5 + 6 + 8 + 9]],
    ),
    # every window's first real element is the top-left of its unpadded part
    "3x3_stride2_padding1": (
        [[-INF] * 4] * 4,
        3,
        2,
        1,
        [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
    ),
    # first real row max(1 - 2p, 0) + 2p - 1 of x: 0, 1, 3; first real column q - 1 or 0
    "non_square_3x2_stride2x1_padding1": (
        [[-INF] * 4] * 5,
        (3, 2),
        (2, 1),
        (1, 1),
        [[1 + 2, 3, 4, 5], [6 + 7, 8, 9, 10], [0] * 4, [11 + 12, 13, 14, 15], [0] * 4],
    ),
    # the real maxima 1 and 2 win where they are; windows (0, 0) and (2, 2) hold only -inf
    # and send their dy 1 and 9 to their first real elements x[0, 0] and x[1, 1]
    "3x3_stride1_padding1_mixed": (
        [[-INF, -INF, 1.0], [-INF, -INF, -INF], [2.0, -INF, -INF]],
        3,
        1,
        1,
        [[1, 0, 2 + 3 + 6], [0, 9, 0], [4 + 5 + 7 + 8, 0, 0]],
    ),
}


@pytest.mark.parametrize("case", MINUS_INF_WINDOW_CASES.values(), ids=MINUS_INF_WINDOW_CASES.keys())
def test_max_pool2d_window_of_minus_inf_sends_its_gradient_to_the_first_real_element(case, threads):
    image, kernel, stride, padding, expected = case
    batch = np.broadcast_to(np.array(image), (5, 2, *np.shape(image)))  # 3 threads: 1, 2, 2
    x = minigrad.tensor(np.ascontiguousarray(batch), requires_grad=True)
    out = F.max_pool2d(x, kernel, stride, padding)
    pooled = out.numpy()[0, 0]
    grad_out = np.arange(1.0, pooled.size + 1).reshape(pooled.shape)
    out.backward(minigrad.tensor(np.broadcast_to(grad_out, out.shape).copy()))
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(expected, x.shape))
    reference = naive_pool(
        batch, as_pair(kernel), as_pair(stride), as_pair(padding), np.max, -np.inf
    )
    np.testing.assert_array_equal(out.numpy(), reference)


def test_max_pool2d_propagates_nan_as_pytorch():
    x = minigrad.tensor([[[[1.0, float("nan")], [2, 3]]]], requires_grad=True)
    out = F.max_pool2d(x, 2)
    assert np.isnan(out.item())
    out.backward(minigrad.ones(1, 1, 1, 1))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1], [0, 0]])


def test_max_pool2d_stride_defaults_to_kernel_size():
    assert F.max_pool2d(minigrad.randn(2, 3, 9, 8), 3).shape == (2, 3, 3, 2)


# --- avg_pool2d and adaptive_avg_pool2d ---------------------------------------------------


@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_avg_pool2d_matches_direct_loop(case):
    x_shape, kernel, stride, padding = case
    x = random(*x_shape)
    out = F.avg_pool2d(x, kernel, stride, padding)
    stride = kernel if stride is None else stride
    expected = naive_pool(x.numpy(), as_pair(kernel), as_pair(stride), as_pair(padding), np.mean, 0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_avg_pool2d_gradcheck(case):
    x_shape, kernel, stride, padding = case
    assert minigrad.gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding), random(*x_shape))


def test_avg_pool2d_counts_the_padding_by_hand():
    x = minigrad.ones(1, 1, 2, 2, requires_grad=True)
    out = F.avg_pool2d(x, 3, stride=1, padding=1)  # every window: 4 ones among 9 cells
    np.testing.assert_allclose(out.numpy(), np.full((1, 1, 2, 2), 4 / 9), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 1, 2, 2), 4 / 9), rtol=1e-6)


@pytest.mark.parametrize("output_size", [1, (1, 1)])
def test_adaptive_avg_pool2d_global_average(output_size):
    x = random(2, 3, 4, 5)
    out = F.adaptive_avg_pool2d(x, output_size)
    np.testing.assert_allclose(out.numpy(), x.numpy().mean(axis=(2, 3), keepdims=True))
    assert minigrad.gradcheck(lambda x: F.adaptive_avg_pool2d(x, output_size), x)


@pytest.mark.parametrize(
    ("x_shape", "output_size", "kernel"),
    [((2, 2, 6, 8), (2, 4), (3, 2)), ((1, 2, 6, 4), (None, 2), (1, 2)), ((1, 1, 4, 4), 2, (2, 2))],
)
def test_adaptive_avg_pool2d_divisible_sizes_average_equal_windows(x_shape, output_size, kernel):
    x = random(*x_shape)
    out = F.adaptive_avg_pool2d(x, output_size)
    np.testing.assert_allclose(out.numpy(), F.avg_pool2d(x, kernel).numpy())
    assert minigrad.gradcheck(lambda x: F.adaptive_avg_pool2d(x, output_size), x)


def test_adaptive_avg_pool2d_unequal_windows_by_hand():
    # 3 -> 2: rows [0, 2) and [1, 3), columns likewise, overlapping in the middle
    x = minigrad.arange(9.0).reshape(1, 1, 3, 3)
    out = F.adaptive_avg_pool2d(x, 2)
    assert out.dtype == minigrad.float32
    np.testing.assert_array_equal(out.numpy()[0, 0], [[2, 3], [5, 6]])
    # 5 -> 3: columns [0, 2), [1, 4), [3, 5) of the column means 2.5, 3.5, ..., 6.5
    x = minigrad.arange(10.0, dtype=minigrad.float64).reshape(1, 1, 2, 5)
    out = F.adaptive_avg_pool2d(x, (1, 3))
    np.testing.assert_allclose(out.numpy()[0, 0], [[3, 4.5, 6]], rtol=1e-15)


def test_adaptive_avg_pool2d_output_larger_than_input_by_hand():
    # 2 -> 3: windows [0, 1), [0, 2), [1, 2); each input row lies in windows of sizes 1 and 2
    x = minigrad.tensor([[[[0.0, 1], [2, 3]]]], requires_grad=True)
    out = F.adaptive_avg_pool2d(x, 3)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 2), 1.5 * 1.5))


# (x shape, output_size): sizes that do not divide the input, None, and larger outputs
ADAPTIVE_CASES = {
    "7x7_to_3x3": ((2, 3, 7, 7), 3),
    "7x10_to_5x3": ((2, 2, 7, 10), (5, 3)),
    "5x6_keep_height_to_4": ((1, 2, 5, 6), (None, 4)),
    "3x5_to_7x2_larger_height": ((1, 2, 3, 5), (7, 2)),
    "2x2_to_3x3_larger": ((3, 1, 2, 2), 3),
}


@pytest.mark.parametrize("case", ADAPTIVE_CASES.values(), ids=ADAPTIVE_CASES.keys())
def test_adaptive_avg_pool2d_matches_direct_loop_with_pytorch_windows(case):
    x_shape, output_size = case
    x = random(*x_shape)
    out = F.adaptive_avg_pool2d(x, output_size)
    size = tuple(
        x_shape[2 + axis] if s is None else s for axis, s in enumerate(as_pair(output_size))
    )
    np.testing.assert_allclose(out.numpy(), naive_adaptive_avg_pool(x.numpy(), size), rtol=1e-12)


@pytest.mark.parametrize("case", ADAPTIVE_CASES.values(), ids=ADAPTIVE_CASES.keys())
def test_adaptive_avg_pool2d_gradcheck_unequal_windows(case):
    x_shape, output_size = case
    assert minigrad.gradcheck(lambda x: F.adaptive_avg_pool2d(x, output_size), random(*x_shape))


@pytest.mark.parametrize("device", DEVICES)
def test_padded_max_pool2d_and_unequal_adaptive_windows_agree_across_devices(device):
    image, kernel, stride, padding, expected = MINUS_INF_WINDOW_CASES["3x3_stride1_padding1_mixed"]
    x = minigrad.tensor([[image]], device=device, requires_grad=True)
    grad_out = minigrad.arange(1.0, 10.0, device=device).reshape(1, 1, 3, 3)
    F.max_pool2d(x, kernel, stride, padding).backward(grad_out)
    assert x.grad.device == minigrad.backend.normalize_device(device)
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)
    x_host = minigrad.randn(2, 3, 7, 10, requires_grad=True)
    F.adaptive_avg_pool2d(x_host, (5, 3)).sum().backward()
    x = x_host.detach().to(device).requires_grad_(True)
    out = F.adaptive_avg_pool2d(x, (5, 3))
    assert out.device == x.device and out.dtype == minigrad.float32
    expected_out = naive_adaptive_avg_pool(x_host.numpy(), (5, 3))
    np.testing.assert_allclose(out.numpy(), expected_out, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert x.grad.device == x.device
    np.testing.assert_allclose(x.grad.numpy(), x_host.grad.numpy(), rtol=1e-5, atol=1e-6)


# --- errors at the boundary -----------------------------------------------------------------


def test_conv2d_rejects_an_input_without_batch_dimension():
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(N, C, H, W\), got "):
        F.conv2d(minigrad.randn(3, 28, 28), minigrad.randn(4, 3, 3, 3))


def test_conv2d_error_message_shows_the_bad_shape():
    with pytest.raises(ValueError, match=r"got \(3, 28, 28\)$"):
        F.conv2d(minigrad.randn(3, 28, 28), minigrad.randn(4, 3, 3, 3))


def test_conv2d_rejects_a_weight_of_wrong_rank():
    with pytest.raises(ValueError, match=r"expected weight of shape .* got \(4, 3\)"):
        F.conv2d(minigrad.randn(1, 3, 5, 5), minigrad.randn(4, 3))


def test_conv2d_channel_mismatch_names_both_shapes():
    pattern = r"input has 3 channels \(shape \(1, 3, 5, 5\)\) but weight expects 4 "
    with pytest.raises(ValueError, match=pattern + r"\(shape \(2, 4, 3, 3\)\)"):
        F.conv2d(minigrad.randn(1, 3, 5, 5), minigrad.randn(2, 4, 3, 3))


def test_conv2d_rejects_a_kernel_larger_than_the_padded_input():
    pattern = r"conv2d: kernel \(5, 5\) is larger than the padded input \(4, 6\)"
    with pytest.raises(ValueError, match=pattern):
        F.conv2d(minigrad.randn(1, 1, 2, 4), minigrad.randn(1, 1, 5, 5), padding=1)


@pytest.mark.parametrize("stride", [0, -1, (1, 0)])
def test_conv2d_rejects_non_positive_stride(stride):
    with pytest.raises(ValueError, match=r"conv2d: stride must be positive, got \("):
        F.conv2d(minigrad.randn(1, 1, 4, 4), minigrad.randn(1, 1, 3, 3), stride=stride)


def test_conv2d_rejects_negative_padding():
    with pytest.raises(ValueError, match=r"padding must be non-negative"):
        F.conv2d(minigrad.randn(1, 1, 4, 4), minigrad.randn(1, 1, 3, 3), padding=-1)


def test_conv2d_rejects_mixed_dtypes():
    x = minigrad.randn(1, 2, 4, 4)
    weight = minigrad.randn(3, 2, 3, 3, dtype=minigrad.float64)
    with pytest.raises(
        TypeError, match=r"conv2d: input has dtype float32 but weight has dtype float64"
    ):
        F.conv2d(x, weight)


def test_conv2d_rejects_integer_input():
    x = minigrad.tensor(np.ones((1, 1, 3, 3), dtype=np.int64))
    with pytest.raises(
        TypeError, match=r"conv2d: expected a floating point input, got dtype int64"
    ):
        F.conv2d(x, minigrad.ones(1, 1, 2, 2))


def test_conv2d_rejects_a_bias_of_wrong_shape_or_dtype():
    x, weight = minigrad.randn(1, 2, 4, 4), minigrad.randn(3, 2, 3, 3)
    with pytest.raises(
        ValueError, match=r"conv2d: bias has shape \(2,\), expected \(3,\) for the weight of"
    ):
        F.conv2d(x, weight, minigrad.randn(2))
    with pytest.raises(
        TypeError, match=r"conv2d: weight has dtype float32 but bias has dtype float64"
    ):
        F.conv2d(x, weight, minigrad.randn(3, dtype=minigrad.float64))


def test_conv2d_same_padding_needs_stride_1():
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1, got stride \(2, 2\)"):
        F.conv2d(minigrad.randn(1, 1, 4, 4), minigrad.randn(1, 1, 3, 3), stride=2, padding="same")


def test_conv2d_rejects_unknown_padding_names_and_types():
    x, weight = minigrad.randn(1, 1, 4, 4), minigrad.randn(1, 1, 3, 3)
    with pytest.raises(ValueError, match=r"padding must be an int, a pair, 'same' or 'valid'"):
        F.conv2d(x, weight, padding="full")
    with pytest.raises(TypeError, match=r"conv2d: padding must be an int or a pair of ints"):
        F.conv2d(x, weight, padding=1.5)


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pools_reject_an_input_without_batch_dimension(pool):
    name = pool.__name__
    with pytest.raises(ValueError, match=rf"{name}: expected input of shape \(N, C, H, W\), got"):
        pool(minigrad.randn(3, 8, 8), 2)


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pools_reject_bad_geometry(pool):
    x = minigrad.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"stride must be positive, got \(0, 0\)"):
        pool(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"kernel size must be positive, got \(0, 2\)"):
        pool(x, (0, 2))
    with pytest.raises(ValueError, match=r"kernel \(5, 5\) is larger than the padded input"):
        pool(x, 5)
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel size"):
        pool(x, 2, padding=2)


def test_adaptive_avg_pool2d_rejects_bad_output_sizes():
    x = minigrad.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"output_size must be positive, got 0"):
        F.adaptive_avg_pool2d(x, 0)
    with pytest.raises(ValueError, match=r"output_size must be an int or a pair"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"output_size must be an int or a pair of ints"):
        F.adaptive_avg_pool2d(x, (2.5, 2))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected input of shape"):
        F.adaptive_avg_pool2d(minigrad.randn(4, 4), 1)
