"""batch_norm: the fused derived backward against the graph's chain rule, finite differences and
NumPy by hand; running statistics; dtypes; errors at the boundary."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
from minigrad.ops.norm import batch_norm, merge_reduced_axes

SHAPES = [(6, 3), (4, 3, 5), (3, 3, 2, 4)]
# how the statistics are chosen: batch ones with running buffers to update, the running ones
# (eval), batch ones without buffers (track_running_stats=False)
MODES = ["train", "eval", "no_running"]


def _axes(shape):
    return (0,) + tuple(range(2, len(shape)))


def _inputs(shape, mode, affine, device="cpu", dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    channels = shape[1]
    x = mg.tensor(
        rng.standard_normal(shape) * 2 + 0.5, dtype=dtype, device=device, requires_grad=True
    )
    weight = bias = running_mean = running_var = None
    if affine:
        weight = mg.tensor(rng.uniform(0.5, 2, channels), dtype=dtype, device=device)
        bias = mg.tensor(rng.standard_normal(channels), dtype=dtype, device=device)
        weight.requires_grad_()
        bias.requires_grad_()
    if mode != "no_running":
        running_mean = mg.tensor(rng.standard_normal(channels), dtype=dtype, device=device)
        running_var = mg.tensor(rng.uniform(0.5, 2, channels), dtype=dtype, device=device)
    return x, weight, bias, running_mean, running_var


def _run(backward, shape, mode, affine, device="cpu"):
    """Output and gradients (x, weight, bias) of one forward+backward with a fixed dy."""
    x, weight, bias, running_mean, running_var = _inputs(shape, mode, affine, device)
    out = batch_norm(
        x, running_mean, running_var, weight, bias, training=mode != "eval", backward=backward
    )
    dy = np.random.default_rng(1).standard_normal(shape)
    out.backward(mg.tensor(dy, dtype=mg.float64, device=device))
    grads = [t.grad.numpy() for t in (x, weight, bias) if t is not None]
    return [out.numpy(), *grads]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_fused_backward_matches_graph(shape, mode, affine, threads):
    fused = _run("fused", shape, mode, affine)
    graph = _run("graph", shape, mode, affine)
    for got, expected in zip(fused, graph):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("backward", ["fused", "graph"])
def test_batchnorm_backward_matches_finite_differences(shape, mode, affine, backward, threads):
    x, weight, bias, running_mean, running_var = _inputs(shape, mode, affine)

    def fn(x, weight, bias):
        return batch_norm(
            x, running_mean, running_var, weight, bias, mode != "eval", backward=backward
        )

    assert mg.gradcheck(fn, x, weight, bias)


def test_fused_dx_equals_the_issue_per_node_chain_rule():
    """dx from the graph's per-node derivatives, written out in NumPy, equals the fused dx."""
    shape = (5, 3, 4)
    x, weight, bias, _, _ = _inputs(shape, "no_running", affine=True)
    dy = np.random.default_rng(1).standard_normal(shape)
    out = batch_norm(x, None, None, weight, bias, training=True)
    out.backward(mg.tensor(dy, dtype=mg.float64))

    xs, gamma = x.numpy(), weight.numpy().reshape(1, 3, 1)
    axes, eps = (0, 2), 1e-5
    m = xs.size // 3
    mu = xs.mean(axis=axes, keepdims=True)
    var = ((xs - mu) ** 2).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    d_x_hat = dy * gamma
    d_var = (d_x_hat * (xs - mu)).sum(axis=axes, keepdims=True) * -0.5 * (var + eps) ** -1.5
    d_mu = (-d_x_hat * inv_std).sum(axis=axes, keepdims=True) + d_var * (-2 * (xs - mu)).mean(
        axis=axes, keepdims=True
    )
    dx = d_x_hat * inv_std + d_var * 2 * (xs - mu) / m + d_mu / m
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_forward_matches_numpy_by_hand(shape):
    x, weight, bias, running_mean, running_var = _inputs(shape, "train", affine=True)
    axes, param_shape = _axes(shape), (1, shape[1]) + (1,) * (len(shape) - 2)
    xs = x.numpy()
    gamma, beta = weight.numpy().reshape(param_shape), bias.numpy().reshape(param_shape)
    eps = 1e-3
    mu = xs.mean(axis=axes, keepdims=True)
    var = ((xs - mu) ** 2).mean(axis=axes, keepdims=True)
    expected_train = gamma * (xs - mu) / np.sqrt(var + eps) + beta
    rm = running_mean.numpy().reshape(param_shape)
    rv = running_var.numpy().reshape(param_shape)
    expected_eval = gamma * (xs - rm) / np.sqrt(rv + eps) + beta
    for backward in ("fused", "graph"):
        train = batch_norm(x, None, None, weight, bias, True, eps=eps, backward=backward)
        evaluated = batch_norm(x, running_mean, running_var, weight, bias, eps=eps)
        np.testing.assert_allclose(train.numpy(), expected_train, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(evaluated.numpy(), expected_eval, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.5])
