"""layer_norm and group_norm (and nn.LayerNorm, nn.GroupNorm): values by hand, the fused derived
backward against the graph's chain rule and finite differences, dtypes, state-dict keys, reprs
and errors at the boundary."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

BACKWARDS = ["fused", "graph"]


def _tensor(values, dtype=mg.float64, device="cpu"):
    return mg.tensor(values, dtype=dtype, device=device, requires_grad=True)


# --- values by hand -------------------------------------------------------------------------


@pytest.mark.parametrize("backward", BACKWARDS)
def test_layer_norm_values_by_hand(backward):
    # row [1, 2, 3]: mean 2, var 2/3, x_hat = [-1, 0, 1] * sqrt(3/2);
    # row [0, 0, 6]: mean 2, var 8 (biased), x_hat = [-2, -2, 4] / sqrt(8); eps = 0
    x = mg.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    weight, bias = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([0.0, 0.5, -1.0])
    out = F.layer_norm(x, (3,), weight, bias, eps=0.0, backward=backward)
    expected = [[-1.2247449, 0.5, 2.6742346], [-0.70710678, -0.91421356, 3.2426407]]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert out.dtype == mg.float32


@pytest.mark.parametrize("backward", BACKWARDS)
def test_group_norm_values_by_hand(backward):
    # x (1, 4, 2) in 2 groups: channels 0-1 hold [0, 2, 4, 6] (mean 3, var 5), channels 2-3
    # hold [1, 1, 1, 5] (mean 2, var 3); then per channel weight [1, 2, 1, -1], bias [0, 0, 1, 1]
    x = mg.tensor([[[0.0, 2.0], [4.0, 6.0], [1.0, 1.0], [1.0, 5.0]]])
    weight, bias = mg.tensor([1.0, 2.0, 1.0, -1.0]), mg.tensor([0.0, 0.0, 1.0, 1.0])
    out = F.group_norm(x, 2, weight, bias, eps=0.0, backward=backward)
    a, b = 1 / math.sqrt(5), 1 / math.sqrt(3)
    expected = [[[-3 * a, -a], [2 * a, 6 * a], [1 - b, 1 - b], [1 + b, 1 - 3 * b]]]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_default_eps_is_added_to_the_variance():
    x = mg.tensor([[1.0, 3.0]], dtype=mg.float64)  # mean 2, var 1
    out = F.layer_norm(x, 2)
    np.testing.assert_allclose(out.numpy(), [[-1, 1]] / np.sqrt(1 + 1e-5), rtol=1e-14)


def test_group_norm_with_one_group_is_layer_norm_over_channels_and_space():
    x = mg.randn(3, 4, 2, 5, dtype=mg.float64)
    np.testing.assert_allclose(
        F.group_norm(x, 1).numpy(), F.layer_norm(x, (4, 2, 5)).numpy(), rtol=0, atol=1e-13
    )


def test_group_norm_with_a_group_per_channel_normalizes_each_channel_map():
    data = np.random.default_rng(0).standard_normal((2, 3, 4, 4)) * 3 + 1
    out = F.group_norm(mg.tensor(data), 3).numpy()
    mean = data.mean(axis=(2, 3), keepdims=True)
    expected = (data - mean) / np.sqrt(data.var(axis=(2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


# --- the fused backward against the graph and finite differences ----------------------------

LAYER_CASES = [((5, 4), (4,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((3, 2, 2, 3), (2, 3))]
GROUP_CASES = [((4, 6), 3), ((2, 6, 5), 2), ((2, 4, 3, 2), 4), ((3, 4, 2, 2), 1)]
AFFINES = ["both", "weight_only", "bias_only", "none"]


def _params(shape, affine, seed):
    rng = np.random.default_rng(seed)
    weight = _tensor(rng.uniform(0.5, 2, shape)) if affine in ("both", "weight_only") else None
    bias = _tensor(rng.standard_normal(shape)) if affine in ("both", "bias_only") else None
    return weight, bias


def _layer_inputs(shape, normalized_shape, affine):
    x = _tensor(np.random.default_rng(0).standard_normal(shape) * 2 + 0.5)
    return (x, *_params(normalized_shape, affine, seed=1))


def _group_inputs(shape, affine):
    x = _tensor(np.random.default_rng(0).standard_normal(shape) * 2 + 0.5)
    return (x, *_params(shape[1], affine, seed=1))


def _output_and_grads(fn, inputs):
    out = fn(*inputs)
    dy = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(mg.tensor(dy, dtype=mg.float64))
    return [out.numpy()] + [t.grad.numpy() for t in inputs if t is not None]


@pytest.mark.parametrize(("shape", "normalized_shape"), LAYER_CASES)
@pytest.mark.parametrize("affine", AFFINES)
def test_layer_norm_fused_backward_matches_graph(shape, normalized_shape, affine):
    results = {
        backward: _output_and_grads(
            lambda x, w, b, backward=backward: F.layer_norm(
                x, normalized_shape, w, b, backward=backward
            ),
            _layer_inputs(shape, normalized_shape, affine),
        )
        for backward in BACKWARDS
    }
    for fused, graph in zip(results["fused"], results["graph"]):
        np.testing.assert_allclose(fused, graph, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("shape", "groups"), GROUP_CASES)
@pytest.mark.parametrize("affine", AFFINES)
def test_group_norm_fused_backward_matches_graph(shape, groups, affine):
    results = {
        backward: _output_and_grads(
            lambda x, w, b, backward=backward: F.group_norm(x, groups, w, b, backward=backward),
            _group_inputs(shape, affine),
        )
        for backward in BACKWARDS
    }
    for fused, graph in zip(results["fused"], results["graph"]):
        np.testing.assert_allclose(fused, graph, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("shape", "normalized_shape"), LAYER_CASES)
@pytest.mark.parametrize("affine", ["both", "none"])
@pytest.mark.parametrize("backward", BACKWARDS)
def test_layer_norm_backward_matches_finite_differences(shape, normalized_shape, affine, backward):
    inputs = [t for t in _layer_inputs(shape, normalized_shape, affine) if t is not None]

    def fn(x, *params):
        return F.layer_norm(x, normalized_shape, *params, backward=backward)

    assert mg.gradcheck(fn, *inputs)


@pytest.mark.parametrize(("shape", "groups"), GROUP_CASES)
@pytest.mark.parametrize("affine", ["both", "none"])
@pytest.mark.parametrize("backward", BACKWARDS)
def test_group_norm_backward_matches_finite_differences(shape, groups, affine, backward):
    inputs = [t for t in _group_inputs(shape, affine) if t is not None]

    def fn(x, *params):
        return F.group_norm(x, groups, *params, backward=backward)

    assert mg.gradcheck(fn, *inputs)


def test_fused_layer_norm_dx_equals_the_per_node_chain_rule_written_out():
    """dx from the graph's per-node derivatives in NumPy (mu, var, then x) equals the fused dx."""
    x, weight, bias = _layer_inputs((3, 5), (5,), "both")
    dy = np.random.default_rng(2).standard_normal((3, 5))
    F.layer_norm(x, 5, weight, bias).backward(mg.tensor(dy, dtype=mg.float64))
    xs, gamma, eps, m = x.numpy(), weight.numpy(), 1e-5, 5
    mu = xs.mean(axis=1, keepdims=True)
    var = ((xs - mu) ** 2).mean(axis=1, keepdims=True)
    g = dy * gamma
    d_var = (g * (xs - mu)).sum(axis=1, keepdims=True) * -0.5 * (var + eps) ** -1.5
    d_mu = (-g / np.sqrt(var + eps)).sum(axis=1, keepdims=True) + d_var * (-2 * (xs - mu)).mean(
        axis=1, keepdims=True
    )
    dx = g / np.sqrt(var + eps) + d_var * 2 * (xs - mu) / m + d_mu / m
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=0, atol=1e-12)


