"""Learning-rate schedules in PyTorch's chainable form: each step computes every group's next lr
from its current ``group["lr"]``, so schedulers on one optimizer compose and a hand-set lr is
carried on from.

PyTorch's convention: constructing a scheduler stores each group's "initial_lr" and sets the
lr of epoch 0; call ``scheduler.step()`` once after each epoch (or optimizer step). Two are not
chainable, as in PyTorch: OneCycleLR sets the lr (and momentum) from its own cycle, and
ReduceLROnPlateau cuts the lr when ``step(metric)`` sees it stop improving.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from minigrad.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define ``get_lr()``, the next lr of each group from its current
    ``group["lr"]``, and ``_get_closed_form_lr()``, the lr at `last_epoch` from `base_lrs` alone.

    `last_epoch` is the epoch the optimizer's lrs belong to (-1 for a new schedule: the
    constructor then steps to epoch 0). The schedule's state is the optimizer's lrs plus this
    object's attributes: resuming needs both ``optimizer.state_dict()`` and ``state_dict()``.
    """

    _is_initial = False  # True during the constructor's step only

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        for number, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param_groups[{number}] has no 'initial_lr', which resuming with "
                    f"last_epoch={last_epoch} needs; create the scheduler with last_epoch=-1 "
                    "and restore it with load_state_dict instead"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step to epoch last_epoch + 1 (SequentialLR repeats it)."""
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each group at `last_epoch`, computed from its lr at the epoch before; step()
        calls it after moving last_epoch on (the lrs now are get_last_lr())."""
        raise NotImplementedError

    def _get_closed_form_lr(self) -> list[float]:
        """The lr of each group at `last_epoch` from `base_lrs` (get_lr() where none exists)."""
        return self.get_lr()

    def _current_lrs(self) -> list[float]:
        """Each group's lr now: what get_lr() goes on from."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """Move to the next epoch and set each group's lr from its current one; with `epoch`,
        jump to that epoch and set the lrs by the closed form instead (as PyTorch does)."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            lrs = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def get_last_lr(self) -> list[float]:
        """The lrs the last `step()` (or the constructor) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (which has its own state_dict)."""
        return {name: value for name, value in self.__dict__.items() if name != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a saved schedule; the lrs themselves come from the optimizer's state_dict."""
        self.__dict__.update(state_dict)


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """`value` for each of the optimizer's groups: a list or tuple as it is (one per group), a
    single value repeated."""
    groups = len(optimizer.param_groups)
    if not isinstance(value, (list, tuple)):
        return [value] * groups
    if len(value) != groups:
        raise ValueError(
            f"{name} must have the same length as optimizer.param_groups. "
            f"{name} has {len(value)} values, param_groups has {groups}."
        )
    return list(value)


class StepLR(LRScheduler):
    """lr_t = lr_{t-1} * gamma when t is a multiple of step_size, else lr_{t-1}; on its own
    (closed form) lr_t = base_lr * gamma ** (t // step_size)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class MultiStepLR(LRScheduler):
    """lr_t = lr_{t-1} * gamma ** (times t appears in milestones); on its own (closed form)
    lr_t = base_lr * gamma ** (count of milestones <= t). `milestones` is a Counter."""

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma**passed for base_lr in self.base_lrs]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)  # minigrad.load gives back a plain dict


class ExponentialLR(LRScheduler):
    """lr_t = lr_{t-1} * gamma; on its own (closed form) lr_t = base_lr * gamma ** t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr_t = base_lr * lr_lambda(t), with one function for all groups or a list of one per
    group. Not chainable: it ignores the current lr, as in PyTorch.

    Its state dict holds, for each function, None for a plain function or lambda (which cannot
    be saved) and a copy of ``__dict__`` for a callable object, which loading restores.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer)
        groups = len(optimizer.param_groups)
        if not isinstance(lr_lambda, (list, tuple)):
            self.lr_lambdas = [lr_lambda] * groups
        elif len(lr_lambda) == groups:
            self.lr_lambdas = list(lr_lambda)
        else:
            raise ValueError(f"Expected {groups} lr_lambdas, but got {len(lr_lambda)}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base_lr * lr_lambda(self.last_epoch)
            for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs)
        ]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(lr_lambda, types.FunctionType) else dict(lr_lambda.__dict__)
            for lr_lambda in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas")
        super().load_state_dict(state)
        for lr_lambda, attributes in zip(self.lr_lambdas, saved_lambdas):
            if attributes is not None:
                lr_lambda.__dict__.update(attributes)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over T_max epochs (then back up, and so on),
    as a recursion:

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))

    with T = T_max, or where t - 1 = T (mod 2 T), which would divide 0 by 0,
    lr_t = lr_{t-1} + (base_lr - eta_min) * (1 - cos(pi / T)) / 2. On its own it follows the
    closed form lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi t / T)) / 2.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if T_max <= 0:
            raise ValueError(f"T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            rise = 1 - math.cos(math.pi / self.T_max)
            return [
                lr + (base_lr - self.eta_min) * rise / 2
                for lr, base_lr in zip(self._current_lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / (
            1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)
        )
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr_0 = lr * factor, held until epoch total_iters, where lr_t = lr_{t-1} / factor undoes
    it; on its own (closed form) lr_t = base_lr * factor for t < total_iters, else base_lr."""

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0.0 <= factor <= 1.0:
            raise ValueError(
                f"Constant multiplicative factor expected to be between 0 and 1, got {factor}"
            )
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base_lr * factor for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """A linear warm-up: the factor f_t = start_factor + (end_factor - start_factor) *
    min(t, total_iters) / total_iters, applied as lr_0 = lr * start_factor and then
    lr_t = lr_{t-1} * f_t / f_{t-1} (lr_t = lr_{t-1} after total_iters); on its own (closed
    form) lr_t = base_lr * f_t."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"start_factor must lie in (0, 1], got {start_factor}")
        if not 0.0 <= end_factor <= 1.0:
            raise ValueError(f"end_factor must lie in [0, 1], got {end_factor}")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        slope = self.end_factor - self.start_factor
        # f_t / f_{t-1}, with f scaled by total_iters
        ratio = 1.0 + slope / (self.total_iters * self.start_factor + (self.last_epoch - 1) * slope)
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch)
        slope = self.end_factor - self.start_factor
        factor = self.start_factor + slope * progress / self.total_iters
        return [base_lr * factor for base_lr in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped after every batch, for total_steps steps (or
    epochs * steps_per_epoch). Not chainable: each lr comes from the cycle alone.

    The lr anneals from initial_lr = max_lr / div_factor at step 0 up to max_lr at step
    pct_start * total_steps - 1, then down to min_lr = initial_lr / final_div_factor at step
    total_steps - 1; with three_phase, back to initial_lr at step 2 * pct_start * total_steps - 2
    first, then down to min_lr. A phase from a to b over steps s0..s1 gives at step t, with
    x = (t - s0) / (s1 - s0),

        cos: b + (a - b) * (1 + cos(pi x)) / 2,    linear: a + (b - a) * x.

    With cycle_momentum, the momentum (or Adam's beta1) runs the other way, between
    max_momentum and base_momentum (and stays at max_momentum in a third phase). The group
    values it follows ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum") are
    stored in each param group, as in PyTorch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not isinstance(pct_start, float) or not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._schedule_phases = _one_cycle_phases(self.total_steps, pct_start, three_phase)
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    "optimizer must support momentum or beta1 with `cycle_momentum` option "
                    f"enabled ({type(optimizer).__name__} has neither)"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, group_max, group_base in zip(
                    optimizer.param_groups, max_momentums, base_momentums
                ):
                    self._set_momentum(group, group_max)
                    group["max_momentum"] = group_max
                    group["base_momentum"] = group_base
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"Tried to step {step} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        start_step = 0.0
        for number, phase in enumerate(self._schedule_phases):
            if step <= phase["end_step"] or number == len(self._schedule_phases) - 1:
                break
            start_step = phase["end_step"]
        fraction = (step - start_step) / (phase["end_step"] - start_step)
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], fraction))
            if self.cycle_momentum:
                start, end = group[phase["start_momentum"]], group[phase["end_momentum"]]
                self._set_momentum(group, self._anneal(start, end, fraction))
        return lrs


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    """OneCycleLR's length: total_steps, or else epochs * steps_per_epoch."""
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        return total_steps
    if epochs is None or steps_per_epoch is None:
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
    if not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"Expected positive integer epochs, but got {epochs}")
    if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
        raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
    return epochs * steps_per_epoch


