"""DistributedDataParallel: one replica of a model per rank, made equal at the start, whose
gradients are averaged over the ranks after every backward, as
torch.nn.parallel.DistributedDataParallel."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from minigrad import backend
from minigrad.autograd.engine import Function, is_grad_enabled
from minigrad.distributed import process_group as groups
from minigrad.distributed.communicator import Communicator, ReduceOp
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class DistributedDataParallel(Module):
    """Wraps `module` (registered as `.module`, so state_dict keys gain PyTorch's "module."
    prefix) for data-parallel training over `process_group` (default: the default group).

    - At construction rank 0's parameters and buffers are broadcast to every rank.
    - With broadcast_buffers (default, as in PyTorch) every forward first broadcasts rank 0's
      buffers (BatchNorm's running statistics), so every rank evaluates rank 0's model.
    - After backward every parameter's gradient is the average of the ranks' gradients: one
      all_reduce per dtype over a flat buffer of all the gradients, copied back in place. A
      parameter that got no gradient on a rank counts as zeros there and gets the average.
      Inside `with ddp.no_sync():` backward only accumulates locally (gradient
      accumulation); the next backward outside averages the accumulated gradients.

    How the averaging is hooked in: the module's output (one Tensor) passes through one
    identity node whose backward runs the module's own backward from there, then reduces.
    Gradients that reach the parameters by other paths (a loss term computed from the module's
    parameters directly) are not averaged, and autograd.grad through the wrapper is not
    supported. Overlapping the reduction with backward (PyTorch's buckets) is not done: on 2
    CPU ranks it costs 1-1.5% of the CNN's step, and for the paper's net (8-19%) the backward
    is shorter than the reduction itself (benchmarks/bench_distributed.py).
    device_ids and output_device are accepted as PyTorch's (one device at most) and unused:
    the module and its inputs must already be on this rank's device.
    """

    def __init__(
        self,
        module: Module,
        device_ids: list | None = None,
        output_device: Any = None,
        broadcast_buffers: bool = True,
        process_group: Communicator | None = None,
    ) -> None:
        super().__init__()
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError(
                "DistributedDataParallel: device_ids holds one device per process (or None), "
                f"got {device_ids}"
            )
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.broadcast_buffers = broadcast_buffers
        self.process_group = _group(process_group)
        self.require_backward_grad_sync = True
        self._broadcast([p.data for p in module.parameters()] + self._buffer_arrays())

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self.broadcast_buffers:
            self._broadcast(self._buffer_arrays())
        output = self.module(*inputs, **kwargs)
        if not (self.require_backward_grad_sync and is_grad_enabled()):
            return output
        if not isinstance(output, Tensor):
            raise TypeError(
                "DistributedDataParallel: the module must return one Tensor for its gradients "
                f"to be averaged, got {type(output).__name__}"
            )
        if not output.requires_grad:
            return output
        return AverageGradients.apply(output, reducer=self)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards inside the block accumulate gradients locally only."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def average_gradients(self) -> None:
        """Every parameter's .grad = the mean over the ranks of their .grad (None: zeros), in
        place; called after each backward, by every rank."""
        group = self.process_group
        if group.world_size == 1:
            return
        params = [p for p in self.module.parameters() if p.requires_grad]
        for bucket in _buckets(params, [p.data for p in params]):
            grads = [None if p.grad is None else p.grad.data for p in bucket]
            flat = _pack([p.data for p in bucket], grads)
            group.all_reduce(flat, ReduceOp.AVG)
            with backend.on_device_of(flat):
                for param, average in zip(bucket, _unpack(flat, [p.data for p in bucket])):
                    if param.grad is None:
                        param.grad = Tensor(average.copy())
                    else:
                        param.grad.data[...] = average

    def _buffer_arrays(self) -> list:
        return [b.data for b in self.module.buffers() if b is not None]

    def _broadcast(self, arrays: list) -> None:
        """Rank 0's values of `arrays` on every rank, in place: one broadcast per dtype."""
        if self.process_group.world_size == 1:
            return
        for bucket in _buckets(arrays, arrays):
            flat = _pack(bucket, bucket)
            self.process_group.broadcast(flat, 0)
            with backend.on_device_of(flat):
                for array, value in zip(bucket, _unpack(flat, bucket)):
                    array[...] = value


class AverageGradients(Function):
    """The identity on the wrapped module's output; backward first runs the module's own
    backward from that output (so every parameter's gradient is complete), then has the
    wrapper average the gradients over the ranks, and passes nothing further down."""

    name = "distributed_data_parallel"

    @staticmethod
    def forward(ctx, output, reducer=None):
        ctx.reducer = reducer
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.inputs
        output.backward(Tensor(grad), retain_graph=ctx.retain_graph)
        ctx.reducer.average_gradients()
        return None


def _group(group: Communicator | None) -> Communicator:
    if group is None and not groups.is_initialized():
        raise RuntimeError(groups.NOT_INITIALIZED)
    return groups.group_of(group)


def _buckets(items: list, arrays: list) -> list[list]:
    """`items` grouped by the dtype and device of their `arrays`, each group in their order."""
    by_kind: dict[tuple, list] = {}
    for item, array in zip(items, arrays):
        by_kind.setdefault((str(array.dtype), backend.device_of(array)), []).append(item)
    return list(by_kind.values())


def _pack(likes: list, arrays: list) -> Any:
    """One contiguous array holding `arrays` one after the other (None: zeros), each the size
    of its entry of `likes`, in their dtype, on their device."""
    first = likes[0]
    with backend.on_device_of(first):
        flat = backend.array_module(first).empty(sum(a.size for a in likes), dtype=first.dtype)
        offset = 0
        for like, array in zip(likes, arrays):
            flat[offset : offset + like.size] = 0 if array is None else array.reshape(-1)
            offset += like.size
    return flat


def _unpack(flat: Any, likes: list) -> Iterator[Any]:
    """The views of `flat` that _pack filled, each shaped as its entry of `likes`."""
    offset = 0
    for like in likes:
        yield flat[offset : offset + like.size].reshape(like.shape)
        offset += like.size
