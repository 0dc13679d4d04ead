"""How the stand-in's modules answer for a name: only the names of cupy_names exist (any other
raises AttributeError); each is the module's own implementation, NumPy's namesake run under
CuPy's rules (its parameters, devices, no host arrays), or a stub that raises
NotImplementedError where the stand-in does not model a real CuPy name."""

from __future__ import annotations

import importlib

import numpy
from cupy_names import MODULES, VERSION

from cupy import _array, _devices, _transfers, _ufunc

NUMPY_MODULES = {  # where a CuPy module's functions have their NumPy namesakes
    "cupy": numpy,
    "cupy.linalg": numpy.linalg,
    "cupy.fft": numpy.fft,
    "cupy.random": numpy.random,
    "cupy.lib.stride_tricks": numpy.lib.stride_tricks,
}

# Functions that may return a view of their input (no kernel, so no device check when they do).
VIEW_FUNCTIONS = set(
    "reshape ravel transpose swapaxes moveaxis rollaxis squeeze expand_dims broadcast_to "
    "broadcast_arrays atleast_1d atleast_2d atleast_3d diagonal real imag split array_split "
    "hsplit vsplit dsplit matrix_transpose permute_dims flip fliplr flipud rot90 astype "
    "ascontiguousarray asfortranarray require".split()
)


# Functions that take only the shape and dtype of their array argument: they allocate on the
# current device whichever device the prototype lives on.
LIKE_FUNCTIONS = {"empty_like", "zeros_like", "ones_like", "full_like"}


def _one_argument(args: tuple, kwargs: dict) -> bool:
    return len(args) + len(kwargs) == 1


# Functions whose output size CuPy reads back from the device before returning (a sync).
READ_FUNCTIONS = {
    "nonzero": "the count of nonzeros",
    "argwhere": "the count of nonzeros",
    "flatnonzero": "the count of nonzeros",
    "where": "the count of nonzeros",  # with one argument only, see _READ_WHEN
    "extract": "the count of selected items",
    "compress": "the count of selected items",
    "unique": "the count of unique items",
    "unique_all": "the count of unique items",
    "unique_counts": "the count of unique items",
    "unique_inverse": "the count of unique items",
    "unique_values": "the count of unique items",
    "bincount": "the largest value",
    "trim_zeros": "the first and last nonzero",
}
_READ_WHEN = {"where": _one_argument}


def numpy_function(label: str, name: str, params: tuple | None, function):
    """label.name by NumPy's `function` under CuPy's rules."""
    api = f"{label}.{name}"
    reads = READ_FUNCTIONS.get(name) if label == "cupy" else None
    views = label == "cupy" and name in VIEW_FUNCTIONS
    like = label == "cupy" and name in LIKE_FUNCTIONS
    extra = _array.NUMPY_OPTIONS.get(name, {}) if label == "cupy" else {}

    def call(*args, **kwargs):
        _array.check_arguments(api, params, args, kwargs)
        if reads and _READ_WHEN.get(name, lambda *_: True)(args, kwargs):
            _transfers.note("read", f"{api} ({reads})", _devices.current())
        if like:
            return _array.like(api, function, args, kwargs)
        return _array.run(api, function, args, {**kwargs, **extra}, views=views)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"The stand-in's {api}: NumPy's {name} under CuPy's rules."
    return call


class UnmodelledModule:
    """A CuPy module the stand-in does not model: using any of its names raises."""

    def __init__(self, name: str):
        self.__name__ = name

    def __getattr__(self, attribute: str):
        raise NotImplementedError(
            f"{self.__name__}.{attribute}: module {self.__name__} exists in CuPy {VERSION}; "
            "the stand-in does not model it"
        )


_MISSING = object()


def _numpy_object(dotted: str):
    """numpy.newaxis & co by dotted name (_MISSING where this NumPy lacks it)."""
    value = importlib.import_module("numpy")
    for part in dotted.split(".")[1:]:
        value = getattr(value, part, _MISSING)
        if value is _MISSING:
            break
    return value


def default(label: str, name: str):
    """The stand-in's value for a CuPy name that its module does not define itself."""
    kind, detail = MODULES[label][name]
    api = f"{label}.{name}"
    numpy_module = NUMPY_MODULES.get(label)
    namesake = getattr(numpy_module, name, None) if numpy_module is not None else None
    if kind == "numpy":
        value = _numpy_object(detail)
        return value if value is not _MISSING else _array.unmodelled(api)
    if kind == "ufunc" and label == "cupy" and name in _ufunc.UFUNCS:
        return _ufunc.UFUNCS[name]
    if kind == "gufunc" and name in _ufunc.GUFUNCS:
        return _ufunc.GUFUNCS[name]
    if kind in ("function", "ufunc", "gufunc") and callable(namesake):
        return numpy_function(label, name, detail if kind == "function" else None, namesake)
    if kind == "module":
        try:
            return importlib.import_module(api)
        except ModuleNotFoundError:
            return UnmodelledModule(api)
    if kind == "value":
        _array.unmodelled(api)()
    return _array.unmodelled(api)


def install(module_globals: dict, label: str) -> None:
    """Make a stand-in module answer for exactly CuPy's names of `label`."""
    names = MODULES[label]
    offered = {name for name in module_globals if not name.startswith("_")}
    extra = offered - set(names)
    if extra:
        raise AssertionError(f"the stand-in's {label} defines names CuPy lacks: {sorted(extra)}")

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module '{label}' has no attribute '{name}'")
        value = default(label, name)
        module_globals[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    module_globals["__getattr__"] = __getattr__
    module_globals["__dir__"] = __dir__
