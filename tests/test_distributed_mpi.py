"""minigrad.distributed across 2 MPI ranks on loopback, each test one `mpiexec -n 2` launch of
this file as a script (the checks below `# --- the ranks' side`): 2 ranks equal 1 process with
the full batch (without BN, with SyncBatchNorm, CNN included), per-rank BN does not, SyncBatchNorm's
gradient matches finite differences of the global loss, the collectives, and a rank that
raises ends the whole job quickly. Skipped without mpi4py or mpiexec."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn import functional as F
from minigrad.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
RANKS = 2
SAMPLES, FEATURES, CLASSES, GLOBAL_BATCH, STEPS = 512, 20, 4, 64, 150
CNN_STEPS = 40
FLOAT32_ROUNDING = 2e-5  # max |a - b| / max |b| over a tensor after STEPS steps (measured: ~1e-6)


def mpiexec() -> str | None:
    """The mpiexec of the mpich wheel beside this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def launch(
    check: str, out: Path, timeout: float = 180, script: Path = HERE, ranks: int = RANKS
) -> subprocess.CompletedProcess:
    pytest.importorskip("mpi4py", reason='needs mpi4py: pip install "minigrad[dist]"')
    if mpiexec() is None:
        pytest.skip('needs mpiexec: pip install "minigrad[dist]" (the mpich wheel)')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE.parent)])}
    command = [mpiexec(), "-n", str(ranks), sys.executable, str(script), check, str(out)]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def launched(check: str, out: Path, script: Path = HERE) -> dict:
    result = launch(check, out, script=script)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(np.load(out / f"{check}.npz"))


# --- the experiments both sides run ----------------------------------------------------------


def dataset() -> TensorDataset:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((SAMPLES, FEATURES)) * 2 + 0.5).astype(np.float32)
    scores = x @ rng.standard_normal((FEATURES, CLASSES)) + rng.standard_normal((SAMPLES, CLASSES))
    return TensorDataset(mg.tensor(x), mg.tensor(scores.argmax(axis=1)))


