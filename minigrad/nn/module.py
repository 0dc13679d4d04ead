"""Parameter and Module: the tree of layers, its parameters and buffers, and its state dict.

Semantics follow torch.nn.Module: attributes that are Parameters or Modules register
themselves on assignment (in order), buffers via register_buffer, and state_dict keys are
dotted paths ("0.weight", "1.running_mean") so checkpoints map one-to-one onto PyTorch's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from minigrad import backend
from minigrad.autograd.engine import no_grad
from minigrad.tensor import Tensor, to_arguments, zero_grads


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module: it requires grad and registers itself.

    ``Parameter(t)`` shares t's array (no copy), as in PyTorch."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = backend.asarray([], dtype=backend.float32, device="cpu")
        elif isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What load_state_dict returns: the keys the model wanted but did not get, and the extras."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class HookHandle:
    """What register_forward_hook returns: `remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = HookHandle._next_id
        HookHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


class Module:
    """Base class of every layer and model: subclasses set attributes in __init__ and define
    forward(); calling the module runs forward."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the "forward" method')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in tuple(self._forward_hooks.values()):
                replaced = hook(self, args, output)
                if replaced is not None:
                    output = replaced
        return output

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> HookHandle:
        """Call `hook(module, inputs, output)` after every forward (to record activations, say);
        a hook that returns a value replaces the output. `handle.remove()` takes it away."""
        handle = HookHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # --- registration -------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) and "_modules" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                "is called; call super().__init__() first in your __init__"
            )
        registered = self.__dict__.get("_parameters", ())
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in registered:
            self._check_kind(name, value, Parameter, "parameter")
            self._parameters[name] = value
        elif name in self.__dict__.get("_modules", ()):
            self._check_kind(name, value, Module, "module")
            self._modules[name] = value
        elif name in self.__dict__.get("_buffers", ()):
            self._check_kind(name, value, Tensor, "buffer")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _check_kind(name: str, value: Any, kind: type, what: str) -> None:
        if value is not None and not isinstance(value, kind):
            raise TypeError(
                f"cannot assign {type(value).__name__} to {what} '{name}' "
                f"({kind.__name__} or None expected)"
            )

    def _forget(self, name: str, keep: dict) -> None:
        """Remove `name` from the instance dict and every registry but `keep`, so that
        re-assigning a registered name keeps its place (and its state-dict key order)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._modules, self._buffers):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__[registry]
            if name in entries:
                del entries[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_new_name(self, name: Any, registry: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"attribute name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"attribute name can't be empty or contain '.', got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, e.g. a disabled bias) under `name`."""
        self._check_new_name(name, self._parameters)
        self._check_kind(name, param, Parameter, "parameter")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a non-learnable tensor (running statistics, counters) that moves with to() and,
        when persistent, is saved in the state dict."""
        self._check_new_name(name, self._buffers)
        self._check_kind(name, tensor, Tensor, "buffer")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name` (the way containers register numbered children)."""
        self._check_new_name(name, self._modules)
        self._check_kind(name, module, Module, "module")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    # --- traversal ----------------------------------------------------------------------

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple]:
        """Entries of one registry over the tree, each shared tensor once (first name wins)."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in registration order; a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every child (recursively) and then on self, e.g. for custom init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes, devices, gradients ------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) on the tree."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode should be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode on the tree (same as train(False))."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, non_blocking: bool = False, **kwargs: Any) -> Module:
        """Move every parameter and buffer to a device ("cpu", "cuda", "cuda:N"), and/or
        convert the floating ones to a dtype, in place: the Parameter objects stay the same, so
        an optimizer built before still updates them. Takes torch's forms: ``to(device)``,
        ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, keywords, non_blocking (accepted).
        Returns self."""
        device, dtype = to_arguments("Module.to", args, kwargs)
        if device is not None:
            device = backend.normalize_device(device)
            self._convert(lambda array: backend.to_device(array, device), floating_only=False)
        if dtype is not None:
            self._convert(lambda array: array.astype(dtype, copy=False), floating_only=True)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Module:
        return self.to(f"cuda:{index}")

    def float(self) -> Module:
        return self.to(backend.float32)

    def double(self) -> Module:
        return self.to(backend.float64)

    def _convert(self, convert: Callable[[Any], Any], floating_only: bool) -> None:
        for tensor in [*self.parameters(), *self.buffers()]:
            if floating_only and not backend.is_floating(tensor.dtype):
                continue
            tensor.data = convert(tensor.data)
            if tensor.grad is not None:
                tensor.grad.data = convert(tensor.grad.data)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter: to None by default, as PyTorch 2 does, or
        to zeros in place (each .grad owns its array, so no other gradient changes)."""
        zero_grads(self.parameters(), set_to_none)

    # --- state dict ---------------------------------------------------------------------

    def _state_tensors(self, prefix: str = "") -> OrderedDict[str, Tensor]:
        """The live tensors behind state_dict(): own parameters, persistent buffers, children."""
        tensors: OrderedDict[str, Tensor] = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                tensors[prefix + name] = param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                tensors[prefix + name] = buffer
        for name, module in self._modules.items():
            if module is not None:
                tensors.update(module._state_tensors(f"{prefix}{name}."))
        return tensors

    def state_dict(self) -> OrderedDict[str, Any]:
        """Name -> host NumPy copy of every parameter and persistent buffer, PyTorch's keys."""
        return OrderedDict(
            (name, backend.to_numpy(tensor.data)) for name, tensor in self._state_tensors().items()
        )

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values (NumPy arrays or Tensors) into the existing arrays, on their device and
        dtype. Shape mismatches always raise; missing/unexpected keys raise when strict.
        Nothing is copied unless every check passes."""
        targets = self._state_tensors()
        missing = [name for name in targets if name not in state_dict]
        unexpected = [name for name in state_dict if name not in targets]
        mismatched = []
        for name, target in targets.items():
            if name in state_dict:
                shape = _shape_of(state_dict[name])
                if shape != target.shape:
                    mismatched.append(f"{name}: checkpoint {shape} vs model {target.shape}")
        if mismatched or (strict and (missing or unexpected)):
            raise RuntimeError(self._load_error(missing, unexpected, mismatched, strict))
        with no_grad():
            for name, target in targets.items():
                if name in state_dict:
                    target.copy_(state_dict[name])
        return IncompatibleKeys(missing, unexpected)

    def _load_error(self, missing: list, unexpected: list, mismatched: list, strict: bool) -> str:
        lines = [f"Error(s) in loading state_dict for {type(self).__name__}:"]
        if strict and missing:
            lines.append("  missing keys: " + ", ".join(repr(name) for name in missing))
        if strict and unexpected:
            lines.append("  unexpected keys: " + ", ".join(repr(name) for name in unexpected))
        if mismatched:
            lines.append("  shape mismatches:")
            lines.extend("    " + line for line in mismatched)
        return "\n".join(lines)

    # --- repr ---------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr, e.g. "in_features=4, ..."."""
        return ""

    def __repr__(self) -> str:
        extra_lines = [line for line in self.extra_repr().split("\n") if line]
        child_lines = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        body = "\n  " + "\n  ".join(lines) + "\n" if lines else ""
        return f"{type(self).__name__}({body})"


def _shape_of(value: Any) -> tuple:
    shape = getattr(value, "shape", None)
    if shape is None:
        shape = backend.asarray(value, device="cpu").shape
    return tuple(shape)
