"""Adadelta, RMSprop and Adagrad against their update rules written out in NumPy float64 from
PyTorch's documented algorithms, three steps each, with every option."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
from minigrad.optim import Adadelta, Adagrad, RMSprop

P0 = np.array([1.0, -2.0, 3.0])
GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.4]), np.array([-0.7, 0.2, 0.05])]


def run_steps(make_optimizer, device="cpu"):
    """Build an optimizer on a float64 parameter at P0, step it with each of GRADS; return it,
    the parameter and the parameter's values after each step."""
    param = minigrad.tensor(P0, dtype=minigrad.float64, device=device, requires_grad=True)
    optimizer = make_optimizer([param])
    values = []
    for grad in GRADS:
        param.grad = minigrad.tensor(grad, dtype=minigrad.float64, device=device)
        optimizer.step()
        values.append(param.numpy())
    return optimizer, param, values


def descent_grad(grad, p, weight_decay, maximize):
    """PyTorch's order: the gradient is negated first, then the decay is added."""
    return (-grad if maximize else grad) + weight_decay * p


# --- Adadelta ---------------------------------------------------------------------------------


def adadelta_by_hand(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    p, square_avg, acc_delta = P0.copy(), np.zeros(3), np.zeros(3)
    values = []
    for grad in GRADS:
        g = descent_grad(grad, p, weight_decay, maximize)
        square_avg = rho * square_avg + (1 - rho) * g**2
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        p = p - lr * delta
        values.append(p)
    return values


@pytest.mark.parametrize("device", DEVICES)
def test_adadelta_defaults_follow_the_update_rule(device):
    optimizer, param, values = run_steps(Adadelta, device)
    assert optimizer.defaults == {
        "lr": 1.0,
        "rho": 0.9,
        "eps": 1e-6,
        "weight_decay": 0.0,
        "maximize": False,
    }
    # The first step is sqrt(eps) / sqrt((1 - rho) g^2 + eps) * g: about sqrt(eps / 0.1).
    np.testing.assert_allclose(P0 - values[0], np.sqrt(1e-5) * np.sign(GRADS[0]), rtol=1e-4)
    np.testing.assert_allclose(values, adadelta_by_hand(), rtol=1e-12)
    assert set(optimizer.state[param]) == {"step", "square_avg", "acc_delta"}
    assert optimizer.state[param]["step"] == 3


@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0.5, "rho": 0.8, "eps": 1e-3},
        {"lr": 0.5, "eps": 1e-3, "weight_decay": 0.1},
        {"lr": 0.5, "eps": 1e-3, "weight_decay": 0.1, "maximize": True},
    ],
    ids=["rho-eps", "weight-decay", "weight-decay-maximize"],
)
def test_adadelta_options_follow_the_update_rule(options):
    _, _, values = run_steps(lambda params: Adadelta(params, **options))
    np.testing.assert_allclose(values, adadelta_by_hand(**options), rtol=1e-12)


# --- RMSprop ----------------------------------------------------------------------------------


def rmsprop_by_hand(
    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
):
    p, square_avg, grad_avg, buffer = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    values = []
    for grad in GRADS:
        g = descent_grad(grad, p, weight_decay, maximize)
        square_avg = alpha * square_avg + (1 - alpha) * g**2
        if centered:
            grad_avg = alpha * grad_avg + (1 - alpha) * g
            denom = np.sqrt(square_avg - grad_avg**2) + eps
        else:
            denom = np.sqrt(square_avg) + eps
        if momentum > 0:
            buffer = momentum * buffer + g / denom
            p = p - lr * buffer
        else:
            p = p - lr * g / denom
        values.append(p)
    return values


@pytest.mark.parametrize("device", DEVICES)
def test_rmsprop_defaults_follow_the_update_rule(device):
    optimizer, param, values = run_steps(RMSprop, device)
    assert optimizer.defaults == {
        "lr": 1e-2,
        "momentum": 0.0,
        "alpha": 0.99,
        "eps": 1e-8,
        "centered": False,
        "weight_decay": 0.0,
        "maximize": False,
    }
    # The first step is lr * g / sqrt(0.01 g^2): ten times lr, along the gradient's sign.
    np.testing.assert_allclose(P0 - values[0], 0.1 * np.sign(GRADS[0]), rtol=1e-6)
    np.testing.assert_allclose(values, rmsprop_by_hand(), rtol=1e-12)
    assert set(optimizer.state[param]) == {"step", "square_avg"}


