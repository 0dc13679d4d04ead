"""PyTorch's Tensor-level custom Function (torch.autograd.Function), as an adapter onto the engine.

Its forward and backward get and return Tensors; one array-level node class, BackwardFunction,
carries such a call in the engine's graph: it is the `ctx` that forward and backward see.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from minigrad import backend
from minigrad.autograd import engine
from minigrad.tensor import Tensor, write_clock


class BackwardFunction(engine.Function):
    """The graph node of one call of a Tensor-level Function, and the `ctx` of that call.

    Besides plain attributes (``ctx.k = k``) a ctx offers PyTorch's methods:
    ``save_for_backward(*tensors)`` and ``saved_tensors`` (which raises if a saved tensor was
    changed in place since), ``needs_input_grad``, ``mark_non_differentiable(*outputs)``,
    ``mark_dirty(*inputs)`` and ``set_materialize_grads(value)``. The engine calls the
    node's array-level backward, which wraps the gradient in a Tensor, runs the Function's
    backward under no_grad and hands the arrays of the Tensors it returns back to the
    engine, which checks them (one per forward input, each of its input's shape) as any op's.
    """

    function: type  # the user's Function subclass
    to_save: tuple = ()
    saved_versions: tuple = ()
    non_differentiable: tuple = ()
    dirty_tensors: tuple = ()
    materialize_grads = True

    def __init__(self, function: type) -> None:
        self.function = function

    @property
    def name(self) -> str:
        return self.function.__name__

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for position, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(
                    f"{self.name}: save_for_backward can only save Tensors (or None), but "
                    f"argument {position} is {type(tensor).__name__}; keep other values as "
                    "attributes of ctx (ctx.name = value)"
                )
        self.to_save = tensors
        self.saved_versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward, each checked unchanged since (its version)."""
        if self.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
            )
        for position, (tensor, version) in enumerate(zip(self.to_save, self.saved_versions)):
            if tensor is not None and tensor._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: saved tensor {position} of {self.name} (shape "
                    f"{tensor.shape}, dtype {tensor.dtype}) is at version {tensor._version}; "
                    f"expected version {version} instead. Run the forward again after the "
                    "change, or save a clone()."
                )
        return self.to_save

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """The output gets requires_grad=False and no node (as an integer output does)."""
        self.non_differentiable = outputs

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Declare the inputs forward changed in place. minigrad checks that none of them is a
        leaf that requires grad (PyTorch's error) and returns the output as a new Tensor over
        the same memory; unlike PyTorch it does not make the input itself the output, so keep
        using the returned Tensor."""
        self.dirty_tensors = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch's code: a minigrad node has one output, whose gradient always
        exists when backward runs, so there is never a None gradient to materialize."""
        self.materialize_grads = bool(value)

    def release(self) -> None:
        function = self.function
        super().release()
        self.function = function  # the node keeps its name for reprs and errors

    @staticmethod
    def forward(ctx: BackwardFunction, *inputs: Any, **params: Any) -> Any:
        raise RuntimeError("a BackwardFunction is made by Function.apply, not applied itself")

    @staticmethod
    def backward(ctx: BackwardFunction, grad: Any) -> tuple:
        with engine.no_grad():
            grads = ctx.function.backward(ctx, Tensor(grad))
        if type(grads) is not tuple:
            grads = (grads,)
        count = len(ctx.inputs)
        if len(grads) > count and all(value is None for value in grads[count:]):
            grads = grads[:count]  # PyTorch drops extra Nones (LinearFunction without bias)
        return tuple(_grad_array(ctx, position, value) for position, value in enumerate(grads))


def _grad_array(ctx: BackwardFunction, position: int, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.data
    raise TypeError(
        f"{ctx.name}.backward returned {type(value).__name__} as gradient {position}; expected "
        "a Tensor or None"
    )


class Function:
    """Base class of PyTorch-style custom ops, on Tensors (torch.autograd.Function).

    Either ``forward(ctx, *args, **kwargs)`` or PyTorch 2's ``forward(*args)`` together with
    ``setup_context(ctx, inputs, output)``; then ``backward(ctx, *grad_outputs)``. forward runs
    under no_grad and returns one Tensor: a minigrad graph node has one output, so a tuple
    raises TypeError (return one Tensor and split it outside, or write a Function per
    output). backward gets the output's gradient as a Tensor and returns one Tensor or None per
    positional forward argument (None for the non-Tensors); keyword arguments of the ctx style
    pass through to forward and get no gradient. It runs under no_grad: create_graph (a
    gradient of a gradient) is not supported.

    Call it as ``MyFunction.apply(*args)``. Built-in ops use the array-level
    ``minigrad.Function`` (minigrad/autograd/engine.py) instead, which costs less per call.
    """

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must implement forward")

    @staticmethod
    def setup_context(ctx: BackwardFunction, inputs: tuple, output: Any) -> None:
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx: BackwardFunction, *grad_outputs: Tensor) -> Any:
        raise NotImplementedError("a Function subclass must implement backward")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = BackwardFunction(cls)
        with engine.no_grad():
            if cls.setup_context is Function.setup_context:
                ctx.needs_input_grad = _needs_input_grad(args)
                output = cls.forward(ctx, *args, **kwargs)
            else:  # PyTorch 2's style: keyword arguments and defaults become inputs
                args = _bound_arguments(cls.forward, args, kwargs)
                ctx.needs_input_grad = _needs_input_grad(args)
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
        return _output(ctx, args, output)


def _needs_input_grad(args: tuple) -> tuple:
    return tuple(isinstance(value, Tensor) and value.requires_grad for value in args)


def _bound_arguments(forward: Any, args: tuple, kwargs: dict) -> tuple:
    bound = _signature(forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


@functools.lru_cache(maxsize=256)
def _signature(forward: Any) -> inspect.Signature:
    return inspect.signature(forward)


def _output(ctx: BackwardFunction, args: tuple, output: Any) -> Any:
    """forward's output as the graph's (a new Tensor over its array when it is an input),
    recorded with ctx as its node when grad mode is on, an input requires grad, and the output
    is differentiable."""
    if isinstance(output, tuple):
        raise TypeError(
            f"{ctx.name}.forward returned a tuple of {len(output)} values; a minigrad Function "
            "has one output: return one Tensor (concatenate several and split them outside, "
            "or write one Function per output)"
        )
    if not isinstance(output, Tensor):
        return output  # a non-Tensor result (a Python number) is returned as it is, untracked
    for tensor in ctx.dirty_tensors:
        if tensor.is_leaf and tensor.requires_grad:
            raise RuntimeError(
                f"{ctx.name}: a leaf Variable that requires grad has been used in an in-place "
                "operation."
            )
    differentiable = (
        engine.is_grad_enabled()
        and any(ctx.needs_input_grad)
        and backend.is_floating(output.dtype)
        and not any(output is tensor for tensor in ctx.non_differentiable)
    )
    if output.requires_grad or any(output is value for value in args):
        output = Tensor(output.data)  # forward returned an input or a leaf: a new Tensor
    if differentiable:
        ctx.inputs = args
        ctx.write_clock = write_clock()
        ctx.sequence = engine.next_sequence()
        output._ctx = ctx  # the same Tensor, so that saving it saves the graph's output
        output.requires_grad = True
    return output