@pytest.mark.parametrize("fn", [lambda x: F.layer_norm(x, 4), lambda x: F.group_norm(x, 2)])
def test_norms_keep_float32(fn):
    x = mg.randn(3, 4, requires_grad=True)
    out = fn(x)
    out.sum().backward()
    assert out.dtype == mg.float32 and x.grad.dtype == mg.float32


def test_norm_graph_names():
    x = mg.randn(3, 4, requires_grad=True)
    assert F.layer_norm(x, 4).grad_fn.name == "layer_norm"
    assert F.group_norm(x, 2).grad_fn.name == "group_norm"


def test_backward_may_run_twice_with_retain_graph():
    x, weight, bias = _layer_inputs((4, 3), (3,), "both")
    out = F.layer_norm(x, 3, weight, bias)
    out.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    ("fn", "channels"),
    [(lambda x, w: F.layer_norm(x, 3, w), 3), (lambda x, w: F.group_norm(x, 3, w), 6)],
    ids=["layer_norm", "group_norm"],
)
def test_norms_on_each_device_match_the_cpu(fn, channels, device):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 6, 3)).astype(np.float32)
    weight_data = rng.uniform(0.5, 2, channels).astype(np.float32)
    dy = rng.standard_normal((4, 6, 3)).astype(np.float32)
    results = []
    for where in ("cpu", device):
        x = mg.tensor(data, device=where, requires_grad=True)
        weight = mg.tensor(weight_data, device=where, requires_grad=True)
        out = fn(x, weight)
        out.backward(mg.tensor(dy, device=where))
        assert out.device == x.device == weight.grad.device
        results.append((out.numpy(), x.grad.numpy(), weight.grad.numpy()))
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


# --- modules --------------------------------------------------------------------------------


