"""minigrad.distributed in one process: the process-group API on the single backend,
SyncBatchNorm equal to BatchNorm bit for bit, convert_sync_batchnorm, DistributedDataParallel's
wrapper semantics, DistributedSampler's PyTorch semantics. The multi-rank checks are in
test_distributed_mpi.py, the NCCL path in test_distributed_nccl.py."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import distributed as dist
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.utils.data import DataLoader, DistributedSampler, TensorDataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def single_group():
    dist.init_process_group("single")
    yield
    dist.destroy_process_group()


# --- the process group -----------------------------------------------------------------------


def test_single_backend_is_rank_0_of_1_and_collectives_keep_the_values(single_group):
    assert dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "single")
    assert dist.get_node_local_rank() == 0
    t = mg.tensor([1.0, 2.0])
    for op in dist.ReduceOp:
        dist.all_reduce(t, op=op)
    dist.broadcast(t, src=0)
    dist.barrier()
    assert t.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="src must be a rank in 0..0, got 1"):
        dist.broadcast(t, src=1)
    with pytest.raises(TypeError, match="ReduceOp.AVG needs a floating array"):
        dist.all_reduce(mg.tensor([1, 2]), op=dist.ReduceOp.AVG)


def test_without_a_group_the_functions_say_what_to_call():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, dist.destroy_process_group):
        with pytest.raises(RuntimeError, match="call init_process_group"):
            call()
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    with pytest.raises(RuntimeError, match="call init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))


def test_init_checks_its_arguments_and_refuses_a_second_group(single_group):
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("single")
    dist.destroy_process_group()
    with pytest.raises(ValueError, match="backend must be one of 'mpi', 'nccl', 'single'"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="world_size=2, but single gives 1"):
        dist.init_process_group("single", world_size=2)
    assert not dist.is_initialized()
    dist.init_process_group(None)  # no launcher: the single backend
    assert dist.get_backend() == "single"


def test_importing_minigrad_does_not_import_mpi4py():
    code = (
        "import sys, minigrad, minigrad.nn, minigrad.distributed, minigrad.utils.data\n"
        "minigrad.distributed.init_process_group('single')\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# --- SyncBatchNorm in one process ------------------------------------------------------------


LAYOUTS = [
    ((16, 6), nn.BatchNorm1d),
    ((8, 6, 5), nn.BatchNorm1d),
    ((4, 6, 3, 5), nn.BatchNorm2d),
]


def _bn_steps(layer, shape, steps=3, seed=0, **options):
    """Outputs, gradients and buffers of `steps` training steps and one eval step."""
    rng = np.random.default_rng(seed)
    layer.weight.data[...] = rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)
    layer.bias.data[...] = rng.standard_normal(shape[1]).astype(np.float32)
    seen = []
    for _ in range(steps):
        x = mg.tensor((rng.standard_normal(shape) * 3 + 2).astype(np.float32), requires_grad=True)
        layer.zero_grad()
        out = layer(x)
        out.backward(mg.tensor(rng.standard_normal(shape).astype(np.float32)))
        seen += [out.numpy(), x.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy()]
    layer.eval()
    seen.append(layer(mg.tensor(rng.standard_normal(shape).astype(np.float32))).numpy())
    return seen + [b.numpy() for b in layer.buffers()]


@pytest.mark.parametrize("shape, batchnorm", LAYOUTS)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_one_process_sync_batchnorm_equals_batchnorm_bit_for_bit(
    single_group, shape, batchnorm, momentum, threads
):
    expected = _bn_steps(batchnorm(shape[1], momentum=momentum), shape)
    synced = nn.SyncBatchNorm(shape[1], momentum=momentum)
    assert synced._group() is not None  # the synchronized op runs, over one rank
    for got, want in zip(_bn_steps(synced, shape), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_without_a_group_sync_batchnorm_is_batchnorm():
    assert nn.SyncBatchNorm(6)._group() is None
    expected = _bn_steps(nn.BatchNorm1d(6), (8, 6, 5))
    for got, want in zip(_bn_steps(nn.SyncBatchNorm(6), (8, 6, 5)), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_sync_batchnorm_without_affine_or_running_stats(single_group):
    x = mg.tensor(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    for options in ({"affine": False}, {"track_running_stats": False}):
        want = nn.BatchNorm1d(3, **options)(x)
        np.testing.assert_array_equal(nn.SyncBatchNorm(3, **options)(x).numpy(), want.numpy())
    layer = nn.SyncBatchNorm(3, track_running_stats=False).eval()  # batch statistics, local
    np.testing.assert_array_equal(layer(x).numpy(), nn.BatchNorm1d(3, affine=True)(x).numpy())


def test_sync_batchnorm_checks_its_input_and_keeps_batchnorms_keys_and_errors(single_group):
    layer = nn.SyncBatchNorm(4)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 4, \*\), got \(2, 3\)"):
        layer(mg.zeros(2, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        layer(mg.zeros(1, 4))
    assert list(layer.state_dict()) == list(nn.BatchNorm1d(4).state_dict())
    assert repr(layer) == repr(nn.BatchNorm1d(4)).replace("BatchNorm1d", "SyncBatchNorm")


def test_convert_sync_batchnorm_replaces_every_batchnorm_and_keeps_its_tensors():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.Flatten(), nn.BatchNorm1d(16))
    )
    model[1].eval()
    model[2][1].weight.requires_grad_(False)
    tensors = {n: id(t) for n, t in list(model.named_parameters()) + list(model.named_buffers())}
    keys = list(model.state_dict())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert [type(m).__name__ for m in model.modules()].count("SyncBatchNorm") == 2
    assert list(model.state_dict()) == keys
    after = {n: id(t) for n, t in list(model.named_parameters()) + list(model.named_buffers())}
    assert after == tensors  # the same Tensor objects: an optimizer made earlier still works
    assert not model[1].training and model[2][1].training
    assert not model[2][1].weight.requires_grad
    lone = nn.BatchNorm1d(3, eps=1e-3, momentum=None, affine=False)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(lone)
    assert isinstance(synced, nn.SyncBatchNorm)
    assert (synced.eps, synced.momentum, synced.affine) == (1e-3, None, False)


# --- DistributedDataParallel in one process --------------------------------------------------


def _mlp():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


def test_ddp_of_one_process_trains_as_its_module(single_group):
    x, y = mg.randn(10, 4), mg.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    plain, wrapped = _mlp(), DistributedDataParallel(_mlp())
    for model in (plain, wrapped):
        F.cross_entropy(model(x), y).backward()
    for p, q in zip(plain.parameters(), wrapped.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert wrapped.module is wrapped._modules["module"]
    keys = list(wrapped.state_dict())
    assert keys == ["module." + key for key in plain.state_dict()]
    assert keys[:2] == ["module.0.weight", "module.0.bias"]
    wrapped.module.load_state_dict(plain.state_dict())


def test_ddp_no_sync_and_outputs(single_group):
    wrapped = DistributedDataParallel(_mlp())
    x = mg.randn(5, 4)
    with wrapped.no_sync():
        assert wrapped(x).grad_fn.name == "linear"  # no averaging node
    assert wrapped(x).grad_fn.name == "distributed_data_parallel"
    with mg.no_grad():
        assert wrapped(x).grad_fn is None
    pair = DistributedDataParallel(_TwoOutputs())
    with pytest.raises(TypeError, match="must return one Tensor .* got tuple"):
        pair(x)
    with pytest.raises(ValueError, match="one device per process"):
        DistributedDataParallel(_mlp(), device_ids=[0, 1])


class _TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x), x


# --- DistributedSampler ----------------------------------------------------------------------


@pytest.mark.parametrize("size, replicas", [(10, 3), (12, 4), (5, 8), (7, 2)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_distributed_sampler_shares_one_order_as_pytorch_does(size, replicas, shuffle):
    shares = [
        list(DistributedSampler(range(size), replicas, rank, shuffle=shuffle, seed=3))
        for rank in range(replicas)
    ]
    per_rank = -(-size // replicas)  # padded up to ceil(size / replicas) each
    assert all(len(share) == per_rank for share in shares)
    order = [share[i] for i in range(per_rank) for share in shares]  # rank-interleaved
    assert sorted(order[:size]) == list(range(size))  # one permutation of the dataset...
    repeats = -(-len(order) // size)
    assert order == (order[:size] * repeats)[: len(order)]  # ...padded with its own start
    if not shuffle:
        assert order[:size] == list(range(size))


def test_distributed_sampler_drop_last_trims_the_tail():
    shares = [list(DistributedSampler(range(10), 3, r, drop_last=True)) for r in range(3)]
    assert [len(share) for share in shares] == [3, 3, 3]
    flat = [index for share in shares for index in share]
    assert len(set(flat)) == 9  # no index twice, one left out
    assert len(DistributedSampler(range(10), 3, 0, drop_last=True)) == 3
    assert len(DistributedSampler(range(10), 3, 0)) == 4


def test_distributed_sampler_epochs_and_seeds():
    sampler = DistributedSampler(range(100), 2, 1, seed=5)
    first, again = list(sampler), list(sampler)
    assert first == again  # the same epoch, the same order
    sampler.set_epoch(1)
    assert list(sampler) != first
    assert list(DistributedSampler(range(100), 2, 1, seed=6)) != first


def test_one_replica_visits_the_data_in_a_shuffled_loaders_order():
    data = TensorDataset(mg.arange(50))
    plain = DataLoader(data, batch_size=5, shuffle=True, seed=7)
    sampler = DistributedSampler(data, num_replicas=1, rank=0, seed=7)
    sampled = DataLoader(data, batch_size=5, sampler=sampler)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        got = [batch[0].tolist() for batch in sampled]
        assert got == [batch[0].tolist() for batch in plain]


def test_distributed_sampler_ranks_come_from_the_group_and_are_checked(single_group):
    sampler = DistributedSampler(range(4))
    assert (sampler.num_replicas, sampler.rank) == (1, 0)
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(range(4), num_replicas=2, rank=2)
