"""The stand-in's cupy.ndarray (a NumPy array plus the id of the device it lives on) and the one
way every CuPy operation runs on it: `run` checks devices, refuses host arrays, hands the
NumPy arrays to the NumPy namesake of the operation and gives its results back as device
arrays. Reads to the host and copies from it are logged in _transfers."""

from __future__ import annotations

import inspect
import warnings
import weakref

import numpy
from cupy_names import CLASSES, MODULES, VERSION

from cupy import _devices, _transfers

SCALARS = (bool, int, float, complex, numpy.generic)  # what CuPy takes as a kernel argument
_SUPPORTED_KINDS = "biufc"  # CuPy's dtypes: bool, integers, floats, complexes
_live: dict[int, weakref.WeakValueDictionary] = {}  # per device: id -> array owning memory
IMPLICIT_CONVERSION = (  # CuPy's words
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


# --- arguments -------------------------------------------------------------------------------


def signature(params: tuple) -> inspect.Signature:
    """An inspect.Signature from a parameter list of cupy_names ("a", "axis=", "*", ...)."""
    parameters, kind = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
    for param in params:
        if param == "/":
            parameters = [p.replace(kind=inspect.Parameter.POSITIONAL_ONLY) for p in parameters]
        elif param == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
        elif param.startswith("**"):
            parameters.append(inspect.Parameter(param[2:], inspect.Parameter.VAR_KEYWORD))
        elif param.startswith("*"):
            parameters.append(inspect.Parameter(param[1:], inspect.Parameter.VAR_POSITIONAL))
            kind = inspect.Parameter.KEYWORD_ONLY
        else:
            default = None if param.endswith("=") else inspect.Parameter.empty
            parameters.append(inspect.Parameter(param.rstrip("="), kind, default=default))
    return inspect.Signature(parameters)


_signatures: dict[tuple, inspect.Signature] = {}


def check_arguments(api: str, params: tuple | None, args: tuple, kwargs: dict) -> None:
    """Raise CuPy's TypeError for arguments its `api` does not take (such as NumPy's
    `where=` or `initial=` of a reduction); None means the parameters are not known."""
    if params is None:
        return
    if params not in _signatures:
        _signatures[params] = signature(params)
    try:
        _signatures[params].bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{api}(): {exc} (CuPy {VERSION} takes ({', '.join(params)}))") from None


def host_array_error(value: object, api: str) -> TypeError:
    return TypeError(
        f"Unsupported type {type(value)}: {api} got a host (NumPy) array, which CuPy never "
        "copies to the device implicitly; move it with cupy.asarray first"
    )


def arrays_in(value: object) -> list[ndarray]:
    """The device arrays among an operation's arguments (inside lists, tuples and dicts too)."""
    if isinstance(value, ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in arrays_in(item)]
    if isinstance(value, dict):
        return arrays_in(list(value.values()))
    return []


def to_host(value: object, api: str) -> object:
    """The NumPy value behind an argument: a device array's NumPy array; a NumPy array is an
    error (CuPy's TypeError); lists and tuples are converted item by item."""
    if isinstance(value, ndarray):
        return value._host
    if isinstance(value, numpy.ndarray):
        raise host_array_error(value, api)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_host(item, api) for item in value)
    if isinstance(value, dict):
        return {key: to_host(item, api) for key, item in value.items()}
    return value


# --- results ---------------------------------------------------------------------------------


def _root(host: numpy.ndarray) -> numpy.ndarray:
    while isinstance(host.base, numpy.ndarray):
        host = host.base
    return host


def owner(host: numpy.ndarray, device: int) -> ndarray:
    """A new device array that owns `host` (its memory on `device`)."""
    if host.dtype.kind not in _SUPPORTED_KINDS:
        raise ValueError(f"Unsupported dtype {host.dtype}")
    array = object.__new__(ndarray)
    array._host, array._device, array._base = host, device, None
    _track(array)
    return array


