"""nn.utils gradient clipping: the total norm over all gradients, scaling in place only when it is
above max_norm, clamping values, and PyTorch's edge cases (no gradients, non-finite norms)."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
from minigrad import nn

# two gradients: |g|^2 = 9 + 16 + 1 + 4 + 4 + 16 = 50, sum |g| = 16, max |g| = 4
GRADS = ([3.0, -4.0], [[1.0, 2.0], [-2.0, 4.0]])


def _params(grads=GRADS, device="cpu", dtype=mg.float32):
    params = []
    for grad in grads:
        param = nn.Parameter(mg.zeros(np.shape(grad), dtype=dtype, device=device))
        param.grad = mg.tensor(grad, dtype=dtype, device=device)
        params.append(param)
    return params


@pytest.mark.parametrize(
    ("norm_type", "total"), [(2.0, math.sqrt(50)), (1, 16.0), (math.inf, 4.0), ("inf", 4.0)]
)
def test_clip_grad_norm_scales_all_gradients_by_max_norm_over_the_total(norm_type, total):
    params = _params()
    total_norm = nn.utils.clip_grad_norm_(params, 2.0, norm_type=norm_type)
    assert isinstance(total_norm, mg.Tensor) and total_norm.shape == ()
    assert total_norm.dtype == mg.float32
    np.testing.assert_allclose(total_norm.item(), total, rtol=1e-6)
    scale = 2.0 / (total + 1e-6)
    for param, grad in zip(params, GRADS):
        np.testing.assert_allclose(param.grad.numpy(), np.array(grad) * scale, rtol=1e-6)


def test_clip_grad_norm_values_by_hand():
    params = _params()
    nn.utils.clip_grad_norm_(params, 2.0)
    # 2 / sqrt(50) = 0.28284271
    np.testing.assert_allclose(params[0].grad.numpy(), [0.84852814, -1.1313708], rtol=1e-6)
    np.testing.assert_allclose(
        params[1].grad.numpy(), [[0.28284271, 0.56568542], [-0.56568542, 1.1313708]], rtol=1e-6
    )


def test_clip_grad_norm_leaves_gradients_below_max_norm_as_they_are():
    params = _params()
    total_norm = nn.utils.clip_grad_norm_(params, max_norm=10.0)
    np.testing.assert_allclose(total_norm.item(), math.sqrt(50), rtol=1e-6)
    for param, grad in zip(params, GRADS):
        np.testing.assert_array_equal(param.grad.numpy(), grad)


def test_clip_grad_norm_writes_the_gradient_arrays_in_place():
    params = _params()
    arrays = [param.grad.data for param in params]
    versions = [param.grad._version for param in params]
    nn.utils.clip_grad_norm_(params, 1.0)
    assert all(param.grad.data is array for param, array in zip(params, arrays))
    assert all(param.grad._version > version for param, version in zip(params, versions))


def test_clip_grad_norm_after_backward_changes_only_each_parameters_own_gradient():
    layer = nn.Linear(3, 2)
    layer(mg.randn(4, 3)).sum().backward()
    bias_grad = layer.bias.grad.numpy().copy()
    total = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in layer.parameters()))
    nn.utils.clip_grad_norm_(layer.weight, 1e-3)  # one Tensor: clips only the weight
    np.testing.assert_array_equal(layer.bias.grad.numpy(), bias_grad)
    assert np.linalg.norm(layer.weight.grad.numpy()) <= 1e-3 * (1 + 1e-5)
    assert total > 1e-3


def test_clip_grad_norm_skips_parameters_without_gradients():
    params = _params() + [nn.Parameter(mg.ones(3))]
    total_norm = nn.utils.clip_grad_norm_(params, 1.0)
    np.testing.assert_allclose(total_norm.item(), math.sqrt(50), rtol=1e-6)
    assert params[2].grad is None


def test_clip_grad_norm_of_no_gradients_is_a_zero_tensor():
    total_norm = nn.utils.clip_grad_norm_([nn.Parameter(mg.ones(2))], 1.0)
    assert total_norm.item() == 0.0 and total_norm.dtype == mg.float32
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_keeps_float64_gradients_float64():
    params = _params(dtype=mg.float64)
    total_norm = nn.utils.clip_grad_norm_(params, 1.0)
    assert total_norm.dtype == mg.float64 and params[0].grad.dtype == mg.float64
    np.testing.assert_allclose(total_norm.item(), math.sqrt(50), rtol=1e-15)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # inf * 0, as PyTorch
def test_clip_grad_norm_raises_for_a_non_finite_norm_only_when_asked():
    params = _params(([3.0, math.inf], [1.0]))
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 .* is non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), [3.0, math.inf])  # nothing clipped
    total_norm = nn.utils.clip_grad_norm_(params, 1.0)
    assert total_norm.item() == math.inf
    np.testing.assert_array_equal(params[1].grad.numpy(), [0.0])  # scaled by 1 / inf


def test_clip_grad_value_clamps_each_gradient_in_place():
    params = _params()
    arrays = [param.grad.data for param in params]
    assert nn.utils.clip_grad_value_(params, 2.5) is None
    np.testing.assert_array_equal(params[0].grad.numpy(), [2.5, -2.5])
    np.testing.assert_array_equal(params[1].grad.numpy(), [[1.0, 2.0], [-2.0, 2.5]])
    assert all(param.grad.data is array for param, array in zip(params, arrays))


def test_clip_grad_value_accepts_one_tensor_and_skips_missing_gradients():
    param = _params()[0]
    nn.utils.clip_grad_value_(param, 1)
    np.testing.assert_array_equal(param.grad.numpy(), [1.0, -1.0])
    nn.utils.clip_grad_value_([nn.Parameter(mg.ones(2))], 1.0)  # no grad: nothing to do


@pytest.mark.parametrize("device", DEVICES)
def test_clipping_on_each_device(device):
    params = _params(device=device)
    total_norm = nn.utils.clip_grad_norm_(params, 2.0)
    assert total_norm.device == params[0].device
    np.testing.assert_allclose(params[0].grad.numpy(), [0.84852814, -1.1313708], rtol=1e-6)
    nn.utils.clip_grad_value_(params, 0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.5, -0.5])
    assert params[1].grad.device == params[1].device