@pytest.mark.parametrize("backward", ["fused", "graph"])
def test_running_stats_after_three_steps_match_numpy(momentum, backward, threads):
    shape = (4, 3, 5)
    channels, m = 3, 4 * 5
    running_mean, running_var = mg.zeros(channels), mg.ones(channels)
    expected_mean, expected_var = np.zeros(channels), np.ones(channels)
    rng = np.random.default_rng(2)
    for _ in range(3):
        batch = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
        x = mg.tensor(batch)
        batch_norm(
            x, running_mean, running_var, training=True, momentum=momentum, backward=backward
        )
        mu = batch.astype(np.float64).mean(axis=(0, 2))
        unbiased = batch.astype(np.float64).var(axis=(0, 2)) * m / (m - 1)
        expected_mean = (1 - momentum) * expected_mean + momentum * mu
        expected_var = (1 - momentum) * expected_var + momentum * unbiased
    np.testing.assert_allclose(running_mean.numpy(), expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(running_var.numpy(), expected_var, rtol=1e-5, atol=1e-6)
    assert running_mean.dtype == running_var.dtype == mg.float32


def test_eval_mode_leaves_running_stats_alone():
    running_mean, running_var = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])
    batch_norm(mg.randn(4, 2), running_mean, running_var, training=False)
    np.testing.assert_array_equal(running_mean.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(running_var.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("backward", ["fused", "graph"])
@pytest.mark.parametrize("shape", [(8, 4), (4, 4, 3, 3)])
def test_float32_stays_float32(backward, shape):
    x = mg.randn(*shape, requires_grad=True)
    weight, bias = mg.ones(4, requires_grad=True), mg.zeros(4, requires_grad=True)
    running_mean, running_var = mg.zeros(4), mg.ones(4)
    for training in (True, False):
        out = batch_norm(x, running_mean, running_var, weight, bias, training, backward=backward)
        out.sum().backward()
        assert out.dtype == x.grad.dtype == weight.grad.dtype == bias.grad.dtype == mg.float32
    assert running_mean.dtype == running_var.dtype == mg.float32


def test_float32_fused_agrees_with_float64():
    x64, weight, bias, _, _ = _inputs((64, 8, 6, 6), "no_running", affine=True)
    expected = batch_norm(x64, None, None, weight, bias, training=True).numpy()
    x32 = mg.tensor(x64.numpy(), dtype=mg.float32)
    got = batch_norm(x32, None, None, weight.float(), bias.float(), training=True).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_backward_twice_with_retained_graph_gives_the_same_gradient(threads):
    """The fused backward writes dx into x_hat's buffer only when the graph is freed after."""
    x, weight, bias, _, _ = _inputs((5, 3, 4), "no_running", affine=True)
    out = (batch_norm(x, None, None, weight, bias, training=True) ** 2).sum()
    out.backward(retain_graph=True)
    first = x.grad.numpy()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12, atol=1e-12)


def test_non_contiguous_input():
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 5, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: batch_norm(t.permute(0, 2, 1), None, None, training=True), x)


def test_merge_reduced_axes_views_spatial_dims_as_one():
    assert merge_reduced_axes((8, 16, 4, 5), (0, 2, 3)) == ((8, 16, 20), (0, 2))
    assert merge_reduced_axes((8, 16, 7), (0, 2)) == ((8, 16, 7), (0, 2))
    assert merge_reduced_axes((8, 16), (0,)) == ((8, 16), (0,))


def test_one_value_per_channel_when_training_raises_like_pytorch():
    message = r"Expected more than 1 value per channel when training, got input size \(1, 10\)"
    with pytest.raises(ValueError, match=message):
        batch_norm(mg.randn(1, 10), None, None, training=True)
    batch_norm(mg.randn(1, 10), mg.zeros(10), mg.ones(10), training=False)  # fine in eval


def test_boundary_errors_name_expected_and_actual():
    x = mg.randn(4, 3, 2)
    with pytest.raises(ValueError, match=r"weight has shape \(4,\), expected \(3,\)"):
        batch_norm(x, None, None, weight=mg.ones(4), training=True)
    with pytest.raises(ValueError, match=r"running_var has shape \(2,\), expected \(3,\)"):
        batch_norm(x, mg.zeros(3), mg.ones(2))
    with pytest.raises(ValueError, match=r"at least 2 dims, got \(4,\)"):
        batch_norm(mg.randn(4), None, None, training=True)
    with pytest.raises(ValueError, match="training=False normalizes with running_mean"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="backward must be 'fused' or 'graph', got 'chain'"):
        batch_norm(x, None, None, training=True, backward="chain")
    with pytest.raises(TypeError, match="input has dtype float32 but bias has dtype float64"):
        batch_norm(x, None, None, bias=mg.zeros(3, dtype=mg.float64), training=True)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
def test_batchnorm_fused_matches_graph_on_device(device, mode):
    fused = _run("fused", (4, 3, 2, 5), mode, True, device)
    graph = _run("graph", (4, 3, 2, 5), mode, True, device)
    for got, expected in zip(fused, graph):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
