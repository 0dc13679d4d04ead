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


# --- the pictures, read back through matplotlib's objects ---------------------------------


def metric_rows() -> list[dict]:
    rows = []
    for variant, accuracies in (("bn", [0.1, 0.9, 0.97]), ("plain", [0.1, 0.5, 0.95])):
        for step, accuracy in zip((0, 250, 500), accuracies):
            rows.append({"variant": variant, "step": step, "split": "test", "accuracy": accuracy})
            if step:
                rows.append({"variant": variant, "step": step, "split": "train", "loss": 1 / step})
    return rows


def input_rows() -> list[dict]:
    return [
        {
            "variant": variant,
            "step": step,
            "unit": unit,
            "p15": -1 - unit,
            "p50": step / 100,
            "p85": 1 + unit,
        }  # fmt: skip
        for variant in ("bn", "plain")
        for unit in (0, 1, 2)
        for step in (0, 250, 500)
    ]


def test_curves_show_test_error_in_percent_on_a_log_axis_with_markers_and_a_caption():
    from experiment import plots

    caption = plots.caption(train.parse_args([]))
    figure = plots.curves_figure(metric_rows(), caption)
    error_axes, loss_axes = figure.axes
    assert error_axes.get_yscale() == "log" and loss_axes.get_yscale() == "log"
    bn, plain = error_axes.get_lines()[:2]
    assert bn.get_label() == "with batch norm" and plain.get_label() == "without batch norm"
    assert list(bn.get_ydata()) == pytest.approx([90.0, 10.0, 3.0])  # percent, not a fraction
    assert bn.get_marker() == "o" and loss_axes.get_lines()[0].get_marker() == "o"
    figure.canvas.draw()
    labels = [label.get_text() for label in error_axes.get_yticklabels() if label.get_text()]
    assert labels and all(text.endswith("%") for text in labels)
    dotted = [line for line in error_axes.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_ydata()[0] for line in dotted) == pytest.approx([2, 3, 5, 10])
    (text,) = figure.texts
    assert "\n" not in caption
    for part in (
        "bnpaper on mnist",
        "SGD lr 0.5",
        "batch 60, 10,000 steps",
        "N(0, 0.1²)",
        "seed 0",
    ):
        assert part in text.get_text().replace("\n", " ")
    plots.pyplot().close(figure)


def test_inputs_show_every_tracked_unit_with_a_shaded_percentile_band():
    from matplotlib.collections import PolyCollection

    from experiment import plots

    figure = plots.inputs_figure(input_rows(), "a caption")
    assert len(figure.axes) == 6  # 3 units x 2 variants
    titles = [axes.get_title() for axes in figure.axes]
    for unit in (0, 1, 2):
        assert f"with batch norm: unit {unit}" in titles
        assert f"without batch norm: unit {unit}" in titles
    for axes in figure.axes:
        unit = int(axes.get_title()[-1])
        (band,) = [c for c in axes.collections if isinstance(c, PolyCollection)]
        heights = band.get_paths()[0].vertices[:, 1]
        assert heights.min() == pytest.approx(-1 - unit) and heights.max() == pytest.approx(
            1 + unit
        )
        (median,) = [line for line in axes.get_lines() if line.get_label() == "median"]
        assert list(median.get_ydata()) == [0.0, 2.5, 5.0] and median.get_marker() == "o"
    assert any(text.get_text() == "a caption" for text in figure.texts)
    plots.pyplot().close(figure)


def test_caption_names_the_options_that_differ_from_the_plain_run():
    from experiment import plots

    config = train.parse_args(
        ["--model", "mlp", "--init", "0.05", "--hidden-dropout", "0.5", "--train-samples", "5000"]
    )
    text = plots.caption(config)
    for part in ("first 5,000 training samples", "momentum 0.9", "N(0, 0.05²)", "dropout 0.5"):
        assert part in text
    assert "PyTorch's default init" in plots.caption(train.parse_args(["--model", "mlp"]))


def test_the_studies_run_without_matplotlib_and_draw_no_picture():
    """matplotlib only draws: without it the studies still import (and write their tables)."""
    code = """
import sys
sys.modules["matplotlib"] = None
import experiment.study
from experiment import plots
assert plots.pyplot() is None
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
