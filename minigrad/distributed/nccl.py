"""The NCCL communicator: collectives between GPUs through CuPy's NCCL binding
(``cupy.cuda.nccl.NcclCommunicator``), one GPU per process, as ChainerMN does: the processes
are started by mpiexec, rank 0 makes NCCL's unique id and MPI hands it to the others once,
then every collective runs on the device arrays themselves, queued on CuPy's current stream.

This path is written against CuPy's documented API; minigrad's CI has no GPU and tests it
with a stand-in for the NCCL binding (tests/test_distributed_nccl.py).
"""

from __future__ import annotations

import importlib
from typing import Any

from minigrad import backend
from minigrad.distributed.communicator import Communicator, ReduceOp
from minigrad.distributed.mpi import MPICommunicator

# NCCL's names for the dtypes it reduces (bool goes as uint8: its sum is not a bool's)
NCCL_DTYPES = {
    "int8": "NCCL_INT8",
    "uint8": "NCCL_UINT8",
    "int32": "NCCL_INT32",
    "uint32": "NCCL_UINT32",
    "int64": "NCCL_INT64",
    "uint64": "NCCL_UINT64",
    "float16": "NCCL_FLOAT16",
    "float32": "NCCL_FLOAT32",
    "float64": "NCCL_FLOAT64",
}
NCCL_OPS = {
    ReduceOp.SUM: "NCCL_SUM",
    ReduceOp.PRODUCT: "NCCL_PROD",
    ReduceOp.MIN: "NCCL_MIN",
    ReduceOp.MAX: "NCCL_MAX",
}


def import_nccl() -> Any:
    """cupy.cuda.nccl (a submodule that ``import cupy`` leaves out), or an ImportError saying
    what is missing."""
    cupy = backend.get_cupy()  # a DeviceError naming the fix when CuPy or a GPU is missing
    try:
        nccl = importlib.import_module(f"{cupy.__name__}.cuda.nccl")
    except ImportError:
        nccl = None
    if nccl is None or not getattr(nccl, "available", False):  # False: libnccl not found
        raise ImportError(
            "the nccl backend needs CuPy's NCCL binding (cupy.cuda.nccl) and the NCCL library: "
            "pip install nvidia-nccl-cu12 (or -cu13, matching your CuPy wheel)"
        )
    return nccl


class NCCLCommunicator(Communicator):
    """The ranks of an MPI job, one GPU each, talking through NCCL.

    Each rank uses the GPU numbered by its rank among the ranks of its machine, modulo the
    number of GPUs there (`device`, "cuda:N"): put the model and batches there. MPI carries
    only the unique id at start-up, the barrier and abort; every collective runs on NCCL."""

    backend = "nccl"

    def __init__(self, mpi: MPICommunicator | None = None) -> None:
        self.nccl = import_nccl()
        self.cupy = backend.get_cupy()
        self.mpi = MPICommunicator() if mpi is None else mpi
        self.rank, self.world_size = self.mpi.rank, self.mpi.world_size
        self.local_rank = self.mpi.node_local_rank()
        self.device = f"cuda:{self.local_rank % self.cupy.cuda.runtime.getDeviceCount()}"
        unique_id = self.nccl.get_unique_id() if self.rank == 0 else None
        unique_id = self.mpi.comm.bcast(unique_id, root=0)  # pickled once, at start-up
        with backend.on_device(self.device):  # NCCL binds the communicator to the current GPU
            self.comm = self.nccl.NcclCommunicator(self.world_size, unique_id, self.rank)

    def _all_reduce(self, array: Any, op: ReduceOp) -> None:
        dtype = self._dtype_of(array, "all_reduce")
        with self._on_own_device(array, "all_reduce"):
            pointer, stream = array.data.ptr, self.cupy.cuda.get_current_stream().ptr
            op_code = getattr(self.nccl, NCCL_OPS[op])
            self.comm.allReduce(pointer, pointer, array.size, dtype, op_code, stream)

    def broadcast(self, array: Any, src: int = 0) -> None:
        self.check_rank(src, "src")
        dtype = self._dtype_of(array, "broadcast")
        with self._on_own_device(array, "broadcast"):
            stream = self.cupy.cuda.get_current_stream().ptr
            self.comm.bcast(array.data.ptr, array.size, dtype, src, stream)

    def barrier(self) -> None:
        """Once this rank's queued GPU work (collectives included) is done, MPI's barrier."""
        backend.synchronize(self.device)
        self.mpi.barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.abort()  # NCCL's kernels in flight would otherwise wait for the dead rank
        self.mpi.abort(code)

    def destroy(self) -> None:
        self.comm.destroy()

    def node_local_rank(self) -> int:
        return self.local_rank

    def _dtype_of(self, array: Any, what: str) -> int:
        name = "uint8" if array.dtype == backend.bool_ else str(array.dtype)
        if name not in NCCL_DTYPES:
            raise TypeError(f"{what} over NCCL: dtype {array.dtype} is not one NCCL reduces")
        return getattr(self.nccl, NCCL_DTYPES[name])

    def _on_own_device(self, array: Any, what: str) -> Any:
        """The device scope of this rank's GPU, after checking that `array` is a contiguous
        array there (NCCL reads and writes its memory directly)."""
        device = backend.device_of(array)
        if device != self.device:
            raise ValueError(
                f"{what} over NCCL: the array is on {device}, but rank {self.rank} works on "
                f"{self.device}; move it there (NCCL reduces device arrays of the rank's own GPU)"
            )
        if not array.flags.c_contiguous:
            raise ValueError(f"{what} over NCCL needs a contiguous array, got a strided view")
        return backend.on_device(self.device)
