"""train.py --device cuda end to end on the tiny MNIST: both models give the CPU run's figures,
a run interrupted by Ctrl-C or extended by --steps resumes to the uninterrupted run's figures
(on the GPU, or moved there from the CPU), and benchmarks.gpu_check's helpers run as
`make gpu-check` runs them, with tiny sizes.

On the CuPy stand-in both devices compute with NumPy, so the figures are equal to the last
digit; on a real GPU float32 kernels round differently, and the comparison allows for it.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_train import run_args, use_step_clock

import minigrad
import train
from benchmarks import gpu_check

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.filterwarnings("ignore::datasets.checksums.UnverifiedDataWarning"),  # tiny_mnist
]

STAND_IN = hasattr(sys.modules.get("cupy"), "_fake")
MODELS = ["bnpaper", "cnn"]


def figures(out: Path) -> dict:
    """What a run reports: its logged rows (inputs.csv too, for bnpaper) and its summary."""
    logs = {}
    for name in ("metrics.csv", "inputs.csv"):
        if (out / name).exists():
            logs[name] = list(csv.DictReader(open(out / name)))
    return {**logs, "summary": json.loads((out / "summary.json").read_text())}


def assert_same_figures(got: dict, expected: dict) -> None:
    """Equal on the stand-in; on a real GPU equal in everything but float32 rounding."""
    if STAND_IN:
        assert got == expected
        return
    assert got.keys() == expected.keys()
    for name in ("metrics.csv", "inputs.csv"):
        rows, expected_rows = got.get(name, []), expected.get(name, [])
        assert len(rows) == len(expected_rows)
        for row, expected_row in zip(rows, expected_rows):
            assert row.keys() == expected_row.keys()
            for column, value in row.items():
                if column in ("variant", "split", "step", "epoch", "unit"):
                    assert value == expected_row[column]
                else:  # an accuracy may differ by a sample or two
                    expected_value = float(expected_row[column])
                    assert float(value) == pytest.approx(expected_value, rel=2e-2, abs=1e-2)


def checkpoint_arrays(out: Path, variant: str) -> dict:
    return dict(minigrad.load(out / f"{variant}.ckpt.npz")["model"])


def gpu_args(data: Path, out: Path, model: str, *extra: str) -> list[str]:
    """A short run: 8 steps of 20 images, evaluated every 4; on one thread, so that the CPU
    run splits no op (sums split over threads round differently: by 2e-5 in the cnn's weights
    after 8 steps on 2 threads, though not in the logged figures)."""
    steps = ["--steps", "8", "--eval-every", "4", "--threads", "1"]
    return run_args(data, out, "--model", model, *steps, *extra)


def interrupt_at(monkeypatch, call: int):
    """A real SIGINT during the `call`-th training step; returns the train_step it wraps."""
    step, calls = train.Run.train_step, []

    def step_then_interrupt(self, images, labels):
        calls.append(1)
        if len(calls) == call:
            os.kill(os.getpid(), signal.SIGINT)
        return step(self, images, labels)

    monkeypatch.setattr(train.Run, "train_step", step_then_interrupt)
    return step


@pytest.mark.parametrize("model", MODELS)
def test_training_on_cuda_gives_the_cpu_runs_figures(model, tiny_mnist, tmp_path, monkeypatch):
    use_step_clock(monkeypatch.setattr)  # the timings too come out equal
    runs = {}
    for device in ("cpu", "cuda"):
        runs[device] = tmp_path / device
        assert train.main(gpu_args(tiny_mnist, runs[device], model, "--device", device)) == 0
    assert json.loads((runs["cuda"] / "config.json").read_text())["device"] == "cuda:0"
    cuda, cpu = figures(runs["cuda"]), figures(runs["cpu"])
    assert ("inputs.csv" in cuda) == (model == "bnpaper")  # only bnpaper tracks inputs
    tested_at = [row["step"] for row in cuda["metrics.csv"] if row["split"] == "test"]
    assert tested_at == ["0", "4", "8", "0", "4", "8"]  # bn, then plain
    assert_same_figures(cuda, cpu)
    for variant in ("bn", "plain"):
        on_cuda = checkpoint_arrays(runs["cuda"], variant)
        on_cpu = checkpoint_arrays(runs["cpu"], variant)
        assert on_cuda.keys() == on_cpu.keys()
        for name, array in on_cpu.items():
            tolerance = {"rtol": 0} if STAND_IN else {"rtol": 1e-3, "atol": 1e-4}
            np.testing.assert_allclose(on_cuda[name], array, **tolerance)


@pytest.mark.parametrize(
    "model, first_device, resumed_device",
    [("bnpaper", "cuda", "cuda"), ("cnn", "cuda", "cuda"), ("bnpaper", "cpu", "cuda")],
    ids=["bnpaper-cuda", "cnn-cuda", "bnpaper-cpu-then-cuda"],
)
def test_a_run_interrupted_by_ctrl_c_resumes_on_cuda_to_the_whole_runs_figures(
    model, first_device, resumed_device, tiny_mnist, tmp_path, monkeypatch, capsys
):
    use_step_clock(monkeypatch.setattr)
    whole = tmp_path / "whole"
    argv = gpu_args(tiny_mnist, whole, model, "--bn", "on", "--device", first_device)
    assert train.main(argv) == 0
    split = tmp_path / "split"
    step = interrupt_at(monkeypatch, 6)
    argv = gpu_args(tiny_mnist, split, model, "--bn", "on", "--device", first_device)
    assert train.main(argv) == 130
    monkeypatch.setattr(train.Run, "train_step", step)
    capsys.readouterr()
    assert train.main(["--resume", str(split), "--device", resumed_device]) == 0
    output = capsys.readouterr().out
    assert f"resuming {split}: bn from step 6 of 8" in output
    if first_device != resumed_device:
        assert f"--device {resumed_device} (was {first_device})" in output, output
    saved_device = json.loads((split / "config.json").read_text())["device"]
    assert saved_device == minigrad.backend.normalize_device(resumed_device)
    assert_same_figures(figures(split), figures(whole))


def test_a_cuda_run_extended_by_steps_gives_the_longer_runs_figures(
    tiny_mnist, tmp_path, monkeypatch, capsys
):
    use_step_clock(monkeypatch.setattr)
    longer, extended = tmp_path / "longer", tmp_path / "extended"
    on_cuda = ["--bn", "on", "--device", "cuda"]  # one variant: the rows come in one order
    assert train.main(gpu_args(tiny_mnist, longer, "bnpaper", *on_cuda)) == 0
    argv = gpu_args(tiny_mnist, extended, "bnpaper", *on_cuda, "--steps", "4")
    assert train.main(argv) == 0
    assert train.main(["--resume", str(extended), "--steps", "8"]) == 0
    assert "applying --steps 8 (was --steps 4)" in capsys.readouterr().out
    assert_same_figures(figures(extended), figures(longer))


# --- benchmarks.gpu_check ------------------------------------------------------------------

_draws = np.random.default_rng(0)
IMAGES = _draws.random((48, 1, 28, 28), dtype=np.float32)
LABELS = _draws.integers(0, 10, 48)


@pytest.fixture
def quick_timing(monkeypatch):
    """gpu_check's timings with blocks of one step and one warm-up step (the real
    median_seconds, so each block still ends in the device's sync)."""
    median_seconds = gpu_check.median_seconds

    def quick(step, repeats, inner, sync, warmup):
        return median_seconds(step, 1, inner=1, sync=sync, warmup=1)

    monkeypatch.setattr(gpu_check, "median_seconds", quick)


