"""train.py under `mpiexec -n 2`: the run equals a plain one-process run with the same global
batch (its logged figures and its checkpoint), rank 0 alone writes the outputs, the summary
says how batch norm ran, and --resume continues a 2-rank run. Skipped without mpi4py or
mpiexec."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_distributed_mpi import mpiexec

import minigrad as mg

ROOT = Path(__file__).resolve().parents[1]
STEPS = 20


def train(data: Path, out: Path, *extra: str, ranks: int = 1) -> str:
    pytest.importorskip("mpi4py", reason='needs mpi4py: pip install "minigrad[dist]"')
    if mpiexec() is None:
        pytest.skip('needs mpiexec: pip install "minigrad[dist]" (the mpich wheel)')
    command = [sys.executable, "train.py", "--data-dir", str(data), "--out", str(out)]
    command += ["--bn", "on", "--eval-every", "10", *extra]
    if ranks > 1:
        command = [mpiexec(), "-n", str(ranks), *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def weights(out: Path) -> dict:
    return {k: np.asarray(v) for k, v in mg.load(out / "bn.ckpt.npz")["model"].items()}


def figures(out: Path) -> tuple[list, np.ndarray]:
    """metrics.csv's rows: what each is (variant, step, epoch, split) and its loss, accuracy
    and lr (printed to 6 digits); the seconds differ."""
    rows = [line.split(",") for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    return [row[:4] for row in rows], np.array([[float(v) for v in row[4:7]] for row in rows])


def test_two_ranks_train_as_one_process_and_resume(tiny_mnist, tmp_path):
    """A 2-rank run of STEPS // 2 steps, resumed by 2 ranks to STEPS, against one process."""
    alone, together = tmp_path / "alone", tmp_path / "together"
    train(tiny_mnist, alone, "--steps", str(STEPS))
    train(tiny_mnist, together, "--steps", str(STEPS // 2), ranks=2)
    stdout = train(tiny_mnist, together, "--resume", str(together), "--steps", str(STEPS), ranks=2)

    assert stdout.count("outputs in") == 1  # rank 0 alone reports...
    assert "2 ranks (mpi), batch norm: synchronized over the global batch" in stdout
    assert sorted(p.name for p in together.iterdir()) == sorted(p.name for p in alone.iterdir())
    summary = json.loads((together / "summary.json").read_text())["bn"]
    assert summary["ranks"] == 2 and "(--sync-bn on)" in summary["batch_norm"]
    assert json.loads((together / "config.json").read_text())["sync_bn"] == "on"
    (rows, values), (want_rows, want_values) = figures(together), figures(alone)
    assert rows == want_rows
    np.testing.assert_allclose(values, want_values, rtol=1e-4)  # ...one process's figures
    want, got = weights(alone), weights(together)
    for key in want:
        assert np.abs(got[key] - want[key]).max() <= 2e-5 * np.abs(want[key]).max(), key
