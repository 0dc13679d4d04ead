"""Learning-rate schedules: the lr of each epoch against values worked out by hand and against
PyTorch 2.13's chainable schedulers (chained schedulers, lrs edited by hand, resuming)."""

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


def lrs_per_epoch(schedulers, epochs, edits=None):
    """Every group's lrs at epochs 0 .. epochs-1 (the constructors set epoch 0), stepping each
    of `schedulers` in turn after each epoch; group 0's lr is first set by hand to edits[epoch]
    at the epochs that `edits` names."""
    groups = schedulers[0].optimizer.param_groups
    values = []
    for epoch in range(epochs):
        if edits and epoch in edits:
            groups[0]["lr"] = edits[epoch]
        else:
            assert schedulers[-1].get_last_lr() == [group["lr"] for group in groups]
        values.append([group["lr"] for group in groups])
        for scheduler in schedulers:
            scheduler.step()
    return values


def lrs_over(scheduler, epochs, edits=None):
    """The lr of group 0 at epochs 0 .. epochs-1 under one scheduler (see lrs_per_epoch)."""
    return [lrs[0] for lrs in lrs_per_epoch([scheduler], epochs, edits)]


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
    resumed_optimizer.load_state_dict(optimizer.state_dict())  # the lrs live in the optimizer
    resumed.load_state_dict(saved)
    assert resumed_optimizer.param_groups[0]["lr"] == 0.5  # epoch 3's lr
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
    resumed.optimizer.load_state_dict(scheduler.optimizer.state_dict())
    resumed.load_state_dict(scheduler.state_dict())
    assert lrs_over(resumed, 3) == lrs_over(scheduler, 3) == [1.0, 0.5, 0.25]