def _track(array: ndarray) -> None:
    _live.setdefault(array._device, weakref.WeakValueDictionary())[id(array)] = array


def view(host: numpy.ndarray, of: ndarray) -> ndarray:
    """A device array that views memory of `of` (CuPy's base is the owner, as NumPy's)."""
    array = object.__new__(ndarray)
    array._host, array._device = host, of._device
    array._base = of._base if of._base is not None else of
    return array


def from_host(result: object, sources: list[ndarray], device: int) -> tuple[object, bool]:
    """The device value for a NumPy result, and whether new device memory was allocated:
    an input array itself, a view of one (on its device), or a new array on `device`.
    NumPy scalars become 0-d arrays, as CuPy returns them."""
    if isinstance(result, numpy.generic):
        result = numpy.asarray(result)
    if isinstance(result, numpy.ndarray):
        for source in sources:
            if result is source._host:
                return source, False
        root = _root(result)
        for source in sources:
            if _root(source._host) is root:
                return view(result, source), False
        return owner(result, device), True
    if isinstance(result, (list, tuple)):
        converted = [from_host(item, sources, device) for item in result]
        items = [item for item, _ in converted]
        allocated = any(new for _, new in converted)
        if hasattr(result, "_fields"):  # a named tuple (unique_all & co)
            return type(result)(*items), allocated
        return type(result)(items), allocated
    return result, False


def run(api: str, function, args: tuple, kwargs: dict, views: bool = False) -> object:
    """Run `function` (NumPy's) on the NumPy arrays behind a CuPy call, giving back device
    arrays. An operation that allocates runs a kernel on the current device, so every array it
    touches must live there; a view (`views=True` ops when they return one) does not."""
    sources = arrays_in((args, kwargs))
    if not views:
        for source in sources:
            _devices.require_current(source._device)
    host_args = to_host(args, api)
    host_kwargs = to_host(kwargs, api)
    result, allocated = from_host(function(*host_args, **host_kwargs), sources, _devices.current())
    if views and allocated:
        for source in sources:
            _devices.require_current(source._device)
    return result


def _leaves(value: object) -> list:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def to_device(obj, dtype, copy, order, ndmin: int, blocking: bool, api: str) -> ndarray:
    """cupy.array and cupy.asarray: a device array on the current device from any data. Host
    data is copied over (a logged write; a sync too with blocking=True); a device array is
    reused, or copied when it lives on another device; a list of device arrays is stacked on
    the device; a list that mixes device arrays and host data is refused, as CuPy does."""
    device = _devices.current()
    order = order or "K"
    copy = None if copy is False else copy  # CuPy's copy=False: copy only when needed
    if isinstance(obj, ndarray):
        source = obj if obj._device == device else obj.copy()
        host = numpy.array(source._host, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return from_host(host, [source], device)[0]
    leaves = _leaves(obj)
    if any(isinstance(leaf, ndarray) for leaf in leaves):
        if not all(isinstance(leaf, ndarray) for leaf in leaves):
            raise TypeError(IMPLICIT_CONVERSION)
        for leaf in leaves:
            _devices.require_current(leaf._device)
        return owner(numpy.array(to_host(obj, api), dtype=dtype, order=order, ndmin=ndmin), device)
    host = numpy.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin)
    if host.dtype.kind not in _SUPPORTED_KINDS:
        raise ValueError(f"Unsupported dtype {host.dtype}")
    _transfers.note("write", api, device, host.nbytes)
    if blocking:
        _transfers.note("sync", f"{api}(blocking=True)", device)
    return owner(host, device)


def like(api: str, function, args: tuple, kwargs: dict) -> ndarray:
    """cupy.zeros_like & co: a new array on the current device with the shape and dtype of a
    device array wherever that one lives (CuPy reads only its shape and dtype)."""
    prototype, *rest = args
    if not isinstance(prototype, ndarray):
        raise TypeError(f"{api}: expected a cupy.ndarray, got {type(prototype).__name__}")
    host = function(prototype._host, *to_host(rest, api), **to_host(kwargs, api))
    return owner(host, _devices.current())


