"""The losses' PyTorch options: cross_entropy and nll_loss over (N, C, d1, ...) with class
weights, ignore_index, label smoothing and class-probability targets; binary_cross_entropy (with
and without logits), l1_loss and smooth_l1_loss; their modules and their errors."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.nn.functional as F
from minigrad import nn

# as in test_ops_loss: row 0 is flat (loss log 3 at any label), row 1 is (1, 2, 3) at label 0,
# whose loss is lse - 1 with lse = log(e + e^2 + e^3)
LOGITS = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
LSE_1 = math.log(math.e + math.e**2 + math.e**3)
LOSS_0, LOSS_1 = math.log(3), LSE_1 - 1


def logits(requires_grad=False):
    return minigrad.tensor(LOGITS, requires_grad=requires_grad)


def random(*shape, requires_grad=True):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=requires_grad)


def probabilities(*shape, requires_grad=False):
    """Rows of class probabilities along axis 1."""
    values = np.random.default_rng(0).random(shape) + 0.1
    values /= values.sum(axis=1, keepdims=True)
    return minigrad.tensor(values, dtype=minigrad.float64, requires_grad=requires_grad)


# --- cross_entropy: class weights, ignore_index, label smoothing ---------------------------


def test_cross_entropy_weighted_mean_divides_by_the_weights_of_the_targets():
    weight = minigrad.tensor([1.0, 2.0, 3.0])
    target = minigrad.tensor([1, 0])  # weights 2 and 1
    loss = F.cross_entropy(logits(), target, weight=weight)
    np.testing.assert_allclose(loss.item(), (2 * LOSS_0 + 1 * LOSS_1) / 3, rtol=1e-6)
    summed = F.cross_entropy(logits(), target, weight=weight, reduction="sum")
    np.testing.assert_allclose(summed.item(), 2 * LOSS_0 + LOSS_1, rtol=1e-6)
    each = F.cross_entropy(logits(), target, weight=weight, reduction="none")
    np.testing.assert_allclose(each.numpy(), [2 * LOSS_0, LOSS_1], rtol=1e-6)


def test_cross_entropy_weighted_gradient_by_hand():
    x = logits(requires_grad=True)
    F.cross_entropy(x, minigrad.tensor([1, 0]), weight=minigrad.tensor([1.0, 2.0, 3.0])).backward()
    softmax_1 = np.exp(np.array(LOGITS[1]) - LSE_1)
    expected = [2 * (np.full(3, 1 / 3) - [0, 1, 0]), 1 * (softmax_1 - [1, 0, 0])]
    np.testing.assert_allclose(x.grad.numpy(), np.array(expected) / 3, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_ignored_targets_add_nothing_and_leave_the_mean(ignore_index):
    x = logits(requires_grad=True)
    target = minigrad.tensor([ignore_index, 0])
    loss = F.cross_entropy(x, target, ignore_index=ignore_index)
    np.testing.assert_allclose(loss.item(), LOSS_1, rtol=1e-6)  # the mean over 1 kept row
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], [0, 0, 0])
    each = F.cross_entropy(logits(), target, ignore_index=ignore_index, reduction="none")
    np.testing.assert_allclose(each.numpy(), [0, LOSS_1], rtol=1e-6)


def test_cross_entropy_of_only_ignored_targets_is_nan_for_the_mean_and_0_for_the_sum():
    x = logits(requires_grad=True)
    target = minigrad.tensor([-100, -100])
    loss = F.cross_entropy(x, target)
    assert math.isnan(loss.item())  # 0 / 0, as in PyTorch
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    assert F.cross_entropy(logits(), target, reduction="sum").item() == 0


def test_cross_entropy_label_smoothing_by_hand():
    # the target is (1 - eps) onehot + eps / C: row 1 at label 0 loses lse - (0.7 * 1 + 0.3 * 2)
    each = F.cross_entropy(logits(), minigrad.tensor([1, 0]), reduction="none", label_smoothing=0.3)
    np.testing.assert_allclose(each.numpy(), [LOSS_0, LSE_1 - 1.3], rtol=1e-6)
    # with weights w: 0.7 w[0] (lse - 1) + 0.1 sum_c w[c] (lse - z_c) = 1.3 lse - 2.1
    weighted = F.cross_entropy(
        logits()[1:], [0], weight=minigrad.tensor([1.0, 2.0, 3.0]), label_smoothing=0.3
    )
    np.testing.assert_allclose(weighted.item(), 1.3 * LSE_1 - 2.1, rtol=1e-6)


def test_cross_entropy_full_label_smoothing_is_the_uniform_target():
    x = random(4, 5)
    target = minigrad.tensor([0, 4, 2, 1])
    uniform = minigrad.full((4, 5), 0.2, dtype=minigrad.float64)
    np.testing.assert_allclose(
        F.cross_entropy(x, target, label_smoothing=1.0).item(),
        F.cross_entropy(x, uniform).item(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cross_entropy_gradcheck_with_weight_ignore_index_and_smoothing(
    reduction, label_smoothing, weighted
):
    x = random(3, 4, 2, 3)
    target = minigrad.tensor([[[0, 3, 1], [2, -100, 1]], [[3, 3, 0], [-100, 2, 1]], [[1] * 3] * 2])
    weight = minigrad.tensor([0.5, 2.0, 1.0, 3.0], dtype=minigrad.float64) if weighted else None

    def loss(x):
        return F.cross_entropy(
            x, target, weight, reduction=reduction, label_smoothing=label_smoothing
        )

    assert minigrad.gradcheck(loss, x)


# --- cross_entropy and nll_loss over (N, C, d1, ...) ----------------------------------------


def test_cross_entropy_over_positions_by_hand():
    # (1, 3, 2): position 0 holds logits row 0, position 1 row 1
    x = minigrad.tensor(np.array(LOGITS).T[None], requires_grad=True)
    target = minigrad.tensor([[1, 0]])
    each = F.cross_entropy(x, target, reduction="none")
    assert each.shape == (1, 2)
    np.testing.assert_allclose(each.numpy(), [[LOSS_0, LOSS_1]], rtol=1e-6)
    F.cross_entropy(x, target).backward()
    flat = logits(requires_grad=True)
    F.cross_entropy(flat, target[0]).backward()
    np.testing.assert_allclose(x.grad.numpy(), flat.grad.numpy().T[None], rtol=1e-6)


@pytest.mark.parametrize("op", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_losses_over_positions_equal_the_losses_of_their_rows(op, reduction):
    x = random(2, 4, 3, 2)
    target = minigrad.tensor(np.random.default_rng(1).integers(0, 4, (2, 3, 2)))
    weight = minigrad.tensor([1.0, 0.5, 2.0, 1.5], dtype=minigrad.float64)
    rows = x.permute(0, 2, 3, 1).reshape(-1, 4)
    expected = op(rows, target.reshape(-1), weight, reduction=reduction).numpy()
    got = op(x, target, weight, reduction=reduction)
    assert got.shape == (() if reduction != "none" else (2, 3, 2))
    np.testing.assert_allclose(got.numpy().reshape(expected.shape), expected, rtol=1e-12)


def test_cross_entropy_over_positions_is_one_graph_node_with_contiguous_gradient():
    x = minigrad.randn(2, 3, 4, requires_grad=True)
    loss = F.cross_entropy(x, minigrad.tensor([[0, 1, 2, 0], [2, 2, 1, 0]]))
    assert loss.grad_fn.name == "cross_entropy" and loss.grad_fn.inputs[0] is x
    loss.backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.data.flags.c_contiguous


# --- cross_entropy with class probabilities ---------------------------------------------------


def test_cross_entropy_of_onehot_probabilities_equals_the_labels():
    x = random(4, 3)
    labels = minigrad.tensor([2, 0, 1, 2])
    onehot = minigrad.tensor(np.eye(3)[[2, 0, 1, 2]], dtype=minigrad.float64)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_allclose(
            F.cross_entropy(x, onehot, reduction=reduction).numpy(),
            F.cross_entropy(x, labels, reduction=reduction).numpy(),
            rtol=1e-12,
        )


def test_cross_entropy_of_uniform_probabilities_by_hand():
    # -mean_c log softmax(z)_c = lse - mean(z): log 3 for row 0, lse - 2 for row 1
    uniform = minigrad.full((2, 3), 1 / 3)
    each = F.cross_entropy(logits(), uniform, reduction="none")
    np.testing.assert_allclose(each.numpy(), [LOSS_0, LSE_1 - 2], rtol=1e-6)


def test_cross_entropy_weighted_probabilities_mean_divides_by_the_positions():
    weight = minigrad.tensor([1.0, 2.0, 3.0])
    target = minigrad.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    loss = F.cross_entropy(logits(), target, weight=weight)
    np.testing.assert_allclose(loss.item(), (2 * LOSS_0 + LOSS_1) / 2, rtol=1e-6)  # not / 3


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probabilities_gradcheck_for_logits_and_target(reduction):
    x, target = random(2, 4, 3), probabilities(2, 4, 3, requires_grad=True)
    weight = minigrad.tensor([0.5, 2.0, 1.0, 3.0], dtype=minigrad.float64)

    def loss(x, target):
        return F.cross_entropy(x, target, weight, reduction=reduction, label_smoothing=0.1)

    assert minigrad.gradcheck(loss, x, target)


# --- nll_loss with weights and ignore_index ---------------------------------------------------


def test_nll_loss_weights_and_ignore_index_by_hand():
    x = minigrad.tensor([[-1.0, -2, -3], [-0.5, -1.5, -2.5], [-4.0, -4, -4]], requires_grad=True)
    target = minigrad.tensor([2, 0, -100])
    weight = minigrad.tensor([1.0, 2.0, 3.0])
    loss = F.nll_loss(x, target, weight)
    np.testing.assert_allclose(loss.item(), (3 * 3 + 1 * 0.5) / (3 + 1), rtol=1e-6)
    loss.backward()
    expected = [[0, 0, -3 / 4], [-1 / 4, 0, 0], [0, 0, 0]]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    each = F.nll_loss(x, target, weight, reduction="none")
    np.testing.assert_allclose(each.numpy(), [9, 0.5, 0], rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradcheck_with_weights_and_ignore_index(reduction):
    x = random(3, 4, 5)
    target = minigrad.tensor([[0, 3, 1, 1, 2], [2, 0, 0, 3, 1], [3, 2, 1, 0, 0]])
    weight = minigrad.tensor([0.5, 2.0, 1.0, 3.0], dtype=minigrad.float64)
    assert minigrad.gradcheck(
        lambda x: F.nll_loss(x, target, weight, ignore_index=0, reduction=reduction), x
    )


# --- binary cross-entropy --------------------------------------------------------------------


def test_binary_cross_entropy_by_hand_with_logs_clamped_at_minus_100():
    x = minigrad.tensor([0.5, 0.8, 0.0, 1.0], requires_grad=True)
    y = minigrad.tensor([1.0, 0.0, 1.0, 1.0])
    each = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(each.numpy(), [math.log(2), math.log(5), 100, 0], rtol=1e-6)
    F.binary_cross_entropy(x, y, reduction="sum").backward()
    # (x - y) / max(x (1 - x), 1e-12): PyTorch's gradient, finite where the log was clamped
    np.testing.assert_allclose(x.grad.numpy(), [-2, 5, -1e12, 0], rtol=1e-6)
    assert each.dtype == minigrad.float32


def test_binary_cross_entropy_weight_broadcasts_over_the_batch():
    x = minigrad.tensor([[0.5, 0.5], [0.5, 0.5]])
    y = minigrad.tensor([[1.0, 0.0], [0.0, 1.0]])
    each = F.binary_cross_entropy(x, y, weight=minigrad.tensor([1.0, 3.0]), reduction="none")
    np.testing.assert_allclose(each.numpy(), math.log(2) * np.array([[1, 3], [1, 3]]), rtol=1e-6)
    loss = nn.BCELoss(weight=minigrad.tensor([1.0, 3.0]))(x, y)
    np.testing.assert_allclose(loss.item(), math.log(2) * 2, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_gradcheck_for_input_and_target(reduction):
    x = minigrad.tensor(np.random.default_rng(2).uniform(0.05, 0.95, (3, 4)), requires_grad=True)
    y = minigrad.rand(3, 4, dtype=minigrad.float64, requires_grad=True)
    weight = minigrad.rand(4, dtype=minigrad.float64)
    assert minigrad.gradcheck(
        lambda x, y: F.binary_cross_entropy(x, y, weight, reduction=reduction), x, y
    )


def test_binary_cross_entropy_with_logits_by_hand_and_stable():
    z = minigrad.tensor([0.0, math.log(3), -1000.0, 1000.0], requires_grad=True)
    y = minigrad.tensor([1.0, 0.0, 1.0, 0.0])
    each = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(each.numpy(), [math.log(2), math.log(4), 1000, 1000], rtol=1e-6)
    F.binary_cross_entropy_with_logits(z, y, reduction="sum").backward()
    np.testing.assert_allclose(z.grad.numpy(), [-0.5, 0.75, -1, 1], rtol=1e-6)  # sigmoid - y


def test_binary_cross_entropy_with_logits_pos_weight_by_hand():
    # y = 1 at z = 0: pos_weight * log 2, gradient pos_weight (sigmoid(0) - 1); y = 0: unweighted
    z = minigrad.tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    y = minigrad.tensor([[1.0, 1.0], [0.0, 0.0]])
    pos_weight = minigrad.tensor([3.0, 1.0])
    each = F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pos_weight)
    np.testing.assert_allclose(each.numpy(), math.log(2) * np.array([[3, 1], [1, 1]]), rtol=1e-6)
    F.binary_cross_entropy_with_logits(z, y, reduction="sum", pos_weight=pos_weight).backward()
    np.testing.assert_allclose(z.grad.numpy(), [[-1.5, -0.5], [0.5, 0.5]], rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits_equals_it_on_the_sigmoid(reduction):
    z, y = random(3, 4), minigrad.rand(3, 4, dtype=minigrad.float64)
    weight = minigrad.rand(3, 1, dtype=minigrad.float64)
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, y, weight, reduction=reduction).numpy(),
        F.binary_cross_entropy(F.sigmoid(z), y, weight, reduction=reduction).numpy(),
        rtol=1e-10,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits_gradcheck_with_weight_and_pos_weight(reduction):
    z, y = random(3, 4), minigrad.rand(3, 4, dtype=minigrad.float64, requires_grad=True)
    weight = minigrad.rand(3, 4, dtype=minigrad.float64)
    pos_weight = minigrad.tensor([0.5, 1.0, 2.0, 4.0], dtype=minigrad.float64)

    def loss(z, y):
        return F.binary_cross_entropy_with_logits(
            z, y, weight, reduction=reduction, pos_weight=pos_weight
        )

    assert minigrad.gradcheck(loss, z, y)


# --- l1_loss and smooth_l1_loss ---------------------------------------------------------------


def test_l1_loss_values_and_sign_gradient():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = minigrad.tensor([0.0, 4.0, 3.0])
    assert F.l1_loss(x, y).item() == pytest.approx(1.0)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(3.0)
    np.testing.assert_array_equal(F.l1_loss(x, y, reduction="none").numpy(), [1, 2, 0])
    F.l1_loss(x, y, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, -1, 0])  # 0 where x == y, as PyTorch


@pytest.mark.parametrize(
    ("beta", "losses", "slopes"),
    [
        # d = 0.5, -2, 0: quadratic d^2 / (2 beta) inside |d| < beta, |d| - beta / 2 outside
        (1.0, [0.125, 1.5, 0], [0.5, -1, 0]),
        (4.0, [0.03125, 0.5, 0], [0.125, -0.5, 0]),
        (0.0, [0.5, 2, 0], [1, -1, 0]),  # the L1 loss
    ],
)
def test_smooth_l1_loss_by_hand(beta, losses, slopes):
    x = minigrad.tensor([0.5, -2.0, 1.0], requires_grad=True)
    y = minigrad.tensor([0.0, 0.0, 1.0])
    each = F.smooth_l1_loss(x, y, reduction="none", beta=beta)
    np.testing.assert_allclose(each.numpy(), losses, rtol=1e-6)
    each.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "loss",
    [F.l1_loss, lambda x, y, reduction: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5)],
    ids=["l1", "smooth_l1"],
)
def test_distance_losses_gradcheck_for_both_inputs(loss, reduction):
    x, y = random(3, 4), random(3, 4)  # |x - y| away from 0 and beta within eps
    assert minigrad.gradcheck(lambda x, y: loss(x, y, reduction=reduction), x, y)


# --- modules ---------------------------------------------------------------------------------


def test_loss_modules_pass_their_options_to_the_functions():
    x, target = random(4, 3, 2), minigrad.tensor([[0, 1], [2, 2], [1, 0], [0, 2]])
    weight = minigrad.tensor([1.0, 2.0, 0.5], dtype=minigrad.float64)
    module = nn.CrossEntropyLoss(weight, ignore_index=2, label_smoothing=0.1, reduction="sum")
    expected = F.cross_entropy(
        x, target, weight, ignore_index=2, reduction="sum", label_smoothing=0.1
    )
    assert module(x, target).item() == expected.item()
    nll = nn.NLLLoss(weight, ignore_index=1)(x, target).item()
    assert nll == F.nll_loss(x, target, weight, ignore_index=1).item()
    z, y = random(2, 3), minigrad.rand(2, 3, dtype=minigrad.float64)
    pos_weight = minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float64)
    bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")(z, y)
    np.testing.assert_array_equal(
        bce.numpy(),
        F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pos_weight).numpy(),
    )
    assert nn.L1Loss()(z, y).item() == F.l1_loss(z, y).item()
    assert nn.SmoothL1Loss(beta=0.3)(z, y).item() == F.smooth_l1_loss(z, y, beta=0.3).item()


def test_loss_modules_keep_weights_as_buffers_as_pytorch():
    weight = minigrad.tensor([1.0, 2.0, 3.0])
    assert list(nn.CrossEntropyLoss(weight).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=weight).state_dict()) == ["pos_weight"]
    assert list(nn.BCELoss(weight).parameters()) == []


@pytest.mark.parametrize(
    ("module", "text"),
    [
        (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
        (
            nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1),
            "CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)",
        ),
        (nn.NLLLoss(reduction="none"), "NLLLoss(reduction='none')"),
        (nn.BCELoss(), "BCELoss()"),
        (nn.BCEWithLogitsLoss(reduction="sum"), "BCEWithLogitsLoss(reduction='sum')"),
        (nn.L1Loss(), "L1Loss()"),
        (nn.SmoothL1Loss(beta=0.5), "SmoothL1Loss(beta=0.5)"),
    ],
)
def test_loss_module_repr(module, text):
    assert repr(module) == text


def test_loss_modules_reject_bad_options_at_construction():
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be between"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError, match=r"NLLLoss: ignore_index must be an int, got 0.5"):
        nn.NLLLoss(ignore_index=0.5)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta must be a non-negative number"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match=r"got 'avg'"):
        nn.BCELoss(reduction="avg")


# --- errors at the boundary ------------------------------------------------------------------


def test_class_losses_name_out_of_range_labels_but_not_the_ignore_index():
    x = minigrad.randn(4, 3)
    with pytest.raises(IndexError, match=r"label\(s\) -1, 3 out of range for C=3 classes"):
        F.cross_entropy(x, minigrad.tensor([-100, 3, -1, 0]))
    with pytest.raises(IndexError, match=r"nll_loss: target has label\(s\) -100 out of range"):
        F.nll_loss(x, minigrad.tensor([-100, 0, 1, 2]), ignore_index=5)


def test_class_losses_name_the_expected_target_shape_over_positions():
    x = minigrad.randn(2, 3, 4, 5)
    message = r"expected target of shape \(2, 4, 5\) for logits of shape \(2, 3, 4, 5\), got"
    with pytest.raises(ValueError, match=message + r" target shape \(2, 5, 4\)"):
        F.cross_entropy(x, minigrad.zeros(2, 5, 4, dtype=minigrad.int64))
    with pytest.raises(ValueError, match=r"log_probs have batch size 2 .* but target has 3"):
        F.nll_loss(x, minigrad.zeros(3, 4, 5, dtype=minigrad.int64))


def test_cross_entropy_probability_targets_must_be_floating_of_the_logits_dtype():
    x = minigrad.randn(2, 3)
    with pytest.raises(TypeError, match=r"shape \(2, 3\) holds class probabilities and must be"):
        F.cross_entropy(x, minigrad.zeros(2, 3, dtype=minigrad.int64))
    with pytest.raises(TypeError, match=r"logits has dtype float32 but target has dtype float64"):
        F.cross_entropy(x, minigrad.zeros(2, 3, dtype=minigrad.float64))
    with pytest.raises(ValueError, match=r"ignore_index=0 is not supported for class-probab"):
        F.cross_entropy(x, minigrad.zeros(2, 3), ignore_index=0)
    with pytest.raises(TypeError, match=r"nll_loss: target must hold integer class indices"):
        F.nll_loss(x, minigrad.zeros(2, 3))


def test_class_weight_must_have_one_value_per_class_and_need_no_gradient():
    x, target = minigrad.randn(2, 3), minigrad.tensor([0, 1])
    with pytest.raises(ValueError, match=r"weight has shape \(4,\), expected \(3,\) for the"):
        F.cross_entropy(x, target, weight=minigrad.ones(4))
    with pytest.raises(TypeError, match=r"input has dtype float32 but weight has dtype float64"):
        F.nll_loss(x, target, weight=minigrad.ones(3, dtype=minigrad.float64))
    with pytest.raises(ValueError, match=r"weight must not require grad"):
        F.cross_entropy(x, target, weight=minigrad.ones(3, requires_grad=True))


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.5, "0.1"])
def test_cross_entropy_rejects_label_smoothing_outside_0_to_1(label_smoothing):
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0.0 and 1.0, got"):
        F.cross_entropy(minigrad.randn(2, 3), [0, 1], label_smoothing=label_smoothing)


def test_binary_losses_check_shapes_weights_and_the_probability_range():
    x = minigrad.tensor([0.2, 1.5, -0.5, 0.7])
    with pytest.raises(RuntimeError, match=r"input values must lie in \[0, 1\], got -0.5, 1.5"):
        F.binary_cross_entropy(x, minigrad.zeros(4))
    with pytest.raises(ValueError, match=r"target has shape \(3,\), expected \(4,\)"):
        F.binary_cross_entropy_with_logits(x, minigrad.zeros(3))
    with pytest.raises(ValueError, match=r"pos_weight has shape \(3,\), expected a shape that b"):
        F.binary_cross_entropy_with_logits(x, minigrad.zeros(4), pos_weight=minigrad.ones(3))
    with pytest.raises(ValueError, match=r"weight has shape \(2, 4\), expected a shape that br"):
        F.binary_cross_entropy(minigrad.rand(4), minigrad.zeros(4), weight=minigrad.ones(2, 4))
    with pytest.raises(TypeError, match=r"l1_loss: expected a floating point input Tensor"):
        F.l1_loss(minigrad.tensor([1, 2]), minigrad.tensor([1, 2]))


@pytest.mark.parametrize("beta", [-1.0, None])
def test_smooth_l1_loss_rejects_a_negative_beta(beta):
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be a non-negative number"):
        F.smooth_l1_loss(minigrad.zeros(2), minigrad.zeros(2), beta=beta)


# --- devices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_loss_options_agree_across_devices(device):
    x_host, y_host = minigrad.randn(3, 4, 5), minigrad.rand(3, 4, 5)
    target_host = minigrad.tensor(np.random.default_rng(3).integers(0, 4, (3, 5)))
    weight_host = minigrad.tensor([1.0, 2.0, 0.5, 1.5])
    expected = F.cross_entropy(
        x_host, target_host, weight_host, ignore_index=1, reduction="mean", label_smoothing=0.2
    ).item()
    expected_bce = F.binary_cross_entropy_with_logits(
        x_host, y_host, pos_weight=weight_host.reshape(4, 1)
    ).item()
    x = x_host.to(device).requires_grad_(True)
    loss = nn.CrossEntropyLoss(weight_host.to(device), ignore_index=1, label_smoothing=0.2)
    out = loss(x, target_host.to(device))
    assert out.device == minigrad.backend.normalize_device(device)
    np.testing.assert_allclose(out.item(), expected, rtol=1e-5)
    out.backward()
    assert x.grad.device == out.device
    pos_weight = weight_host.reshape(4, 1).to(device)
    bce = F.binary_cross_entropy_with_logits(x, y_host.to(device), pos_weight=pos_weight)
    np.testing.assert_allclose(bce.item(), expected_bce, rtol=1e-5)
