"""What every backend of minigrad.distributed provides: the Communicator interface, PyTorch's
ReduceOp, and the single-process communicator (world size 1, every collective a no-op)."""

from __future__ import annotations

import enum
import os
from typing import Any

from minigrad import backend


class ReduceOp(str, enum.Enum):
    """How all_reduce combines the ranks' arrays, under torch.distributed.ReduceOp's names.
    AVG is the sum divided by the world size (floating arrays only)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


class Communicator:
    """A group of `world_size` processes, this one numbered `rank`, and the collectives that
    minigrad needs, each on one backend array, in place, called by every rank in the same
    order. Subclasses implement `_all_reduce` (SUM, PRODUCT, MIN, MAX), `broadcast`,
    `barrier` and `abort`."""

    backend: str
    rank: int = 0
    world_size: int = 1

    def all_reduce(self, array: Any, op: ReduceOp = ReduceOp.SUM) -> None:
        """array = op(array of every rank), on every rank."""
        op = ReduceOp(op)
        if op is ReduceOp.AVG and not backend.is_floating(array.dtype):
            raise TypeError(
                f"all_reduce with ReduceOp.AVG needs a floating array, got {array.dtype}"
            )
        if self.world_size == 1:
            return
        self._all_reduce(array, ReduceOp.SUM if op is ReduceOp.AVG else op)
        if op is ReduceOp.AVG:
            with backend.on_device_of(array):
                array *= 1 / self.world_size

    def _all_reduce(self, array: Any, op: ReduceOp) -> None:
        raise NotImplementedError

    def broadcast(self, array: Any, src: int = 0) -> None:
        """array = rank src's array, on every rank."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Return once every rank has called it."""
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """End every process of the job at once with exit status `code` (never returns)."""
        raise NotImplementedError

    def destroy(self) -> None:
        """Release what the communicator holds; it cannot be used afterwards."""

    def check_rank(self, rank: int, what: str) -> None:
        if not 0 <= rank < self.world_size:
            raise ValueError(f"{what} must be a rank in 0..{self.world_size - 1}, got {rank}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} rank {self.rank} of {self.world_size}>"


class SingleProcessCommunicator(Communicator):
    """World size 1: this process is rank 0 and every collective leaves its array as it is.
    The same code then runs unchanged without a launcher."""

    backend = "single"

    def _all_reduce(self, array: Any, op: ReduceOp) -> None:
        """Nothing to combine (all_reduce returns before calling this at world size 1)."""

    def broadcast(self, array: Any, src: int = 0) -> None:
        self.check_rank(src, "src")

    def barrier(self) -> None:
        pass

    def abort(self, code: int = 1) -> None:
        os._exit(code)
