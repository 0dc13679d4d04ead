"""Learning-rate schedules: the lr of each epoch against values worked out by hand and against
PyTorch 2.13's schedulers (chained schedulers, lrs edited by hand, resuming, OneCycleLR's
momentum, ReduceLROnPlateau's metric rules)."""

import math

import pytest

import minigrad
from minigrad.optim import SGD, Adagrad, Adam
from minigrad.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)


def make_optimizer(lr=1.0, second_lr=None, optimizer=SGD, **options):
    params = [minigrad.zeros(2, requires_grad=True)]
    if second_lr is None:
        return optimizer(params, lr=lr, **options)
    groups = [{"params": params}, {"params": [minigrad.zeros(2)], "lr": second_lr}]
    return optimizer(groups, lr=lr, **options)


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


def test_exponential_lr_multiplies_by_gamma_every_epoch():
    scheduler = ExponentialLR(make_optimizer(lr=1.0, second_lr=0.3), gamma=0.5)
    expected = [[1.0, 0.3], [0.5, 0.15], [0.25, 0.075], [0.125, 0.0375]]
    assert lrs_per_epoch([scheduler], 4) == expected


def test_constant_lr_scales_by_factor_until_total_iters():
    scheduler = ConstantLR(make_optimizer(lr=0.4), factor=0.25, total_iters=3)
    assert lrs_over(scheduler, 6) == [0.1, 0.1, 0.1, 0.4, 0.4, 0.4]


def test_constant_lr_defaults_to_a_third_for_five_epochs():
    scheduler = ConstantLR(make_optimizer(lr=3.0))
    assert lrs_over(scheduler, 7) == [1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0]


def test_lambda_lr_scales_the_initial_lr_by_one_function_or_one_per_group():
    shared = LambdaLR(make_optimizer(lr=1.0, second_lr=0.4), lambda epoch: 1 / (epoch + 1))
    assert lrs_per_epoch([shared], 3) == [[1.0, 0.4], [0.5, 0.2], [1 / 3, 0.4 / 3]]
    per_group = LambdaLR(
        make_optimizer(lr=1.0, second_lr=0.4), [lambda epoch: 0.5**epoch, lambda epoch: epoch]
    )
    assert lrs_per_epoch([per_group], 3) == [[1.0, 0.0], [0.5, 0.4], [0.25, 0.8]]


def test_lambda_lr_is_not_chainable_it_ignores_an_lr_set_by_hand():
    scheduler = LambdaLR(make_optimizer(lr=1.0), lambda epoch: 0.5**epoch)
    assert lrs_over(scheduler, 4, edits={1: 7.0}) == [1.0, 7.0, 0.25, 0.125]


