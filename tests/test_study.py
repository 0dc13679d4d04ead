"""The batch-norm studies (experiment/study.py): every study on a tiny grid of a few steps on
real MNIST writes its cells, table and picture, and a re-run reuses the finished cells; a cell
is run again when its options change or it never finished; the train.py options the studies
need (--init, --hidden-dropout)."""

import json
import os
from pathlib import Path

import pytest

import train
from experiment import cells, study, study_plots
from experiment.cells import Cell, format_accuracy, format_divergence, format_steps, run_cell
from experiment.studies import STUDIES
from minigrad import nn

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def real_mnist():
    """Real MNIST (fetched by `make data`); skipped where it is missing, except on CI."""
    import datasets

    try:
        datasets.load("mnist", "test", download=True)
    except datasets.DatasetNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real MNIST not available: {error}")


def run_tiny_study(name: str, out: Path, grid: str, steps: int = 6) -> list[dict]:
    """A study of one seed on `grid`, then the results its cells wrote."""
    argv = [name, "--steps", str(steps), "--seeds", "1", "--grid", grid, "--out", str(out)]
    assert study.main(argv) == 0
    folder = out / name
    assert (folder / f"{name}.png").read_bytes().startswith(PNG_MAGIC)
    return [json.loads(path.read_text()) for path in sorted(folder.glob("cells/*/result.json"))]