def _one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list[dict]:
    """OneCycleLR's phases in PyTorch's layout: the step each ends at, and the names of the
    group values its lr and its momentum go from and to."""

    def phase(end_step: float, lrs: tuple[str, str], momentums: tuple[str, str]) -> dict:
        return {
            "end_step": end_step,
            "start_lr": lrs[0],
            "end_lr": lrs[1],
            "start_momentum": momentums[0],
            "end_momentum": momentums[1],
        }

    warm_up = phase(
        float(pct_start * total_steps) - 1,
        ("initial_lr", "max_lr"),
        ("max_momentum", "base_momentum"),
    )
    if not three_phase:
        return [
            warm_up,
            phase(total_steps - 1, ("max_lr", "min_lr"), ("base_momentum", "max_momentum")),
        ]
    return [
        warm_up,
        phase(
            float(2 * pct_start * total_steps) - 2,
            ("max_lr", "initial_lr"),
            ("base_momentum", "max_momentum"),
        ),
        phase(total_steps - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")),
    ]


class _SchedulerOfSchedulers(LRScheduler):
    """A scheduler that steps others, held in `schedulers`: its state dict holds theirs, as a
    list under "schedulers"."""

    schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["schedulers"] = [scheduler.state_dict() for scheduler in self.schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        for scheduler, saved in zip(self.schedulers, state.pop("schedulers")):
            scheduler.load_state_dict(saved)
        super().load_state_dict(state)


class SequentialLR(_SchedulerOfSchedulers):
    """Run `schedulers` one after another: schedulers[i] owns the epochs from milestones[i-1]
    on, counted from 0 again at its milestone (e.g. LinearLR warm-up, then CosineAnnealingLR).

    Construction resets every group's lr to its initial_lr, undoes the constructors' steps of
    the schedulers and redoes that of the one owning epoch 0; at a milestone, the next scheduler
    starts from its closed form at epoch 0, and steps on from there.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR needs at least one scheduler")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} "
                f"milestones, got {len(milestones)}"
            )
        if list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must increase, got {list(milestones)}")
        for number, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{number}] belongs to another optimizer")
        self.optimizer = optimizer
        self.schedulers = list(schedulers)
        self.milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self.schedulers:
            _undo_initial_step(scheduler)
        starting = self.schedulers[bisect_right(self.milestones, 0)]
        starting._initial_step()
        self._last_lr = starting.get_last_lr()

    def step(self) -> None:
        """Move to the next epoch: a scheduler at its milestone starts from its epoch 0."""
        self.last_epoch += 1
        index = bisect_right(self.milestones, self.last_epoch)
        scheduler = self.schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _undo_initial_step(scheduler: LRScheduler) -> None:
    """Step `scheduler` (each leaf of a nested SequentialLR) back to before its constructor's
    step, for SequentialLR to redo the first one on the reset lrs."""
    if isinstance(scheduler, SequentialLR):
        for inner in scheduler.schedulers:
            _undo_initial_step(inner)
    else:
        scheduler.last_epoch -= 1


class ChainedScheduler(_SchedulerOfSchedulers):
    """Step every one of `schedulers` (chainable ones, on one optimizer) in turn at each step,
    so their changes to the lr compose, e.g. ConstantLR's warm-up times ExponentialLR's decay.
    Constructing it steps nothing: each scheduler's constructor set epoch 0 already."""

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError(
                "ChainedScheduler expects at least one scheduler to be chained, but got no "
                "scheduler."
            )
        if optimizer is None:
            optimizer = schedulers[0].optimizer
        for number, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(
                    f"ChainedScheduler at index {number} should have `optimizer` as its "
                    f"attribute ({type(scheduler).__name__} has none)."
                )
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    "ChainedScheduler does not support `ReduceLROnPlateau` scheduler as it "
                    "requires additional kwargs to be specified when calling `step`, but got "
                    f"one at index {number} in the given schedulers sequence."
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    "ChainedScheduler expects all schedulers to belong to the same optimizer, "
                    f"but got scheduler {type(scheduler).__name__} at index {number} with "
                    f"another {type(scheduler.optimizer).__name__}."
                )
        self.optimizer = optimizer
        self.schedulers = list(schedulers)
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        """Step each scheduler, in order."""
        for scheduler in self.schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


class ReduceLROnPlateau(LRScheduler):
    """Cut each group's lr to max(lr * factor, min_lr) when ``step(metric)`` has seen more
    than `patience` epochs in a row without improvement (a cut smaller than eps is skipped),
    then ignore `cooldown` epochs.

    A metric improves on the best so far when, in mode "min", it is below best * (1 -
    threshold) ("rel") or best - threshold ("abs"); in mode "max", above best * (1 +
    threshold) or best + threshold. Not chainable, and constructing it leaves the lrs alone.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        _check_optimizer(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown! (expected 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"threshold mode {threshold_mode} is unknown! (expected 'rel' or 'abs')"
            )
        self.factor = factor
        self.optimizer = optimizer
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics: Any, epoch: int | None = None) -> None:
        """Take this epoch's metric (a number or a one-element Tensor) and cut the lrs if it
        is time to."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _is_better(self, current: float, best: float) -> bool:
        if self.threshold_mode == "rel":
            scale = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            bound = best * scale
        else:
            bound = best - self.threshold if self.mode == "min" else best + self.threshold
        return current < bound if self.mode == "min" else current > bound

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    "usually due to a new param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length of the `optimizer` param "
                    "groups."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
