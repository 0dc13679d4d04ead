"""Data-parallel training over several processes, under torch.distributed's names.

communicator: the interface, ReduceOp and the single-process backend; mpi: MPI through
mpi4py (host arrays); nccl: NCCL through CuPy (one GPU per rank); process_group: the default
group and the functions on it. DistributedDataParallel is minigrad.nn.parallel's,
SyncBatchNorm minigrad.nn's, DistributedSampler minigrad.utils.data's.
"""

# ruff: noqa: F401 (the names imported here are the package's API)

from minigrad.distributed.communicator import Communicator, ReduceOp, SingleProcessCommunicator
from minigrad.distributed.process_group import (
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_node_local_rank,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    launched_world_size,
)
