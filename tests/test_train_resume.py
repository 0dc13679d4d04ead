"""train.py --resume: periodic checkpoints survive a SIGKILL and the resumed run equals an
uninterrupted one row for row; options that would change the experiment are refused, those
that may change are applied and said; a damaged config.json is named."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_train import run_args, run_outputs, use_step_clock

import minigrad
import train

TESTS = Path(__file__).parent

# bn trains 40 steps, then plain; plain's 18th step stalls, after the evaluations at steps 8
# and 16 and its periodic checkpoint at step 12: the log holds rows newer than the checkpoint
STALLING_RUN = """
import sys, time
from pathlib import Path
import train
from test_train import use_step_clock

use_step_clock()
stall_at, marker = int(sys.argv[1]), Path(sys.argv[2])
train_step, calls = train.Run.train_step, []

def stalling_step(self, images, labels):
    calls.append(1)
    if len(calls) == stall_at:
        marker.touch()
        time.sleep(600)
    return train_step(self, images, labels)

train.Run.train_step = stalling_step
sys.exit(train.main(sys.argv[3:]))
"""


def killed_run_args(data: Path, out: Path) -> list[str]:
    return [*run_args(data, out), "--steps", "40", "--eval-every", "8", "--checkpoint-every", "12"]


def test_resume_after_sigkill_continues_from_the_periodic_checkpoint(
    tiny_mnist, tmp_path, monkeypatch, capsys
):
    killed, marker = tmp_path / "killed", tmp_path / "stalled"
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(TESTS.parent), str(TESTS), environment.get("PYTHONPATH", "")]
    )
    command = [sys.executable, "-c", STALLING_RUN, str(40 + 18), str(marker)]
    process = subprocess.Popen(
        [*command, *killed_run_args(tiny_mnist, killed)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the run ended before it stalled"
            assert time.monotonic() < deadline, "the run never reached the stalling step"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert minigrad.load(killed / "plain.ckpt.npz")["progress"]["step"] == 12
    logged = [(row["variant"], row["step"]) for row in csv.DictReader(open(killed / "metrics.csv"))]
    assert ("plain", "16") in logged  # written after the checkpoint: the resume cuts it

    use_step_clock(monkeypatch.setattr)
    assert train.main(["--resume", str(killed)]) == 0
    assert f"resuming {killed}: bn finished at step 40, plain from step 12 of 40" in (
        capsys.readouterr().out
    )
    whole = tmp_path / "whole"
    assert train.main(killed_run_args(tiny_mnist, whole)) == 0
    assert run_outputs(killed) == run_outputs(whole)


@pytest.fixture
def twenty_step_run(tiny_mnist, tmp_path) -> Path:
    out = tmp_path / "run"
    assert train.main(run_args(tiny_mnist, out, "--bn", "on", "--steps", "20")) == 0
    return out


@pytest.mark.parametrize(
    "option, given, saved",
    [
        (["--model", "cnn"], "--model cnn", "--model bnpaper"),
        (["--lr", "0.1"], "--lr 0.1", "--lr 0.5"),
        (["--bn", "both"], "--bn both", "--bn on"),
        (["--no-track-inputs"], "--no-track-inputs", "--track-inputs"),
    ],
)
def test_resume_refuses_options_that_change_the_experiment(
    twenty_step_run, option, given, saved, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--resume", str(twenty_step_run), *option])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert f"{given} conflicts with the run being resumed, which has {saved}" in message
    assert str(twenty_step_run / "config.json") in message


def test_resume_extends_the_run_and_says_what_it_changed(twenty_step_run, capsys):
    argv = ["--resume", str(twenty_step_run), "--steps", "40", "--threads", "2"]
    assert train.main(argv) == 0
    output = capsys.readouterr().out
    assert "resume: applying --steps 40 (was --steps 20), --threads 2 (was 1)" in output
    assert "resuming" in output and "bn from step 20 of 40" in output
    summary = json.loads((twenty_step_run / "summary.json").read_text())
    assert summary["bn"]["steps"] == 40
    config = json.loads((twenty_step_run / "config.json").read_text())
    assert (config["steps"], config["threads"]) == (40, 2)


def test_resume_cannot_shorten_a_run(twenty_step_run, capsys):
    assert train.main(["--resume", str(twenty_step_run), "--steps", "10"]) == 2
    assert (
        "--steps 10 makes the run 10 steps long, but 'bn' has already trained 20"
        in capsys.readouterr().err
    )


def test_resume_cannot_extend_a_scheduled_run(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "cosine"
    argv = run_args(tiny_mnist, out, "--bn", "on", "--steps", "10", "--scheduler", "cosine")
    assert train.main(argv) == 0
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--resume", str(out), "--steps", "20"])
    assert exit_info.value.code == 2
    assert "--scheduler cosine was laid out over --steps 10" in capsys.readouterr().err


def test_resume_refuses_a_different_out(twenty_step_run, tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.main(["--resume", str(twenty_step_run), "--out", str(tmp_path / "elsewhere")])
    assert "a resumed run writes into its own directory" in capsys.readouterr().err


def test_resume_names_a_config_json_cut_short(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text('{"dataset": "mnist", "model": "bnp')
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--resume", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"cannot read the run's configuration {config}" in capsys.readouterr().err


def test_resume_names_options_it_does_not_know(twenty_step_run, capsys):
    config = twenty_step_run / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "dropout": 0.5}))
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--resume", str(twenty_step_run)])
    assert exit_info.value.code == 2
    assert f"{config} has options train.py does not know: ['dropout']" in capsys.readouterr().err
