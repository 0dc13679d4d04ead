"""experiment/, train.py's pieces on their own: the stopwatch, the configuration's fields, the
input tracker, the allocator tuning, and the library and data loading free of tqdm."""

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest

import train
from experiment.config import Config
from experiment.memory import retain_freed_host_memory
from experiment.stopwatch import Stopwatch
from experiment.tracking import InputTracker

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clock(monkeypatch) -> dict:
    """time.perf_counter as a clock that only the test moves."""
    now = {"seconds": 100.0}
    monkeypatch.setattr(time, "perf_counter", lambda: now["seconds"])
    return now


def test_stopwatch_counts_only_while_it_runs(clock):
    stopwatch = Stopwatch()
    clock["seconds"] += 5  # not started yet
    with stopwatch.running():
        clock["seconds"] += 2
        assert stopwatch.elapsed == 2
        with stopwatch.paused():
            clock["seconds"] += 30  # an evaluation
        clock["seconds"] += 1
    clock["seconds"] += 7  # stopped again
    assert stopwatch.elapsed == 3


def test_stopwatch_goes_on_from_a_saved_time_and_stops_on_an_exception(clock):
    stopwatch = Stopwatch(elapsed=10.0)
    with pytest.raises(RuntimeError), stopwatch.running():
        clock["seconds"] += 4
        raise RuntimeError("interrupted")
    clock["seconds"] += 50
    assert stopwatch.elapsed == 14


def test_stopwatch_paused_while_stopped_leaves_it_stopped(clock):
    stopwatch = Stopwatch()
    with stopwatch.paused():
        clock["seconds"] += 3
    clock["seconds"] += 3
    assert stopwatch.elapsed == 0


def test_config_has_one_field_per_option_in_the_order_of_help():
    options = [action.dest for action in train.build_parser()._actions if action.dest != "help"]
    assert [field.name for field in dataclasses.fields(Config)] == options


def test_config_is_frozen():
    config = train.parse_args([])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0


def test_track_inputs_needs_an_activation_module():
    from minigrad import nn

    with pytest.raises(ValueError, match="needs a model with a Sigmoid"):
        InputTracker(nn.Sequential(nn.Linear(2, 2)))


def test_retain_freed_host_memory_reports_whether_it_applied():
    import platform

    assert retain_freed_host_memory() == (platform.libc_ver()[0] == "glibc")


def test_the_library_and_loading_data_need_neither_tqdm_nor_matplotlib():
    """tqdm and matplotlib are the `train` extra's: every minigrad module, and datasets up to
    loading a split (but not downloading one), import without them."""
    code = """
import importlib, pkgutil, sys
sys.modules["tqdm"] = sys.modules["matplotlib"] = None  # importing them raises ImportError
import minigrad
for module in pkgutil.walk_packages(minigrad.__path__, "minigrad."):
    importlib.import_module(module.name)
import datasets, datasets.fetch
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