# --- indices ---------------------------------------------------------------------------------


def device_index(key: object, api: str) -> tuple[object, bool, bool]:
    """CuPy's preparation of an index: lists and NumPy arrays in it are copied to the device
    (logged writes), device arrays make it advanced. Returns the NumPy index, whether it is
    advanced and whether it holds a boolean mask (whose selected count CuPy reads back)."""
    items = list(key) if isinstance(key, tuple) else [key]
    advanced = masked = False
    for position, item in enumerate(items):
        if item is None or item is Ellipsis or isinstance(item, slice):
            continue
        if isinstance(item, ndarray):
            advanced, masked = True, masked or item.dtype.kind == "b"
            items[position] = item._host
            continue
        if numpy.isscalar(item) and not isinstance(item, (bool, numpy.bool_)):
            continue
        converted = numpy.asarray(to_host(item, api) if isinstance(item, list) else item)
        if converted.ndim:
            _transfers.note(
                "write", f"{api} (index copied to the device)", _devices.current(), converted.nbytes
            )
        if isinstance(item, list) and converted.size == 0:
            converted = converted.astype(numpy.int32)  # an empty list indexes nothing
        advanced, masked = True, masked or converted.dtype.kind == "b"
        items[position] = converted
    return (tuple(items) if isinstance(key, tuple) else items[0]), advanced, masked


def wrap_around(key: object, shape: tuple) -> object:
    """CuPy's rule for out-of-bounds integer index arrays: they wrap around (NumPy raises)."""
    items = list(key) if isinstance(key, tuple) else [key]

    def axes_taken(item) -> int:
        if item is None or item is Ellipsis:
            return 0
        if isinstance(item, numpy.ndarray) and item.dtype.kind == "b":
            return item.ndim
        return 1

    ellipsis_axes = len(shape) - sum(map(axes_taken, items))
    axis = 0
    for position, item in enumerate(items):
        if item is Ellipsis:
            axis += ellipsis_axes
            continue
        if isinstance(item, numpy.ndarray) and item.dtype.kind in "iu" and axis < len(shape):
            if shape[axis]:
                items[position] = item % shape[axis]
        axis += axes_taken(item)
    return tuple(items) if isinstance(key, tuple) else items[0]


def value_for_kernel(value: object, dtype: numpy.dtype, api: str) -> object:
    """A value stored by advanced assignment or scatter: CuPy copies host data over (logged)."""
    if isinstance(value, ndarray):
        _devices.require_current(value._device)
        return value._host
    if isinstance(value, SCALARS):
        return value
    host = numpy.asarray(value, dtype=dtype)
    _transfers.note(
        "write", f"{api} (values copied to the device)", _devices.current(), host.nbytes
    )
    return host


# --- the array -------------------------------------------------------------------------------


