"""The MPI communicator: collectives through mpi4py's buffer API (upper-case methods: the
array's memory is handed to MPI as it is, nothing is pickled) on host arrays. A device array is
copied to the host and back around each collective; NCCL is the GPU path (nccl.py).

mpi4py (and with it MPI_Init) is imported only when an MPICommunicator is made.
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.distributed.communicator import Communicator, ReduceOp

INSTALL_HINT = 'pip install "minigrad[dist]" (mpi4py and the mpich wheel, which brings mpiexec)'


def import_mpi() -> Any:
    """mpi4py's MPI module (importing it initializes MPI), or an ImportError saying what to
    install."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"the mpi backend needs mpi4py: {INSTALL_HINT}") from exc
    return MPI


class MPICommunicator(Communicator):
    """The processes of an MPI communicator (MPI_COMM_WORLD by default): the ranks that
    `mpiexec -n N` started."""

    backend = "mpi"

    def __init__(self, comm: Any = None) -> None:
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self.ops = {
            ReduceOp.SUM: self.MPI.SUM,
            ReduceOp.PRODUCT: self.MPI.PROD,
            ReduceOp.MIN: self.MPI.MIN,
            ReduceOp.MAX: self.MPI.MAX,
        }

    def _all_reduce(self, array: Any, op: ReduceOp) -> None:
        with host_buffer(array) as buffer:
            self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.ops[op])

    def broadcast(self, array: Any, src: int = 0) -> None:
        self.check_rank(src, "src")
        if self.world_size > 1:
            with host_buffer(array) as buffer:
                self.comm.Bcast(buffer, root=src)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)

    def node_local_rank(self) -> int:
        """This process's rank among the ranks on its own machine (ChainerMN's intra_rank)."""
        local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED, key=self.rank)
        try:
            return local.Get_rank()
        finally:
            local.Free()


class host_buffer:  # noqa: N801 (used as a context manager, like open)
    """`with host_buffer(array) as buffer:` a C-contiguous host array holding array's values;
    whatever the block writes into it ends up in `array`. A contiguous host array is its own
    buffer; anything else (a strided view, a device array) is copied there and back."""

    def __init__(self, array: Any) -> None:
        self.array = array

    def __enter__(self) -> Any:
        array = self.array
        if type(array) is backend.HostArray and array.flags.c_contiguous:
            self.buffer = array
        elif type(array) is backend.HostArray:
            self.buffer = array.copy()
        else:
            self.buffer = backend.to_numpy(array)
        return self.buffer

    def __exit__(self, kind: Any, *exc_info: Any) -> None:
        if kind is not None or self.buffer is self.array:
            return
        if type(self.array) is backend.HostArray:
            self.array[...] = self.buffer
        else:
            device = backend.device_of(self.array)
            with backend.on_device(device):
                self.array[...] = backend.asarray(self.buffer, device=device)
