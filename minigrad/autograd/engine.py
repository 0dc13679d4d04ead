"""Reverse-mode automatic differentiation: the Function base class, grad mode and the engine.

An op is a subclass of Function with a `forward(ctx, *arrays)` and a `backward(ctx, grad)`
written on raw backend arrays. `Op.apply(*inputs)` runs forward and, when a gradient is needed,
records the call as a node of the graph; `backward()` walks the nodes in reverse topological
order, iteratively, and frees each node's saved arrays as soon as it has been used.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from minigrad import backend
from minigrad.tensor import Tensor, write_clock

_grad_enabled = True


class Function:
    """Base class of every differentiable op; an instance is both the graph node and `ctx`.

    Subclasses define two static methods on backend arrays:

    - ``forward(ctx, *inputs, **params) -> array``: the inputs that were Tensors arrive as
      arrays, anything else (Python scalars, axes) as it was given; keyword arguments are
      non-differentiable parameters.
    - ``backward(ctx, grad) -> array | tuple``: one gradient per positional input (None
      where there is none), each of that input's shape, dtype and device; the engine checks
      this and raises for a wrong count, shape or device (a floating gradient of another
      floating dtype is converted, as in PyTorch). It must not build a graph, and must not
      write into `grad`, which other nodes or leaves may hold.

    A Function has one output: forward returns one array.

    Use ``ctx.save_for_backward(*arrays)`` / ``ctx.saved_tensors`` for arrays and plain
    attributes (``ctx.axis = ...``) for the rest; ``ctx.needs_input_grad`` tells which
    inputs want a gradient, so backward can skip work. ``ctx.retain_graph`` is False when
    the engine frees the node right after this backward: backward may then overwrite the
    arrays that its forward made and saved (never the inputs) instead of allocating new ones.
    """

    inputs: tuple
    needs_input_grad: tuple
    write_clock: int  # tensor.write_clock() when forward ran
    saved_tensors: tuple = ()
    retain_graph = True

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx: Function, *inputs: Any, **params: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run the op on Tensors (and constants) and return its output Tensor."""
        ctx = cls()
        arrays = []
        needs_grad = []
        on_host = True  # NumPy arrays all live on "cpu": only device arrays need comparing
        for value in inputs:
            if isinstance(value, Tensor):
                on_host = on_host and type(value.data) is backend.HostArray
                arrays.append(value.data)
                needs_grad.append(value.requires_grad)
            else:
                arrays.append(value)
                needs_grad.append(False)
        ctx.needs_input_grad = tuple(needs_grad)
        if params and any(isinstance(value, Tensor) for value in params.values()):
            _raise_tensor_keyword(cls, params)
        if on_host:
            output = cls.forward(ctx, *arrays, **params)
        else:  # on a GPU: the kernels run on the inputs' device, not on the current one
            with backend.on_device(_one_device(cls, inputs)):
                output = cls.forward(ctx, *arrays, **params)
        if type(output) is not backend.HostArray:
            output = _checked_output(ctx, output)
        if _grad_enabled and any(needs_grad):
            ctx.inputs = inputs
            ctx.write_clock = write_clock()
            return Tensor(output, requires_grad=True, _ctx=ctx)
        return Tensor(output)

    @property
    def name(self) -> str:
        """The op's name as shown in graphs and errors: the class name in snake case
        ("BatchNorm" -> "batch_norm", "MaxPool2d" -> "max_pool2d"). An op whose class name
        does not convert well sets a class attribute instead (ReLU: ``name = "relu"``)."""
        return _snake_case(type(self).__name__)

    def release(self) -> None:
        """Drop everything saved for backward (the node can no longer be differentiated)."""
        self.__dict__.clear()
        self.released = True

    released = False


def _checked_output(ctx: Function, output: Any) -> Any:
    """What forward returned, as one array (NumPy's scalars made 0-d arrays), else TypeError."""
    output = backend.ensure_array(output)
    if not backend.is_array(output):
        raise TypeError(
            f"{ctx.name}.forward returned {type(output).__name__}; a Function has one output, so "
            "forward must return one array (apply a Function per output, or return a single "
            "array and split it with ops)"
        )
    return output


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _raise_tensor_keyword(op: type, params: dict) -> None:
    names = [name for name, value in params.items() if isinstance(value, Tensor)]
    raise TypeError(
        f"{_snake_case(op.__name__)}.apply: Tensor passed as keyword argument {names}; keyword "
        "arguments are non-differentiable parameters. Pass Tensors positionally (they then get "
        "gradients and device checks), or pass tensor.data for a constant array."
    )


