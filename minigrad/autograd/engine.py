"""Reverse-mode automatic differentiation: the Function base class, grad mode and the engine.

An op is a subclass of Function with a `forward(ctx, *arrays)` and a `backward(ctx, grad)`
written on raw backend arrays. `Op.apply(*inputs)` runs forward and, when a gradient is needed,
records the call as a node of the graph; `backward()` walks the nodes in reverse topological
order, iteratively, and frees each node's saved arrays as soon as it has been used.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
from typing import Any

from minigrad import backend
from minigrad import tensor as tensor_module
from minigrad.tensor import Tensor, op_output, write_clock

_grad_enabled = True
next_sequence = itertools.count().__next__  # a node's place in recording order (the walk's key)


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
    sequence: int = -1  # next_sequence() when recorded: larger than every input's node's
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
        host_array = backend.HostArray
        on_host = True  # NumPy arrays all live on "cpu": only device arrays need comparing
        for value in inputs:
            if isinstance(value, Tensor):
                data = value.data
                if type(data) is not host_array:
                    on_host = False
                arrays.append(data)
                needs_grad.append(value.requires_grad)
            else:
                arrays.append(value)
                needs_grad.append(False)
        ctx.needs_input_grad = needs_grad = tuple(needs_grad)
        for value in params.values():
            if isinstance(value, Tensor):
                _raise_tensor_keyword(cls, params)
        if on_host:
            output = cls.forward(ctx, *arrays, **params)
        else:  # on a GPU: the kernels run on the inputs' device, not on the current one
            with backend.on_device(_one_device(cls, inputs)):
                output = cls.forward(ctx, *arrays, **params)
        if type(output) is not host_array:
            output = _checked_output(ctx, output)
        if _grad_enabled and True in needs_grad:
            ctx.inputs = inputs
            ctx.write_clock = tensor_module._writes  # write_clock(), without the call
            ctx.sequence = next_sequence()
            return op_output(output, ctx)
        return op_output(output)

    @property
    def name(self) -> str:
        """The op's name as shown in graphs and errors: the class name in snake case
        ("BatchNorm" -> "batch_norm", "MaxPool2d" -> "max_pool2d"). An op whose class name
        does not convert well sets a class attribute instead (ReLU: ``name = "relu"``)."""
        return _snake_case(type(self).__name__)

    def release(self) -> None:
        """Drop everything saved for backward (the node can no longer be differentiated). Its
        `sequence` goes too: a walk that reaches it then sorts it last, and raises there."""
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
    """Accumulate d(root)/d(leaf) into every leaf's `.grad` that requires grad (Tensor.backward).

    Every leaf's `.grad` gets an array of its own (contiguous, writable, of the leaf's shape and
    dtype): a gradient array that a backward hands to two inputs, a view, or the caller's `grad`
    is copied before it becomes a leaf's, so that changing one `.grad` in place (zeroing,
    clipping) never changes another."""
    run_backward((root,), (grad,), retain_graph)


def run_backward(
    roots: tuple, root_grads: tuple, retain_graph: bool = False, capture: dict | None = None
) -> None:
    """Backpropagate from `roots` (each seeded with its gradient, None for a scalar's 1).

    The walk needs no sort beforehand: every node has a `sequence` number from when it was
    recorded, larger than those of the nodes that made its inputs, so running the nodes whose
    outputs have a gradient latest-first (a heap) runs each after every node that sends it a
    gradient. A node joins the heap when its output's first gradient arrives.

    With `capture` None the leaves accumulate their gradients into `.grad` (backward()), after
    the walk, so that an error in it (a freed graph, a bad gradient) leaves every `.grad` as it
    was. With a dict whose keys are the ids of some tensors, nothing's `.grad` is touched
    except retained ones: each key's value becomes that tensor's gradient array (after its
    hooks), and stays None where no gradient reached it (autograd.grad()). Tensor hooks and
    retain_grad run in both modes; a tensor without them costs one test of its `_hooks` slot."""
    grads: dict[int, Any] = {}  # id -> gradient so far, of the op outputs in `ready` and leaves
    given: set[int] = set()  # ids of the memory owners held elsewhere: a leaf must not take them
    leaves: dict[int, Tensor] = {}  # the leaves a gradient reached, finished after the walk
    ready: list[tuple[int, Tensor]] = []  # heap of (-sequence, op output): the latest on top
    heappush, heappop = heapq.heappush, heapq.heappop
    wanted = stops = None  # with capture: the op outputs the walk runs, and where it stops
    if capture is not None:
        order, stops = _paths_to(topological_order(roots), capture)
        wanted = {id(tensor) for tensor in order}
    for position, (root, grad) in enumerate(zip(roots, root_grads)):
        if not root.requires_grad:
            raise RuntimeError(
                f"element {position} of tensors does not require grad and does not have a "
                "grad_fn: no input of its graph has requires_grad=True (or it was computed "
                "under no_grad)"
            )
        root_grad = _initial_grad(root, grad)
        given.update((id(root_grad), id(root_grad.base)))
        key = id(root)
        if key in grads:
            _add_grad(grads, root, root_grad)
        elif root._ctx is None:
            grads[key] = _owned(root_grad, given, None)
            leaves[key] = root
        elif wanted is None or key in wanted:
            grads[key] = root_grad
            heappush(ready, (-root._ctx.sequence, root))
    clock = write_clock()
    host_array = backend.HostArray
    while ready:
        node_output = heappop(ready)[1]  # dropped after its node: its array is freed then
        ctx = node_output._ctx
        if ctx.released:
            raise RuntimeError(RELEASED_MESSAGE)
        out_grad = grads.pop(id(node_output))
        if node_output._hooks is not None:
            out_grad = node_output._hooks.run(node_output, out_grad)
        if capture is not None:
            if id(node_output) in capture:
                with backend.on_device_of(out_grad):  # its own array: the walk goes on with this
                    capture[id(node_output)] = out_grad.copy()
            if id(node_output) in stops:
                continue
        if ctx.write_clock != clock:  # some tensor was written since this node's forward
            _check_saved_unchanged(ctx, node_output)
        ctx.retain_graph = retain_graph
        inputs = ctx.inputs
        if type(out_grad) is host_array:
            input_grads = ctx.backward(ctx, out_grad)
        else:  # on a GPU: backward's kernels run on the device of its gradient
            with backend.on_device(backend.device_of(out_grad)):
                input_grads = ctx.backward(ctx, out_grad)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(inputs):
            _raise_gradient_count(ctx, input_grads)
        for value, needs, input_grad in zip(inputs, ctx.needs_input_grad, input_grads):
            if not needs or input_grad is None:
                continue
            data = value.data
            if not (  # the common case, checked in place at the cost of four comparisons
                type(input_grad) is host_array
                and type(data) is host_array
                and input_grad.shape == data.shape
                and input_grad.dtype == data.dtype
            ):
                position = next(i for i, other in enumerate(inputs) if other is value)
                input_grad = _checked_grad(ctx, position, value, input_grad)
            key = id(value)
            previous = grads.get(key)
            if previous is not None:
                _add_grad(grads, value, input_grad)
            elif value._ctx is None:  # a leaf's first gradient: it may be ctx's own array
                if capture is not None and key not in capture:
                    continue  # autograd.grad() did not ask for it: its hooks do not run either
                grads[key] = _owned(input_grad, given, ctx)
                leaves[key] = value
            elif wanted is None or key in wanted:
                grads[key] = input_grad
                heappush(ready, (-value._ctx.sequence, value))
        if not retain_graph:
            ctx.release()
    for key, leaf in leaves.items():
        _finish_leaf(leaf, grads[key], given, capture)


def _paths_to(order: list[Tensor], capture: dict) -> tuple[list[Tensor], set[int]]:
    """The op outputs of `order` from which a gradient reaches a captured tensor (in the same
    order), and the ids of the captured ones whose own inputs reach none: the walk stops at
    those, so that nothing below them runs (their backward, hooks, retain_grad)."""
    reaching = set(capture)
    kept, stops = [], set()
    for tensor in order:  # every tensor comes after its inputs
        if any(isinstance(value, Tensor) and id(value) in reaching for value in tensor._ctx.inputs):
            reaching.add(id(tensor))
            kept.append(tensor)
        elif id(tensor) in capture:
            kept.append(tensor)
            stops.add(id(tensor))
    return kept, stops


def _add_grad(grads: dict, tensor: Tensor, grad: Any) -> None:
    previous = grads.get(id(tensor))
    if previous is None:
        grads[id(tensor)] = grad
    else:
        with backend.on_device_of(grad):
            grads[id(tensor)] = previous + grad


def _finish_leaf(leaf: Tensor, grad: Any, given: set[int], capture: dict | None) -> None:
    """A leaf's total gradient (an array of its own): through its hooks, then into `.grad`,
    or into `capture`."""
    if capture is not None and id(leaf) not in capture:
        return  # autograd.grad() did not ask for it (a root): its hooks do not run either
    if leaf._hooks is not None:
        hooked = leaf._hooks.run(leaf, grad)
        grad = grad if hooked is grad else _owned(hooked, given, None)
    if capture is None:
        _accumulate_leaf(leaf, grad)
    else:
        capture[id(leaf)] = grad


def _raise_gradient_count(ctx: Function, input_grads: tuple) -> None:
    raise RuntimeError(
        f"{ctx.name}.backward returned {len(input_grads)} gradients but forward took "
        f"{len(ctx.inputs)} inputs; return one per input (None where there is none)"
    )


def _initial_grad(root: Tensor, grad: Tensor | None) -> Any:
    if grad is None:
        data = root.data
        if data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a scalar output, got shape {root.shape}; "
                "pass grad= of that shape (e.g. y.backward(minigrad.ones_like(y))) or reduce "
                "it first (y.sum().backward())"
            )
        with backend.on_device_of(data):
            return backend.array_module(data).ones(data.shape, data.dtype)
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


def _accumulate_leaf(leaf: Tensor, grad: Any) -> None:
    """leaf.grad += grad, where grad is an array of the leaf's own (it becomes .grad when there
    is none yet)."""
    if leaf._grad is not None:
        with backend.on_device_of(grad):
            grad = leaf._grad.data + grad
    leaf._grad = op_output(grad)


def _owned(grad: Any, given: set[int], ctx: Function | None) -> Any:
    """grad itself if the memory it covers is wholly its own and held by nobody else: it owns it
    or is a reshape of all of it, that memory was not handed out before in this backward
    (`given`: the ids of those owners), and it is not an array of the node `ctx` that returned
    it (an input's data or a saved array); else a copy. Either way it is handed out now."""
    owner = backend.whole_owner(grad)
    if owner is None or id(owner) in given or _held_by(ctx, owner):
        with backend.on_device_of(grad):
            grad = owner = grad.copy()
    given.add(id(owner))
    return grad


def _held_by(ctx: Function | None, owner: Any) -> bool:
    if ctx is None:
        return False
    for saved in ctx.saved_tensors:
        if isinstance(saved, Tensor):  # a Tensor-level Function's node saves Tensors
            saved = saved.data
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


def topological_order(
    root: Tensor | tuple, released_message: str = RELEASED_MESSAGE
) -> list[Tensor]:
    """The op outputs of root's graph (its non-leaf tensors; of several roots' graphs for a
    tuple), each after all the tensors it was computed from; RuntimeError(released_message) if
    part of the graph was freed.

    Iterative depth-first search, so a chain of any length stays off Python's call stack. It
    visits an op's inputs in argument order: backward then reaches first arguments last, and
    graph pictures draw them on the left."""
    order: list[Tensor] = []
    visited: set[int] = set()
    roots = (root,) if isinstance(root, Tensor) else root
    stack: list[tuple[Tensor, bool]] = [(tensor, False) for tensor in reversed(roots)]
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