class Decay:
    """A picklable lr_lambda whose attributes LambdaLR's state dict keeps."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


def test_lambda_lr_state_dict_keeps_callable_objects_attributes_but_not_functions():
    scheduler = LambdaLR(make_optimizer(lr=1.0, second_lr=1.0), [lambda epoch: 1.0, Decay(0.5)])
    scheduler.step()
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [None, {"rate": 0.5}]
    assert "optimizer" not in saved and saved["last_epoch"] == 1

    resumed = LambdaLR(make_optimizer(lr=1.0, second_lr=1.0), [lambda epoch: 1.0, Decay(0.9)])
    resumed.load_state_dict(saved)
    assert resumed.lr_lambdas[1].rate == 0.5
    assert saved["lr_lambdas"] == [None, {"rate": 0.5}]  # loading leaves the dict as it was
    resumed.step()
    assert resumed.get_last_lr() == [1.0, 0.25]


def test_chained_scheduler_composes_warm_up_and_decay():
    optimizer = make_optimizer(lr=1.0)
    warmup = ConstantLR(optimizer, factor=0.1, total_iters=3)
    decay = ExponentialLR(optimizer, gamma=0.9)
    scheduler = ChainedScheduler([warmup, decay], optimizer=optimizer)
    expected = [0.9**epoch * (0.1 if epoch < 3 else 1.0) for epoch in range(7)]
    assert lrs_over(scheduler, 7) == pytest.approx(expected, rel=1e-12)


def test_chained_scheduler_takes_the_optimizer_of_its_schedulers():
    optimizer = make_optimizer(lr=1.0)
    scheduler = ChainedScheduler([StepLR(optimizer, step_size=1, gamma=0.5)])
    assert scheduler.optimizer is optimizer
    assert scheduler.get_last_lr() == [1.0]


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
        (lambda opt: ConstantLR(opt, factor=1.5), "factor expected to be between 0 and 1, got 1.5"),
        (
            lambda opt: LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0]),
            "Expected 1 lr_lambdas, but got 2",
        ),
        (lambda opt: ChainedScheduler([]), "expects at least one scheduler"),
        (
            lambda opt: ChainedScheduler([StepLR(opt, 1), StepLR(make_optimizer(), 1)]),
            "same optimizer, but got scheduler StepLR at index 1",
        ),
        (
            lambda opt: ChainedScheduler([StepLR(opt, 1), ReduceLROnPlateau(opt)]),
            "does not support `ReduceLROnPlateau`.*at index 1",
        ),
        (lambda opt: OneCycleLR(opt, max_lr=1.0), "either total_steps OR"),
        (lambda opt: OneCycleLR(opt, max_lr=1.0, epochs=3), "either total_steps OR"),
        (
            lambda opt: OneCycleLR(opt, 1.0, total_steps=0),
            "positive integer total_steps, but got 0",
        ),
        (
            lambda opt: OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch=0),
            "positive integer steps_per_epoch, but got 0",
        ),
        (
            lambda opt: OneCycleLR(opt, 1.0, epochs=0.5, steps_per_epoch=2),
            "positive integer epochs, but got 0.5",
        ),
        (lambda opt: OneCycleLR(opt, 1.0, 10, pct_start=1), "float between 0 and 1 pct_start"),
        (lambda opt: OneCycleLR(opt, 1.0, 10, pct_start=1.5), "pct_start, but got 1.5"),
        (lambda opt: OneCycleLR(opt, 1.0, 10, anneal_strategy="exp"), "instead got exp"),
        (
            lambda opt: OneCycleLR(opt, [1.0, 2.0], total_steps=10),
            "max_lr must have the same length as optimizer.param_groups. max_lr has 2 values",
        ),
        (
            lambda opt: OneCycleLR(make_optimizer(optimizer=Adagrad), 1.0, 10),
            "optimizer must support momentum or beta1.*Adagrad has neither",
        ),
        (lambda opt: ReduceLROnPlateau(opt, factor=1.0), "Factor should be < 1.0, got 1.0"),
        (lambda opt: ReduceLROnPlateau(opt, mode="lowest"), "mode lowest is unknown"),
        (lambda opt: ReduceLROnPlateau(opt, threshold_mode="pct"), "threshold mode pct is unknown"),
        (lambda opt: ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]), "min_lr has 2 values"),
    ],
)
def test_invalid_arguments_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build(make_optimizer())


@pytest.mark.parametrize(
    "build",
    [
        lambda opt: ExponentialLR(object(), gamma=0.5),
        lambda opt: LambdaLR(None, lambda epoch: 1.0),
        lambda opt: OneCycleLR("sgd", max_lr=1.0, total_steps=10),
        lambda opt: ReduceLROnPlateau(object()),
        lambda opt: ChainedScheduler([StepLR(opt, 1), object()]),
    ],
    ids=["ExponentialLR", "LambdaLR", "OneCycleLR", "ReduceLROnPlateau", "ChainedScheduler"],
)
def test_something_that_is_not_an_optimizer_or_scheduler_raises_type_error(build):
    with pytest.raises(TypeError, match="is not an Optimizer|should have `optimizer`"):
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
    "ExponentialLR": (
        lambda opt: ExponentialLR(opt, gamma=0.5),
        {3: 0.4},
        [1.0, 0.5, 0.25, 0.4, 0.2, 0.1],
    ),
    "ConstantLR": (
        lambda opt: ConstantLR(opt, factor=0.5, total_iters=3),
        {1: 0.2},
        [0.5, 0.2, 0.2, 0.4, 0.4, 0.4],
    ),
    "ChainedScheduler": (
        lambda opt: ChainedScheduler(
            [ConstantLR(opt, factor=0.5, total_iters=3), ExponentialLR(opt, gamma=0.9)]
        ),
        {2: 0.4},
        [0.5, 0.45, 0.4, 0.7200000000000001, 0.6480000000000001, 0.5832000000000002],
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
        (lambda opt: ExponentialLR(opt, gamma=0.5), 3, 0.125),
        (lambda opt: ConstantLR(opt, factor=0.5, total_iters=3), 2, 0.5),
        (lambda opt: ConstantLR(opt, factor=0.5, total_iters=3), 4, 1.0),
        (lambda opt: LambdaLR(opt, lambda epoch: 0.5**epoch), 3, 0.125),
    ],
    ids=[
        "StepLR",
        "MultiStepLR",
        "CosineAnnealingLR",
        "LinearLR",
        "ExponentialLR",
        "ConstantLR",
        "ConstantLR-after",
        "LambdaLR",
    ],
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
    "ExponentialLR": lambda opt: [ExponentialLR(opt, gamma=0.8)],
    "ConstantLR": lambda opt: [ConstantLR(opt, factor=0.5, total_iters=7)],
    "LambdaLR": lambda opt: [LambdaLR(opt, [lambda epoch: 1 / (epoch + 1), Decay(0.7)])],
    "OneCycleLR": lambda opt: [OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=12)],
    "ChainedScheduler": lambda opt: [
        ChainedScheduler([ConstantLR(opt, factor=0.1, total_iters=6), ExponentialLR(opt, 0.9)])
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


# --- OneCycleLR ---------------------------------------------------------------------------------


def cos_anneal(start, end, fraction):
    return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))


def test_one_cycle_rises_then_anneals_by_cosine_and_cycles_momentum_the_other_way():
    optimizer = make_optimizer(lr=123.0, momentum=0.9)  # the cycle replaces the lr
    scheduler = OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
    group = optimizer.param_groups[0]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == (0.04, 1.0, 0.04 / 1e4)
    lrs, momentums = [], []
    for _ in range(10):
        lrs.append(group["lr"])
        momentums.append(group["momentum"])
        scheduler.step()
    # The rise ends at step pct_start * total_steps - 1 = 2, the fall at total_steps - 1 = 9.
    rise, fall = range(0, 3), range(3, 10)
    expected_lrs = [cos_anneal(0.04, 1.0, t / 2) for t in rise]
    expected_lrs += [cos_anneal(1.0, 4e-6, (t - 2) / 7) for t in fall]
    expected_momentums = [cos_anneal(0.95, 0.85, t / 2) for t in rise]
    expected_momentums += [cos_anneal(0.85, 0.95, (t - 2) / 7) for t in fall]
    assert lrs == pytest.approx(expected_lrs, rel=1e-12)
    assert momentums == pytest.approx(expected_momentums, rel=1e-12)
    # PyTorch 2.13, same schedule
    assert lrs[:4] == [0.040000000000000036, 0.52, 1.0, 0.9504846320134737]
    assert momentums[:4] == [0.95, 0.8999999999999999, 0.85, 0.854951556604879]


def test_one_cycle_three_phase_linear_cycles_adams_beta1_as_pytorch_does():
    optimizer = make_optimizer(lr=1e-3, optimizer=Adam)
    scheduler = OneCycleLR(
        optimizer,
        max_lr=0.01,
        epochs=2,
        steps_per_epoch=4,
        pct_start=0.25,
        anneal_strategy="linear",
        three_phase=True,
        div_factor=10.0,
        final_div_factor=100.0,
    )
    values = []
    for _ in range(8):
        group = optimizer.param_groups[0]
        values.append((group["lr"], group["betas"]))
        scheduler.step()
    # PyTorch 2.13: up to max_lr at step 1, back to initial_lr at step 2, linearly to min_lr.
    assert values == [
        (0.001, (0.95, 0.999)),
        (0.010000000000000002, (0.85, 0.999)),
        (0.0009999999999999992, (0.95, 0.999)),
        (0.000802, (0.95, 0.999)),
        (0.0006039999999999999, (0.95, 0.999)),
        (0.000406, (0.95, 0.999)),
        (0.00020799999999999996, (0.95, 0.999)),
        (1.0000000000000026e-05, (0.95, 0.999)),
    ]


def test_one_cycle_takes_per_group_values_and_leaves_momentum_alone_when_asked():
    optimizer = make_optimizer(lr=1.0, second_lr=1.0, optimizer=Adagrad)
    scheduler = OneCycleLR(optimizer, [1.0, 0.5], total_steps=4, cycle_momentum=False)
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.04, 0.02]
    assert scheduler.get_last_lr() == pytest.approx([0.04, 0.02], rel=1e-14)
    assert "momentum" not in optimizer.param_groups[0]


def test_one_cycle_refuses_to_step_past_total_steps():
    scheduler = OneCycleLR(make_optimizer(momentum=0.9), max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total"):
        scheduler.step()


# --- ReduceLROnPlateau ------------------------------------------------------------------------


def lrs_after_metrics(scheduler, metrics):
    """Every group's lr after each ``scheduler.step(metric)``."""
    values = []
    for metric in metrics:
        scheduler.step(metric)
        values.append([group["lr"] for group in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == values[-1]
    return values


def test_plateau_cuts_the_lr_after_more_than_patience_bad_epochs():
    optimizer = make_optimizer(lr=1.0, second_lr=0.3)
    scheduler = ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    assert scheduler.get_last_lr() == [1.0, 0.3]  # constructing it changes nothing
    # 1.0 sets the best; three epochs without improvement pass patience 2; 0.5 is a new best,
    # and 0.49999 improves on it by less than the relative threshold 1e-4, so it is bad.
    metrics = [1.0, 1.0, 1.0, 1.0, 0.5, 0.49999, 0.49999, 0.49999]
    assert lrs_after_metrics(scheduler, metrics) == [
        [1.0, 0.3],
        [1.0, 0.3],
        [1.0, 0.3],
        [0.5, 0.15],
        [0.5, 0.15],
        [0.5, 0.15],
        [0.5, 0.15],
        [0.25, 0.075],
    ]
    assert scheduler.best == 0.5 and scheduler.last_epoch == 8


def test_plateau_default_options_are_pytorchs():
    scheduler = ReduceLROnPlateau(make_optimizer())
    assert (scheduler.mode, scheduler.factor, scheduler.patience) == ("min", 0.1, 10)
    assert (scheduler.threshold, scheduler.threshold_mode) == (1e-4, "rel")
    assert (scheduler.cooldown, scheduler.min_lrs, scheduler.eps) == (0, [0], 1e-8)
    assert scheduler.best == math.inf


def test_plateau_cooldown_ignores_bad_epochs_and_min_lr_bounds_each_group():
    optimizer = make_optimizer(lr=1.0, second_lr=0.3)
    scheduler = ReduceLROnPlateau(optimizer, patience=0, factor=0.5, cooldown=2, min_lr=[0.2, 0.1])
    metrics = [1.0] + [2.0] * 7
    # PyTorch 2.13: a cut, two cooldown epochs, a cut, ... each group stopping at its min_lr
    assert lrs_after_metrics(scheduler, metrics) == [
        [1.0, 0.3],
        [0.5, 0.15],
        [0.5, 0.15],
        [0.5, 0.15],
        [0.25, 0.1],
        [0.25, 0.1],
        [0.25, 0.1],
        [0.2, 0.1],
    ]


def test_plateau_max_mode_with_an_absolute_threshold():
    optimizer = make_optimizer(lr=1.0)
    scheduler = ReduceLROnPlateau(
        optimizer, mode="max", threshold_mode="abs", threshold=0.1, patience=1, factor=0.5
    )
    # 1.05 is not 0.1 above the best 1.0 (bad); 1.2 is (best); two 1.2s are bad: a cut.
    values = lrs_after_metrics(scheduler, [1.0, 1.05, 1.2, 1.2, 1.2, 1.3])
    assert [lrs[0] for lrs in values] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


def test_plateau_skips_a_cut_smaller_than_eps():
    optimizer = make_optimizer(lr=1.0, second_lr=0.3)
    scheduler = ReduceLROnPlateau(optimizer, patience=0, factor=0.5, eps=0.2)
    assert lrs_after_metrics(scheduler, [1.0, 2.0, 2.0, 2.0]) == [
        [1.0, 0.3],
        [0.5, 0.3],  # 0.3 -> 0.15 is a cut of 0.15 < eps
        [0.25, 0.3],
        [0.25, 0.3],
    ]


def test_plateau_takes_a_tensor_metric():
    scheduler = ReduceLROnPlateau(make_optimizer(lr=1.0), patience=0)
    scheduler.step(minigrad.tensor(1.0))
    scheduler.step(minigrad.tensor(2.0))
    assert scheduler.get_last_lr() == [0.1]


def test_plateau_new_param_group_takes_the_default_min_lr_but_not_a_list():
    optimizer = make_optimizer(lr=1.0)
    scheduler = ReduceLROnPlateau(optimizer, patience=0, min_lr=0.5)
    optimizer.add_param_group({"params": [minigrad.zeros(2)], "lr": 0.6})
    lrs_after_metrics(scheduler, [1.0, 2.0])
    assert scheduler.get_last_lr() == [0.5, 0.5]

    listed = ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0, 0.0])
    optimizer.add_param_group({"params": [minigrad.zeros(2)]})
    with pytest.raises(RuntimeError, match=r"param groups in the `optimizer` \(3\) differs.*\(2\)"):
        lrs_after_metrics(listed, [1.0, 2.0])


def test_plateau_resumes_from_a_checkpoint_identically(tmp_path):
    metrics = [1.0, 0.9, 0.95, 0.97, 0.9, 0.8, 0.85, 0.86, 0.87, 0.88, 0.7, 0.75]

    def build():
        optimizer = make_optimizer(lr=0.1, second_lr=0.3)
        return ReduceLROnPlateau(optimizer, patience=1, factor=0.5, cooldown=1)

    uninterrupted = lrs_after_metrics(build(), metrics)
    scheduler = build()
    first = lrs_after_metrics(scheduler, metrics[:5])
    checkpoint = {
        "optimizer": scheduler.optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    minigrad.save(checkpoint, tmp_path / "checkpoint.npz")
    loaded = minigrad.load(tmp_path / "checkpoint.npz")
    resumed = build()
    resumed.optimizer.load_state_dict(loaded["optimizer"])
    resumed.load_state_dict(loaded["scheduler"])
    assert first + lrs_after_metrics(resumed, metrics[5:]) == uninterrupted
