"""Elementwise ops: arithmetic with broadcasting, unary math, activations, masked_fill, casts
and moves, comparisons (bool results, no graph), and the in-place forms (add_, clamp_, ...).

Every binary op accepts Tensors and Python scalars on either side, and its result has the
dtype PyTorch gives it (backend.result_dtype): the inputs are cast to that dtype first, through
Cast, so each input's gradient comes back in the input's own dtype. A scalar stays a Python
scalar, so NumPy 2's promotion keeps a float32 tensor float32.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import backend
from minigrad.arguments import check_like, unbroadcast
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, tensor_method

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "clamp",
    "maximum",
    "minimum",
    "where",
    "masked_fill",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "equal",
    "allclose",
]


def _shape(value: Any) -> tuple:
    return getattr(value, "shape", ())


class Add(Function):
    """y = a + b;  da = dy, db = dy (each summed back to its own shape)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a + b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad, shape_a) if need_a else None,
            unbroadcast(grad, shape_b) if need_b else None,
        )


class Sub(Function):
    """y = a - b;  da = dy, db = -dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a - b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad, shape_a) if need_a else None,
            unbroadcast(-grad, shape_b) if need_b else None,
        )


class Mul(Function):
    """y = a * b;  da = dy * b, db = dy * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * b, _shape(a)) if need_a else None,
            unbroadcast(grad * a, _shape(b)) if need_b else None,
        )


class Div(Function):
    """y = a / b;  da = dy / b, db = -dy * a / b^2 = -dy * y / b."""

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b
        return (
            unbroadcast(grad_a, _shape(a)) if need_a else None,
            unbroadcast(-grad_a * out, _shape(b)) if need_b else None,
        )


def _log(value: Any) -> Any:
    """ln of an array, or of a Python scalar as a Python float (-inf at 0, nan below, as for
    arrays), so that a float32 gradient times it stays float32."""
    if isinstance(value, (int, float)):
        return math.log(value) if value > 0 else -math.inf if value == 0 else math.nan
    return backend.array_module(value).log(value)


class Pow(Function):
    """y = a ** b;  da = dy * b * a^(b-1) (0 where b = 0), db = dy * y * ln a (0 where a = 0
    and b >= 0, where y is 0 or 1 and does not change with b): PyTorch's values at the edges."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        xp = backend.array_module(grad)
        grad_a = grad_b = None
        with backend.quiet_float_errors():  # the inf and nan made where the mask then puts 0
            if need_a:
                grad_a = unbroadcast(xp.where(b == 0, 0, grad * b * a ** (b - 1)), _shape(a))
            if need_b:
                flat = (a == 0) & (b >= 0)
                grad_b = unbroadcast(xp.where(flat, 0, grad * out * _log(a)), _shape(b))
        return grad_a, grad_b


class Neg(Function):
    """y = -x;  dx = -dy."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """y = e^x;  dx = dy * y."""

    @staticmethod
    def forward(ctx, x):
        out = backend.array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_tensors[0]


class Log(Function):
    """y = ln x;  dx = dy / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.saved_tensors[0]


class Sqrt(Function):
    """y = sqrt(x);  dx = dy / (2 y)."""

    @staticmethod
    def forward(ctx, x):
        out = backend.array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.saved_tensors[0])


class Abs(Function):
    """y = |x|;  dx = dy * sign(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
        return grad * backend.array_module(x).sign(x)


class Sin(Function):
    """y = sin x;  dx = dy * cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
        return grad * backend.array_module(x).cos(x)


