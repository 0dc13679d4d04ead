"""Containers (Sequential, ModuleList, ModuleDict, ParameterList) and the structural layers
Identity and Flatten."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from minigrad.nn.module import Module, Parameter
from minigrad.ops.shape import flatten
from minigrad.tensor import Tensor


def _position(index: Any, length: int, owner: str) -> int:
    """An int index (negative counts from the end) as a position in range, else IndexError."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{owner} index {index} is out of range for length {length}")
    return index % length


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))(x)``.

    Children are named "0", "1", ... (or by the keys of an OrderedDict), which gives the
    state-dict keys "0.weight", "2.bias" that PyTorch uses."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(modules):
                self.add_module(str(position), module)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_position(index, len(items), "Sequential")][1]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[_position(index, len(self), "Sequential")]
        setattr(self, key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (named "0", "1", ...); no forward."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_position(index, len(modules), "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(_position(index, len(self), "ModuleList")), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """Modules held by string key, registered under their keys in insertion order (state-dict
    keys "key.weight", as PyTorch's); no forward. Built from a mapping or (key, module) pairs."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple]) -> None:
        """Add or replace entries from a mapping (in its order) or from (key, module) pairs."""
        if isinstance(modules, Mapping):
            for key, module in modules.items():
                self[key] = module
            return
        for position, pair in enumerate(modules):
            if not isinstance(pair, Iterable):
                raise TypeError(
                    f"ModuleDict update sequence element #{position} should be a (key, module) "
                    f"pair, got {type(pair).__name__}"
                )
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element #{position} has length {len(pair)}; "
                    "2 is required"
                )
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """A list of parameters registered as "0", "1", ... (the state-dict keys PyTorch uses); a
    Tensor that is not a Parameter is made one sharing its array, as in PyTorch. No forward."""

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    @staticmethod
    def _as_parameter(value: Any) -> Parameter:
        if isinstance(value, Parameter):
            return value
        if isinstance(value, Tensor):
            return Parameter(value)
        raise TypeError(f"ParameterList holds Parameters or Tensors, got {type(value).__name__}")

    def __getitem__(self, index: int | slice) -> Parameter | ParameterList:
        params = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(params[index])
        return params[_position(index, len(params), "ParameterList")]

    def __setitem__(self, index: int, value: Tensor) -> None:
        name = str(_position(index, len(self), "ParameterList"))
        self.register_parameter(name, self._as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def __iadd__(self, values: Iterable[Tensor]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Tensor) -> ParameterList:
        self.register_parameter(str(len(self)), self._as_parameter(value))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        """One line per parameter, as PyTorch writes them (with minigrad's dtype names)."""
        lines = []
        for position, param in enumerate(self):
            size = "x".join(str(length) for length in param.shape)
            device = "" if param.device == "cpu" else f" ({param.device})"
            lines.append(
                f"  ({position}): Parameter containing: "
                f"[minigrad.{param.dtype} of size {size}{device}]"
            )
        return "\n".join(lines)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merges dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