def _one_device(op: type, inputs: tuple) -> str:
    """The device of every Tensor input, or RuntimeError naming them all."""
    devices = [str(value.device) for value in inputs if isinstance(value, Tensor)]
    if len(set(devices)) == 1:
        return devices[0]
    raise RuntimeError(
        f"{_snake_case(op.__name__)}: expected all tensors on the same device, got {devices}; "
        "move them with .to(device) first"
    )


# --- grad mode ----------------------------------------------------------------------------


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets grad mode, restoring the old one on exit."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc_info: Any) -> None:
        global _grad_enabled
        _grad_enabled = self.previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """`with minigrad.no_grad():` records no graph (evaluation, optimizer updates)."""

    def __init__(self) -> None:
        super().__init__(False)

    def __call__(self, fn):
        return set_grad_enabled(False)(fn)


class enable_grad(set_grad_enabled):
    """Re-enables graph recording inside a no_grad block."""

    def __init__(self) -> None:
        super().__init__(True)

    def __call__(self, fn):
        return set_grad_enabled(True)(fn)


# --- the engine ---------------------------------------------------------------------------


def backward(root: Tensor, grad: Tensor | None = None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad` that requires grad.

    Every leaf's `.grad` gets an array of its own (contiguous, writable, of the leaf's shape and
    dtype): a gradient array that a backward hands to two inputs, a view, or the caller's `grad`
    is copied before it becomes a leaf's, so that changing one `.grad` in place (zeroing,
    clipping) never changes another."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward() on a tensor that does not require grad: no input of its graph has "
            "requires_grad=True (or it was computed under no_grad)"
        )
    root_grad = _initial_grad(root, grad)
    # the ids of the memory owners already held elsewhere: a leaf must not take them as they are
    given = {id(root_grad), id(root_grad.base)}
    if root._ctx is None:
        _accumulate_leaf(root, root_grad, given)
        return
    grads = {id(root): root_grad}
    clock = write_clock()
    for node_output in reversed(topological_order(root)):
        out_grad = grads.pop(id(node_output), None)
        if out_grad is None:
            continue
        ctx = node_output._ctx
        if ctx.write_clock != clock:  # some tensor was written since this node's forward
            _check_saved_unchanged(ctx, node_output)
        ctx.retain_graph = retain_graph
        for value, input_grad in _input_grads(ctx, out_grad):
            if value._ctx is None:
                _accumulate_leaf(value, input_grad, given, ctx)
            else:
                previous = grads.get(id(value))
                if previous is None:
                    grads[id(value)] = input_grad
                else:
                    with backend.on_device_of(input_grad):
                        grads[id(value)] = previous + input_grad
        if not retain_graph:
            ctx.release()


def _input_grads(ctx: Function, out_grad: Any) -> list[tuple[Tensor, Any]]:
    """(input, gradient) for each input of the node that wants one, from its backward, each
    gradient checked against its input (one per input; shape, device and dtype)."""
    if type(out_grad) is backend.HostArray:
        input_grads = ctx.backward(ctx, out_grad)
    else:  # on a GPU: backward's kernels run on the device of its gradient
        with backend.on_device(backend.device_of(out_grad)):
            input_grads = ctx.backward(ctx, out_grad)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(ctx.inputs):
        raise RuntimeError(
            f"{ctx.name}.backward returned {len(input_grads)} gradients but forward took "
            f"{len(ctx.inputs)} inputs; return one per input (None where there is none)"
        )
    host_array = backend.HostArray
    wanted = []
    for value, needs, grad in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
        if not needs or grad is None:
            continue
        data = value.data
        if not (  # the common case, checked in place at the cost of four comparisons
            type(grad) is host_array
            and type(data) is host_array
            and grad.shape == data.shape
            and grad.dtype == data.dtype
        ):
            position = next(i for i, other in enumerate(ctx.inputs) if other is value)
            grad = _checked_grad(ctx, position, value, grad)
        wanted.append((value, grad))
    return wanted


def _initial_grad(root: Tensor, grad: Tensor | None) -> Any:
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a scalar output, got shape {root.shape}; "
                "pass grad= of that shape (e.g. y.backward(minigrad.ones_like(y))) or reduce "
                "it first (y.sum().backward())"
            )
        with backend.on_device_of(root.data):
            return backend.array_module(root.data).ones_like(root.data)
    grad_data = grad.data if isinstance(grad, Tensor) else backend.asarray(grad, device=root.device)
    if tuple(grad_data.shape) != root.shape:
        raise RuntimeError(
            f"backward(): grad has shape {tuple(grad_data.shape)} but the tensor has shape "
            f"{root.shape}"
        )
    if backend.device_of(grad_data) != root.device:
        raise RuntimeError(
            f"backward(): grad is on {backend.device_of(grad_data)} but the tensor is on "
            f"{root.device}"
        )
    return grad_data.astype(root.data.dtype, copy=False)


def _checked_grad(ctx: Function, position: int, value: Tensor, grad: Any) -> Any:
    """The gradient a backward returned for input `position`, checked against that input
    (PyTorch's "returned an invalid gradient"): an array of its shape on its device, in its
    dtype (another floating dtype is converted, anything else raises)."""
    grad = backend.ensure_array(grad)
    where = f"{ctx.name}.backward returned an invalid gradient for input {position}"
    if not backend.is_array(grad):
        raise TypeError(f"{where}: expected an array, got {type(grad).__name__}")
    if grad.shape != value.data.shape:
        raise RuntimeError(
            f"{where}: expected shape {value.shape}, got {tuple(grad.shape)}; a backward must "
            "undo any broadcasting of its forward itself"
        )
    if type(grad) is not backend.HostArray or type(value.data) is not backend.HostArray:
        if backend.device_of(grad) != value.device:
            raise RuntimeError(
                f"{where}: expected device {value.device}, got {backend.device_of(grad)}"
            )
    if grad.dtype != value.data.dtype:
        if not backend.is_floating(grad.dtype):
            raise TypeError(f"{where}: expected dtype {value.dtype}, got {grad.dtype}")
        grad = grad.astype(value.data.dtype)
    return grad


def _accumulate_leaf(leaf: Tensor, grad: Any, given: set[int], ctx: Function | None = None):
    """leaf.grad += grad. The first gradient is copied unless the memory it covers is wholly
    its own and held by nobody else: it owns it or is a reshape of all of it, that memory was
    not handed out before in this backward (`given`: the ids of those owners), and it is not
    an array of the node `ctx` that returned it (an input's data or a saved array)."""
    if leaf.grad is not None:
        with backend.on_device_of(grad):
            leaf.grad = Tensor(leaf.grad.data + grad)
        return
    owner = backend.whole_owner(grad)
    if owner is None or id(owner) in given or _held_by(ctx, owner):
        with backend.on_device_of(grad):
            grad = owner = grad.copy()
    given.add(id(owner))
    leaf.grad = Tensor(grad)


def _held_by(ctx: Function | None, owner: Any) -> bool:
    if ctx is None:
        return False
    for saved in ctx.saved_tensors:
        if owner is saved or owner is getattr(saved, "base", None):
            return True
    for value in ctx.inputs:
        if isinstance(value, Tensor) and (owner is value.data or owner is value.data.base):
            return True
    return False


def _check_saved_unchanged(ctx: Function, output: Tensor) -> None:
    """Raise when an input or the output of this node was written in place after its forward
    and a saved array shares that tensor's memory: backward would use the new values."""
    touched = [
        (f"input {position}", value)
        for position, value in enumerate(ctx.inputs)
        if isinstance(value, Tensor) and value._written_at > ctx.write_clock
    ]
    if output._written_at > ctx.write_clock:
        touched.append(("its output", output))
    for role, tensor in touched:
        if any(
            backend.is_array(saved) and backend.may_share_memory(saved, tensor.data)
            for saved in ctx.saved_tensors
        ):
            raise RuntimeError(
                f"{ctx.name}: {role} (shape {tensor.shape}) was modified in place after the "
                f"op saved it for backward (it is at version {tensor._version} now), so its "
                "gradient would be computed from the new values. Run the forward again after "
                "the change (e.g. after optimizer.step())."
            )


RELEASED_MESSAGE = (
    "backward through a graph that was already freed: its saved arrays were released by an "
    "earlier backward(). Call backward(retain_graph=True) the first time if you need to "
    "differentiate the same graph twice."
)


def topological_order(root: Tensor, released_message: str = RELEASED_MESSAGE) -> list[Tensor]:
    """The op outputs of root's graph (its non-leaf tensors), each after all the tensors it was
    computed from; RuntimeError(released_message) if part of the graph was freed.

    Iterative depth-first search, so a chain of any length stays off Python's call stack. It
    visits an op's inputs in argument order: backward then reaches first arguments last, and
    graph pictures draw them on the left."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if tensor._ctx is None or id(tensor) in visited:
            continue
        visited.add(id(tensor))
        ctx = tensor._ctx
        if ctx.released:
            raise RuntimeError(released_message)
        stack.append((tensor, True))
        for value in reversed(ctx.inputs):  # a plain loop: this runs once per node
            if isinstance(value, Tensor) and value._ctx is not None and id(value) not in visited:
                stack.append((value, False))
    return order
