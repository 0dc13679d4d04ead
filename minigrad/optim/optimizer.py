"""The Optimizer base class: parameter groups, per-parameter state, zero_grad and state dicts.

Subclasses write ``_update(param, grad, state, group)``, which changes ``param.data`` in place
with array ops, and ``_init_state(data, state, group)``, which fills a parameter's empty state
before its first update; ``step()`` calls them for every parameter that has a grad. Updates put
their intermediate results in ``_scratch(data)`` rather than in new arrays. Helpers the
subclasses share sit at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from minigrad import backend
from minigrad.autograd.engine import enable_grad
from minigrad.tensor import Tensor, increment_version, zero_grads


class Optimizer:
    """Holds ``param_groups`` (dicts with "params" and the hyper-parameters), ``defaults`` and
    ``state`` (a dict per parameter, keyed by the parameter Tensor), as ``torch.optim`` does.

    `params` is an iterable of Tensors, or of dicts ``{"params": [...], "lr": ...}`` whose
    options override `defaults` for that group.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._check_options(self.defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._scratch_buffers: dict[tuple, Any] = {}
        if isinstance(params, (Tensor, set)):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts (in a fixed order), "
                f"got {type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError for an invalid hyper-parameter (each subclass checks its own)."""

    def _init_state(self, data: Any, state: dict[str, Any], group: dict) -> None:
        """Fill the empty `state` of a parameter whose array is `data` (before its first update)."""

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict) -> None:
        """Change ``param.data`` in place from `grad` (an array this method must not modify)."""
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with options that default to ``self.defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set) or params is None:
            raise TypeError(
                "a parameter group's 'params' must be a Tensor or an ordered iterable of Tensors, "
                f"got {type(params).__name__}"
            )
        group["params"] = list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one computed by an op)")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_options(group)
        known = {id(param) for existing in self.param_groups for param in existing["params"]}
        new = [id(param) for param in group["params"]]
        if len(set(new)) != len(new) or known.intersection(new):
            raise ValueError("some parameters appear more than once in the optimizer's groups")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None``, or zeros written in place (each .grad owns
        its array, so no other gradient changes)."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter whose grad is not None; returns closure() when given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        state_of = self.state
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                state = state_of.get(param)
                if state is None:
                    state = state_of[param] = {}
                data = param.data
                if type(data) is backend.HostArray:
                    if not state:
                        self._init_state(data, state, group)
                    self._update(param, grad.data, state, group)
                else:
                    with backend.on_device_of(data):  # its state is made and kept there
                        if not state:
                            self._init_state(data, state, group)
                        self._update(param, grad.data, state, group)
                increment_version(param)
        return loss

    def _scratch(self, like: Any) -> Any:
        """An array of like's shape, dtype and device for the intermediate results of one
        update, overwritten by the next: a view of one buffer per dtype and device, as large
        as the largest parameter, so that a step allocates nothing. (A new array per parameter
        and step costs page faults on every step: glibc gives freed blocks of this size back
        to the OS and maps fresh pages for the next. The paper's net stepped 40% slower so.)"""
        key = (backend.device_of(like), like.dtype)
        buffer = self._scratch_buffers.get(key)
        if buffer is None or buffer.size < like.size:
            buffer = backend.array_module(like).empty(like.size, dtype=like.dtype)
            self._scratch_buffers[key] = buffer
        return buffer[: like.size].reshape(like.shape)

    # --- state dicts ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout, with parameters replaced by their index over all groups:

        ``{"state": {index: {name: value}}, "param_groups": [{option: value, "params": [index]}]}``.
        Arrays in the state are host NumPy copies.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            saved = {name: value for name, value in group.items() if name != "params"}
            saved["params"] = [index_of.setdefault(id(p), len(index_of)) for p in group["params"]]
            groups.append(saved)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                param_state = self.state.get(param)
                if param_state:
                    state[index_of[id(param)]] = {
                        name: backend.to_numpy(value) if backend.is_array(value) else value
                        for name, value in param_state.items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict` into this optimizer's parameters.

        The groups must match in number and size; floating state arrays are copied onto each
        parameter's device in its dtype.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, but the optimizer "
                f"has {len(self.param_groups)}"
            )
        param_of: dict[int, Tensor] = {}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {number}: loaded state dict has {len(saved['params'])} "
                    f"parameters, but the optimizer's group has {len(group['params'])}"
                )
            param_of.update(zip((int(index) for index in saved["params"]), group["params"]))
        state: dict[Tensor, dict[str, Any]] = {}
        for index, saved_state in state_dict["state"].items():
            param = param_of.get(int(index))
            if param is None:
                raise ValueError(f"loaded state dict has state for unknown parameter {index}")
            state[param] = {
                name: _state_value_for(param, value) for name, value in saved_state.items()
            }
        for group, saved in zip(self.param_groups, saved_groups):
            group.update({name: value for name, value in saved.items() if name != "params"})
        self.state = state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(
                f"    {name}: {value}" for name, value in sorted(group.items()) if name != "params"
            )
        lines.append(")")
        return "\n".join(lines)


def _state_value_for(param: Tensor, value: Any) -> Any:
    """A saved state value made ready for `param`: floating arrays in its dtype on its device
    (always a copy, as the optimizer updates them in place), 0-d counters as Python numbers."""
    if not hasattr(value, "dtype"):
        return value
    floating = backend.is_floating(value.dtype)
    if value.ndim == 0 and not floating:
        return value.item()
    array = backend.asarray(value, dtype=param.dtype if floating else None, device=param.device)
    return array.copy() if array is value else array


def check_non_negative(options: dict[str, Any], *names: str) -> None:
    """Raise PyTorch's ValueError for the first of `names` whose option is negative."""
    labels = {"lr": "learning rate", "eps": "epsilon value"}
    for name in names:
        if options[name] < 0.0:
            label = labels.get(name, f"{name} value")
            raise ValueError(f"Invalid {label}: {options[name]} (must be >= 0)")


def descent_grad(grad: Any, data: Any, weight_decay: float, maximize: bool, out: Any = None) -> Any:
    """g = grad (or -grad when maximizing) + weight_decay * p, the gradient PyTorch's
    optimizers step against: a new array (or `out`) when either applies, else `grad` itself,
    which must not be written (so ``g is not grad`` tells whether g may be)."""
    xp = backend.array_module(data)
    if weight_decay != 0:
        decayed = xp.multiply(data, weight_decay, out=out)
        if maximize:
            decayed -= grad
        else:
            decayed += grad
        return decayed
    return xp.negative(grad, out=out) if maximize else grad
