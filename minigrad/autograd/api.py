"""autograd.backward and autograd.grad with PyTorch's signatures, over the engine's run_backward."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigrad.autograd import engine
from minigrad.tensor import Tensor, zeros_like

NO_CREATE_GRAPH = (
    "{}: create_graph=True (a gradient that can itself be differentiated) is not supported: "
    "minigrad's backward passes run on arrays and record no graph"
)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradient of the sum of `tensors` (each weighted by its grad_tensors
    entry; None for a scalar's 1) into the .grad of the leaves, or only of `inputs` (leaves or
    not), as torch.autograd.backward."""
    if create_graph:
        raise NotImplementedError(NO_CREATE_GRAPH.format("backward"))
    tensors = _as_tuple(tensors)
    grad_tensors = _grads_for(tensors, grad_tensors)
    retain_graph = bool(retain_graph)
    if inputs is None:
        engine.run_backward(tensors, grad_tensors, retain_graph)
        return
    inputs = _differentiated(_as_tuple(inputs), "backward")
    capture = dict.fromkeys(map(id, inputs))
    engine.run_backward(tensors, grad_tensors, retain_graph, capture)
    for tensor in inputs:
        grad = capture[id(tensor)]
        if grad is not None:  # an array of its own (the engine copied or owns it)
            engine._accumulate_leaf(tensor, grad)
            capture[id(tensor)] = None  # an input given twice gets its gradient once


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of the sum of `outputs` (weighted by grad_outputs) with respect to each of
    `inputs`, as a tuple, as torch.autograd.grad: no .grad is touched (but a retain_grad()
    tensor on the way gets its gradient, as in PyTorch), hooks of the inputs and of the tensors
    between run, and the graph is freed unless retain_graph. An input that no gradient reaches
    raises unless allow_unused (then None, or zeros with materialize_grads)."""
    if create_graph:
        raise NotImplementedError(NO_CREATE_GRAPH.format("grad"))
    outputs = _as_tuple(outputs)
    inputs = _differentiated(_as_tuple(inputs), "grad")
    capture = dict.fromkeys(map(id, inputs))
    engine.run_backward(outputs, _grads_for(outputs, grad_outputs), bool(retain_graph), capture)
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    if materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused=True (or None)")
    result = []
    for position, tensor in enumerate(inputs):
        array = capture[id(tensor)]
        if array is not None:
            result.append(Tensor(array))
        elif not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {position} (shape {tensor.shape}) appears "
                "to not have been used in the graph. Set allow_unused=True if this is the "
                "desired behavior."
            )
        else:
            result.append(zeros_like(tensor) if materialize_grads else None)
    return tuple(result)


def _as_tuple(tensors: Any) -> tuple:
    return (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)


def _grads_for(tensors: tuple, grads: Any) -> tuple:
    if grads is None:
        return (None,) * len(tensors)
    grads = (grads,) if isinstance(grads, Tensor) else tuple(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(
            f"expected {len(tensors)} gradients, one per tensor differentiated (None for a "
            f"scalar's 1), but got {len(grads)}"
        )
    return grads


def _differentiated(inputs: tuple, caller: str) -> tuple:
    for position, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"{caller}: inputs must be Tensors, but input {position} is {type(tensor).__name__}"
            )
        if not tensor.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad (input {position}, "
                f"shape {tensor.shape})"
            )
    return inputs