class Cos(Function):
    """y = cos x;  dx = -dy * sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
        return -grad * backend.array_module(x).sin(x)


class Tanh(Function):
    """y = tanh x;  dx = dy * (1 - y^2)."""

    @staticmethod
    def forward(ctx, x):
        out = backend.array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved_tensors[0]
        return grad * (1 - out * out)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed as (tanh(x/2) + 1) / 2 so it never overflows;
    dx = dy * y * (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        out = backend.array_module(x).tanh(x * 0.5)
        out += 1
        out *= 0.5
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.saved_tensors[0]
        return grad * out * (1 - out)


class ReLU(Function):
    """y = max(x, 0);  dx = dy where x > 0, else 0."""

    name = "relu"

    @staticmethod
    def forward(ctx, x):
        out = backend.array_module(x).empty(x.shape, dtype=x.dtype)
        backend.over_parts(_relu, (x, out))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        grad_x = backend.array_module(grad).empty(out.shape, dtype=grad.dtype)
        backend.over_parts(_relu_grad, (grad, out, grad_x))
        return grad_x


def _relu(x: Any, out: Any) -> None:
    backend.array_module(x).maximum(x, 0, out=out)


def _relu_grad(grad: Any, out: Any, grad_x: Any) -> None:
    backend.array_module(grad).multiply(grad, out > 0, out=grad_x)


class Clamp(Function):
    """y = min(max(x, low), high);  dx = dy where low <= x <= high, else 0."""

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)
        return backend.array_module(x).clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
        low, high = ctx.bounds
        inside = True
        if low is not None:
            inside = x >= low
        if high is not None:
            inside = inside & (x <= high)
        return grad * inside


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger input, split evenly on ties."""

    largest = True

    @staticmethod
    def forward(ctx, a, b):
        xp = backend.array_module(a if backend.is_array(a) else b)
        ctx.save_for_backward(a, b)
        return (xp.maximum if ctx.largest else xp.minimum)(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_wins = a > b if ctx.largest else a < b
        grad_to_a = grad * a_wins + grad * (a == b) * 0.5  # bool masks keep grad's dtype
        grad_a = unbroadcast(grad_to_a, _shape(a)) if need_a else None
        grad_b = unbroadcast(grad - grad_to_a, _shape(b)) if need_b else None
        return grad_a, grad_b


class Minimum(Maximum):
    """y = min(a, b) elementwise;  the gradient goes to the smaller input, split evenly on ties."""

    largest = False


class Where(Function):
    """y = a where cond else b;  da = dy where cond, db = dy elsewhere."""

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = backend.array_module(cond)
        ctx.save_for_backward(cond)
        ctx.shapes = (_shape(a), _shape(b))
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.saved_tensors[0]
        xp = backend.array_module(grad)
        _, need_a, need_b = ctx.needs_input_grad
        shape_a, shape_b = ctx.shapes
        grad_a = unbroadcast(xp.where(cond, grad, 0), shape_a) if need_a else None
        grad_b = unbroadcast(xp.where(cond, 0, grad), shape_b) if need_b else None
        return None, grad_a, grad_b


class Cast(Function):
    """y = x converted to `dtype`;  dx = dy converted back."""

    @staticmethod
    def forward(ctx, x, dtype=None):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)


class ToDevice(Function):
    """y = x copied to `device`;  dx = dy copied back."""

    @staticmethod
    def forward(ctx, x, device=None):
        ctx.device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return backend.to_device(grad, ctx.device)


# --- the functional API -------------------------------------------------------------------


def _operand(value: Any, like: Tensor) -> Any:
    """Tensors and Python scalars pass through; arrays and lists become Tensors on like's device
    (a list of floats as float32, as torch.tensor makes it)."""
    if isinstance(value, (Tensor, int, float, bool)):
        return value
    dtype = backend.default_dtype_for(value)
    return Tensor(backend.asarray(value, dtype=dtype, device=like.device))


def _promoted(a: Any, b: Any, true_division: bool = False) -> tuple[Any, Any]:
    """a and b (Tensors or Python scalars) cast to the dtype of their result, PyTorch's rules:
    int64 * 2.5, float32 + int64 and int64 + a float32 0-d tensor are float32, as is any true
    division of integers."""
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    a_dtype, b_dtype = getattr(a_data, "dtype", None), getattr(b_data, "dtype", None)
    if a_dtype is None or b_dtype is None:  # a Python scalar on one side
        dtype = a_dtype if b_dtype is None else b_dtype
        if dtype.kind == "f":
            return a, b  # a floating tensor keeps its dtype with a Python scalar, in NumPy too
        dtype = backend.result_dtype(a_data, b_data)
    elif a_dtype == b_dtype:  # the common case: nothing to decide
        dtype = a_dtype
    else:
        dtype = backend.result_dtype(a_data, b_data)
    if true_division and dtype.kind != "f":
        dtype = backend.float32
    return _as_dtype(a, dtype), _as_dtype(b, dtype)


def _as_dtype(value: Any, dtype: Any) -> Any:
    return cast(value, dtype) if isinstance(value, Tensor) else value


