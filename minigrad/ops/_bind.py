"""Binds the functional ops to Tensor as methods and Python operators."""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.ops import elementwise, linalg, reduce, shape
from minigrad.tensor import Tensor


def _reflected(fn):
    def method(self, other):
        return fn(other, self)

    return method


def _comparison(name: str):
    def method(self, other: Any):
        other_data = other.data if isinstance(other, Tensor) else other
        return Tensor(backend.ensure_array(getattr(self.data, name)(other_data)))

    method.__name__ = name
    return method


def bind_tensor_methods(cls: type) -> None:
    operators = {
        "__add__": elementwise.add,
        "__radd__": _reflected(elementwise.add),
        "__sub__": elementwise.sub,
        "__rsub__": _reflected(elementwise.sub),
        "__mul__": elementwise.mul,
        "__rmul__": _reflected(elementwise.mul),
        "__truediv__": elementwise.div,
        "__rtruediv__": _reflected(elementwise.div),
        "__pow__": elementwise.pow,
        "__rpow__": _reflected(elementwise.pow),
        "__matmul__": linalg.matmul,
        "__rmatmul__": _reflected(linalg.matmul),
        "__neg__": elementwise.neg,
        "__getitem__": shape.getitem,
    }
    for name in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        operators[name] = _comparison(name)
    methods = {
        "add": elementwise.add,
        "sub": elementwise.sub,
        "mul": elementwise.mul,
        "div": elementwise.div,
        "pow": elementwise.pow,
        "neg": elementwise.neg,
        "exp": elementwise.exp,
        "log": elementwise.log,
        "sqrt": elementwise.sqrt,
        "abs": elementwise.abs,
        "tanh": elementwise.tanh,
        "sigmoid": elementwise.sigmoid,
        "relu": elementwise.relu,
        "clamp": elementwise.clamp,
        "maximum": elementwise.maximum,
        "minimum": elementwise.minimum,
        "matmul": linalg.matmul,
        "sum": reduce.sum,
        "mean": reduce.mean,
        "max": reduce.max,
        "min": reduce.min,
        "var": reduce.var,
        "argmax": reduce.argmax,
        "softmax": reduce.softmax,
        "log_softmax": reduce.log_softmax,
        "reshape": shape.reshape,
        "view": shape.reshape,
        "flatten": shape.flatten,
        "permute": shape.permute,
        "transpose": shape.transpose,
        "unsqueeze": shape.unsqueeze,
        "squeeze": shape.squeeze,
        "expand": shape.expand,
    }
    for name, fn in {**operators, **methods, **elementwise.IN_PLACE_METHODS}.items():
        setattr(cls, name, fn)
    cls.T = property(shape.T)
