"""nn.BatchNorm1d / BatchNorm2d: PyTorch's running statistics, modes, buffers and state-dict keys,
repr and input errors; the gradients are those of F.batch_norm (tested in test_ops_norm.py)."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


def _batches(shape, count=3, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * 2 + 1).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize(
    "layer, shape, axes",
    [
        (nn.BatchNorm1d, (8, 4), (0,)),
        (nn.BatchNorm1d, (8, 4, 5), (0, 2)),
        (nn.BatchNorm2d, (4, 4, 3, 5), (0, 2, 3)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("device", DEVICES)
def test_running_stats_after_three_steps_match_numpy(layer, shape, axes, momentum, device):
    bn = layer(4, momentum=momentum).to(device)
    arrays = (bn.running_mean.data, bn.running_var.data, bn.num_batches_tracked.data)
    expected_mean, expected_var = np.zeros(4), np.ones(4)
    m = np.prod([shape[axis] for axis in axes])
    for step, batch in enumerate(_batches(shape), start=1):
        bn(mg.tensor(batch, device=device))
        factor = 1 / step if momentum is None else momentum
        mean = batch.astype(np.float64).mean(axis=axes)
        unbiased = batch.astype(np.float64).var(axis=axes) * m / (m - 1)
        expected_mean = (1 - factor) * expected_mean + factor * mean
        expected_var = (1 - factor) * expected_var + factor * unbiased
    np.testing.assert_allclose(bn.running_mean.numpy(), expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), expected_var, rtol=1e-5, atol=1e-6)
    assert bn.num_batches_tracked.dtype == mg.int64
    assert bn.num_batches_tracked.shape == ()
    assert bn.num_batches_tracked.item() == 3
    buffers = (bn.running_mean.data, bn.running_var.data, bn.num_batches_tracked.data)
    assert all(now is before for now, before in zip(buffers, arrays))  # updated in place


def test_momentum_none_is_the_plain_average_of_the_batch_statistics():
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = _batches((6, 3))
    for batch in batches:
        bn(mg.tensor(batch))
    means = [batch.astype(np.float64).mean(axis=0) for batch in batches]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean(means, axis=0), rtol=1e-5)


def test_training_output_uses_batch_statistics():
    bn = nn.BatchNorm2d(3)
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 3.0]
    (batch,) = _batches((4, 3, 2, 2), count=1)
    out = bn(mg.tensor(batch)).numpy()
    mean = batch.mean(axis=(0, 2, 3), keepdims=True)
    var = batch.var(axis=(0, 2, 3), keepdims=True)
    gamma, beta = bn.weight.numpy().reshape(1, 3, 1, 1), bn.bias.numpy().reshape(1, 3, 1, 1)
    expected = gamma * (batch - mean) / np.sqrt(var + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_eval_normalizes_with_the_running_statistics_and_keeps_them():
    bn = nn.BatchNorm1d(3, eps=1e-3)
    for batch in _batches((5, 3)):
        bn(mg.tensor(batch))
    running_mean, running_var = bn.running_mean.numpy(), bn.running_var.numpy()
    bn.eval()
    (batch,) = _batches((5, 3), count=1, seed=9)
    x = mg.tensor(batch, requires_grad=True)
    out = bn(x)
    expected = (batch - running_mean) / np.sqrt(running_var + 1e-3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    out.sum().backward()  # eval backward is the affine map: dx = dy * gamma * inv_std
    np.testing.assert_allclose(
        x.grad.numpy(), np.broadcast_to(1 / np.sqrt(running_var + 1e-3), (5, 3)), rtol=1e-6
    )
    np.testing.assert_array_equal(bn.running_mean.numpy(), running_mean)
    assert bn.num_batches_tracked.item() == 3


def test_no_running_stats_uses_batch_statistics_in_both_modes():
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    x = mg.tensor(_batches((6, 3), count=1)[0])
    train_out = bn(x).numpy()
    bn.eval()
    np.testing.assert_array_equal(bn(x).numpy(), train_out)
    assert list(bn.state_dict()) == ["weight", "bias"]


def test_affine_false_has_no_weight_and_bias():
    bn = nn.BatchNorm2d(3, affine=False)
    assert bn.weight is None and bn.bias is None
    assert list(bn.parameters()) == []
    assert list(bn.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    out = bn(mg.randn(4, 3, 2, 2))
    np.testing.assert_allclose(out.numpy().mean(axis=(0, 2, 3)), 0, atol=1e-6)


def test_state_dict_keys_match_pytorch_and_round_trip():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    for batch in _batches((8, 4)):
        model(mg.tensor(batch))
    state = model.state_dict()
    assert list(state) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert state["1.num_batches_tracked"].dtype == np.int64
    assert state["1.num_batches_tracked"].shape == ()
    restored = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    restored.load_state_dict(state)
    model.eval()
    restored.eval()
    x = mg.tensor(_batches((5, 4), count=1, seed=3)[0])
    np.testing.assert_array_equal(restored(x).numpy(), model(x).numpy())
    assert restored[1].num_batches_tracked.item() == 3


def test_reset_running_stats_and_parameters():
    bn = nn.BatchNorm1d(2)
    bn(mg.randn(4, 2))
    bn.weight.data[...] = 3.0
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.numpy(), [0, 0])
    np.testing.assert_array_equal(bn.running_var.numpy(), [1, 1])
    assert bn.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(bn.weight.numpy(), [3, 3])
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.weight.numpy(), [1, 1])
    np.testing.assert_array_equal(bn.bias.numpy(), [0, 0])


def test_repr_is_pytorch_s():
    assert (
        repr(nn.BatchNorm1d(100))
        == "BatchNorm1d(100, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)"
    )
    assert (
        repr(nn.BatchNorm2d(8, momentum=None, affine=False))
        == "BatchNorm2d(8, eps=1e-05, momentum=None, affine=False, bias=False, "
        "track_running_stats=True)"
    )


def test_wrong_rank_or_channels_name_the_expected_shape():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d: expected input of shape \(N, 16, H, W\), got \(8, 3, 32, 32\)",
    ):
        nn.BatchNorm2d(16)(mg.randn(8, 3, 32, 32))
    with pytest.raises(
        ValueError,
        match=r"BatchNorm1d: expected input of shape \(N, 4\) or \(N, 4, L\), got \(2, 4, 3, 3\)",
    ):
        nn.BatchNorm1d(4)(mg.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: .* got \(8, 16, 32\)"):
        nn.BatchNorm2d(16)(mg.randn(8, 16, 32))


def test_one_value_per_channel_when_training_raises_and_counts_nothing():
    bn = nn.BatchNorm1d(10)
    message = r"Expected more than 1 value per channel when training, got input size \(1, 10\)"
    with pytest.raises(ValueError, match=message):
        bn(mg.randn(1, 10))
    assert bn.num_batches_tracked.item() == 0
    bn.eval()
    assert bn(mg.randn(1, 10)).shape == (1, 10)


def test_layer_gradients_are_the_functional_graph_ones():
    bn = nn.BatchNorm2d(3).double()
    bn.weight.data[...] = [0.5, 1.0, 2.0]
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)), requires_grad=True)
    (bn(x) ** 2).sum().backward()
    x_ref = mg.tensor(x.numpy(), requires_grad=True)
    weight = mg.tensor(bn.weight.numpy(), requires_grad=True)
    bias = mg.tensor(bn.bias.numpy(), requires_grad=True)
    out = F.batch_norm(x_ref, None, None, weight, bias, training=True, backward="graph")
    (out**2).sum().backward()
    for got, expected in ((x.grad, x_ref.grad), (bn.weight.grad, weight.grad)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(bn.bias.grad.numpy(), bias.grad.numpy(), rtol=0, atol=1e-10)


def test_float32_stays_float32():
    bn = nn.BatchNorm2d(3)
    x = mg.randn(4, 3, 2, 2, requires_grad=True)
    bn(x).sum().backward()
    assert x.grad.dtype == bn.weight.grad.dtype == bn.running_var.dtype == mg.float32


@pytest.mark.parametrize("device", DEVICES)
def test_batchnorm2d_on_device_matches_cpu(device):
    (batch,) = _batches((4, 3, 2, 2), count=1)
    results = []
    for where in ("cpu", device):
        bn = nn.BatchNorm2d(3).to(where)
        x = mg.tensor(batch, device=where, requires_grad=True)
        out = bn(x)
        (out * out).sum().backward()
        bn.eval()
        evaluated = bn(x)
        results.append(
            [t.numpy() for t in (out, x.grad, bn.weight.grad, bn.running_var, evaluated)]
        )
        assert out.device == x.grad.device == bn.running_mean.device
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
