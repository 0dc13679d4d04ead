"""train.py at the edges of its outputs and data: a full disk at the final checkpoint, an
--out that cannot hold a run, a batch larger than the training set, a training subset, a run
without pictures."""

import errno
import os

import numpy
import pytest
from test_train import run_args

import minigrad
import train


def test_disk_full_at_the_final_checkpoint_is_one_clear_error(
    tiny_mnist, tmp_path, monkeypatch, capsys
):
    savez = numpy.savez
    saves = []

    def savez_fails_on_the_final_checkpoint(file, *args, **arrays):
        saves.append(file)
        if len(saves) == 3:  # after the periodic checkpoints at steps 10 and 20
            file.write(b"PK\x03\x04 half an archive")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return savez(file, *args, **arrays)

    monkeypatch.setattr(numpy, "savez", savez_fails_on_the_final_checkpoint)
    out = tmp_path / "run"
    assert train.main(run_args(tiny_mnist, out, "--bn", "on")) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (message,) = [line for line in err.splitlines() if line.startswith("error: ")]
    assert str(out / "bn.ckpt.npz") in message and "No space left on device" in message
    assert f"continue with: python train.py --resume {out}" in message
    assert minigrad.load(out / "bn.ckpt.npz")["progress"]["step"] == 20
    assert not [path.name for path in out.iterdir() if path.name.startswith(".")]  # temporaries
    assert not (out / "summary.json").exists()


def test_out_that_is_a_file_is_an_argument_error(tiny_mnist, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    assert train.main(run_args(tiny_mnist, taken)) == 2
    assert f"error: --out {taken} is a file, not a directory" in capsys.readouterr().err
    assert train.main(run_args(tiny_mnist, taken / "run")) == 2
    assert f"error: --out {taken / 'run'}: cannot create the directory" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_out_that_cannot_be_written_is_an_argument_error(tiny_mnist, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert train.main(run_args(tiny_mnist, locked)) == 2
    assert f"error: --out {locked}: cannot write into the directory" in capsys.readouterr().err


@pytest.mark.parametrize("length", [["--steps", "5"], ["--epochs", "1"]])
def test_batch_larger_than_the_training_set_is_an_argument_error(
    tiny_mnist, tmp_path, length, capsys
):
    out = tmp_path / "run"
    argv = ["--data-dir", str(tiny_mnist), "--out", str(out), "--batch-size", "1000", *length]
    assert train.main(argv) == 2
    assert "--batch-size 1000 is larger than the mnist training set (600 samples)" in (
        capsys.readouterr().err
    )


def test_train_samples_trains_on_the_first_n_samples_only(tiny_mnist, tmp_path, monkeypatch):
    import datasets

    seen = []
    run_init = train.Run.__init__

    def record_data(self, config, variant, data, out, logs):
        seen.append(data[0])
        run_init(self, config, variant, data, out, logs)

    monkeypatch.setattr(train.Run, "__init__", record_data)
    out = tmp_path / "run"
    argv = run_args(tiny_mnist, out, "--bn", "on", "--train-samples", "100", "--steps", "5")
    assert train.main(argv) == 0
    images, _ = datasets.load("mnist", "train", root=tiny_mnist)
    numpy.testing.assert_array_equal(seen[0], images[:100])


def test_train_samples_beyond_the_training_set_is_an_argument_error(tiny_mnist, tmp_path, capsys):
    assert train.main(run_args(tiny_mnist, tmp_path / "run", "--train-samples", "601")) == 2
    assert "--train-samples 601 is more than the mnist training set holds (600 samples)" in (
        capsys.readouterr().err
    )


def test_no_plots_draws_no_pictures(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(run_args(tiny_mnist, out, "--no-plots")) == 0
    names = {path.name for path in out.iterdir()}
    assert "summary.json" in names and not {"curves.png", "inputs.png"} & names
    assert "matplotlib is not installed" not in capsys.readouterr().out


def test_make_train_installs_the_extra_that_draws_the_pictures():
    """`make train` on a fresh machine writes curves.png and inputs.png: a target it depends on
    installs the `train` extra, which brings matplotlib."""
    import configparser
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text()
    rules = re.findall(r"^([\w-]+):([^#\n]*).*\n((?:\t.*\n)*)", makefile, flags=re.MULTILINE)
    needs = {name: prerequisites.split() for name, prerequisites, _ in rules}
    recipes = {name: recipe for name, _, recipe in rules}
    targets, extras = ["train"], set()
    while targets:
        target = targets.pop()
        targets += needs.get(target, [])
        for found in re.findall(r'-e "\.\[([\w,-]+)\]"', recipes.get(target, "")):
            extras.update(found.split(","))
    assert "train" in extras
    setup = configparser.ConfigParser()
    setup.read(root / "setup.cfg")
    assert "matplotlib" in setup["options.extras_require"]["train"]
