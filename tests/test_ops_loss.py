"""Losses: cross_entropy (fused, stable), nll_loss, mse_loss, their modules and input checks."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn

# logits row 0 is flat, so its loss is log 3 whatever the label; row 1 is (1, 2, 3) with label
# 0, so its loss is log(e + e^2 + e^3) - 1 = log(1 + e + e^2).
LOGITS = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
TARGET = [1, 0]
LOSS_0 = math.log(3)
LOSS_1 = math.log(1 + math.e + math.e**2)


def _example(requires_grad=False):
    return minigrad.tensor(LOGITS, requires_grad=requires_grad), minigrad.tensor(TARGET)


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [
        ("mean", (LOSS_0 + LOSS_1) / 2),
        ("sum", LOSS_0 + LOSS_1),
        ("none", [LOSS_0, LOSS_1]),
    ],
)
def test_cross_entropy_matches_hand_computed_values(reduction, expected):
    logits, target = _example()
    loss = F.cross_entropy(logits, target, reduction=reduction)
    assert loss.dtype == minigrad.float32
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits, target = _example(requires_grad=True)
    F.cross_entropy(logits, target).backward()
    total = 1 + math.e + math.e**2
    expected = np.array(
        [
            [1 / 3, 1 / 3 - 1, 1 / 3],
            [1 / total - 1, math.e / total, math.e**2 / total],
        ]
    )
    np.testing.assert_allclose(logits.grad.numpy(), expected / 2, rtol=1e-6)


def test_cross_entropy_is_one_graph_node():
    logits, target = _example(requires_grad=True)
    loss = F.cross_entropy(logits, target)
    assert loss.grad_fn.name == "cross_entropy" and loss.grad_fn.inputs[0] is logits


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_gradcheck(reduction, device):
    logits = minigrad.randn(4, 5, device=device, requires_grad=True)
    target = minigrad.tensor([0, 4, 2, 4], device=device)
    assert minigrad.gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction), logits)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = minigrad.tensor([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, minigrad.tensor([0, 2]))
    np.testing.assert_allclose(loss.item(), 500.0, rtol=1e-6)
    loss.backward()
    assert np.all(np.isfinite(logits.grad.numpy()))


def test_cross_entropy_accepts_numpy_labels():
    logits, _ = _example()
    loss = F.cross_entropy(logits, np.array(TARGET))
    np.testing.assert_allclose(loss.item(), (LOSS_0 + LOSS_1) / 2, rtol=1e-6)


def test_cross_entropy_names_out_of_range_labels_and_c():
    logits = minigrad.randn(4, 3)
    with pytest.raises(IndexError, match=r"label\(s\) -1, 3, 7 out of range for C=3 classes"):
        F.cross_entropy(logits, minigrad.tensor([3, 0, -1, 7]))


def test_cross_entropy_rejects_float_targets():
    with pytest.raises(TypeError, match="integer class indices.*got dtype float32"):
        F.cross_entropy(minigrad.randn(2, 3), minigrad.tensor([0.0, 1.0]))


def test_cross_entropy_rejects_wrong_ranks_with_both_shapes():
    pattern = r"expected logits of shape \(N, C\) or \(N, C, d1, \.\.\.\), got shape \(3,\)"
    with pytest.raises(ValueError, match=pattern):
        F.cross_entropy(minigrad.randn(3), minigrad.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits of shape \(2, 3\), got target shape \(2, 1\)"):
        F.cross_entropy(minigrad.randn(2, 3), minigrad.tensor([[0], [1]]))


def test_cross_entropy_rejects_batch_size_mismatch_with_both_shapes():
    message = r"logits have batch size 4 \(shape \(4, 3\)\) but target has 5 \(shape \(5,\)\)"
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(minigrad.randn(4, 3), minigrad.tensor([0, 1, 2, 0, 1]))


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(minigrad.randn(2, 3), minigrad.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="got 'avg'"):
        nn.MSELoss(reduction="avg")


# --- nll_loss -----------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_of_log_softmax_equals_cross_entropy(reduction):
    logits = minigrad.randn(5, 4)
    target = minigrad.tensor([3, 0, 1, 1, 2])
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(logits, dim=1), target, reduction=reduction).numpy(),
        F.cross_entropy(logits, target, reduction=reduction).numpy(),
        rtol=1e-6,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("device", DEVICES)
def test_nll_loss_gradcheck(reduction, device):
    log_probs = minigrad.randn(3, 4, device=device, requires_grad=True)
    target = minigrad.tensor([1, 3, 1], device=device)
    assert minigrad.gradcheck(lambda x: F.nll_loss(x, target, reduction=reduction), log_probs)


def test_nll_loss_checks_labels_like_cross_entropy():
    with pytest.raises(IndexError, match="nll_loss: target has label"):
        F.nll_loss(minigrad.randn(2, 3), minigrad.tensor([0, 5]))


# --- mse_loss -----------------------------------------------------------------------------


def test_mse_loss_values():
    prediction = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    target = minigrad.tensor([[1.0, 0.0], [0.0, 4.0]])
    assert F.mse_loss(prediction, target).item() == pytest.approx(13 / 4)
    assert F.mse_loss(prediction, target, reduction="sum").item() == pytest.approx(13.0)
    np.testing.assert_allclose(
        F.mse_loss(prediction, target, reduction="none").numpy(), [[0, 4], [9, 0]]
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("device", DEVICES)
def test_mse_loss_gradcheck_for_both_inputs(reduction, device):
    prediction = minigrad.randn(2, 3, device=device, requires_grad=True)
    target = minigrad.randn(2, 3, device=device, requires_grad=True)
    assert minigrad.gradcheck(
        lambda a, b: F.mse_loss(a, b, reduction=reduction), prediction, target
    )


def test_mse_loss_shape_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"mse_loss: target has shape \(3,\), expected \(3, 2\) for the"
    ):
        F.mse_loss(minigrad.randn(3, 2), minigrad.randn(3))


# --- loss modules -------------------------------------------------------------------------


def test_loss_modules_call_the_functional_losses():
    logits, target = _example()
    np.testing.assert_allclose(
        nn.CrossEntropyLoss(reduction="sum")(logits, target).item(), LOSS_0 + LOSS_1, rtol=1e-6
    )
    log_probs = F.log_softmax(logits, dim=1)
    np.testing.assert_allclose(
        nn.NLLLoss()(log_probs, target).item(), (LOSS_0 + LOSS_1) / 2, rtol=1e-6
    )
    assert nn.MSELoss()(logits, logits).item() == 0.0
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_on_each_device_matches_hand_values(device):
    logits = minigrad.tensor(LOGITS, device=device, requires_grad=True)
    loss = F.cross_entropy(logits, minigrad.tensor(TARGET, device=device), reduction="none")
    assert loss.device == minigrad.backend.normalize_device(device)
    np.testing.assert_allclose(loss.numpy(), [LOSS_0, LOSS_1], rtol=1e-6)
    loss.sum().backward()
    assert logits.grad.device == loss.device