class ndarray:
    """cupy.ndarray of the stand-in: a NumPy array (`_host`) on device `_device`."""

    __slots__ = ("_host", "_device", "_base", "__weakref__")
    __array_ufunc__ = None  # NumPy's ufuncs refuse device arrays: numpy.maximum(x, 0) raises
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the stand-in's ndarray() takes no memptr or strides")
        host = numpy.empty(shape, dtype=dtype, order=order)
        if host.dtype.kind not in _SUPPORTED_KINDS:
            raise ValueError(f"Unsupported dtype {host.dtype}")
        self._host, self._device, self._base = host, _devices.current(), None
        _track(self)

    # NumPy may not turn a device array into a host one behind the caller's back.
    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        dispatch = (
            f"CuPy would hand it to cupy.{name}"
            if name in MODULES["cupy"]
            else f"CuPy has no {name}, so it fails on a GPU too"
        )
        raise TypeError(
            f"numpy.{name}() was called on a cupy.ndarray ({dispatch}); the stand-in refuses "
            "NumPy functions on device arrays: call it through xp = cupy.get_array_module(x)"
        )

    # --- attributes ---
    @property
    def shape(self) -> tuple:
        return self._host.shape

    @shape.setter
    def shape(self, value) -> None:
        self._host.shape = value

    @property
    def strides(self) -> tuple:
        return self._host.strides

    @property
    def ndim(self) -> int:
        return self._host.ndim

    @property
    def size(self) -> int:
        return self._host.size

    @property
    def dtype(self) -> numpy.dtype:
        return self._host.dtype

    @property
    def itemsize(self) -> int:
        return self._host.itemsize

    @property
    def nbytes(self) -> int:
        return self._host.nbytes

    @property
    def base(self) -> ndarray | None:
        return self._base

    @property
    def flags(self) -> Flags:
        flags = self._host.flags
        return Flags(flags.c_contiguous, flags.f_contiguous, self._base is None)

    @property
    def device(self):
        from cupy import cuda

        return cuda.Device(self._device)

    @property
    def data(self) -> MemoryPointer:
        return MemoryPointer(self)

    @property
    def T(self) -> ndarray:
        return view(self._host.T, self)

    @property
    def mT(self) -> ndarray:
        return view(self._host.mT, self)

    @property
    def real(self) -> ndarray:
        return view(self._host.real, self) if self.dtype.kind == "c" else self

    @real.setter
    def real(self, value) -> None:
        self.real[...] = value

    @property
    def imag(self) -> ndarray:
        return run("ndarray.imag", lambda host: host.imag, (self,), {}, views=True)

    @imag.setter
    def imag(self, value) -> None:
        self.imag[...] = value

    # --- the host boundary: every crossing is logged ---
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            if not isinstance(out, numpy.ndarray):
                raise TypeError("Only numpy.ndarray can be obtained fromcupy.ndarray")
            if out.dtype != self.dtype:
                raise TypeError(f"{out.dtype} array cannot be obtained from {self.dtype} array")
            if out.shape != self.shape:
                raise ValueError(
                    f"Shape mismatch. Expected shape: {self.shape}, actual shape: {out.shape}"
                )
        elif self.size == 0:  # CuPy copies nothing for an empty array
            return numpy.ndarray(self.shape, dtype=self.dtype)
        _transfers.note("read", "ndarray.get", self._device, self.nbytes)
        if out is None:
            return numpy.array(self._host, order=order, copy=True)
        out[...] = self._host
        return out

    def set(self, arr, stream=None) -> None:
        if not isinstance(arr, numpy.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        _transfers.note("write", "ndarray.set", self._device, arr.nbytes)
        self._host[...] = arr

    def _read(self, api: str) -> numpy.ndarray:
        _transfers.note("read", api, self._device, self.nbytes)
        return self._host

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._read("ndarray.item").item()

    def tolist(self):
        return self._read("ndarray.tolist").tolist()

    def tobytes(self, order="C") -> bytes:
        return self._read("ndarray.tobytes").tobytes(order)

    def tofile(self, fid, sep="", format="%s") -> None:
        self._read("ndarray.tofile").tofile(fid, sep, format)

    def __bool__(self) -> bool:
        if self.size == 0:
            warnings.warn(
                "The truth value of an empty array is ambiguous. Returning False, but in future "
                "this will result in an error. Use `array.size > 0` to check that an array is "
                "not empty.",
                DeprecationWarning,
                stacklevel=2,
            )
            return False
        if self.size > 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. "
                "Use a.any() or a.all()"
            )
        return bool(self._read("bool(ndarray)"))

    def __int__(self) -> int:
        return int(self._read("int(ndarray)"))

    def __float__(self) -> float:
        return float(self._read("float(ndarray)"))

    def __complex__(self) -> complex:
        return complex(self._read("complex(ndarray)"))

    def __bytes__(self) -> bytes:
        return bytes(self._read("bytes(ndarray)"))

    def __repr__(self) -> str:
        return repr(self._read("repr(ndarray)"))

    def __str__(self) -> str:
        return str(self._read("str(ndarray)"))

    def __format__(self, format_spec: str) -> str:
        return format(self._read("format(ndarray)"), format_spec)

    def __reduce__(self):
        return _unpickle, (numpy.array(self._read("pickle(ndarray)")),)

    # --- copies and views with CuPy's own rules ---
    def copy(self, order="C") -> ndarray:
        """A copy on the current device; from another device only of a contiguous array."""
        if self._device == _devices.current() or self.size == 0:
            return owner(self._host.copy(order=order), _devices.current())
        if not (self._host.flags.c_contiguous or self._host.flags.f_contiguous):
            raise NotImplementedError("CuPy cannot copy non-contiguous array between devices.")
        return owner(self._host.copy(order=order), _devices.current())

    def __copy__(self) -> ndarray:
        return self.copy()

    def __deepcopy__(self, memo) -> ndarray:
        return self.copy()

    def view(self, dtype=None, array_class=None) -> ndarray:
        if array_class is not None:
            raise NotImplementedError("the stand-in's ndarray.view takes no array_class")
        return view(self._host.view() if dtype is None else self._host.view(dtype), self)

    def fill(self, value) -> None:
        _devices.require_current(self._device)
        if isinstance(value, ndarray):
            if value.shape != ():
                raise ValueError("non-scalar cupy.ndarray cannot be used for fill")
            _devices.require_current(value._device)
            self._host.fill(value._host[()])
            return
        host = numpy.asarray(value, dtype=self.dtype)
        if host.shape != ():
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._host.fill(host[()])

    def dot(self, b, out=None) -> ndarray:
        if not isinstance(b, ndarray):
            raise TypeError(
                "Argument 'b' has incorrect type (expected cupy._core.core._ndarray_base, "
                f"got {type(b).__name__})"
            )
        return run("ndarray.dot", numpy.dot, (self, b), {} if out is None else {"out": out})

    def nonzero(self) -> tuple:
        _transfers.note("read", "ndarray.nonzero (the count of nonzeros)", self._device)
        return run("ndarray.nonzero", numpy.nonzero, (self,), {})

    # --- containers ---
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key) -> ndarray:
        host_key, advanced, masked = device_index(key, "ndarray.__getitem__")
        if not advanced:
            selected = self._host[host_key]
            if isinstance(selected, numpy.generic):  # CuPy gives a 0-d view, not a scalar
                selected = self._host[
                    (*(host_key if isinstance(key, tuple) else (host_key,)), Ellipsis)
                ]
            return view(selected, self)
        _devices.require_current(self._device)
        if masked:
            _transfers.note("read", "boolean mask indexing (the selected count)", self._device)
        selected = self._host[wrap_around(host_key, self.shape)]
        return owner(numpy.asarray(selected), _devices.current())

    def __setitem__(self, key, value) -> None:
        api = "ndarray.__setitem__"
        host_key, advanced, masked = device_index(key, api)
        _devices.require_current(self._device)
        if advanced:
            if masked:
                _transfers.note(
                    "read", "boolean mask assignment (the selected count)", self._device
                )
            self._host[wrap_around(host_key, self.shape)] = value_for_kernel(value, self.dtype, api)
            return
        if isinstance(value, ndarray):  # a copy kernel, broadcasting the value
            _devices.require_current(value._device)
            self._host[host_key] = value._host
            return
        host = numpy.asarray(value, dtype=self.dtype)  # CuPy fills with a scalar
        if host.shape != ():
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._host[host_key] = host[()]

    __hash__ = None  # CuPy's arrays are unhashable (their == is elementwise, see _ufunc)


