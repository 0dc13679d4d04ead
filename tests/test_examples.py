"""The scripts in examples/ run as their docstrings say (``python -m examples.<name>`` from the
checkout's root), on the tiny MNIST fixture, a batch or so per epoch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str, cwd: Path) -> str:
    """Run examples/<name>.py as a module on the CPU and return its output."""
    environment = {**os.environ, "MINIGRAD_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", f"examples.{name}", "--no-cuda", *args]
    result = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_mnist_cnn_trains_with_adadelta_and_decays_the_lr_each_epoch(tiny_mnist, tmp_path):
    output = run_example(
        "mnist_cnn", "--data", str(tiny_mnist), "--dry-run", "--epochs", "2", cwd=tmp_path
    )
    assert "Train epoch 1 [64/600] lr 1.0000" in output
    assert "Train epoch 2 [64/600] lr 0.7000" in output
    assert output.count("Test set: average loss") == 2 and "/200" in output


def test_bn_cnn_checkpoint_resumes_model_optimizer_and_schedule(tiny_mnist, tmp_path):
    checkpoint = tmp_path / "bn.npz"
    common = ["--data", str(tiny_mnist), "--dry-run", "--checkpoint", str(checkpoint)]
    first = run_example("bn_cnn_checkpoint", *common, "--epochs", "2", cwd=tmp_path)
    assert "epoch 2: test accuracy" in first
    saved = minigrad.load(checkpoint)
    assert saved["epoch"] == 2 and "1.running_mean" in saved["model"]
    resumed = run_example("bn_cnn_checkpoint", *common, "--epochs", "3", "--resume", cwd=tmp_path)
    assert f"resumed from {checkpoint} after epoch 2" in resumed
    assert "epoch 1 " not in resumed and "epoch 3: test accuracy" in resumed
    state = minigrad.load(checkpoint)
    assert state["epoch"] == 3 and state["scheduler"]["last_epoch"] == 3
    steps = {entry["step"] for entry in state["optimizer"]["state"].values()}
    assert steps == {3}  # one dry-run batch in each of the three epochs: Adam's state resumed


def test_custom_function_checks_its_gradients_and_trains(tmp_path):
    output = run_example("custom_function", "--steps", "60", "--log-interval", "30", cwd=tmp_path)
    assert "gradcheck LinearFunction: True" in output and "gradcheck MyReLU: True" in output
    losses = [float(line.split("loss ")[1].split(",")[0]) for line in output.splitlines()[2:]]
    assert len(losses) == 3 and losses[-1] < losses[0] / 2


@pytest.mark.parametrize("name", ["mnist_cnn", "bn_cnn_checkpoint", "custom_function"])
def test_examples_explain_their_options(name, tmp_path):
    assert "--dry-run" in run_example(name, "--help", cwd=tmp_path)