def table_rows(path: Path) -> list[list[str]]:
    """The cells of the markdown table in `path`: header first, the separator left out."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    header, separator, *rows = lines
    assert set(separator) <= {"|", "-"}
    cells_of = [[cell.strip() for cell in line.strip("|").split("|")] for line in [header, *rows]]
    assert len({len(row) for row in cells_of}) == 1, "every row has the header's columns"
    return cells_of


def assert_well_formed(result: dict, steps: int) -> None:
    assert result["exit_status"] == 0
    assert result["summary"]["steps"] == steps
    curve = result["test_curve"]
    assert curve[0][0] == 0 and curve[-1][0] == steps
    assert all(0 <= accuracy <= 1 and loss > 0 for _, accuracy, loss in curve)
    assert result["seconds"] > 0


@pytest.mark.slow
def test_lr_study_writes_cells_table_and_picture_then_reuses_them(
    real_mnist, tmp_path, monkeypatch, capsys
):
    results = run_tiny_study("lr", tmp_path, "0.5,2")
    assert [(r["cell"]["setting"], r["cell"]["variant"]) for r in results] == [
        ("0.5", "bn"),
        ("0.5", "plain"),
        ("2", "bn"),
        ("2", "plain"),
    ]
    for result in results:
        assert_well_formed(result, 6)
    header, *rows = table_rows(tmp_path / "lr" / "table.md")
    assert header[:3] == ["lr", "variant", "steps to 90%"]
    assert [row[:2] for row in rows] == [
        ["0.5", "bn"],
        ["0.5", "plain"],
        ["2", "bn"],
        ["2", "plain"],
    ]
    final = results[0]["summary"]["final_test_accuracy"]
    assert rows[0][header.index("final test accuracy")] == f"{100 * final:.2f}%"
    capsys.readouterr()

    def no_training(argv):
        raise AssertionError(f"a finished cell was trained again: {argv}")

    monkeypatch.setattr(train, "main", no_training)
    assert (
        study.main(
            ["lr", "--steps", "6", "--seeds", "1", "--grid", "0.5,2", "--out", str(tmp_path)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("(reused)") == 4 and "4 reused" in out
    assert "4 runs (4 reused)" in (tmp_path / "lr" / "table.md").read_text()


@pytest.mark.slow
def test_init_study_runs_pytorchs_default_init(real_mnist, tmp_path):
    results = run_tiny_study("init", tmp_path, "pytorch")
    assert [r["cell"]["variant"] for r in results] == ["bn", "plain"]
    for result in results:
        assert_well_formed(result, 6)
        folder = tmp_path / "init" / "cells" / Cell(**{**result["cell"], "options": ()}).name
        assert json.loads((folder / "config.json").read_text())["init"] == "pytorch"
    header, *rows = table_rows(tmp_path / "init" / "table.md")
    assert header[0] == "init std" and [row[0] for row in rows] == ["pytorch", "pytorch"]


@pytest.mark.slow
def test_regularization_study_measures_the_train_test_gap(real_mnist, tmp_path):
    results = run_tiny_study("reg", tmp_path, "plain,dropout", steps=4)
    by_variant = {r["cell"]["variant"]: r for r in results}
    assert set(by_variant) == {"plain", "dropout"}
    for result in results:
        assert_well_formed(result, 4)
        fit = result["measures"]
        assert set(fit) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
        assert 0 <= fit["train_accuracy"] <= 1
        assert fit["test_accuracy"] == result["summary"]["final_test_accuracy"]
    config = json.loads((tmp_path / "reg/cells/dropout-dropout-seed0/config.json").read_text())
    assert (config["model"], config["hidden_dropout"], config["train_samples"]) == (
        "mlp",
        0.5,
        5000,
    )
    header, *rows = table_rows(tmp_path / "reg" / "table.md")
    assert "gap (train - test)" in header and [row[0] for row in rows] == ["plain", "dropout"]
    assert rows[0][header.index("gap (train - test)")].endswith("pt")


@pytest.mark.slow
def test_batch_study_sees_the_same_samples_and_compares_bn_statistics(real_mnist, tmp_path):
    results = run_tiny_study("batch", tmp_path, "16,60", steps=4)
    steps = {(r["cell"]["setting"], r["cell"]["variant"]): r["summary"]["steps"] for r in results}
    assert steps == {("16", "bn"): 15, ("16", "plain"): 15, ("60", "bn"): 4, ("60", "plain"): 4}
    for result in results:
        measures = result["measures"]
        if result["cell"]["bn"]:
            assert set(measures) == {"running", "batch", "population"}
            assert measures["running"] == result["summary"]["final_test_accuracy"]
            assert all(0 <= value <= 1 for value in measures.values())
        else:
            assert measures == {}
    header, *rows = table_rows(tmp_path / "batch" / "table.md")
    assert [row[:3] for row in rows] == [["16", "0.1333", "15"], ["60", "0.5", "4"]]


# --- cells on the tiny fake MNIST: reuse and re-runs -----------------------------------------


def tiny_cell(data: Path, steps: int = 4) -> Cell:
    options = ("--data-dir", str(data), "--steps", str(steps), "--eval-every", "2")
    return Cell("0.5", "bn", True, 0, ("--batch-size", "20", "--no-track-inputs", *options))


def test_a_cell_is_run_again_when_its_options_change(tiny_mnist, tmp_path):
    folder = tmp_path / "cell"
    first = run_cell(tiny_cell(tiny_mnist), folder, None)
    assert not first["reused"] and first["summary"]["steps"] == 4
    assert run_cell(tiny_cell(tiny_mnist), folder, None)["reused"]
    longer = run_cell(tiny_cell(tiny_mnist, steps=6), folder, None)
    assert not longer["reused"] and longer["summary"]["steps"] == 6


def test_a_cell_that_never_finished_is_run_again_from_scratch(tiny_mnist, tmp_path):
    folder = tmp_path / "cell"
    folder.mkdir()
    (folder / "bn.ckpt.npz").write_bytes(b"left by an interrupted run")
    (folder / cells.RESULT_FILE).write_text("{ cut short")
    result = run_cell(tiny_cell(tiny_mnist), folder, lambda cell, where: {"measured": cell.seed})
    assert not result["reused"] and result["measures"] == {"measured": 0}
    assert json.loads((folder / cells.RESULT_FILE).read_text())["measures"] == {"measured": 0}
    assert not (folder / "curves.png").exists()  # the cells draw no pictures of their own


def test_a_failed_cell_stops_the_study_with_its_log(tiny_mnist, tmp_path):
    cell = Cell("x", "bn", True, 0, ("--data-dir", str(tiny_mnist), "--batch-size", "1000"))
    with pytest.raises(cells.CellFailed, match=r"exited with status 2; see .*log.txt"):
        run_cell(cell, tmp_path / "cell", None)
    assert "is larger than the mnist training set" in (tmp_path / "cell" / "log.txt").read_text()
    assert not (tmp_path / "cell" / cells.RESULT_FILE).exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reg", "--grid", "plain,batchnorm"], "unknown variant(s) batchnorm"),
        (["all", "--grid", "0.5"], "--grid needs one study"),
        (["lr", "--seeds", "0"], "--seeds must be a positive integer"),
        (["sizes"], "invalid choice"),
    ],
)
def test_bad_study_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        study.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_every_study_builds_its_grid_with_the_same_options_per_seed():
    for name, definition in STUDIES.items():
        grid = definition.cells(definition, definition.settings, definition.steps, 2)
        assert len(grid) == len({cell.name for cell in grid}), name
        for cell in grid:
            if cell.seed == 1:
                twin = next(c for c in grid if c.name == cell.name.replace("seed1", "seed0"))
                assert twin.options == cell.options
            train.parse_args(cell.argv(Path("/tmp/unused")))  # train.py accepts every cell
    batch = STUDIES["batch"]
    for cell in batch.cells(batch, batch.settings, 2000, 1):  # 120,000 samples, to a batch
        samples = int(cell.setting) * int(cell.options[cell.options.index("--steps") + 1])
        assert 120_000 - int(cell.setting) < samples <= 120_000


def test_the_spread_over_seeds_is_written_as_median_range_and_count():
    assert format_steps([2250, 2000, 2500]) == "2,250 (2,000-2,500)"
    assert format_steps([500, 500]) == "500"
    assert format_steps([3000, None, 2000]) == "2,000 (2,000-3,000, 2 of 3 seeds)"
    assert format_steps([None, None]) == "never"
    assert format_steps([15, 30], scale=4) == "60 (60-120)"
    assert format_accuracy([0.9761, 0.9748, 0.9775]) == "97.61% (97.48-97.75)"
    assert format_accuracy([0.5, None]) == "50.00% (1 of 2 seeds)"
    summaries = [{"summary": {"diverged_at_step": step}} for step in (50, None, 100)]
    assert format_divergence(summaries) == "2 of 3 seeds, at steps 50-100"
    assert format_divergence(summaries[1:2]) == "-"


def test_convergence_picture_has_a_panel_per_grid_value_and_marks_divergence():
    def result(setting, variant, seed, curve, diverged=None):
        final = None if diverged else curve[-1][1]
        return {
            "cell": {"setting": setting, "variant": variant, "seed": seed, "bn": variant == "bn"},
            "summary": {"final_test_accuracy": final, "diverged_at_step": diverged},
            "test_curve": curve,
        }

    good = [[0, 0.1, 2.3], [10, 0.9, 0.3], [20, 0.96, 0.1]]
    results = [
        result("0.5", "bn", 0, good),
        result("0.5", "plain", 0, good[:2] + [[20, 0.91, 0.3]]),
        result("10", "bn", 0, good),
        result("10", "plain", 0, good[:2], diverged=15),
    ]
    figure = study_plots.convergence_figure(STUDIES["lr"], results, "a caption")
    visible = [axes for axes in figure.axes if axes.get_visible()]
    assert [axes.get_title() for axes in visible[:2]] == ["lr 0.5", "lr 10"]
    assert all(axes.get_yscale() == "log" for axes in visible[:3])
    crosses = [line for line in visible[1].get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [10]
    assert any("a caption" in text.get_text() for text in figure.texts)
    study_plots.pyplot().close(figure)


def fake_result(setting, variant, bn, curve, measures):
    return {
        "cell": {"setting": setting, "variant": variant, "seed": 0, "bn": bn},
        "summary": {"final_test_accuracy": curve[-1][1], "diverged_at_step": None},
        "test_curve": curve,
        "measures": measures,
    }


def test_batch_picture_draws_each_kind_of_statistics_against_the_batch_size():
    curve = [[0, 0.1, 2.3], [10, 0.9, 0.3]]
    kinds = {"running": 0.9, "batch": 0.8, "population": 0.95}
    results = [
        fake_result(batch, variant, variant == "bn", curve, kinds if variant == "bn" else {})
        for batch in ("4", "60")
        for variant in ("bn", "plain")
    ]
    figure = study_plots.batch_figure(STUDIES["batch"], results, "a caption")
    final_axes, bn_axes, plain_axes = figure.axes
    assert final_axes.get_xscale() == "log" and final_axes.get_yscale() == "log"
    labels = [bars.get_label() for bars in final_axes.containers]  # one errorbar per kind
    assert labels == ["without BN", *(label for _, label, _, _ in study_plots.BATCH_KINDS)]
    running = final_axes.containers[1].lines[0]
    assert list(running.get_xdata()) == [4, 60]
    assert list(running.get_ydata()) == pytest.approx([10.0, 10.0])  # test error in percent
    samples = [
        list(line.get_xdata()) for line in bn_axes.get_lines() if "batch" in line.get_label()
    ]
    assert samples == [[0, 40], [0, 600]]  # steps x batch size
    study_plots.pyplot().close(figure)


def test_regularization_picture_shows_train_and_test_accuracy_of_each_variant():
    curve = [[0, 0.1, 2.3], [10, 0.9, 0.4]]
    fit = {"train_accuracy": 1.0, "test_accuracy": 0.9, "train_loss": 0.01, "test_loss": 0.4}
    results = [fake_result(v, v, "bn" in v, curve, fit) for v in ("plain", "bn", "dropout")]
    figure = study_plots.regularization_figure(STUDIES["reg"], results)
    error_axes, loss_axes, gap_axes = figure.axes
    assert error_axes.get_yscale() == "log"
    assert [bar.get_height() for bar in gap_axes.patches] == pytest.approx([100, 90] * 3)
    ticks = [label.get_text() for label in gap_axes.get_xticklabels()]
    assert ticks == ["without BN", "with BN", "dropout 0.5"]
    study_plots.pyplot().close(figure)


# --- the train.py options the studies need ---------------------------------------------------


def built_model(argv: list[str]) -> nn.Module:
    config = train.parse_args(argv)
    return train.make_model(config, "plain", (1, 28, 28))


def test_init_option_sets_the_weight_std_or_pytorchs_init():
    import numpy as np

    def first_weight(argv):
        return built_model(argv)[1].weight.data

    assert abs(float(np.std(first_weight([]))) - 0.1) < 0.005  # bnpaper's own
    assert abs(float(np.std(first_weight(["--init", "0.05"]))) - 0.05) < 0.003
    pytorch = first_weight(["--init", "pytorch"])  # Kaiming-uniform: |w| <= 1 / sqrt(784)
    assert float(np.abs(pytorch).max()) <= 1 / 28 and float(np.std(pytorch)) < 0.03
    assert train.parse_args(["--model", "mlp"]).init == "pytorch"
    assert train.parse_args(["--model", "cnn"]).init is None


def test_hidden_dropout_follows_each_hidden_activation():
    model = built_model(["--hidden-dropout", "0.3"])
    kinds = [type(module).__name__ for module in model]
    assert kinds == ["Flatten"] + ["Linear", "Sigmoid", "Dropout"] * 3 + ["Linear"]
    assert {module.p for module in model if isinstance(module, nn.Dropout)} == {0.3}
    assert not any(isinstance(module, nn.Dropout) for module in built_model([]))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--init", "-0.1"], "expected a positive number or 'pytorch', got '-0.1'"),
        (["--init", "kaiming"], "expected a positive number or 'pytorch', got 'kaiming'"),
        (["--init", "inf"], "expected a positive number or 'pytorch'"),
        (["--hidden-dropout", "1"], "--hidden-dropout must be in [0, 1), got 1.0"),
        (["--train-samples", "0"], "--train-samples must be a positive integer, got 0"),
    ],
)
def test_bad_model_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_model_without_an_option_names_it(tiny_mnist, tmp_path, capsys):
    argv = ["--model", "cnn", "--init", "0.1", "--steps", "1", "--data-dir", str(tiny_mnist)]
    assert train.main([*argv, "--out", str(tmp_path / "run")]) == 2
    assert "model 'cnn' takes no 'init' option" in capsys.readouterr().err