@pytest.mark.parametrize("model", gpu_check.MODELS)
def test_gpu_check_loss_curves_on_cuda_equal_the_cpus(model):
    cpu = gpu_check.loss_curve(model, "cpu", 3, IMAGES, LABELS, batch=16)
    cuda = gpu_check.loss_curve(model, "cuda", 3, IMAGES, LABELS, batch=16)
    assert len(cuda) == 3 and all(np.isfinite(cuda))
    np.testing.assert_allclose(cuda, cpu, rtol=0 if STAND_IN else 1e-3)  # gpu_check's bound


def test_gpu_check_compares_the_curves_of_both_models(capsys):
    assert gpu_check.compare_curves(2, IMAGES, LABELS)
    output = capsys.readouterr().out
    assert "== bnpaper: CPU vs GPU loss over 2 steps" in output and "== cnn:" in output
    assert "DISAGREE" not in output


@pytest.mark.parametrize("model", gpu_check.MODELS)
def test_gpu_check_times_a_step_and_waits_for_the_gpu(model):
    recording = sys.modules["cupy"]._fake.record() if STAND_IN else contextlib.nullcontext()
    with recording as timing:
        seconds = gpu_check.minigrad_step_seconds(model, "cuda", 16, IMAGES, LABELS, 1)
    assert seconds > 0
    if STAND_IN:
        assert len(timing.syncs) == 2  # after the warm-up, after the one timed block


def test_gpu_check_timing_table_has_a_row_per_model_and_batch(quick_timing, capsys):
    gpu_check.timing_table(IMAGES, LABELS, repeats=1)
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.startswith(tuple(gpu_check.MODELS))]
    assert [(row[0], row[1]) for row in rows] == [
        (model, batch) for model in gpu_check.MODELS for batch in ("60", "128", "1024")
    ]


def test_gpu_check_main_checks_tests_curves_and_timings(quick_timing, monkeypatch, capsys):
    commands = []

    def fake_pytest(command):  # the suite is what runs this test: no second run of it
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(gpu_check.subprocess, "run", fake_pytest)
    monkeypatch.setattr(gpu_check, "mnist_or_random", lambda count: (IMAGES, LABELS))
    monkeypatch.setattr(sys, "argv", ["gpu_check", "--steps", "2", "--repeats", "1"])
    assert gpu_check.main() == 0
    assert commands == [[sys.executable, "-m", "pytest", "tests", "-q", "-x"]]
    assert "tests passed; curves agree" in capsys.readouterr().out
