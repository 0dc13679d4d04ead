"""Learning-rate schedules in PyTorch's chainable form: each step computes every group's next lr
from its current ``group["lr"]``, so schedulers on one optimizer compose and a hand-set lr is
carried on from.

PyTorch's convention: constructing a scheduler stores each group's "initial_lr" and sets the
lr of epoch 0; call ``scheduler.step()`` once after each epoch (or optimizer step).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
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
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
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


class SequentialLR(LRScheduler):
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

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["schedulers"] = [scheduler.state_dict() for scheduler in self.schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        for scheduler, saved in zip(self.schedulers, state.pop("schedulers")):
            scheduler.load_state_dict(saved)
        super().load_state_dict(state)


def _undo_initial_step(scheduler: LRScheduler) -> None:
    """Step `scheduler` (each leaf of a nested SequentialLR) back to before its constructor's
    step, for SequentialLR to redo the first one on the reset lrs."""
    if isinstance(scheduler, SequentialLR):
        for inner in scheduler.schedulers:
            _undo_initial_step(inner)
    else:
        scheduler.last_epoch -= 1
