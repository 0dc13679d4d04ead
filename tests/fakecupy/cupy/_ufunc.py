"""The stand-in's ufuncs (cupy.add & co: out=, dtype= and casting= only; operands device arrays
or scalars, never host arrays or lists), cupy.matmul, scatter operations, and ndarray's
operators, which CuPy runs through these ufuncs."""

from __future__ import annotations

import numpy
from cupy_names import CLASSES, MODULES

from cupy import _devices, _transfers
from cupy._array import (
    SCALARS,
    arrays_in,
    check_arguments,
    device_index,
    host_array_error,
    ndarray,
    owner,
    run,
    value_for_kernel,
    wrap_around,
)


class ufunc:
    """cupy.ufunc, run by NumPy's ufunc of the same name."""

    def __init__(self, name: str, numpy_ufunc: numpy.ufunc):
        self.name = f"cupy_{name}"
        self.__name__ = name
        self._numpy = numpy_ufunc
        self.nin, self.nout, self.nargs = numpy_ufunc.nin, numpy_ufunc.nout, numpy_ufunc.nargs

    @property
    def types(self) -> list[str]:
        return list(self._numpy.types)

    def __repr__(self) -> str:
        return f"<ufunc '{self.name}'>"

    def _check_operands(self, values: tuple, api: str) -> None:
        for value in values:
            if isinstance(value, numpy.ndarray):
                raise host_array_error(value, api)
            if not isinstance(value, (ndarray, *SCALARS)):
                raise TypeError(f"Unsupported type {type(value)}")

    def __call__(self, *args, **kwargs):
        api = f"cupy.{self.__name__}"
        out = kwargs.pop("out", None)
        options = {key: kwargs.pop(key) for key in ("dtype", "casting") if key in kwargs}
        if kwargs:
            raise TypeError(f"Wrong arguments {kwargs}")
        if not self.nin <= len(args) <= self.nargs:
            raise TypeError(
                f"Wrong number of arguments for {self.name!r}. It must be either {self.nin} or "
                f"{self.nargs} (with outputs), but given {len(args)}."
            )
        inputs, outputs = args[: self.nin], args[self.nin :]
        if out is not None:
            if outputs:
                raise ValueError("Cannot specify 'out' as both a positional and keyword argument")
            outputs = out if isinstance(out, tuple) else (out,)
        self._check_operands(inputs, api)
        if not all(isinstance(output, ndarray) for output in outputs):
            raise TypeError("Output arguments must be cupy.ndarray")
        if outputs:
            options["out"] = tuple(outputs) if self.nout > 1 else outputs[0]
        return run(api, self._numpy, inputs, options)

    def _method(self, method: str, operands: int, args: tuple, kwargs: dict):
        api = f"cupy.{self.__name__}.{method}"
        check_arguments(api, CLASSES["ufunc"][method], args, kwargs)
        self._check_operands(args[:operands], api)
        return run(api, getattr(self._numpy, method), args, kwargs)

    def reduce(self, *args, **kwargs):
        return self._method("reduce", 1, args, kwargs)

    def accumulate(self, *args, **kwargs):
        return self._method("accumulate", 1, args, kwargs)

    def reduceat(self, *args, **kwargs):
        return self._method("reduceat", 1, args, kwargs)

    def outer(self, *args, **kwargs):
        return self._method("outer", 2, args, kwargs)

    def at(self, a, indices, b=None) -> None:
        scatter(self, a, indices, b, f"cupy.{self.__name__}.at")


ufunc.__module__ = "cupy"


def scatter(operation: ufunc, a: ndarray, indices, b, api: str) -> None:
    """a[indices] op= b, accumulating repeats (ufunc.at, cupyx.scatter_add): index lists and
    NumPy arrays among the indices and values are copied to the device, as CuPy does."""
    if not isinstance(a, ndarray):
        raise TypeError(f"{api}: the target must be a cupy.ndarray, got {type(a).__name__}")
    _devices.require_current(a._device)
    host_indices, _, masked = device_index(indices, api)
    for index in arrays_in(indices):
        _devices.require_current(index._device)
    if masked:
        _transfers.note("read", f"{api} (the count selected by the mask)", a._device)
    values = () if b is None else (value_for_kernel(b, a.dtype, api),)
    operation._numpy.at(a._host, wrap_around(host_indices, a.shape), *values)


class gufunc:
    """cupy.matmul: a generalized ufunc (CuPy's _GUFunc), run by NumPy's."""

    def __init__(self, name: str, numpy_ufunc: numpy.ufunc):
        self.__name__ = name
        self._numpy = numpy_ufunc

    def __call__(self, *args, **kwargs):
        api = f"cupy.{self.__name__}"
        check_arguments(api, CLASSES["gufunc"]["__call__"], args, kwargs)
        for value in args:
            if isinstance(value, numpy.ndarray):
                raise host_array_error(value, api)
        return run(api, self._numpy, args, kwargs)