def _unpickle(host: numpy.ndarray) -> ndarray:
    _transfers.note("write", "pickle.loads(ndarray)", _devices.current(), host.nbytes)
    return owner(host, _devices.current())


# ndarray methods that may return a view (no kernel); any other method runs one.
VIEW_METHODS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "diagonal", "astype"}
# NumPy options that make its function behave as CuPy's: CuPy's take wraps out-of-bounds
# indices around (it has no mode= to ask otherwise).
NUMPY_OPTIONS = {"take": {"mode": "wrap"}}
# ndarray methods that read back from the device before returning (CuPy syncs).
READ_METHODS = {"compress": "ndarray.compress (the count of selected items)"}


def _array_method(name: str, params: tuple | None):
    """ndarray.<name> by NumPy's method (or function) of that name, under CuPy's rules."""
    api = f"ndarray.{name}"
    numpy_method = getattr(numpy.ndarray, name, None) or getattr(numpy, name)  # ptp: a function

    def method(self, *args, **kwargs):
        check_arguments(api, params, args, kwargs)
        if name in READ_METHODS:
            _transfers.note("read", READ_METHODS[name], self._device)
        options = {**kwargs, **NUMPY_OPTIONS.get(name, {})}
        return run(api, numpy_method, (self, *args), options, views=name in VIEW_METHODS)

    method.__name__ = method.__qualname__ = name
    return method


