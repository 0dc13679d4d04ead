"""The NCCL communicator on the CuPy stand-in (gpu-marked; CI runs them with
MINIGRAD_FAKE_GPU=1). No GPU or NCCL is at hand, so CuPy's NCCL binding is replaced by
FakeNccl, which implements cupy.cuda.nccl's documented calls on the stand-in's memory (its
device pointers are host addresses): in one process it pretends to have a mirror rank, and
under mpiexec it reduces over MPI. What this cannot show: real NCCL, real device memory,
streams and one GPU per process on real hardware."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import test_distributed_mpi as mpi_tests  # noqa: E402 (the experiments and the launcher)

pytestmark = pytest.mark.gpu

DTYPES = ["int8", "uint8", "int32", "uint32", "int64", "uint64", "float16", "float32", "float64"]
OPS = ["SUM", "PROD", "MAX", "MIN"]


class FakeNccl:
    """cupy.cuda.nccl's names that minigrad uses, over the stand-in's memory. `peer` is how
    the other ranks' arrays are found: "mirror" (in one process, a second rank holding the
    same values) or an mpi4py communicator (under mpiexec)."""

    available = True

    def __init__(self, peer="mirror"):
        self.peer = peer
        self.calls = []
        for code, name in enumerate(DTYPES):
            setattr(self, f"NCCL_{name.upper()}", code)
        for code, name in enumerate(OPS):
            setattr(self, f"NCCL_{name}", code)
        fake = self

        class NcclCommunicator:
            def __init__(self, ndev, commId, rank):
                import cupy

                assert commId == bytes(range(128))  # what every rank got from rank 0
                self.device = cupy.cuda.Device().id
                fake.calls.append(("init", ndev, rank, self.device))

            def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
                fake.calls.append(("allReduce", count, datatype, op))
                assert sendbuf == recvbuf  # in place
                memory = fake.view(recvbuf, count, datatype)
                if fake.peer == "mirror":
                    combine = [np.add, np.multiply, np.maximum, np.minimum][op]
                    memory[...] = combine(memory, memory.copy())
                else:
                    from mpi4py import MPI

                    mpi_op = [MPI.SUM, MPI.PROD, MPI.MAX, MPI.MIN][op]
                    fake.peer.Allreduce(MPI.IN_PLACE, memory, op=mpi_op)

            def bcast(self, buff, count, datatype, root, stream):
                fake.calls.append(("bcast", count, datatype, root))
                if fake.peer != "mirror":
                    fake.peer.Bcast(fake.view(buff, count, datatype), root=root)

            def abort(self):
                fake.calls.append(("abort",))

            def destroy(self):
                fake.calls.append(("destroy",))

        self.NcclCommunicator = NcclCommunicator

    @staticmethod
    def get_unique_id():
        return bytes(range(128))  # CuPy >= 14 returns bytes (a tuple of ints before)

    @staticmethod
    def view(pointer, count, datatype):
        dtype = np.dtype(DTYPES[datatype])
        raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(pointer)
        return np.frombuffer(raw, dtype=dtype)


class StubMPI:
    """What NCCLCommunicator asks of its MPI side, for one process."""

    rank, world_size = 0, 2

    def __init__(self):
        self.calls = []
        self.comm = self

    def bcast(self, value, root):
        return value

    def node_local_rank(self):
        return 1

    def barrier(self):
        self.calls.append("barrier")

    def abort(self, code):
        self.calls.append(("abort", code))


@pytest.fixture
def nccl(monkeypatch):
    """A NCCLCommunicator of rank 0 of 2 on cuda:1 whose other rank mirrors this one."""
    import cupy

    from minigrad.distributed.nccl import NCCLCommunicator

    if not hasattr(cupy, "_fake"):
        pytest.skip("FakeNccl works on the stand-in's memory only (see test_real_nccl_...)")
    fake = FakeNccl()
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", fake)
    return NCCLCommunicator(mpi=StubMPI()), fake


def test_without_cupys_nccl_binding_the_error_says_what_to_install():
    import cupy

    from minigrad import distributed as dist
    from minigrad.distributed.nccl import NCCLCommunicator

    if not hasattr(cupy, "_fake"):
        pytest.skip("the stand-in has no cupy.cuda.nccl; a real CuPy may have one")
    assert not dist.is_nccl_available()
    with pytest.raises(ImportError, match="pip install nvidia-nccl-cu12"):
        NCCLCommunicator(mpi=StubMPI())


def test_nccl_communicator_uses_the_gpu_of_its_local_rank(nccl):
    communicator, fake = nccl
    assert communicator.device == "cuda:1"
    assert fake.calls == [("init", 2, 0, 1)]  # made with its GPU current
    assert (communicator.rank, communicator.world_size, communicator.backend) == (0, 2, "nccl")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_nccl_all_reduce_runs_in_place_on_the_device_array(nccl, dtype):
    communicator, fake = nccl
    t = mg.tensor([1, 2, 3], dtype=getattr(mg, dtype), device="cuda:1")
    before = t.data
    communicator.all_reduce(t.data)
    assert t.data is before and t.tolist() == [2, 4, 6]
    assert fake.calls[-1] == ("allReduce", 3, DTYPES.index(dtype), OPS.index("SUM"))
    communicator.all_reduce(t.data, "max")
    assert fake.calls[-1][-1] == OPS.index("MAX")
    if dtype != "int64":
        communicator.all_reduce(t.data, "avg")  # a sum, then divided by the world size
        assert t.tolist() == [2, 4, 6]
    assert fake.calls[-1][-1] == OPS.index("SUM" if dtype != "int64" else "MAX")


def test_nccl_refuses_arrays_it_cannot_reduce(nccl):
    communicator, _ = nccl
    with pytest.raises(ValueError, match="the array is on cpu, but rank 0 works on cuda:1"):
        communicator.all_reduce(mg.zeros(3).data)
    with pytest.raises(ValueError, match="the array is on cuda:0"):
        communicator.broadcast(mg.zeros(3, device="cuda:0").data)
    with pytest.raises(ValueError, match="contiguous"):
        communicator.all_reduce(mg.zeros(4, device="cuda:1").data[::2])
    with pytest.raises(ValueError, match="src must be a rank in 0..1, got 2"):
        communicator.broadcast(mg.zeros(3, device="cuda:1").data, src=2)


def test_nccl_broadcast_barrier_abort_and_destroy(nccl):
    communicator, fake = nccl
    communicator.broadcast(mg.zeros(5, device="cuda:1").data, src=1)
    assert fake.calls[-1] == ("bcast", 5, DTYPES.index("float32"), 1)
    communicator.barrier()
    communicator.abort(3)
    communicator.destroy()
    assert fake.calls[-2:] == [("abort",), ("destroy",)]
    assert communicator.mpi.calls == ["barrier", ("abort", 3)]


def test_sync_batchnorm_and_ddp_on_the_device_through_nccl(nccl):
    """A mirror rank holds the same batch: the global statistics are the local ones, so
    SyncBatchNorm gives BatchNorm's output and gradients exactly (sums and counts double)."""
    communicator, fake = nccl
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 3, 4)) * 2 + 1).astype(np.float32)
    outputs = []
    for layer in (nn.BatchNorm1d(3), nn.SyncBatchNorm(3, process_group=communicator)):
        layer.to("cuda:1")
        xt = mg.tensor(x, device="cuda:1", requires_grad=True)
        out = layer(xt)
        out.backward(mg.ones_like(out))
        outputs.append([out.numpy(), xt.grad.numpy(), layer.weight.grad.numpy()])
        outputs[-1].append(layer.running_mean.numpy())
    for got, want in zip(*outputs[::-1]):
        np.testing.assert_array_equal(got, want)
    assert [call[0] for call in fake.calls[1:]] == ["allReduce"] * 3  # 2 forward, 1 backward
    from minigrad.nn.parallel import DistributedDataParallel

    mg.manual_seed(0)
    model = DistributedDataParallel(nn.Linear(3, 2).to("cuda:1"), process_group=communicator)
    labels = mg.zeros(4, dtype=mg.int64, device="cuda:1")
    F.cross_entropy(model(mg.ones(4, 3, device="cuda:1")), labels).backward()
    grad = model.module.weight.grad
    assert grad.device == "cuda:1" and fake.calls[-1][0] == "allReduce"


