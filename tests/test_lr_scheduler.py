"""Learning-rate schedules: the lr of each epoch against values worked out by hand."""

import math

import pytest

import minigrad
from minigrad.optim import SGD
from minigrad.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    MultiStepLR,
    SequentialLR,
    StepLR,
)


def make_optimizer(lr=1.0, second_lr=None):
    params = [minigrad.zeros(2, requires_grad=True)]
    if second_lr is None:
        return SGD(params, lr=lr)
    return SGD([{"params": params}, {"params": [minigrad.zeros(2)], "lr": second_lr}], lr=lr)


def lrs_over(scheduler, epochs):
    """The lr of group 0 at epochs 0 .. epochs-1 (the constructor sets epoch 0)."""
    values = []
    for _ in range(epochs):
        values.append(scheduler.optimizer.param_groups[0]["lr"])
        assert scheduler.get_last_lr()[0] == values[-1]
        scheduler.step()
    return values


def test_constructor_stores_initial_lr_and_sets_epoch_zero():
    optimizer = make_optimizer(lr=0.5)
    scheduler = LinearLR(optimizer, start_factor=0.25, total_iters=4)
    assert optimizer.param_groups[0]["initial_lr"] == 0.5
    assert optimizer.param_groups[0]["lr"] == 0.125
    assert scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.125]


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    scheduler = StepLR(make_optimizer(lr=1.0), step_size=2, gamma=0.5)
    assert lrs_over(scheduler, 7) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_multistep_lr_multiplies_by_gamma_at_each_milestone():
    scheduler = MultiStepLR(make_optimizer(lr=1.0), milestones=[4, 2], gamma=0.1)
    expected = [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    assert lrs_over(scheduler, 6) == pytest.approx(expected, rel=1e-12)


def test_multistep_lr_counts_a_repeated_milestone_twice():
    scheduler = MultiStepLR(make_optimizer(lr=1.0), milestones=[1, 1], gamma=0.5)
    assert lrs_over(scheduler, 3) == [1.0, 0.25, 0.25]


def test_cosine_annealing_follows_half_a_cosine_to_eta_min():
    scheduler = CosineAnnealingLR(make_optimizer(lr=1.0), T_max=4, eta_min=0.2)
    half_way_down = 0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2
    expected = [1.0, half_way_down, 0.6, 0.2 + 0.8 * (1 - math.cos(math.pi / 4)) / 2, 0.2]
    assert lrs_over(scheduler, 5) == pytest.approx(expected, rel=1e-12)


def test_linear_lr_warms_up_then_holds_the_end_factor():
    scheduler = LinearLR(make_optimizer(lr=0.3), start_factor=0.25, end_factor=1.0, total_iters=3)
    expected = [0.075, 0.15, 0.225, 0.3, 0.3]
    assert lrs_over(scheduler, 5) == pytest.approx(expected, rel=1e-12)


def test_linear_lr_default_start_factor_is_one_third():
    scheduler = LinearLR(make_optimizer(lr=3.0))
    assert lrs_over(scheduler, 7) == pytest.approx([1.0, 1.4, 1.8, 2.2, 2.6, 3.0, 3.0])


def test_schedulers_scale_each_groups_own_lr():
    optimizer = make_optimizer(lr=1.0, second_lr=0.1)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5, 0.05]
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.05]


def test_sequential_lr_warms_up_then_anneals_from_its_milestone():
    optimizer = make_optimizer(lr=1.0)
    warmup = LinearLR(optimizer, start_factor=0.5, total_iters=2)
    cosine = CosineAnnealingLR(optimizer, T_max=2)
    scheduler = SequentialLR(optimizer, [warmup, cosine], milestones=[2])
    assert lrs_over(scheduler, 5) == pytest.approx([0.5, 0.75, 1.0, 0.5, 0.0], abs=1e-12)


def test_state_dict_round_trip_resumes_the_schedule():
    optimizer = make_optimizer(lr=1.0)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(3):
        scheduler.step()
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3

    resumed_optimizer = make_optimizer(lr=1.0)
    resumed = StepLR(resumed_optimizer, step_size=2, gamma=0.5)
    resumed.load_state_dict(saved)
    assert resumed_optimizer.param_groups[0]["lr"] == 0.5  # epoch 3's lr, set on load
    scheduler.step()
    resumed.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr() == [0.25]
    assert resumed_optimizer.param_groups[0]["lr"] == 0.25


def test_sequential_lr_state_dict_round_trip():
    def build():
        optimizer = make_optimizer(lr=1.0)
        warmup = LinearLR(optimizer, start_factor=0.5, total_iters=2)
        decay = StepLR(optimizer, step_size=1, gamma=0.5)
        return SequentialLR(optimizer, [warmup, decay], milestones=[2])

    scheduler = build()
    scheduler.step()
    scheduler.step()
    resumed = build()
    resumed.load_state_dict(scheduler.state_dict())
    assert lrs_over(resumed, 3) == lrs_over(scheduler, 3) == [1.0, 0.5, 0.25]


def test_resuming_by_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(make_optimizer(), step_size=1, last_epoch=4)
    optimizer = make_optimizer(lr=1.0)
    StepLR(optimizer, step_size=1, gamma=0.5)
    resumed = StepLR(optimizer, step_size=1, gamma=0.5, last_epoch=2)
    assert resumed.last_epoch == 3 and resumed.get_last_lr() == [0.125]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda opt: StepLR(opt, step_size=0), "step_size must be a positive integer"),
        (lambda opt: CosineAnnealingLR(opt, T_max=0), "T_max must be positive"),
        (lambda opt: LinearLR(opt, start_factor=0.0), "start_factor must lie in"),
        (lambda opt: LinearLR(opt, end_factor=1.5), "end_factor must lie in"),
        (lambda opt: LinearLR(opt, total_iters=0), "total_iters must be a positive integer"),
        (lambda opt: SequentialLR(opt, [StepLR(opt, 1)], [3]), "1 schedulers need 0 milestones"),
        (
            lambda opt: SequentialLR(opt, [StepLR(make_optimizer(), 1)], []),
            "another optimizer",
        ),
    ],
)
def test_invalid_arguments_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build(make_optimizer())