def unmodelled(api: str):
    """A CuPy name the stand-in does not implement: a stub that raises when used."""

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{api} exists in CuPy {VERSION}; the stand-in does not model it")

    stub.__name__ = stub.__qualname__ = api.rsplit(".", 1)[-1]
    return stub


def _unmodelled_property(api: str):
    def getter(self):
        unmodelled(api)()

    return property(getter)


def _install_members() -> None:
    """Give ndarray each method CuPy's has and the stand-in has not written out: NumPy's
    method of that name when it has one, else a stub."""
    for name, params in CLASSES["ndarray"].items():
        if name.startswith("__") or name in vars(ndarray):
            continue
        if params is None:
            setattr(ndarray, name, _unmodelled_property(f"cupy.ndarray.{name}"))
        elif hasattr(numpy.ndarray, name) or hasattr(numpy, name):
            setattr(ndarray, name, _array_method(name, params))
        else:
            setattr(ndarray, name, unmodelled(f"cupy.ndarray.{name}"))
    for name in ("__cuda_array_interface__",):
        setattr(ndarray, name, _unmodelled_property(f"cupy.ndarray.{name}"))
    for name in ("__dlpack__", "__dlpack_device__"):
        setattr(ndarray, name, unmodelled(f"cupy.ndarray.{name}"))


class Flags:
    """cupy.ndarray.flags: contiguity and ownership (CuPy has no `writeable`)."""

    def __init__(self, c_contiguous, f_contiguous, owndata):
        self.c_contiguous, self.f_contiguous, self.owndata = c_contiguous, f_contiguous, owndata

    @property
    def fnc(self) -> bool:
        return self.f_contiguous and not self.c_contiguous

    @property
    def forc(self) -> bool:
        return self.f_contiguous or self.c_contiguous

    def __getitem__(self, name: str) -> bool:
        keys = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous"}
        if name not in (*keys, "OWNDATA"):
            raise KeyError(f"{name} is not defined for cupy.ndarray.flags")
        return getattr(self, keys.get(name, "owndata"))

    def __repr__(self) -> str:
        return "\n".join(
            f"  {key} : {self[key]}" for key in ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA")
        )


class MemoryPointer:
    """array.data: the address of the array's first element on its device (the stand-in uses
    the host address, so views of one array point inside it, as on a GPU)."""

    def __init__(self, array: ndarray):
        self.ptr = array._host.__array_interface__["data"][0]
        self.device_id = array._device

    @property
    def device(self):
        from cupy import cuda

        return cuda.Device(self.device_id)

    def __int__(self) -> int:
        return self.ptr

    def __repr__(self) -> str:
        return f"<MemoryPointer 0x{self.ptr:x} device={self.device_id}>"


def live_bytes(device: int) -> int:
    """Bytes of the device arrays alive on `device` (the memory pool's used_bytes)."""
    return sum(array.nbytes for array in list(_live.get(device, {}).values()))


ndarray.__module__ = "cupy"
_install_members()