def test_two_ranks_train_over_nccl_as_one_process_does(tmp_path):
    """2 ranks under mpiexec, each on its own stand-in GPU, NCCL faked over MPI: the
    SyncBatchNorm net equals the 1-process CPU run with the full batch."""
    if os.environ.get("MINIGRAD_FAKE_GPU") != "1":
        pytest.skip("FakeNccl works on the stand-in's memory only")
    results = mpi_tests.launched("nccl", tmp_path, script=HERE)
    assert results.pop("devices").tolist() == ["cuda:0", "cuda:1"]
    want = mpi_tests.train(mpi_tests.mlp(bn=True), mpi_tests.dataset(), mpi_tests.STEPS // 3)
    differences = mpi_tests.relative_differences(results, want)
    assert mpi_tests._report("NCCL (stand-in)", differences) < mpi_tests.FLOAT32_ROUNDING


def test_real_nccl_at_world_size_one(tmp_path):
    """On a machine with a GPU, CuPy's NCCL and mpi4py: one rank through the real binding
    (its collectives called directly, as all_reduce skips them at world size 1), then
    SyncBatchNorm and DDP over it equal BatchNorm. Not run in minigrad's CI (no GPU)."""
    import cupy

    if hasattr(cupy, "_fake"):
        pytest.skip("needs a real GPU with CuPy's NCCL, not the stand-in")
    pytest.importorskip("mpi4py")
    from minigrad import distributed as dist

    if not dist.is_nccl_available():
        pytest.skip("CuPy has no usable NCCL binding here")
    result = mpi_tests.launch("real", tmp_path, script=HERE, ranks=1)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "real NCCL: ok" in result.stdout


# --- the ranks' side -------------------------------------------------------------------------


def _check_real_nccl() -> None:
    from minigrad import distributed as dist

    dist.init_process_group("nccl")
    group = dist.process_group.group_of(None)
    device = group.device
    t = mg.tensor([1.0, -2.0, 3.0], device=device)
    for op in ("sum", "product", "min", "max"):
        group._all_reduce(t.data, dist.ReduceOp(op))  # the NCCL call itself, one rank
    group.broadcast(t.data, 0)
    group.barrier()
    assert t.tolist() == [1.0, -2.0, 3.0], t.tolist()
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((16, 3, 5)).astype(np.float32), device=device)
    plain, synced = nn.BatchNorm1d(3).to(device), nn.SyncBatchNorm(3).to(device)
    np.testing.assert_array_equal(synced(x).numpy(), plain(x).numpy())
    dist.destroy_process_group()
    print("real NCCL: ok")


def _train_over_fake_nccl(out: str) -> None:
    sys.path.insert(0, str(HERE.parent / "fakecupy"))  # minigrad imports the stand-in
    from mpi4py import MPI

    from minigrad import distributed as dist
    from minigrad.nn.parallel import DistributedDataParallel

    sys.modules["cupy.cuda.nccl"] = FakeNccl(peer=MPI.COMM_WORLD)
    dist.init_process_group("nccl")
    group = dist.process_group.group_of(None)
    rank, device = dist.get_rank(), group.device
    model = nn.SyncBatchNorm.convert_sync_batchnorm(mpi_tests.mlp(bn=True)).to(device)
    ddp = DistributedDataParallel(model)
    steps = mpi_tests.STEPS // 3
    state = mpi_tests.train(ddp, mpi_tests.dataset(), steps, 2, rank, device=device)
    devices = MPI.COMM_WORLD.allgather(device)  # (pickled: a test's check, not minigrad's path)
    if rank == 0:
        np.savez(Path(out) / "nccl.npz", devices=np.array(devices), **state)
    dist.destroy_process_group()


if __name__ == "__main__":
    if sys.argv[1] == "real":
        _check_real_nccl()
    else:
        _train_over_fake_nccl(sys.argv[2])
