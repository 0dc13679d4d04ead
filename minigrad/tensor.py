"""Tensor: a backend array plus what autograd needs (grad, requires_grad, the op that made it).

Also the factories (tensor, zeros, randn, from_numpy, ...) and PyTorch's other names of the
dtypes. The differentiable ops live in minigrad/ops, each declared a Tensor method or operator
next to its definition with @tensor_method.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

from minigrad import backend
from minigrad.arguments import as_shape

_writes = 0  # in-place writes so far, over all tensors: the clock autograd compares against


def write_clock() -> int:
    """How many in-place writes minigrad has made so far; a tensor's ``_written_at`` is the
    clock's value at its last write, so `t._written_at > c` means t changed after time c."""
    return _writes


class Tensor:
    """An n-dimensional array on a device that can record the ops applied to it.

    ``data`` is the NumPy or CuPy array; ``grad`` the accumulated gradient (a Tensor) after
    ``backward()``; ``_ctx`` the Function node that produced it (None for leaves); ``_hooks``
    its hooks and retain_grad flag (None until register_hook or retain_grad);
    ``_version`` counts the in-place writes made through minigrad (the methods ending in ``_``,
    item assignment, optimizer steps) and ``_written_at`` stamps the last one (write_clock), so
    that backward can refuse a graph whose saved inputs changed since (writes into the raw
    ``data`` array go uncounted, as ``.data`` writes in PyTorch do).
    """

    __slots__ = (
        "data",
        "_grad",
        "requires_grad",
        "_ctx",
        "_hooks",
        "_version",
        "_written_at",
        "__weakref__",
    )
    __hash__ = object.__hash__  # == is elementwise, so hash by identity as PyTorch does

    def __init__(self, data: Any, requires_grad: bool = False, _ctx: Any = None) -> None:
        if type(data) is not backend.HostArray and not backend.is_array(data):
            data = backend.asarray(data, dtype=backend.default_dtype_for(data), device="cpu")
        self.data = data
        self._grad: Tensor | None = None
        self._ctx = _ctx
        self._hooks = None
        self._version = self._written_at = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # --- attributes ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def device(self) -> backend.device:
        """Where the data lives: a device ("cpu", "cuda:N"; .type and .index as PyTorch's)."""
        data = self.data
        if type(data) is backend.HostArray:  # the common case, without two calls
            return _CPU
        return backend.as_device(backend.device_of(data))

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward(): leaves get one, and the non-leaf tensors
        that called retain_grad(); reading it on another non-leaf that requires grad warns
        (it stays None), as in PyTorch."""
        if self._grad is None and self._ctx is not None and not self.retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None, got {type(value)}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose .grad backward fills (after retain_grad())."""
        return self._hooks is not None and self._hooks.retains_grad and self._ctx is not None

    def retain_grad(self) -> None:
        """Have backward() fill this non-leaf tensor's .grad too (a leaf's is filled anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._tensor_hooks().retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call hook(grad) with this tensor's gradient during every backward (and
        autograd.grad); a Tensor it returns replaces the gradient. Returns a handle whose
        .remove() unregisters it. A hook must not change its argument in place."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return self._tensor_hooks().add(hook)

    def _tensor_hooks(self) -> Any:
        if self._hooks is None:
            from minigrad.autograd.hooks import TensorHooks

            self._hooks = TensorHooks()
        return self._hooks

    @property
    def grad_fn(self) -> Any:
        """The Function node that produced this tensor (None for leaves)."""
        return self._ctx

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not backend.is_floating(self.dtype):
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    # --- in-place writes ------------------------------------------------------------------
    def _write(self, op: str, key: Any, value: Any) -> Tensor:
        """self.data[key] = value, counted in _version. Refused where the write would have to be
        differentiated: on a tensor that requires grad while grad mode is on."""
        from minigrad.autograd import engine
        from minigrad.ops.shape import index_key

        if self.requires_grad and engine.is_grad_enabled():
            kind = "leaf tensor" if self._ctx is None else "tensor computed by an op"
            raise RuntimeError(
                f"{op}: a {kind} that requires grad cannot be changed in place while grad mode "
                "is on (minigrad does not differentiate in-place ops); wrap the change in "
                "`with minigrad.no_grad():`, or use the out-of-place op"
            )
        if isinstance(value, Tensor):
            value = value.data
        if backend.is_array(value) and backend.device_of(value) != self.device:
            raise RuntimeError(
                f"{op}: the value is on {backend.device_of(value)} but the tensor is on "
                f"{self.device}; move it with .to({self.device!r}) first"
            )
        with backend.on_device_of(self.data):
            self.data[index_key(key, self.device)] = value
        increment_version(self)
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        self._write("__setitem__", key, value)

    def copy_(self, source: Any) -> Tensor:
        """Copy `source` (broadcast to this shape, converted to this dtype) into this tensor."""
        if isinstance(source, Tensor):
            source = source.data
        return self._write("copy_", Ellipsis, backend.to_device(source, self.device))

    def fill_(self, value: Any) -> Tensor:
        return self._write("fill_", Ellipsis, value)

    def zero_(self) -> Tensor:
        return self._write("zero_", Ellipsis, 0)

    def uniform_(self, low: float = 0.0, high: float = 1.0) -> Tensor:
        """Fill with samples of U(low, high) from the device's generator (see manual_seed)."""
        samples = _samples("uniform_", backend.random_uniform, self.shape, self.dtype, self.device)
        return self._write("uniform_", Ellipsis, samples * (high - low) + low)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples of N(mean, std^2) from the device's generator (see manual_seed)."""
        samples = _samples("normal_", backend.random_normal, self.shape, self.dtype, self.device)
        return self._write("normal_", Ellipsis, samples * std + mean)

    # --- conversions ----------------------------------------------------------------------
    def numpy(self) -> Any:
        """A host NumPy copy of the data."""
        return backend.to_numpy(self.data)

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return backend.item(self.data)

    def tolist(self) -> Any:
        return backend.to_numpy(self.data).tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def to(self, *args: Any, non_blocking: bool = False, copy: bool = False, **kwargs: Any):
        """This tensor on another device ("cpu", "cuda", "cuda:N", a minigrad.device) and/or
        of another dtype, as torch's: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(other)`` (other's device and dtype) or keywords; itself when nothing changes,
        unless copy=True. non_blocking is accepted (copies finish before the result is read)."""
        from minigrad.ops.elementwise import cast, to_device

        device, dtype = to_arguments("Tensor.to", args, kwargs)
        result = self
        if device is not None:
            result = to_device(result, device)
        if dtype is not None:
            result = cast(result, dtype)
        if copy and result is self:
            result = self.clone()
        return result

    def contiguous(self) -> Tensor:
        """Itself when its array is C-contiguous, else a C-contiguous copy in the graph, as
        torch's (minigrad's ops take any layout: this matters only to code reading .data)."""
        return self if self.is_contiguous() else self.clone()

    def is_contiguous(self) -> bool:
        """Whether the array is C-contiguous (row-major, no gaps), as NumPy/CuPy report it."""
        return bool(self.data.flags.c_contiguous)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        return self.to(f"cuda:{index}")

    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def half(self) -> Tensor:
        return self.to(backend.float16)

    def bool(self) -> Tensor:
        return self.to(backend.bool_)

    def type(self, dtype: Any = None) -> Any:
        """With no argument, the name of the tensor's type as PyTorch gives it, spelled
        minigrad's way: 'minigrad.FloatTensor' for float32 on the CPU, 'minigrad.cuda.LongTensor'
        for int64 on a GPU. With a dtype or such a name, the tensor converted to it (itself when
        it already is; a name also picks the CPU or a GPU)."""
        if dtype is None:
            prefix = "minigrad." if self.device == "cpu" else "minigrad.cuda."
            return prefix + _TYPE_NAMES.get(self.dtype, f"{self.dtype}Tensor")
        if isinstance(dtype, str):
            dtype, on_gpu = _parse_type_name(dtype)
            if on_gpu != (self.device != "cpu"):
                return self.to("cuda" if on_gpu else "cpu").to(dtype)
        return self.to(dtype)

    def backward(self, grad: Tensor | None = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into the .grad of every leaf below it."""
        sys.modules["minigrad.autograd.engine"].run_backward((self,), (grad,), retain_graph)

    def __repr__(self) -> str:
        body = repr(backend.to_numpy(self.data)).removeprefix("array(").removesuffix(")")
        body = re.sub(r",\s*dtype=float32$", "", body)  # PyTorch leaves the default dtype out
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        suffix = "".join(", " + extra for extra in extras)
        return f"tensor({body}{suffix})"

    def __bool__(self) -> bool:
        if type(self.data) is backend.HostArray:
            return bool(self.data)
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        array = backend.to_numpy(self.data)
        return array if dtype is None else array.astype(dtype)


NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead."
)

# PyTorch's other names of the dtypes (minigrad.float is minigrad.float32, ...): a dict, which
# minigrad/__init__.py exports, because this module needs the builtins float, int and bool
DTYPE_ALIASES = {
    "float": backend.float32,
    "double": backend.float64,
    "half": backend.float16,
    "int": backend.int32,
    "long": backend.int64,
    "bool": backend.bool_,
}

_TYPE_NAMES = {  # Tensor.type()'s names, PyTorch's without the "torch." prefix
    backend.float32: "FloatTensor",
    backend.float64: "DoubleTensor",
    backend.float16: "HalfTensor",
    backend.int64: "LongTensor",
    backend.int32: "IntTensor",
    backend.uint8: "ByteTensor",
    backend.bool_: "BoolTensor",
}


def _parse_type_name(name: str) -> tuple[Any, bool]:
    """The dtype of a type name as Tensor.type() gives it, and whether it is a GPU's."""
    on_gpu = name.startswith("minigrad.cuda.")
    prefix = "minigrad.cuda." if on_gpu else "minigrad."
    for dtype, type_name in _TYPE_NAMES.items():
        if name == prefix + type_name:
            return dtype, on_gpu
    raise ValueError(
        f"type: unknown type name {name!r}; expected a dtype or a name such as "
        "'minigrad.FloatTensor' or 'minigrad.cuda.LongTensor'"
    )


_CPU = backend.as_device("cpu")
_new_object = object.__new__


def op_output(data: Any, ctx: Any = None) -> Tensor:
    """A Tensor of an array that an op or the engine made: the output of graph node `ctx` (so
    it requires grad), or without one a tensor that needs no grad. It skips __init__'s checks,
    which such an array passes already (a floating one where ctx is given, else __init__ runs
    and raises its error): an op's output costs a fifth of what Tensor() does."""
    if ctx is not None and data.dtype.kind != "f":
        return Tensor(data, requires_grad=True, _ctx=ctx)
    tensor = _new_object(Tensor)
    tensor.data = data
    tensor._grad = tensor._hooks = None
    tensor._ctx = ctx
    tensor._version = tensor._written_at = 0
    tensor.requires_grad = ctx is not None
    return tensor


def increment_version(tensor: Tensor) -> None:
    """Count an in-place write to `tensor`'s array made by code that writes the raw array
    (optimizer steps), as torch.autograd.graph.increment_version does."""
    global _writes
    _writes += 1
    tensor._version += 1
    tensor._written_at = _writes


def on_tensors_device(function: Callable) -> Callable:
    """Decorator for a functional op: run it under the device of its first argument when that
    is a Tensor on a GPU, so that its array work outside Function.apply (argument checks,
    indices, comparisons) runs on "cuda:N" too; nothing more than a type test on the CPU."""

    @functools.wraps(function)
    def on_device(first: Any, *args: Any, **kwargs: Any) -> Any:
        data = getattr(first, "data", None)
        if data is None or type(data) is backend.HostArray:
            return function(first, *args, **kwargs)
        with backend.on_device_of(data):
            return function(first, *args, **kwargs)

    return on_device


def tensor_method(*names: str, reflected: str | None = None) -> Callable:
    """Decorator: make a function of (tensor, ...) a Tensor method under each of `names`
    (`x.exp()`, `x + y` through "__add__"), and with `reflected` also the operator with its
    operands swapped ("__radd__": 2 + x calls add(2, x)). An op's file is the one place that
    declares its methods. The function runs under its tensor's device (on_tensors_device)."""

    def attach(function: Callable) -> Callable:
        if callable(function):
            function = on_tensors_device(function)
        for name in names:
            setattr(Tensor, name, function)
        if reflected is not None:

            def swapped(self: Tensor, other: Any) -> Tensor:
                return function(other, self)

            swapped.__name__ = reflected
            setattr(Tensor, reflected, swapped)
        return function

    return attach


def zero_grads(params: Any, set_to_none: bool = True) -> None:
    """What Module.zero_grad and Optimizer.zero_grad do to their parameters: grad = None, or
    the grad zeroed in place."""
    for param in params:
        if param.grad is None:
            continue
        if set_to_none:
            param.grad = None
        else:
            param.grad.zero_()


# --- factories ----------------------------------------------------------------------------


def tensor(
    data: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A new leaf tensor from a list, scalar or array (float data -> float32 by default)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None:
        dtype = backend.default_dtype_for(data)
    if device is None:
        device = backend.device_of(data) if backend.is_array(data) else None
    array = backend.asarray(data, dtype=dtype, device=device)
    if array is data:
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(ndarray: Any) -> Tensor:
    """A tensor of the NumPy array's dtype that shares its memory, as torch.from_numpy: writes
    to either show in the other."""
    if not isinstance(ndarray, backend.HostArray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(
            f"from_numpy: arrays of dtype {ndarray.dtype} are not supported; minigrad holds "
            "bool, integer and floating point arrays"
        )
    return Tensor(ndarray)


def as_tensor(data: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """data as a tensor, sharing its memory where it can, as torch.as_tensor: a Tensor already
    of that dtype and device is returned itself (else converted, in the graph), an array of
    them is wrapped without a copy, and anything else is copied as tensor() copies it."""
    if isinstance(data, Tensor):
        moved = data if device is None else data.to(device)
        return moved if dtype is None else moved.to(dtype)
    if (
        backend.is_array(data)
        and (dtype is None or dtype == data.dtype)
        and (device is None or backend.normalize_device(device) == backend.device_of(data))
    ):
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def _filled(fill: str, shape: tuple, dtype: Any, device: str | None, requires_grad: bool):
    device = backend.normalize_device(device)
    with backend.on_device(device):  # CuPy makes arrays on its current device
        array = getattr(backend.device_module(device), fill)(
            as_shape(shape), dtype=dtype or backend.float32
        )
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: str | None = None, requires_grad=False):
    return _filled("zeros", shape, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: str | None = None, requires_grad=False):
    return _filled("ones", shape, dtype, device, requires_grad)


def empty(*shape: Any, dtype: Any = None, device: str | None = None, requires_grad=False):
    """A tensor whose values are whatever its new memory held: fill it before reading it."""
    return _filled("empty", shape, dtype, device, requires_grad)


def full(
    shape: Any,
    fill_value: Any,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    device = backend.normalize_device(device)
    if dtype is None:
        dtype = backend.default_dtype_for(fill_value)
    with backend.on_device(device):
        array = backend.device_module(device).full(as_shape((shape,)), fill_value, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad)


def _like(other: Tensor, dtype: Any, device: str | None) -> dict:
    """The dtype and device of a *_like factory's result: other's, unless given."""
    return {
        "dtype": other.dtype if dtype is None else dtype,
        "device": other.device if device is None else device,
    }


def zeros_like(other: Tensor, *, dtype: Any = None, device: str | None = None, requires_grad=False):
    return zeros(other.shape, **_like(other, dtype, device), requires_grad=requires_grad)


def ones_like(other: Tensor, *, dtype: Any = None, device: str | None = None, requires_grad=False):
    return ones(other.shape, **_like(other, dtype, device), requires_grad=requires_grad)


def empty_like(other: Tensor, *, dtype: Any = None, device: str | None = None, requires_grad=False):
    return empty(other.shape, **_like(other, dtype, device), requires_grad=requires_grad)


def full_like(
    other: Tensor,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of other's shape filled with fill_value, in other's dtype unless given."""
    return full(other.shape, fill_value, **_like(other, dtype, device), requires_grad=requires_grad)


def _samples(op: str, draw: Callable, shape: tuple, dtype: Any, device: str) -> Any:
    """Samples of shape from a backend draw (random_uniform, random_normal) in a floating dtype;
    float16 is drawn in float32, which the generators make, and rounded."""
    if not backend.is_floating(dtype):
        raise TypeError(f"{op}: random samples need a floating dtype, got {dtype}")
    drawn = backend.float64 if dtype == backend.float64 else backend.float32
    return draw(shape, drawn, device).astype(dtype, copy=False)


def rand(*shape: Any, dtype: Any = None, device: str | None = None, requires_grad=False):
    """Uniform samples in [0, 1) from the device's generator (see manual_seed)."""
    device = backend.normalize_device(device)
    array = _samples(
        "rand", backend.random_uniform, as_shape(shape), dtype or backend.float32, device
    )
    return Tensor(array, requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = None, device: str | None = None, requires_grad=False):
    """Standard normal samples from the device's generator (see manual_seed)."""
    device = backend.normalize_device(device)
    array = _samples(
        "randn", backend.random_normal, as_shape(shape), dtype or backend.float32, device
    )
    return Tensor(array, requires_grad=requires_grad)


def rand_like(other: Tensor, *, dtype: Any = None, device: str | None = None, requires_grad=False):
    return rand(other.shape, **_like(other, dtype, device), requires_grad=requires_grad)


def randn_like(other: Tensor, *, dtype: Any = None, device: str | None = None, requires_grad=False):
    return randn(other.shape, **_like(other, dtype, device), requires_grad=requires_grad)


def randint(
    low: int = 0,
    high: int | None = None,
    size: Any = None,
    *,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from [low, high), int64 unless dtype is given, from the
    device's generator; randint(high, size) draws from [0, high), as in PyTorch."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, got {size!r}")
    if low >= high:
        raise ValueError(f"randint: low must be less than high, got low={low}, high={high}")
    device = backend.normalize_device(device)
    with backend.on_device(device):  # a GPU's generator draws on its own device only
        draws = backend.rng(device).integers(low, high, size=tuple(size), dtype=backend.int64)
        array = backend.ensure_array(draws).astype(dtype or backend.int64, copy=False)
    return Tensor(array, requires_grad=requires_grad)


def randperm(
    n: int, *, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless dtype is given) from the device's
    generator: the order that sorts n uniform draws."""
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    device = backend.normalize_device(device)
    with backend.on_device(device):
        order = backend.random_uniform((n,), backend.float64, device).argsort()
        array = order.astype(dtype or backend.int64)
    return Tensor(array, requires_grad=requires_grad)


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = backend.default_dtype_for([start, end, step])
    device = backend.normalize_device(device)
    with backend.on_device(device):
        array = backend.device_module(device).arange(start, end, step, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    device = backend.normalize_device(device)
    with backend.on_device(device):
        array = backend.device_module(device).eye(n, m, dtype=dtype or backend.float32)
    return Tensor(array, requires_grad=requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (float32 unless dtype is
    given; an integer dtype truncates them, as PyTorch's)."""
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    device = backend.normalize_device(device)
    with backend.on_device(device):
        values = backend.device_module(device).linspace(start, end, steps, dtype=backend.float64)
        array = values.astype(dtype or backend.float32)
    return Tensor(array, requires_grad=requires_grad)


def to_arguments(name: str, args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """The (device, dtype) that torch's ``.to(...)`` arguments ask for, None where one is not
    given: a device (str or minigrad.device), a dtype, both, another Tensor (its device and
    dtype), or the keywords device= and dtype=."""
    unknown = set(kwargs) - {"device", "dtype"}
    if unknown:
        raise TypeError(f"{name}() got unexpected keyword arguments {sorted(unknown)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    if len(args) > 2:
        raise TypeError(f"{name}() takes a device, a dtype or a tensor, got {len(args)} arguments")
    for value in args:
        if isinstance(value, Tensor):
            if len(args) > 1:
                raise TypeError(f"{name}(other) takes the tensor alone, got {len(args)} arguments")
            device, dtype = value.device, value.dtype
        elif isinstance(value, str):
            device = value
        elif value is None:
            continue
        else:
            dtype = value
    return device, dtype
