"""Atomic writes: the old file survives a failed write, no temporary file is left behind, a
killed writer's temporary is removed by the next write, and a full disk is one clear error."""

import errno
import os
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest

from minigrad import fileio


def test_write_replaces_the_file_with_umask_permissions(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("old")
    previous = os.umask(0o022)
    try:
        fileio.write_text(target, "new")
    finally:
        os.umask(previous)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "curves.png"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with fileio.atomic_path(target) as temp:
            assert temp.suffix == ".png" and temp.parent == tmp_path
            temp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def dead_pid() -> int:
    """The process id of a child that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_write_removes_the_targets_stale_temporaries_and_nothing_else(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    stale = [f".model.{dead_pid()}-0123abcd.tmp.npz", ".model.89abcdef.tmp.npz"]
    kept = [
        f".model.{os.getpid()}-0123abcd.tmp.npz",  # a live writer's (this process)
        f".model.ckpt.{dead_pid()}-0123abcd.tmp.npz",  # another target's: model.ckpt.npz
        f".other.{dead_pid()}-0123abcd.tmp.npz",
        ".model.89abcdef.tmp.npz.bak",
        "model.npz.tmp",
        "notes.txt",
    ]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x" * 1000)
    fileio.write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept + ["model.npz"])


def test_fsync_failure_raises_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "metrics.csv"
    target.write_text("old")

    def failing_fsync(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(fileio.os, "fsync", failing_fsync)
    with pytest.raises(fileio.AtomicWriteError) as error:
        fileio.write_text(target, "new")
    assert error.value.errno == errno.EIO
    assert f"cannot write {target}: flushing its new contents" in str(error.value)
    assert "Input/output error" in str(error.value)
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def fill_the_disk_on_write(temp):
    temp.write_bytes(b"x" * 3000)
    raise OSError(errno.ENOSPC, "No space left on device")


def fill_the_disk_on_fsync(monkeypatch):
    def failing_fsync(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", failing_fsync)


@pytest.mark.parametrize("failing", ["write", "fsync"])
def test_full_disk_names_the_target_and_the_bytes_needed_and_free(tmp_path, monkeypatch, failing):
    target = tmp_path / "checkpoint.npz"
    target.write_bytes(b"old")
    monkeypatch.setattr(fileio.shutil, "disk_usage", lambda folder: SimpleNamespace(free=1234))
    if failing == "fsync":
        fill_the_disk_on_fsync(monkeypatch)
    with pytest.raises(fileio.AtomicWriteError) as error:
        with fileio.atomic_path(target, expected_bytes=5_000_000) as temp:
            if failing == "write":
                fill_the_disk_on_write(temp)
            temp.write_bytes(b"y" * 10)
    message = str(error.value)
    assert error.value.errno == errno.ENOSPC and isinstance(error.value, OSError)
    assert f"cannot write {target}: no space left on the device" in message
    assert "needs about 5.0 MB (5,000,000 bytes), 1,234 bytes are free" in message
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]


def test_full_disk_without_a_size_reports_what_was_written(tmp_path):
    target = tmp_path / "curves.png"
    with pytest.raises(OSError, match=r"curves.png: .* needs more than the 3,000 bytes written"):
        with fileio.atomic_path(target) as temp:
            fill_the_disk_on_write(temp)
    assert list(tmp_path.iterdir()) == []