def test_resuming_by_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(make_optimizer(), step_size=1, last_epoch=4)
    optimizer = make_optimizer(lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    scheduler.step()
    scheduler.step()  # epoch 2's lr, 0.25, as a loaded checkpoint leaves it: the constructor
    # with last_epoch=2 steps on from there
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


def test_chained_linear_and_step_lr_compose_as_in_pytorch():
    optimizer = make_optimizer(lr=0.1, second_lr=0.3)
    warmup = LinearLR(optimizer, start_factor=0.5, total_iters=4)
    decay = StepLR(optimizer, step_size=3, gamma=0.1)
    # PyTorch 2.13: SGD(lr=0.1; second group 0.3), LinearLR(start_factor=0.5, total_iters=4)
    # and StepLR(step_size=3, gamma=0.1) on it, both stepped after each epoch
    expected = [
        [0.05, 0.15],
        [0.0625, 0.1875],
        [0.075, 0.22499999999999998],
        [0.00875, 0.026250000000000002],
        [0.01, 0.030000000000000002],
        [0.01, 0.030000000000000002],
        [0.001, 0.0030000000000000005],
        [0.001, 0.0030000000000000005],
        [0.001, 0.0030000000000000005],
        [0.0001, 0.0003000000000000001],
    ]
    assert lrs_per_epoch([warmup, decay], 10) == expected


# PyTorch 2.13's lrs of group 0 (SGD lr=1.0) when it is set by hand to `edits[epoch]` before
# that epoch: each schedule goes on from the edited lr, except where SequentialLR starts its
# next scheduler at a milestone (epoch 3), from that scheduler's closed form.
MANUAL_EDITS = {
    "StepLR": (
        lambda opt: StepLR(opt, step_size=2, gamma=0.5),
        {3: 0.3},
        [1.0, 1.0, 0.5, 0.3, 0.15, 0.15, 0.075, 0.075],
    ),
    "MultiStepLR": (
        lambda opt: MultiStepLR(opt, milestones=[2, 5], gamma=0.1),
        {3: 0.4},
        [1.0, 1.0, 0.1, 0.4, 0.4, 0.04000000000000001, 0.04000000000000001],
    ),
    "CosineAnnealingLR": (
        lambda opt: CosineAnnealingLR(opt, T_max=6, eta_min=0.1),
        {2: 0.5},
        [
            1.0,
            0.9397114317029974,
            0.5,
            0.3666666666666667,
            0.23333333333333342,
            0.13572655899081637,
            0.1,
            0.16028856829700258,
            0.32499999999999996,
            0.5500000000000002,
        ],
    ),
    "LinearLR": (
        lambda opt: LinearLR(opt, start_factor=0.25, total_iters=4),
        {2: 0.2},
        [0.25, 0.4375, 0.2, 0.26, 0.32, 0.32, 0.32],
    ),
    "SequentialLR": (
        lambda opt: SequentialLR(
            opt,
            [LinearLR(opt, start_factor=0.5, total_iters=3), StepLR(opt, step_size=2, gamma=0.5)],
            milestones=[3],
        ),
        {1: 0.2, 5: 0.1},
        [0.5, 0.2, 0.25, 1.0, 1.0, 0.1, 0.1, 0.05],
    ),
}


@pytest.mark.parametrize("name", MANUAL_EDITS)
def test_an_lr_edited_by_hand_is_continued_from_as_in_pytorch(name):
    build, edits, expected = MANUAL_EDITS[name]
    scheduler = build(make_optimizer(lr=1.0))
    assert lrs_over(scheduler, len(expected), edits) == expected


@pytest.mark.parametrize(
    "build, epoch, expected",
    [  # PyTorch 2.13's lr after step(epoch) on SGD(lr=1.0), whose lr was first set to 0.3
        (lambda opt: StepLR(opt, step_size=2, gamma=0.5), 5, 0.25),
        (lambda opt: MultiStepLR(opt, milestones=[1, 3, 3], gamma=0.5), 4, 0.125),
        (lambda opt: CosineAnnealingLR(opt, T_max=4), 1, 0.8535533905932737),
        (lambda opt: LinearLR(opt, start_factor=0.25, total_iters=4), 2, 0.625),
    ],
    ids=["StepLR", "MultiStepLR", "CosineAnnealingLR", "LinearLR"],
)
def test_step_with_an_epoch_jumps_there_by_the_closed_form(build, epoch, expected):
    optimizer = make_optimizer(lr=1.0)
    scheduler = build(optimizer)
    optimizer.param_groups[0]["lr"] = 0.3
    scheduler.step(epoch)
    assert scheduler.last_epoch == epoch
    assert optimizer.param_groups[0]["lr"] == scheduler.get_last_lr()[0] == expected


RESUMABLE = {
    "StepLR": lambda opt: [StepLR(opt, step_size=3, gamma=0.5)],
    "MultiStepLR": lambda opt: [MultiStepLR(opt, milestones=[2, 6, 6], gamma=0.5)],
    "CosineAnnealingLR": lambda opt: [CosineAnnealingLR(opt, T_max=5, eta_min=0.01)],
    "LinearLR": lambda opt: [LinearLR(opt, start_factor=0.2, total_iters=7)],
    "SequentialLR": lambda opt: [
        SequentialLR(
            opt,
            [LinearLR(opt, start_factor=0.5, total_iters=7), CosineAnnealingLR(opt, T_max=4)],
            milestones=[7],
        )
    ],
    "LinearLR+StepLR": lambda opt: [
        LinearLR(opt, start_factor=0.5, total_iters=4),
        StepLR(opt, step_size=3, gamma=0.1),
    ],
}


@pytest.mark.parametrize("name", RESUMABLE)
def test_resuming_from_a_checkpoint_gives_bit_identical_lrs(name, tmp_path):
    build = RESUMABLE[name]
    uninterrupted = lrs_per_epoch(build(make_optimizer(lr=0.1, second_lr=0.3)), 12)

    optimizer = make_optimizer(lr=0.1, second_lr=0.3)
    schedulers = build(optimizer)
    first_epochs = lrs_per_epoch(schedulers, 5)
    saved = {
        "optimizer": optimizer.state_dict(),
        "schedulers": [s.state_dict() for s in schedulers],
    }
    minigrad.save(saved, tmp_path / "checkpoint.npz")
    loaded = minigrad.load(tmp_path / "checkpoint.npz")

    resumed_optimizer = make_optimizer(lr=0.1, second_lr=0.3)
    resumed = build(resumed_optimizer)
    resumed_optimizer.load_state_dict(loaded["optimizer"])
    for scheduler, state in reversed(list(zip(resumed, loaded["schedulers"]))):  # any order
        scheduler.load_state_dict(state)
    assert first_epochs + lrs_per_epoch(resumed, 7) == uninterrupted