@pytest.mark.parametrize(
    "options, state_keys",
    [
        ({"alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1}, set()),
        ({"alpha": 0.9, "momentum": 0.8}, {"momentum_buffer"}),
        ({"alpha": 0.9, "centered": True}, {"grad_avg"}),
        (
            {"alpha": 0.9, "weight_decay": 0.1, "momentum": 0.8, "centered": True},
            {"momentum_buffer", "grad_avg"},
        ),
        ({"momentum": 0.5, "centered": True, "maximize": True}, {"momentum_buffer", "grad_avg"}),
    ],
    ids=["weight-decay", "momentum", "centered", "all", "maximize"],
)
def test_rmsprop_options_follow_the_update_rule(options, state_keys):
    optimizer, param, values = run_steps(lambda params: RMSprop(params, **options))
    np.testing.assert_allclose(values, rmsprop_by_hand(**options), rtol=1e-12)
    assert set(optimizer.state[param]) == {"step", "square_avg"} | state_keys


# --- Adagrad ----------------------------------------------------------------------------------


def adagrad_by_hand(
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    p, state_sum = P0.copy(), np.full(3, initial_accumulator_value)
    values = []
    for t, grad in enumerate(GRADS, start=1):
        g = descent_grad(grad, p, weight_decay, maximize)
        decayed_lr = lr / (1 + (t - 1) * lr_decay)
        state_sum = state_sum + g**2
        p = p - decayed_lr * g / (np.sqrt(state_sum) + eps)
        values.append(p)
    return values


@pytest.mark.parametrize("device", DEVICES)
def test_adagrad_defaults_follow_the_update_rule(device):
    optimizer, param, values = run_steps(Adagrad, device)
    assert optimizer.defaults == {
        "lr": 1e-2,
        "lr_decay": 0.0,
        "eps": 1e-10,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "maximize": False,
    }
    # The first step is lr * g / |g|.
    np.testing.assert_allclose(P0 - values[0], 0.01 * np.sign(GRADS[0]), rtol=1e-8)
    np.testing.assert_allclose(values, adagrad_by_hand(), rtol=1e-12)
    state_sum = minigrad.backend.to_numpy(optimizer.state[param]["sum"])
    np.testing.assert_allclose(state_sum, sum(grad**2 for grad in GRADS), rtol=1e-12)
    assert optimizer.state[param]["step"] == 3


@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0.1, "lr_decay": 0.5},
        {"lr": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-3},
        {"lr": 0.1, "weight_decay": 0.1},
        {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1, "maximize": True},
    ],
    ids=["lr-decay", "initial-accumulator", "weight-decay", "maximize"],
)
def test_adagrad_options_follow_the_update_rule(options):
    _, _, values = run_steps(lambda params: Adagrad(params, **options))
    np.testing.assert_allclose(values, adagrad_by_hand(**options), rtol=1e-12)


def test_adagrad_creates_every_state_at_construction_as_pytorch_does():
    with_grad = minigrad.tensor(P0, requires_grad=True)
    without_grad = minigrad.tensor(P0, requires_grad=True)
    optimizer = Adagrad([with_grad, without_grad], initial_accumulator_value=0.5)
    assert set(optimizer.state_dict()["state"]) == {0, 1}
    with_grad.grad = minigrad.tensor(GRADS[0])
    optimizer.step()
    assert optimizer.state[without_grad]["step"] == 0
    np.testing.assert_array_equal(optimizer.state[without_grad]["sum"], np.full(3, 0.5))
    np.testing.assert_array_equal(without_grad.numpy(), P0)


def test_adagrad_group_added_later_starts_from_its_initial_accumulator():
    first = minigrad.tensor(P0, requires_grad=True)
    added = minigrad.tensor(P0, requires_grad=True)
    optimizer = Adagrad([first], lr=0.1)
    optimizer.add_param_group({"params": [added], "initial_accumulator_value": 0.2})
    added.grad = minigrad.tensor(GRADS[0])
    optimizer.step()
    expected = P0 - 0.1 * GRADS[0] / (np.sqrt(0.2 + GRADS[0] ** 2) + 1e-10)
    np.testing.assert_allclose(added.numpy(), expected, rtol=1e-12)
