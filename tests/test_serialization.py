"""minigrad.save / minigrad.load: round trips, atomic writes (failures, a full disk, a SIGKILL
mid-write), and clear errors for bad files."""

import contextlib
import errno
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad import nn, serialization
from minigrad.serialization import CheckpointError


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def _leftovers(directory):
    return [name for name in os.listdir(directory) if ".tmp" in name]


def test_round_trip_gives_identical_outputs(tmp_path):
    source = _model().eval()
    path = tmp_path / "model.npz"
    minigrad.save(source.state_dict(), path)
    target = _model().eval()
    target.load_state_dict(minigrad.load(path))
    x = minigrad.randn(5, 4)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())


def test_nested_checkpoint_keeps_structure_types_and_order(tmp_path):
    state = _model().state_dict()
    checkpoint = {
        "model": state,
        "optimizer": {"state": {0: {"momentum": np.arange(3.0)}}, "groups": [{"lr": 0.1}]},
        "step": 10,
        "name": "mlp",
        "best": None,
        "flags": (True, 2.5),
        "counter": np.int64(7),
        "tensor": minigrad.tensor([1, 2]),
    }
    path = tmp_path / "checkpoint.npz"
    minigrad.save(checkpoint, path)
    loaded = minigrad.load(path)
    assert list(loaded) == list(checkpoint)
    assert list(loaded["model"]) == list(state)
    for name, value in state.items():
        assert loaded["model"][name].dtype == value.dtype
        np.testing.assert_array_equal(loaded["model"][name], value)
    assert list(loaded["optimizer"]["state"]) == [0]  # int keys stay ints
    np.testing.assert_array_equal(loaded["optimizer"]["state"][0]["momentum"], [0, 1, 2])
    assert loaded["optimizer"]["groups"] == [{"lr": 0.1}]
    assert (loaded["step"], loaded["name"], loaded["best"]) == (10, "mlp", None)
    assert loaded["flags"] == (True, 2.5)
    assert loaded["counter"] == 7 and isinstance(loaded["counter"], np.int64)
    assert isinstance(loaded["tensor"], minigrad.Tensor)
    assert loaded["tensor"].tolist() == [1, 2]


def test_array_members_are_named_by_path_and_never_pickled(tmp_path):
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"model": _model().state_dict(), "step": 3}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files and "model/3.bias" in archive.files


def test_keys_containing_the_separator_cannot_clash(tmp_path):
    path = tmp_path / "clash.npz"
    minigrad.save({"a/b": np.zeros(1), "a": {"b": np.ones(1)}}, path)
    loaded = minigrad.load(path)
    assert loaded["a/b"][0] == 0 and loaded["a"]["b"][0] == 1


def test_save_writes_exactly_the_given_path(tmp_path):
    path = tmp_path / "checkpoint.bin"
    minigrad.save({"x": np.zeros(2)}, str(path))
    assert os.listdir(tmp_path) == ["checkpoint.bin"]


def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"step": 1, "w": np.zeros(3)}, path)
    old_bytes = path.read_bytes()

    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.numpy, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        minigrad.save({"step": 2, "w": np.ones(3)}, path)
    assert path.read_bytes() == old_bytes
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()
    assert minigrad.load(path)["step"] == 1


def test_failure_at_rename_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"step": 1}, path)

    def failing_replace(source, destination):
        raise OSError("rename failed")

    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        minigrad.save({"step": 2}, path)
    monkeypatch.undo()
    assert minigrad.load(path)["step"] == 1
    assert _leftovers(tmp_path) == []


