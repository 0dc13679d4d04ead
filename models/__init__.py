"""The model registry: every module in models/ registers its builders here, and train.py picks
one by name (`--model NAME`), so a new model file needs no change to train.py.

A builder takes the input shape (C, H, W), the number of classes and `bn` (batch norm on or off)
and returns an nn.Module that maps (N, C, H, W) images to (N, classes) logits. A builder may take
more keyword options (`init`, `dropout`: train.py's --init and --hidden-dropout); build() passes
an option only when it is set, and names the model when it takes no such option.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: how to build it and the training defaults it was tuned with."""

    name: str
    builder: Callable[..., Any]
    help: str
    defaults: dict = field(default_factory=dict)


REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, help: str, **defaults: Any) -> Callable:
    """Decorator: `@register("mynet", "what it is", lr=0.1)` makes `--model mynet` work."""

    def decorate(builder: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        REGISTRY[name] = ModelSpec(name, builder, help, defaults)
        return builder

    return decorate


def _discover() -> None:
    """Import every module of this package so that their @register calls run."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def build(name: str, input_shape: tuple, num_classes: int, bn: bool, **options: Any) -> Any:
    """The registered model `name`; `options` set to None are left at the builder's own."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(sorted(REGISTRY))}")
    builder = REGISTRY[name].builder
    options = {option: value for option, value in options.items() if value is not None}
    accepted = inspect.signature(builder).parameters
    for option in options:
        if option not in accepted:
            raise ValueError(f"model {name!r} takes no {option!r} option")
    return builder(input_shape=input_shape, num_classes=num_classes, bn=bn, **options)


_discover()
