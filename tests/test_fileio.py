"""Atomic writes: the old file survives a failed write, no temporary file is left behind."""

import os
import stat

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
