"""The default process group and torch.distributed's functions on it: init_process_group,
get_rank, get_world_size, all_reduce, broadcast, barrier, destroy_process_group.

The group is module state, as in PyTorch: one per process, made once by init_process_group
and read by every collective, SyncBatchNorm and DistributedDataParallel. A multi-rank group
also installs an excepthook that aborts the whole job when this rank dies of an exception.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from typing import Any

from minigrad.distributed.communicator import Communicator, ReduceOp, SingleProcessCommunicator
from minigrad.tensor import Tensor

BACKENDS = ("mpi", "nccl", "single")
# set by mpiexec (MPICH's Hydra: PMI_SIZE; Open MPI: OMPI_COMM_WORLD_SIZE; PMIx launchers)
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")
NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)

_group: Communicator | None = None


def launched_world_size() -> int:
    """The number of processes the launcher says it started (1 without a launcher)."""
    for name in LAUNCHER_SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def init_process_group(backend: str | None = None, *, world_size: int = -1, rank: int = -1) -> None:
    """Join the job's processes into the default group.

    backend: "mpi" (host arrays, through mpi4py), "nccl" (one GPU per rank, through CuPy's
    NCCL; started by mpiexec too), "single" (this process alone, world size 1), or None: "mpi"
    under a launcher that started more than one process, else "single". world_size and rank,
    when given, are checked against what the backend finds (MPI numbers the ranks itself).
    """
    global _group
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend is None:
        backend = "mpi" if launched_world_size() > 1 else "single"
    backend = str(backend).lower()
    if backend not in BACKENDS:
        raise ValueError(
            f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}"
        )
    group = _make_group(backend)
    for name, given in (("world_size", world_size), ("rank", rank)):
        found = getattr(group, name)
        if given not in (-1, found):
            raise ValueError(f"init_process_group: {name}={given}, but {backend} gives {found}")
    _group = group
    if group.world_size > 1:
        _install_abort_on_exception(group)


def _make_group(backend: str) -> Communicator:
    if backend == "single":
        return SingleProcessCommunicator()
    if backend == "mpi":
        from minigrad.distributed.mpi import MPICommunicator

        return MPICommunicator()
    from minigrad.distributed.nccl import NCCLCommunicator

    return NCCLCommunicator()


def _install_abort_on_exception(group: Communicator) -> None:
    """An exception that ends this rank prints its traceback, then aborts every rank (MPI's
    Abort): the others would otherwise wait forever in their next collective. The hook stays
    after destroy_process_group (a `finally:` that destroys the group runs before it), for the
    rest of the process."""

    def abort_on_exception(kind, value, trace) -> None:
        try:
            traceback.print_exception(kind, value, trace)
            print(
                f"minigrad.distributed: rank {group.rank} of {group.world_size} failed with "
                f"{kind.__name__}; aborting every rank",
                file=sys.stderr,
                flush=True,
            )
        finally:
            group.abort(1)

    sys.excepthook = abort_on_exception


def destroy_process_group(group: Communicator | None = None) -> None:
    """Release the default group; init_process_group may then be called again."""
    global _group
    current = _default_group()
    if group is not None and group is not current:
        raise ValueError("destroy_process_group: only the default group can be destroyed")
    current.destroy()
    _group = None


def is_available() -> bool:
    """True: minigrad.distributed is always there (its single backend needs nothing)."""
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py is installed (checked without importing it, which would start MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """Whether CuPy with its NCCL binding can be used (imports CuPy)."""
    from minigrad.distributed.nccl import import_nccl

    try:
        import_nccl()
    except Exception:  # CuPy missing, no GPU, no NCCL: all mean "not available"
        return False
    return True


def is_initialized() -> bool:
    return _group is not None


def _default_group() -> Communicator:
    if _group is None:
        raise RuntimeError(NOT_INITIALIZED)
    return _group


def group_of(group: Communicator | None) -> Communicator:
    """`group`, or the default group when None (which must then be initialized)."""
    return _default_group() if group is None else group


def get_rank(group: Communicator | None = None) -> int:
    return group_of(group).rank


def get_world_size(group: Communicator | None = None) -> int:
    return group_of(group).world_size


def get_backend(group: Communicator | None = None) -> str:
    return group_of(group).backend


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among those on its machine: the GPU index to use with NCCL.
    Without a group, fallback_rank if given (as in PyTorch, which reads LOCAL_RANK)."""
    if _group is None:
        if fallback_rank is None:
            raise RuntimeError(NOT_INITIALIZED)
        return fallback_rank
    local_rank = getattr(_group, "node_local_rank", None)
    return local_rank() if local_rank is not None else _group.rank


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Communicator | None = None
) -> None:
    """tensor = op(tensor of every rank), in place on every rank (not differentiated)."""
    group_of(group).all_reduce(_array_of(tensor, "all_reduce"), op)


def broadcast(tensor: Tensor, src: int, group: Communicator | None = None) -> None:
    """tensor = rank src's tensor, in place on every rank."""
    group_of(group).broadcast(_array_of(tensor, "broadcast"), src)


def barrier(group: Communicator | None = None) -> None:
    group_of(group).barrier()


def _array_of(tensor: Tensor, what: str) -> Any:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what} takes a minigrad Tensor, got {type(tensor).__name__}")
    return tensor.data