UFUNCS = {
    name: ufunc(name, getattr(numpy, name))
    for name, (kind, _) in MODULES["cupy"].items()
    if kind == "ufunc" and isinstance(getattr(numpy, name, None), numpy.ufunc)
}
GUFUNCS = {
    name: gufunc(name, getattr(numpy, name))
    for name, (kind, _) in MODULES["cupy"].items()
    if kind == "gufunc" and isinstance(getattr(numpy, name, None), numpy.ufunc)
}


# --- ndarray's operators ---------------------------------------------------------------------


def _defers_to(other: object) -> bool:
    """CuPy's _should_use_rop: let `other` handle the operator (NotImplemented) when it opts
    out of NumPy's ufuncs or, having no __array_ufunc__, has the higher __array_priority__."""
    handler = getattr(other, "__array_ufunc__", _defers_to)
    if handler is not _defers_to:
        return handler is None
    return getattr(other, "__array_priority__", 0) > ndarray.__array_priority__


BINARY = {  # Python's operator -> CuPy's function; each also reflected (__radd__)
    "add": UFUNCS["add"],
    "sub": UFUNCS["subtract"],
    "mul": UFUNCS["multiply"],
    "truediv": UFUNCS["true_divide"],
    "floordiv": UFUNCS["floor_divide"],
    "mod": UFUNCS["remainder"],
    "pow": UFUNCS["power"],
    "divmod": UFUNCS["divmod"],
    "lshift": UFUNCS["left_shift"],
    "rshift": UFUNCS["right_shift"],
    "and": UFUNCS["bitwise_and"],
    "or": UFUNCS["bitwise_or"],
    "xor": UFUNCS["bitwise_xor"],
    "matmul": GUFUNCS["matmul"],
}
IN_PLACE = set("add sub mul truediv floordiv mod pow lshift rshift and or xor".split())
UNARY = {"neg": "negative", "pos": "positive", "abs": "absolute", "invert": "invert"}
COMPARISONS = {
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "eq": "equal",
    "ne": "not_equal",
}


def _binary(function, reflected: bool):
    def operator(self, other, modulo=None):
        if not isinstance(other, ndarray) and _defers_to(other):
            return NotImplemented
        return function(other, self) if reflected else function(self, other)

    return operator


def _in_place(function):
    def operator(self, other):
        return function(self, other, out=self)

    return operator


def _unary(function):
    def operator(self):
        return function(self)

    return operator


def _comparison(function: ufunc, dunder: str):
    """CuPy's __richcmp__: == None (or an object without an __eq__ of its own) is all False,
    != all True; a 0-d NumPy array is compared as its Python scalar."""
    fill = {"__eq__": False, "__ne__": True}.get(dunder)

    def operator(self, other):
        if fill is not None and (
            other is None or getattr(type(other), dunder) is getattr(object, dunder)
        ):
            return owner(numpy.full(self.shape, fill), _devices.current())
        if isinstance(other, numpy.ndarray) and other.ndim == 0:
            other = other.item()
        if not isinstance(other, ndarray) and _defers_to(other):
            return NotImplemented
        return function(self, other)

    return operator


def _install_operators() -> None:
    methods = {}
    for name, function in BINARY.items():
        methods[f"__{name}__"] = _binary(function, reflected=False)
        methods[f"__r{name}__"] = _binary(function, reflected=True)
        if name in IN_PLACE:
            methods[f"__i{name}__"] = _in_place(function)
    for name, ufunc_name in UNARY.items():
        methods[f"__{name}__"] = _unary(UFUNCS[ufunc_name])
    for name, ufunc_name in COMPARISONS.items():
        methods[f"__{name}__"] = _comparison(UFUNCS[ufunc_name], f"__{name}__")
    for dunder, method in methods.items():
        method.__name__ = method.__qualname__ = dunder
        setattr(ndarray, dunder, method)


_install_operators()


def allowed_array_members() -> set[str]:
    """The members of CuPy's ndarray, with Cython's special methods spelled as Python's:
    __richcmp__ as the six comparisons, __nonzero__ as __bool__, each binary operator with its
    reflected form too (Cython's __add__(x, y) serves both)."""
    spelled = {"__richcmp__": [f"__{name}__" for name in COMPARISONS], "__nonzero__": ["__bool__"]}
    members = set()
    for name in CLASSES["ndarray"]:
        members.update(spelled.get(name, [name]))
        if name[2:-2] in BINARY:
            members.add(f"__r{name[2:]}")
    return members
