"""SGD and Adam/AdamW against updates worked out by hand in NumPy, two steps each, plus the
plumbing every optimizer shares (groups, in-place updates, dtypes, state dicts, errors)."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
from minigrad.optim import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop

P0 = np.array([1.0, -2.0, 3.0])
G1 = np.array([0.5, -1.0, 2.0])
G2 = np.array([0.1, 0.3, -0.4])


def make_param(values=P0, dtype=minigrad.float64, device="cpu"):
    return minigrad.tensor(values, dtype=dtype, device=device, requires_grad=True)


def set_grad(param, values):
    param.grad = minigrad.tensor(values, dtype=param.dtype, device=param.device)


def two_steps(optimizer, param):
    """Run steps with G1 then G2; return the parameter after each as NumPy."""
    values = []
    for grad in (G1, G2):
        set_grad(param, grad)
        optimizer.step()
        values.append(param.numpy())
    return values


# --- SGD ------------------------------------------------------------------------------------


def test_sgd_plain_subtracts_lr_times_grad():
    param = make_param()
    after1, after2 = two_steps(SGD([param], lr=0.1), param)
    np.testing.assert_allclose(after1, P0 - 0.1 * G1, rtol=1e-12)
    np.testing.assert_allclose(after2, P0 - 0.1 * G1 - 0.1 * G2, rtol=1e-12)


def test_sgd_momentum_buffer_starts_as_grad_then_accumulates():
    param = make_param()
    after1, after2 = two_steps(SGD([param], lr=0.1, momentum=0.9), param)
    buffer1 = G1
    buffer2 = 0.9 * G1 + G2
    np.testing.assert_allclose(after1, P0 - 0.1 * buffer1, rtol=1e-12)
    np.testing.assert_allclose(after2, P0 - 0.1 * buffer1 - 0.1 * buffer2, rtol=1e-12)


def test_sgd_dampening_scales_new_grads_but_not_the_first():
    param = make_param()
    after1, after2 = two_steps(SGD([param], lr=0.1, momentum=0.9, dampening=0.5), param)
    buffer1 = G1  # PyTorch: the first buffer is the gradient itself, undamped
    buffer2 = 0.9 * G1 + 0.5 * G2
    np.testing.assert_allclose(after1, P0 - 0.1 * buffer1, rtol=1e-12)
    np.testing.assert_allclose(after2, P0 - 0.1 * buffer1 - 0.1 * buffer2, rtol=1e-12)


def test_sgd_nesterov_steps_along_grad_plus_momentum_times_buffer():
    param = make_param()
    after1, after2 = two_steps(SGD([param], lr=0.1, momentum=0.9, nesterov=True), param)
    buffer1 = G1
    buffer2 = 0.9 * G1 + G2
    p1 = P0 - 0.1 * (G1 + 0.9 * buffer1)
    p2 = p1 - 0.1 * (G2 + 0.9 * buffer2)
    np.testing.assert_allclose(after1, p1, rtol=1e-12)
    np.testing.assert_allclose(after2, p2, rtol=1e-12)


def test_sgd_weight_decay_adds_decay_times_param_to_grad():
    param = make_param()
    after1, after2 = two_steps(SGD([param], lr=0.1, weight_decay=0.01), param)
    p1 = P0 - 0.1 * (G1 + 0.01 * P0)
    p2 = p1 - 0.1 * (G2 + 0.01 * p1)
    np.testing.assert_allclose(after1, p1, rtol=1e-12)
    np.testing.assert_allclose(after2, p2, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_weight_decay_with_momentum(nesterov):
    param = make_param()
    optimizer = SGD([param], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
    after1, after2 = two_steps(optimizer, param)
    d1 = G1 + 0.01 * P0
    buffer1 = d1
    p1 = P0 - 0.1 * (d1 + 0.9 * buffer1 if nesterov else buffer1)
    d2 = G2 + 0.01 * p1
    buffer2 = 0.9 * buffer1 + d2
    p2 = p1 - 0.1 * (d2 + 0.9 * buffer2 if nesterov else buffer2)
    np.testing.assert_allclose(after1, p1, rtol=1e-12)
    np.testing.assert_allclose(after2, p2, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_maximize_steps_up_the_gradient(nesterov):
    param = make_param()
    optimizer = SGD(
        [param], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov, maximize=True
    )
    after1, after2 = two_steps(optimizer, param)
    d1 = -G1 + 0.01 * P0  # PyTorch negates the gradient before adding the decay
    buffer1 = d1
    p1 = P0 - 0.1 * (d1 + 0.9 * buffer1 if nesterov else buffer1)
    d2 = -G2 + 0.01 * p1
    buffer2 = 0.9 * buffer1 + d2
    p2 = p1 - 0.1 * (d2 + 0.9 * buffer2 if nesterov else buffer2)
    np.testing.assert_allclose(after1, p1, rtol=1e-12)
    np.testing.assert_allclose(after2, p2, rtol=1e-12)


def test_sgd_defaults_are_pytorchs():
    assert SGD([make_param()]).defaults == {
        "lr": 1e-3,
        "momentum": 0.0,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
        "maximize": False,
    }


# --- Adam / AdamW -----------------------------------------------------------------------------


def adam_by_hand(
    grads,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay=0.0,
    decoupled=False,
    amsgrad=False,
    maximize=False,
):
    """Explicit Adam steps from P0, as written in the paper plus PyTorch's weight decay,
    AMSGrad and maximize."""
    p = P0.copy()
    m = np.zeros(3)
    v = np.zeros(3)
    v_max = np.zeros(3)
    values = []
    for t, grad in enumerate(grads, start=1):
        if maximize:
            grad = -grad
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        values.append(p)
    return values


@pytest.mark.parametrize("device", DEVICES)
def test_adam_two_steps_with_bias_correction(device):
    param = make_param(device=device)
    optimizer = Adam([param], lr=0.01, betas=(0.8, 0.9), eps=1e-6)
    after1, after2 = two_steps(optimizer, param)
    expected1, expected2 = adam_by_hand([G1, G2], 0.01, 0.8, 0.9, 1e-6)
    # The first bias-corrected step is lr * sign(g), up to eps.
    np.testing.assert_allclose(after1, P0 - 0.01 * np.sign(G1), rtol=1e-6)
    np.testing.assert_allclose(after1, expected1, rtol=1e-12)
    np.testing.assert_allclose(after2, expected2, rtol=1e-12)
    assert optimizer.state[param]["step"] == 2


def test_adam_weight_decay_is_added_to_the_gradient():
    param = make_param()
    optimizer = Adam([param], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    after = two_steps(optimizer, param)
    expected = adam_by_hand([G1, G2], 0.01, 0.8, 0.9, 1e-6, weight_decay=0.1)
    np.testing.assert_allclose(after, expected, rtol=1e-12)


def test_adamw_decays_the_weights_before_the_adam_step():
    param = make_param()
    optimizer = AdamW([param], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    after = two_steps(optimizer, param)
    expected = adam_by_hand([G1, G2], 0.01, 0.8, 0.9, 1e-6, weight_decay=0.1, decoupled=True)
    np.testing.assert_allclose(after, expected, rtol=1e-12)
    assert AdamW([make_param()]).defaults["weight_decay"] == 1e-2


def test_adam_amsgrad_divides_by_the_largest_second_moment_so_far():
    param = make_param()
    optimizer = Adam([param], lr=0.01, betas=(0.8, 0.9), eps=1e-6, amsgrad=True)
    after = two_steps(optimizer, param)
    expected = adam_by_hand([G1, G2], 0.01, 0.8, 0.9, 1e-6, amsgrad=True)
    # |G2| is small enough that v shrinks on step 2 in every entry: the max is v of step 1.
    plain = adam_by_hand([G1, G2], 0.01, 0.8, 0.9, 1e-6)
    assert np.all(np.abs(expected[1] - plain[1]) > 1e-5)
    np.testing.assert_allclose(after, expected, rtol=1e-12)
    np.testing.assert_allclose(optimizer.state[param]["max_exp_avg_sq"], 0.1 * G1**2, rtol=1e-12)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_maximize_negates_the_gradient_before_the_decay(decoupled):
    param = make_param()
    adam = AdamW if decoupled else Adam
    optimizer = adam([param], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, maximize=True)
    after = two_steps(optimizer, param)
    expected = adam_by_hand(
        [G1, G2], 0.01, 0.8, 0.9, 1e-6, weight_decay=0.1, decoupled=decoupled, maximize=True
    )
    np.testing.assert_allclose(after, expected, rtol=1e-12)


def test_adam_with_decoupled_weight_decay_is_adamw():
    adam_param, adamw_param = make_param(), make_param()
    adam = Adam([adam_param], lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)
    adamw = AdamW([adamw_param], lr=0.01, weight_decay=0.1)
    np.testing.assert_array_equal(two_steps(adam, adam_param), two_steps(adamw, adamw_param))
    assert adamw.defaults["decoupled_weight_decay"] is True


def test_adamw_stays_decoupled_when_loading_an_adam_state_dict():
    saved = Adam([make_param()]).state_dict()
    optimizer = AdamW([make_param()])
    optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["decoupled_weight_decay"] is True


# --- groups, grads, in-place behaviour --------------------------------------------------------


def test_param_groups_use_their_own_lr_and_default_the_rest():
    first, second = make_param(), make_param()
    optimizer = SGD([{"params": [first]}, {"params": second, "lr": 0.5}], lr=0.1, momentum=0.0)
    set_grad(first, G1)
    set_grad(second, G1)
    optimizer.step()
    np.testing.assert_allclose(first.numpy(), P0 - 0.1 * G1, rtol=1e-12)
    np.testing.assert_allclose(second.numpy(), P0 - 0.5 * G1, rtol=1e-12)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.5]
    assert optimizer.param_groups[1]["params"] == [second]


def test_add_param_group_takes_the_defaults():
    first, second = make_param(), make_param()
    optimizer = Adam([first], lr=0.01)
    optimizer.add_param_group({"params": [second], "betas": (0.5, 0.6)})
    assert optimizer.param_groups[1]["lr"] == 0.01
    assert optimizer.param_groups[1]["betas"] == (0.5, 0.6)


def test_zero_grad_sets_none_or_fresh_zeros_without_writing_the_old_grad():
    first, second = make_param(), make_param()
    optimizer = SGD([first, second], lr=0.1)
    set_grad(first, G1)
    set_grad(second, G1)
    old_grad = second.grad.data
    optimizer.zero_grad()
    assert first.grad is None
    set_grad(first, G1)
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(first.grad.numpy(), np.zeros(3))
    assert second.grad is None
    np.testing.assert_array_equal(old_grad, G1)


def test_params_whose_grad_is_none_are_skipped():
    with_grad, without_grad = make_param(), make_param()
    optimizer = Adam([with_grad, without_grad], lr=0.1)
    set_grad(with_grad, G1)
    optimizer.step()
    np.testing.assert_array_equal(without_grad.numpy(), P0)
    assert without_grad not in optimizer.state
    assert not np.array_equal(with_grad.numpy(), P0)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: SGD(params, lr=0.1, momentum=0.9),
        lambda params: SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
        lambda params: Adam(params, lr=0.1),
        lambda params: Adam(params, lr=0.1, weight_decay=0.1),
        lambda params: AdamW(params, lr=0.1),
        lambda params: Adam(params, lr=0.1, amsgrad=True, maximize=True),
        lambda params: SGD(params, lr=0.1, momentum=0.9, maximize=True),
        lambda params: Adadelta(params, weight_decay=0.1, maximize=True),
        lambda params: RMSprop(params, momentum=0.9, centered=True, weight_decay=0.1),
        lambda params: RMSprop(params),
        lambda params: Adagrad(params, weight_decay=0.1, maximize=True),
    ],
    ids=[
        "sgd-momentum",
        "sgd-nesterov-decay",
        "adam",
        "adam-decay",
        "adamw",
        "adam-amsgrad-maximize",
        "sgd-maximize",
        "adadelta",
        "rmsprop-centered-momentum",
        "rmsprop",
        "adagrad",
    ],
)
def test_step_updates_data_in_place_and_never_writes_grads(make_optimizer):
    first, second = make_param(), make_param()
    shared_grad = minigrad.tensor(G1, dtype=minigrad.float64)
    first.grad = shared_grad  # two parameters whose grads alias one array
    second.grad = shared_grad
    data_before = first.data
    optimizer = make_optimizer([first, second])
    optimizer.step()
    optimizer.step()
    assert first.data is data_before
    assert first.is_leaf and first.grad_fn is None
    np.testing.assert_array_equal(shared_grad.numpy(), G1)
    np.testing.assert_array_equal(first.numpy(), second.numpy())


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda params: Adam(params, lr=0.1, weight_decay=0.1),
        lambda params: AdamW(params, lr=0.1, amsgrad=True),
        lambda params: Adadelta(params, weight_decay=0.1, maximize=True),
        lambda params: RMSprop(params, weight_decay=0.1, momentum=0.9, centered=True),
        lambda params: Adagrad(params, weight_decay=0.1, initial_accumulator_value=0.1),
    ],
    ids=["sgd", "adam", "adamw-amsgrad", "adadelta", "rmsprop", "adagrad"],
)
def test_float32_params_and_state_stay_float32(make_optimizer):
    param = make_param(dtype=minigrad.float32)
    optimizer = make_optimizer([param])
    two_steps(optimizer, param)
    assert param.dtype == minigrad.float32
    for value in optimizer.state[param].values():
        if hasattr(value, "dtype"):
            assert value.dtype == minigrad.float32


def test_step_after_a_real_backward():
    param = make_param()
    optimizer = SGD([param], lr=0.25)
    loss = (param * param).sum()  # d loss / d p = 2 p
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    np.testing.assert_allclose(param.numpy(), P0 - 0.25 * 2 * P0, rtol=1e-12)


def test_step_calls_the_closure_with_grad_enabled_and_returns_its_loss():
    param = make_param()
    optimizer = SGD([param], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == pytest.approx(float(np.sum(P0**2)))
    np.testing.assert_allclose(param.numpy(), P0 - 0.1 * 2 * P0, rtol=1e-12)


# --- state dicts ------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: SGD(
            [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1, momentum=0.9
        ),
        lambda params: Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]),
        lambda params: AdamW(
            [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], amsgrad=True
        ),
        lambda params: Adadelta([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]),
        lambda params: RMSprop(
            [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}],
            momentum=0.9,
            centered=True,
        ),
        lambda params: Adagrad(
            [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr_decay=0.1
        ),
    ],
    ids=["sgd", "adam", "adamw-amsgrad", "adadelta", "rmsprop", "adagrad"],
)
def test_state_dict_round_trip_continues_identically(make_optimizer, device):
    params = [make_param(device=device), make_param(P0 * 2, device=device)]
    optimizer = make_optimizer(params)
    for param in params:
        set_grad(param, G1)
    optimizer.step()

    saved = optimizer.state_dict()
    assert [group["params"] for group in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.05
    assert set(saved["state"]) == {0, 1}
    for state in saved["state"].values():
        for value in state.values():
            assert not hasattr(value, "dtype") or isinstance(value, np.ndarray)

    clones = [make_param(param.numpy(), device=device) for param in params]
    restored = make_optimizer(clones)
    restored.param_groups[1]["lr"] = 123.0  # must be overwritten by the saved options
    restored.load_state_dict(saved)
    assert restored.param_groups[1]["lr"] == 0.05
    for state in restored.state.values():
        for value in state.values():
            if hasattr(value, "dtype"):
                assert minigrad.backend.device_of(value) == minigrad.backend.normalize_device(
                    device
                )

    for grad in (G2, G1):
        for param, clone in zip(params, clones):
            set_grad(param, grad)
            set_grad(clone, grad)
        optimizer.step()
        restored.step()
    for param, clone in zip(params, clones):
        np.testing.assert_array_equal(param.numpy(), clone.numpy())


def test_state_dict_arrays_are_copies_in_both_directions():
    param = make_param()
    optimizer = SGD([param], lr=0.1, momentum=0.9)
    set_grad(param, G1)
    optimizer.step()
    saved = optimizer.state_dict()
    saved["state"][0]["momentum_buffer"][:] = 0.0
    np.testing.assert_array_equal(optimizer.state[param]["momentum_buffer"], G1)
    optimizer.load_state_dict(saved)
    saved["state"][0]["momentum_buffer"][:] = 7.0
    np.testing.assert_array_equal(optimizer.state[param]["momentum_buffer"], np.zeros(3))


def test_load_state_dict_with_other_group_sizes_raises():
    optimizer = SGD([make_param(), make_param()], lr=0.1)
    saved = optimizer.state_dict()
    with pytest.raises(ValueError, match="1 parameter groups, but the optimizer has 2"):
        SGD([{"params": [make_param()]}, {"params": [make_param()]}], lr=0.1).load_state_dict(
            {"state": {}, "param_groups": saved["param_groups"][:1]}
        )
    with pytest.raises(ValueError, match="group 0: loaded state dict has 2 parameters.*has 3"):
        SGD([make_param(), make_param(), make_param()], lr=0.1).load_state_dict(saved)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_optimizer, message",
    [
        (lambda p: SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: SGD(p, lr=0.1, momentum=-1.0), "Invalid momentum value"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1.0), "Invalid weight_decay value"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum > 0"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda p: SGD([{"params": p, "lr": -1.0}], lr=0.1), "Invalid learning rate: -1.0"),
        (lambda p: Adam(p, lr=-1.0), "Invalid learning rate"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), "beta parameter at index 0: 1.0"),
        (lambda p: Adam(p, eps=-1.0), "Invalid epsilon value"),
        (lambda p: AdamW(p, weight_decay=-1.0), "Invalid weight_decay value"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), "beta parameter at index 1: -0.1"),
        (lambda p: Adadelta(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
        (lambda p: Adadelta(p, eps=-1e-6), "Invalid epsilon value: -1e-06"),
        (lambda p: Adadelta(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (lambda p: RMSprop(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: RMSprop(p, eps=-1.0), "Invalid epsilon value: -1.0"),
        (lambda p: RMSprop(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: RMSprop(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (lambda p: RMSprop(p, alpha=-0.9), "Invalid alpha value: -0.9"),
        (lambda p: Adagrad(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: Adagrad(p, lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
        (lambda p: Adagrad(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (
            lambda p: Adagrad(p, initial_accumulator_value=-1.0),
            "Invalid initial_accumulator_value value: -1.0",
        ),
        (lambda p: Adagrad(p, eps=-1.0), "Invalid epsilon value: -1.0"),
        (lambda p: Adagrad([{"params": p, "lr_decay": -2.0}]), "Invalid lr_decay value: -2.0"),
    ],
)
def test_invalid_hyper_parameters_raise(make_optimizer, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer([make_param()])


def test_invalid_params_raise():
    param = make_param()
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got Tensor"):
        SGD(param, lr=0.1)
    with pytest.raises(TypeError, match="got set"):
        SGD({param}, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors, got ndarray"):
        SGD([P0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([param * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([{"params": [param]}, {"params": [param]}], lr=0.1)


def test_optimizer_repr_lists_groups():
    text = repr(SGD([make_param()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    momentum: 0.9" in text
    assert isinstance(SGD([make_param()], lr=0.1), Optimizer)