def _binary(op: type[Function], true_division: bool = False):
    def apply(a: Any, b: Any) -> Tensor:
        if not isinstance(a, Tensor):
            a = _operand(a, b)
        elif not isinstance(b, Tensor):
            b = _operand(b, a)
        elif a.data.dtype is b.data.dtype and (a.data.dtype.kind == "f" or not true_division):
            return op.apply(a, b)  # two tensors of one dtype: nothing to promote
        return op.apply(*_promoted(a, b, true_division))

    apply.__name__ = op.__name__.lower()
    apply.__doc__ = op.__doc__
    return apply


add = tensor_method("add", "__add__", reflected="__radd__")(_binary(Add))
sub = tensor_method("sub", "__sub__", reflected="__rsub__")(_binary(Sub))
mul = tensor_method("mul", "__mul__", reflected="__rmul__")(_binary(Mul))
div = tensor_method("div", "__truediv__", reflected="__rtruediv__")(
    _binary(Div, true_division=True)
)
pow = tensor_method("pow", "__pow__", reflected="__rpow__")(_binary(Pow))  # noqa: A001
maximum = tensor_method("maximum")(_binary(Maximum))
minimum = tensor_method("minimum")(_binary(Minimum))


def _unary(op: type[Function], floating: bool = False):
    """The functional form of a one-input op; a `floating` one (exp, sin, ...) takes an integer
    or bool tensor as float32, as PyTorch does."""

    def apply(x: Tensor) -> Tensor:
        if floating and x.data.dtype.kind != "f":
            x = cast(x, backend.float32)
        return op.apply(x)

    apply.__name__ = op.__name__.lower()
    apply.__doc__ = op.__doc__
    return apply


neg = tensor_method("neg", "__neg__")(_unary(Neg))
exp = tensor_method("exp")(_unary(Exp, floating=True))
log = tensor_method("log")(_unary(Log, floating=True))
sqrt = tensor_method("sqrt")(_unary(Sqrt, floating=True))
abs = tensor_method("abs", "__abs__")(_unary(Abs))  # noqa: A001
tanh = tensor_method("tanh")(_unary(Tanh, floating=True))
sigmoid = tensor_method("sigmoid")(_unary(Sigmoid, floating=True))
relu = tensor_method("relu")(_unary(ReLU))
sin = tensor_method("sin")(_unary(Sin, floating=True))
cos = tensor_method("cos")(_unary(Cos, floating=True))