def test_save_on_a_full_disk_names_the_file_and_the_space_needed(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"step": 1}, path)
    old_bytes = path.read_bytes()

    def full_disk_savez(file, **arrays):
        file.write(b"PK\x03\x04 the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serialization.numpy, "savez", full_disk_savez)
    with pytest.raises(OSError) as error:
        minigrad.save({"step": 2, "w": np.zeros(250_000)}, path)  # 2 MB of weights
    message = str(error.value)
    assert error.value.errno == errno.ENOSPC
    assert f"cannot write {path}: no space left on the device" in message
    assert re.search(r"needs about 2\.0 MB \(2,000,\d{3} bytes\), .* are free in ", message)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert _leftovers(tmp_path) == []


KEEPS_SAVING = """
import sys
import numpy as np
import minigrad

weights = np.arange(5_000_000, dtype=np.float64)  # 40 MB, so a kill lands mid-write
for step in range(1_000_000):
    minigrad.save({"step": step, "weights": weights}, sys.argv[1])
"""


def _temporary_sizes(directory):
    sizes = []
    for name in _leftovers(directory):
        with contextlib.suppress(FileNotFoundError):  # renamed meanwhile
            sizes.append((directory / name).stat().st_size)
    return sizes


def _kill_while_writing(path):
    """Start a process that saves to `path` over and over; SIGKILL it while it writes."""
    repo = Path(__file__).resolve().parents[1]
    writer = subprocess.Popen([sys.executable, "-c", KEEPS_SAVING, str(path)], cwd=repo)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and writer.poll() is None:
            if any(size > 0 for size in _temporary_sizes(path.parent)):
                break
            time.sleep(0.001)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL


def test_save_killed_mid_write_leaves_a_whole_file_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"step": -1, "weights": np.arange(5_000_000, dtype=np.float64)}, path)
    for _ in range(2):
        _kill_while_writing(path)
    assert len(_leftovers(tmp_path)) >= 1  # what a kill leaves until the next save
    checkpoint = minigrad.load(path)  # the old file or one complete new one
    assert checkpoint["step"] >= -1
    np.testing.assert_array_equal(checkpoint["weights"], np.arange(5_000_000))
    minigrad.save({"step": 100}, path)
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    assert minigrad.load(path) == {"step": 100}


def test_unsupported_values_are_rejected_before_anything_is_written(tmp_path):
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(TypeError, match="cannot store a Sequential at the top level.*state_dict"):
        minigrad.save(_model(), path)
    with pytest.raises(TypeError, match="cannot store a set at 'extra'"):
        minigrad.save({"extra": {1, 2}}, path)
    with pytest.raises(TypeError, match="needs pickling"):
        minigrad.save({"objects": np.array([object()])}, path)
    assert os.listdir(tmp_path) == []


def test_load_of_a_text_file_names_the_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"checkpoint.npz is not a minigrad checkpoint"):
        minigrad.load(path)


def test_load_of_a_plain_numpy_npz_explains_what_is_missing(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.zeros(2))
    with pytest.raises(CheckpointError, match="plain.npz is not a minigrad checkpoint.*savez"):
        minigrad.load(path)


def test_load_of_a_truncated_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    minigrad.save(_model().state_dict(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="checkpoint.npz is not a minigrad checkpoint"):
        minigrad.load(path)


def test_load_rejects_an_unknown_format_version(tmp_path):
    path = tmp_path / "future.npz"
    metadata = b'{"format": "minigrad-checkpoint", "version": 99, "tree": {"value": 1}}'
    np.savez(path, __minigrad__=np.frombuffer(metadata, dtype=np.uint8))
    with pytest.raises(CheckpointError, match="format version 99, expected 1"):
        minigrad.load(path)


def test_load_of_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        minigrad.load(tmp_path / "missing.npz")


def test_checkpoint_is_a_valid_zip_of_npy_members(tmp_path):
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"w": np.zeros(2)}, path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["__minigrad__.npy", "w.npy"]


def test_training_resumed_from_a_checkpoint_continues_identically(tmp_path):
    from minigrad import optim
    from minigrad.nn import functional as F

    x, y = minigrad.randn(6, 4), minigrad.tensor([0, 1, 2, 0, 1, 2])

    def fresh():
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        return model, optim.Adam(model.parameters(), lr=0.01)

    def train_step(model, optimizer):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    model, optimizer = fresh()
    for _ in range(3):
        train_step(model, optimizer)
    path = tmp_path / "resume.npz"
    minigrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    expected = [train_step(model, optimizer) for _ in range(3)]

    resumed, resumed_optimizer = fresh()
    checkpoint = minigrad.load(path)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    assert [train_step(resumed, resumed_optimizer) for _ in range(3)] == expected


def test_load_accepts_torch_loads_keywords(tmp_path):
    path = tmp_path / "ckpt.npz"
    minigrad.save({"w": minigrad.tensor([1.0, 2.0])}, path)
    loaded = minigrad.load(path, map_location="cpu", weights_only=True)
    assert loaded["w"].device == "cpu" and loaded["w"].tolist() == [1.0, 2.0]
    assert minigrad.load(path, weights_only=False)["w"].tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="map_location must be a device name"):
        minigrad.load(path, map_location={"cuda:0": "cpu"})