def test_layer_norm_module_parameters_state_dict_and_repr():
    layer = nn.LayerNorm(4)
    assert layer.normalized_shape == (4,)
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones(4))
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(4))
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert repr(layer) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    plain = nn.LayerNorm([2, 3], eps=1e-3, elementwise_affine=False)
    assert repr(plain) == "LayerNorm((2, 3), eps=0.001, elementwise_affine=False, bias=False)"
    assert list(plain.state_dict()) == [] and plain.weight is None and plain.bias is None
    no_bias = nn.LayerNorm(4, bias=False)
    assert list(no_bias.state_dict()) == ["weight"]
    assert repr(no_bias) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)"


def test_group_norm_module_parameters_state_dict_and_repr():
    layer = nn.GroupNorm(2, 4)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == (4,) and layer.bias.shape == (4,)
    assert repr(layer) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    plain = nn.GroupNorm(2, 4, affine=False)
    assert repr(plain) == "GroupNorm(2, 4, eps=1e-05, affine=False, bias=False)"
    assert list(plain.state_dict()) == []
    assert list(nn.GroupNorm(1, 3, bias=False).state_dict()) == ["weight"]


def test_norm_modules_compute_the_functional_op_in_train_and_eval_mode():
    x = mg.randn(2, 4, 3)
    layer_norm, group_norm = nn.LayerNorm((4, 3), eps=1e-3), nn.GroupNorm(2, 4)
    with mg.no_grad():
        layer_norm.weight.copy_(mg.randn(4, 3))
        group_norm.bias.copy_(mg.randn(4))
    expected_layer = F.layer_norm(x, (4, 3), layer_norm.weight, layer_norm.bias, 1e-3).numpy()
    expected_group = F.group_norm(x, 2, group_norm.weight, group_norm.bias).numpy()
    for mode in (True, False):
        layer_norm.train(mode)
        group_norm.train(mode)
        np.testing.assert_array_equal(layer_norm(x).numpy(), expected_layer)
        np.testing.assert_array_equal(group_norm(x).numpy(), expected_group)


def test_norm_modules_train_their_parameters():
    layer = nn.LayerNorm(3)
    out = layer(mg.tensor([[1.0, 2.0, 4.0], [0.0, 1.0, -1.0]]))
    (out * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), [2.0, 4.0, 6.0])
    assert layer.weight.grad.shape == (3,)


def test_norm_modules_take_dtype_and_reset_parameters():
    layer = nn.GroupNorm(2, 4, dtype=mg.float64)
    assert layer.weight.dtype == mg.float64
    with mg.no_grad():
        layer.weight.fill_(3.0)
        layer.bias.fill_(1.0)
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones(4))
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(4))


# --- errors ---------------------------------------------------------------------------------


def test_layer_norm_rejects_a_shape_that_does_not_end_the_input():
    expected = r"normalized_shape=\(2,\), expected input of shape \(\*, 2\), got \(2, 3\)"
    with pytest.raises(ValueError, match=expected):
        F.layer_norm(mg.ones(2, 3), (2,))
    with pytest.raises(ValueError, match=r"normalized_shape=\(2, 3, 4\)"):
        F.layer_norm(mg.ones(2, 3), (2, 3, 4))
    with pytest.raises(ValueError, match="at least one dim, got normalized_shape=()"):
        F.layer_norm(mg.ones(2, 3), ())
    with pytest.raises(ValueError, match=r"layer_norm: given normalized_shape=\(4,\)"):
        nn.LayerNorm(4)(mg.ones(2, 3))


def test_norms_check_weight_and_bias_against_the_input():
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(2,\), expected \(3,\)"):
        F.layer_norm(mg.ones(2, 3), 3, weight=mg.ones(2))
    with pytest.raises(ValueError, match=r"group_norm: bias has shape \(2,\), expected \(3,\)"):
        F.group_norm(mg.ones(2, 3), 3, bias=mg.ones(2))
    with pytest.raises(TypeError, match="layer_norm: input has dtype float32 but weight has"):
        F.layer_norm(mg.ones(2, 3), 3, weight=mg.ones(3, dtype=mg.float64))


def test_group_norm_errors_name_the_values():
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\) \(C=3\) and num_groups=2"):
        F.group_norm(mg.ones(2, 3), 2)
    with pytest.raises(ValueError, match=r"at least 2 dims, got \(3,\)"):
        F.group_norm(mg.ones(3), 1)
    with pytest.raises(ValueError, match="num_groups must be a positive int, got 0"):
        F.group_norm(mg.ones(2, 3), 0)
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups"):
        nn.GroupNorm(2, 3)
    with pytest.raises(ValueError, match="num_groups must be a positive int, got 0"):
        nn.GroupNorm(0, 3)


@pytest.mark.parametrize("fn", [F.layer_norm, F.group_norm])
def test_norms_reject_an_unknown_backward(fn):
    with pytest.raises(ValueError, match="backward must be 'fused' or 'graph', got 'chain'"):
        fn(mg.ones(2, 4), 2, backward="chain")