@tensor_method("clamp")
def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if not backend.is_floating(x.dtype) and any(isinstance(bound, float) for bound in (min, max)):
        x = cast(x, backend.float32)  # an integer tensor with a float bound: float32, as PyTorch
    return Clamp.apply(x, low=min, high=max)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: a where condition is true, else b (gradients flow to a and b)."""
    like = next(v for v in (condition, a, b) if isinstance(v, Tensor))
    condition = condition.data if isinstance(condition, Tensor) else condition
    condition = backend.asarray(condition, dtype=backend.bool_, device=like.device)
    return Where.apply(condition, *_promoted(_operand(a, like), _operand(b, like)))


@tensor_method("masked_fill")
def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """y = value where mask else x, in x's dtype (the bool mask broadcasts with x);
    dx = dy where not mask, and for a 0-d tensor value dvalue = the sum of dy where mask."""
    mask = mask.data if isinstance(mask, Tensor) else backend.asarray(mask, device=x.device)
    if mask.dtype != backend.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(
                "masked_fill: value must be a number or a 0-d tensor, got a tensor of shape "
                f"{value.shape}"
            )
        value = cast(to_device(value, x.device), x.dtype)
    else:
        value = backend.asarray(value, dtype=x.dtype, device=x.device)
    return Where.apply(backend.to_device(mask, x.device), value, x)


def cast(x: Tensor, dtype: Any) -> Tensor:
    if x.dtype == dtype:
        return x
    if not backend.is_floating(dtype):  # an integer or bool result has no gradient, as in PyTorch
        with backend.on_device_of(x.data):
            return Tensor(x.data.astype(dtype))
    return Cast.apply(x, dtype=dtype)


def to_device(x: Tensor, device: str) -> Tensor:
    device = backend.normalize_device(device)
    if x.device == device:
        return x
    return ToDevice.apply(x, device=device)


# --- comparisons: bool results, no graph ----------------------------------------------------


def _comparison(name: str, ufunc: str):
    """The comparison `name` (eq, lt, ...): x against a tensor or number, elementwise with
    broadcasting, as a bool Tensor with no graph."""

    def compare(x: Tensor, other: Any) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        xp = backend.array_module(x.data)
        with backend.on_device_of(x.data):
            return Tensor(backend.ensure_array(getattr(xp, ufunc)(x.data, other_data)))

    compare.__name__ = name
    return compare


eq = tensor_method("eq", "__eq__")(_comparison("eq", "equal"))
ne = tensor_method("ne", "__ne__")(_comparison("ne", "not_equal"))
lt = tensor_method("lt", "__lt__")(_comparison("lt", "less"))
le = tensor_method("le", "__le__")(_comparison("le", "less_equal"))
gt = tensor_method("gt", "__gt__")(_comparison("gt", "greater"))
ge = tensor_method("ge", "__ge__")(_comparison("ge", "greater_equal"))


def _check_pair(op: str, a: Any, b: Any, same_dtype: bool) -> None:
    for name, value in (("input", a), ("other", b)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    check_like(op, "other", b, a, same_dtype=same_dtype)


def _every(array: Any) -> bool:
    """Whether every entry of a bool array is true, as a Python bool."""
    with backend.on_device_of(array):
        return bool(backend.item(backend.ensure_array(array.all())))


@tensor_method("equal")
def equal(a: Tensor, b: Tensor) -> bool:
    """True when a and b have the same shape and the same values, of any dtypes (NaN equals
    nothing), as torch.equal."""
    _check_pair("equal", a, b, same_dtype=False)
    return a.shape == b.shape and _every(eq(a, b).data)


@tensor_method("allclose")
def allclose(
    a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when |a - b| <= atol + rtol * |b| everywhere (a and b broadcast, and share a dtype;
    NaNs count as close to each other only with equal_nan), as torch.allclose."""
    _check_pair("allclose", a, b, same_dtype=True)
    xp = backend.array_module(a.data)
    with backend.on_device_of(a.data):
        return _every(xp.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


# --- in-place forms ---------------------------------------------------------------------------


def _in_place(name: str, function: Any):
    """The Tensor method `name` (add_, clamp_, __iadd__, ...): self = function(self, ...),
    written into self's own array, so `param -= lr * param.grad` under no_grad changes the
    parameter.

    minigrad does not differentiate in-place writes: on a tensor that requires grad they need
    no_grad, except that an augmented assignment to a tensor computed by an op
    (`loss += term`) rebinds the name to the out-of-place result, which PyTorch's recorded
    in-place op equals in value and gradient."""
    augmented = name.startswith("__i")

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        from minigrad.autograd.engine import is_grad_enabled, no_grad

        if augmented and self._ctx is not None and self.requires_grad and is_grad_enabled():
            return function(self, *args)
        with no_grad():
            result = function(self, *args, **kwargs)
        if result.shape != self.shape:
            raise RuntimeError(
                f"{name}: the result has shape {result.shape} but the tensor has shape "
                f"{self.shape}; an in-place op cannot change a tensor's shape"
            )
        if not backend.can_cast(result.dtype, self.dtype):
            raise TypeError(
                f"{name}: the result has dtype {result.dtype}, which cannot be stored in a "
                f"tensor of dtype {self.dtype}; convert the tensor first with .to(dtype)"
            )
        return self._write(name, Ellipsis, result)

    method.__name__ = name
    return method


for _name, _function in (
    ("add_", add),
    ("sub_", sub),
    ("mul_", mul),
    ("div_", div),
    ("pow_", pow),
    ("__iadd__", add),
    ("__isub__", sub),
    ("__imul__", mul),
    ("__itruediv__", div),
    ("__ipow__", pow),
    ("neg_", neg),
    ("exp_", exp),
    ("log_", log),
    ("sqrt_", sqrt),
    ("abs_", abs),
    ("tanh_", tanh),
    ("sigmoid_", sigmoid),
    ("relu_", relu),
    ("sin_", sin),
    ("cos_", cos),
    ("clamp_", clamp),
    ("masked_fill_", masked_fill),
):
    tensor_method(_name)(_in_place(_name, _function))