def images() -> TensorDataset:
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((SAMPLES // 2, 2, 6, 6)) + 1).astype(np.float32)
    y = (x[:, 0, :3].sum(axis=(1, 2)) > x[:, 1, 3:].sum(axis=(1, 2))).astype(np.int64)
    return TensorDataset(mg.tensor(x), mg.tensor(y))


def mlp(bn: bool) -> nn.Module:
    """The batch-norm paper's net in small: sigmoid units, BN after each hidden linear layer."""
    mg.manual_seed(0)
    layers, width = [], FEATURES
    for _ in range(2):
        layers += [nn.Linear(width, 32), *([nn.BatchNorm1d(32)] if bn else []), nn.Sigmoid()]
        width = 32
    return nn.Sequential(*layers, nn.Linear(width, CLASSES))


def cnn() -> nn.Module:
    mg.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(144, 2)
    )


def train(model, data, steps, world_size=1, rank=0, device=None) -> dict:
    """SGD with momentum over shuffled batches of GLOBAL_BATCH samples in all, this rank's
    share of each (a DistributedSampler's) when world_size > 1, moved to `device`; the final
    state_dict."""
    options = {"drop_last": True, "device": device}
    if world_size == 1:
        loader = DataLoader(data, batch_size=GLOBAL_BATCH, shuffle=True, seed=0, **options)
        sampler = None
    else:
        sampler = DistributedSampler(data, world_size, rank, seed=0)
        loader = DataLoader(data, GLOBAL_BATCH // world_size, sampler=sampler, **options)
    opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    step, epoch = 0, 0
    while step < steps:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            step += 1
            if step == steps:
                break
        epoch += 1
    module = getattr(model, "module", model)
    return {key: np.asarray(value) for key, value in module.state_dict().items()}


def relative_differences(got: dict, want: dict) -> dict:
    """max |got - want| / max |want| per floating tensor."""
    return {
        key: float(np.abs(got[key] - want[key]).max() / np.abs(want[key]).max())
        for key in want
        if want[key].dtype.kind == "f"
    }


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> dict:
    """One launch for every check of the 2 ranks (mpiexec costs about a second each)."""
    return launched("all", tmp_path_factory.mktemp("mpi"))


def _prefixed(results: dict, prefix: str) -> dict:
    return {key[len(prefix) :]: value for key, value in results.items() if key.startswith(prefix)}


def _report(name: str, differences: dict) -> float:
    worst = max(differences.values())
    print(f"{name}: max relative difference {worst:.2e} ({max(differences, key=differences.get)})")
    return worst


def test_two_ranks_without_bn_equal_one_process_with_the_full_batch(two_ranks):
    want = train(mlp(bn=False), dataset(), STEPS)
    differences = relative_differences(_prefixed(two_ranks, "plain/"), want)
    assert _report("no BN", differences) < FLOAT32_ROUNDING, differences


def test_two_ranks_with_sync_batchnorm_equal_one_process_with_the_full_batch(two_ranks):
    want = train(mlp(bn=True), dataset(), STEPS)
    got = _prefixed(two_ranks, "sync/")
    differences = relative_differences(got, want)
    assert {"1.running_mean", "1.running_var", "4.running_var"} <= set(differences)
    assert _report("SyncBatchNorm", differences) < FLOAT32_ROUNDING, differences
    assert got["1.num_batches_tracked"] == want["1.num_batches_tracked"] == STEPS


def test_two_ranks_cnn_with_sync_batchnorm2d_equals_one_process(two_ranks):
    want = train(cnn(), images(), CNN_STEPS)
    differences = relative_differences(_prefixed(two_ranks, "cnn/"), want)
    assert _report("CNN SyncBatchNorm2d", differences) < FLOAT32_ROUNDING, differences


def test_per_rank_batchnorm_is_another_algorithm(two_ranks):
    """BN over each rank's half batch: the statistics of 32 samples, not 64."""
    want = train(mlp(bn=True), dataset(), STEPS)
    differences = relative_differences(_prefixed(two_ranks, "local/"), want)
    _report("per-rank BN", differences)
    assert differences["1.running_mean"] > 1e-2
    assert max(differences[key] for key in want if key.endswith("weight")) > 1e-3


def test_sync_batchnorm_gradient_matches_finite_differences_of_the_global_loss(two_ranks):
    errors = json.loads(str(two_ranks["gradcheck"]))
    print("gradcheck (float64, 2 ranks):", errors)
    assert errors["checked"] == RANKS * 3 * 2 * 2 + 2 * 2  # every x of both ranks, gamma, beta
    assert errors["max_relative_error"] < 1e-6, errors


def test_collectives_across_two_ranks(two_ranks):
    got = json.loads(str(two_ranks["collectives"]))
    assert got == {
        "sum": [3.0, 6.0],  # rank r holds [r + 1, 2r + 2]
        "max": [2.0, 4.0],
        "min": [1.0, 2.0],
        "product": [2.0, 8.0],
        "avg": [1.5, 3.0],
        "int64": [1, 2],
        "strided": [[3.0, 0.0, 3.0], [0.0, 0.0, 0.0]],
        "scalar": 3.0,
        "broadcast_from_1": [2.0, 4.0],
        "ranks": [0, 1],
        "world_size": 2,
        "ddp_broadcast": True,
        "no_sync": True,
    }


def test_a_rank_that_raises_ends_the_job_with_its_error_quickly(tmp_path):
    start = time.perf_counter()
    result = launch("raise", tmp_path, timeout=60)
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ValueError: rank 1 fails at step 20" in output
    assert "rank 1 of 2 failed with ValueError; aborting every rank" in output
    assert seconds < 20, f"the job took {seconds:.1f} s to end"


# --- the ranks' side: run by mpiexec as `python test_distributed_mpi.py CHECK OUT` ----------


def _all_checks(rank: int, world_size: int) -> dict:
    from minigrad.nn.parallel import DistributedDataParallel as DDP

    results = {}
    runs = {
        "plain": lambda: (mlp(bn=False), dataset(), STEPS),
        "sync": lambda: (nn.SyncBatchNorm.convert_sync_batchnorm(mlp(bn=True)), dataset(), STEPS),
        "local": lambda: (mlp(bn=True), dataset(), STEPS),
        "cnn": lambda: (nn.SyncBatchNorm.convert_sync_batchnorm(cnn()), images(), CNN_STEPS),
    }
    for name, make in runs.items():
        model, data, steps = make()
        for key, value in train(DDP(model), data, steps, world_size, rank).items():
            results[f"{name}/{key}"] = value
    results["gradcheck"] = json.dumps(_gradcheck(rank))
    results["collectives"] = json.dumps(_collectives(rank, world_size))
    return results


def _gradcheck(rank: int) -> dict:
    """SyncBatchNorm in float64 on (3, 2, 2) per rank: its gradient of the global loss
    L = sum over ranks of sum(c_r * y_r) against central differences of L."""
    from minigrad import distributed as dist

    rng = np.random.default_rng(10 + rank)
    x = mg.tensor(rng.standard_normal((3, 2, 2)) * 2 + 1, requires_grad=True)
    c = mg.tensor(rng.standard_normal((3, 2, 2)))
    layer = nn.SyncBatchNorm(2, track_running_stats=False, dtype=mg.float64)
    layer.weight.data[...] = [1.5, 0.7]
    layer.bias.data[...] = [0.2, -0.4]

    def global_loss() -> float:
        with mg.no_grad():
            total = (layer(x) * c).sum()
        dist.all_reduce(total)
        return total.item()

    (layer(x) * c).sum().backward()
    analytic = {"x": x.grad.numpy(), "weight": layer.weight.grad, "bias": layer.bias.grad}
    for name in ("weight", "bias"):
        dist.all_reduce(analytic[name])  # dL/dgamma: the sum of the ranks' own sums
        analytic[name] = analytic[name].numpy()
    worst, checked, h = 0.0, 0, 1e-6
    targets = [("x", owner, index) for owner in range(2) for index in np.ndindex(3, 2, 2)]
    targets += [(name, None, (j,)) for name in ("weight", "bias") for j in range(2)]
    for name, owner, index in targets:
        array = x.data if name == "x" else getattr(layer, name).data
        mine = owner is None or owner == rank
        differences = []
        for sign in (1, -1):
            if mine:
                array[index] += sign * h
            differences.append(global_loss())
            if mine:
                array[index] -= sign * h
        numeric = (differences[0] - differences[1]) / (2 * h)
        if mine:
            exact = analytic[name][index]
            worst = max(worst, abs(numeric - exact) / max(abs(exact), 1.0))
        checked += 1
    worst_total = mg.tensor([worst])
    dist.all_reduce(worst_total, op=dist.ReduceOp.MAX)
    return {"checked": checked, "max_relative_error": worst_total.item()}


def _collectives(rank: int, world_size: int) -> dict:
    from minigrad import distributed as dist
    from minigrad.nn.parallel import DistributedDataParallel as DDP

    def reduced(op, dtype=mg.float32):
        t = mg.tensor([rank + 1, 2 * rank + 2], dtype=dtype)
        dist.all_reduce(t, op=op)
        return t.tolist()

    ops = dist.ReduceOp
    got = {name.lower(): reduced(getattr(ops, name)) for name in ("SUM", "MAX", "MIN", "PRODUCT")}
    got["avg"] = reduced(ops.AVG)
    got["int64"] = [int(v) for v in reduced(ops.MIN, mg.int64)]
    matrix = mg.zeros(2, 3)
    view = matrix[0, ::2]  # a strided view: reduced through a contiguous copy
    view.data[...] = rank + 1
    dist.all_reduce(view)
    got["strided"] = matrix.tolist()
    scalar = mg.tensor(rank + 1.0)
    dist.all_reduce(scalar)
    got["scalar"] = scalar.item()
    source = mg.tensor([rank + 1.0, 2 * rank + 2])
    dist.broadcast(source, src=1)
    got["broadcast_from_1"] = source.tolist()
    ranks = mg.zeros(world_size)
    ranks.data[rank] = rank
    dist.all_reduce(ranks)
    got["ranks"] = [int(r) for r in ranks.tolist()]
    got["world_size"] = dist.get_world_size()
    mg.manual_seed(rank)  # different weights on each rank: DDP makes them rank 0's
    model = DDP(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)))
    mine = np.concatenate([v.ravel() for v in model.state_dict().values()]).astype(np.float64)
    everyone = mg.tensor(mine)
    dist.all_reduce(everyone, op=ops.AVG)
    got["ddp_broadcast"] = bool(np.array_equal(everyone.numpy(), mine))
    layer = DDP(nn.Linear(3, 1))
    x = mg.tensor([[rank + 1.0, 2.0, -1.0]])
    with layer.no_sync():  # accumulated locally, then averaged with the next backward
        layer(x).sum().backward()
    local = layer.module.weight.grad.numpy().copy()
    layer(x).sum().backward()
    mean = mg.tensor(2 * local)
    dist.all_reduce(mean, op=ops.AVG)
    got["no_sync"] = layer.module.weight.grad.tolist() == mean.tolist() != (2 * local).tolist()
    return got


def _raise_mid_run(rank: int, world_size: int) -> dict:
    from minigrad import distributed as dist

    t = mg.zeros(4)
    for step in range(10**9):
        if rank == 1 and step == 20:
            raise ValueError("rank 1 fails at step 20")
        dist.all_reduce(t)
    return {}


CHECKS = {"all": _all_checks, "raise": _raise_mid_run}


def main(check: str, out: str) -> None:
    from minigrad import distributed as dist

    dist.init_process_group("mpi")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    results = CHECKS[check](rank, world_size)
    if rank == 0:
        np.savez(Path(out) / f"{check}.npz", **results)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
