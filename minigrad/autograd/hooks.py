"""Tensor hooks: what `register_hook` and `retain_grad` attach to a tensor, run by the engine.

A tensor without hooks holds None in its `_hooks` slot, so the engine pays one test for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.tensor import Tensor


class TensorHooks:
    """The hooks of one tensor, in registration order, and whether it retains its gradient.

    ``run(tensor, grad)`` passes the gradient array through every hook (each gets it as a
    Tensor and may return a replacement of the same shape), then, for a non-leaf that
    retains its gradient, adds the result to ``tensor.grad`` (a copy the first time), as
    PyTorch runs the retain_grad hook after the others."""

    def __init__(self) -> None:
        self.hooks: dict[int, Callable] = {}
        self.retains_grad = False
        self.next_key = 0

    def add(self, hook: Callable) -> RemovableHandle:
        key = self.next_key
        self.next_key += 1
        self.hooks[key] = hook
        return RemovableHandle(self.hooks, key)

    def run(self, tensor: Tensor, grad: Any) -> Any:
        for hook in list(self.hooks.values()):
            replacement = hook(Tensor(grad))
            if replacement is not None:
                grad = _checked_replacement(hook, tensor, replacement)
        if self.retains_grad and tensor._ctx is not None:
            retained = tensor._grad
            tensor._grad = Tensor(grad.copy() if retained is None else retained.data + grad)
        return grad


class RemovableHandle:
    """What register_hook returns: ``handle.remove()`` unregisters the hook (again: no-op)."""

    def __init__(self, hooks: dict, key: int) -> None:
        self.hooks = hooks
        self.key = key

    def remove(self) -> None:
        self.hooks.pop(self.key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def _checked_replacement(hook: Callable, tensor: Tensor, replacement: Any) -> Any:
    """The array of a hook's returned Tensor, checked against the tensor it is hooked on."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(replacement, Tensor):
        raise TypeError(
            f"hook {name!r} returned {type(replacement).__name__}; a tensor hook returns a "
            "Tensor (the new gradient) or None (keep it)"
        )
    if replacement.shape != tensor.shape:
        raise RuntimeError(
            f"hook {name!r} has changed the size of the gradient: expected shape "
            f"{tensor.shape}, got {replacement.shape}"
        )
    if replacement.device != tensor.device:
        raise RuntimeError(
            f"hook {name!r} returned a gradient on {replacement.device} but the tensor is on "
            f"{tensor.device}"
        )
    return replacement.data.astype(tensor.dtype, copy=False)
