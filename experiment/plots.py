"""train.py's pictures: curves.png (test error and training loss) and inputs.png (the tracked
inputs), drawn with matplotlib (the `train` extra) when it is installed; and the helpers the
study pictures share with them (a test-error axis in percent on a log scale, the caption)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from experiment.config import Config
from experiment.report import TARGETS, variants_in
from minigrad import fileio

VARIANT_LABELS = {"bn": "with batch norm", "plain": "without batch norm"}
VARIANT_COLORS = {"bn": "tab:blue", "plain": "tab:orange"}
ERROR_TICKS = (0.1, 0.2, 0.5, 1, 2, 3, 5, 7, 10, 20, 50, 100)  # percent
MARKER = {"marker": "o", "markersize": 3}


def pyplot() -> Any:
    """matplotlib.pyplot with a file-only back end, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_figure(figure: Any, path: Path) -> None:
    """Write the figure to `path` atomically and free it."""
    with fileio.atomic_path(path) as temp:
        figure.savefig(temp, dpi=100)
    pyplot().close(figure)


def test_error_percent(accuracy: float) -> float:
    return 100.0 * (1.0 - accuracy)


def error_axis(axes: Any, targets: tuple[float, ...] = TARGETS) -> None:
    """Test error in percent on a log scale, so that 10% -> 2% is as wide as 50% -> 10%, with a
    dotted line at the error of each accuracy target. An error of 0 is left out (masked)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    axes.set_yscale("log", nonpositive="mask")
    axes.yaxis.set_major_locator(FixedLocator(ERROR_TICKS))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}%"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_ylabel("test error (log scale)")
    for target in targets:
        axes.axhline(test_error_percent(target), color="grey", linestyle=":", linewidth=0.8)
    axes.grid(alpha=0.3)


def plain_log_labels(axes: Any) -> None:
    """A log-scale y axis labelled 0.3, 1 rather than 3x10^-1, 10^0; the ticks between powers
    of ten are labelled only where the axis spans less than about a decade."""
    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _: Any) -> str:
        low, high = axes.get_ylim()
        return f"{value:g}" if high / low < 12 else ""

    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(FuncFormatter(minor))


def finish(figure: Any, caption: str | None) -> None:
    """Lay the panels out, leaving room under them for the caption (the run's settings, in small
    type across the figure's width)."""
    bottom = 0.0
    if caption:
        text = textwrap.fill(caption, int(figure.get_figwidth() * 72 / 4.8))
        figure.text(0.01, 0.01, text, fontsize=8, va="bottom")
        bottom = (0.16 * (text.count("\n") + 1) + 0.08) / figure.get_figheight()
    figure.tight_layout(rect=(0, bottom, 1, 1))


def caption(config: Config) -> str:
    """One line that says how the run was made: model, data, optimizer, length, init, seed."""
    parts = [f"{config.model} on {config.dataset}"]
    if config.train_samples:
        parts[0] += f" (first {config.train_samples:,} training samples)"
    optimizer = f"{config.optimizer.upper() if config.optimizer == 'sgd' else config.optimizer}"
    optimizer += f" lr {config.lr:g}"
    if config.momentum:
        optimizer += f", momentum {config.momentum:g}"
    if config.weight_decay:
        optimizer += f", weight decay {config.weight_decay:g}"
    parts.append(optimizer)
    length = f"{config.steps:,} steps" if config.steps else f"{config.epochs} epochs"
    parts.append(f"batch {config.batch_size}, {length}")
    if config.init == "pytorch":
        parts.append("PyTorch's default init")
    elif config.init is not None:
        parts.append(f"weights from N(0, {config.init:g}²)")
    if config.hidden_dropout:
        parts.append(f"dropout {config.hidden_dropout:g}")
    if config.scheduler != "none":
        parts.append(f"{config.scheduler} schedule")
    parts.append(f"seed {config.seed}; test set evaluated every {config.eval_every:,} steps")
    return "; ".join(parts)


def curves_figure(rows: list[dict], caption: str | None = None) -> Any:
    """Test error (percent, log scale) and training loss against steps, every variant on the
    same axes, a marker at each evaluation."""
    plt = pyplot()
    figure, (error_axes, loss_axes) = plt.subplots(1, 2, figsize=(11, 4.3))
    for variant in variants_in(rows):
        tests = [row for row in rows if row["variant"] == variant and row["split"] == "test"]
        trains = [row for row in rows if row["variant"] == variant and row["split"] == "train"]
        style = {"label": VARIANT_LABELS.get(variant, variant), **MARKER}
        if variant in VARIANT_COLORS:
            style["color"] = VARIANT_COLORS[variant]
        errors = [test_error_percent(row["accuracy"]) for row in tests]
        error_axes.plot([row["step"] for row in tests], errors, **style)
        loss_axes.plot([row["step"] for row in trains], [row["loss"] for row in trains], **style)
    error_axis(error_axes)
    error_axes.set(xlabel="training step", title="Test error (dotted: 90/95/97/98% accuracy)")
    loss_axes.set(xlabel="training step", ylabel="training loss (log scale)")
    plain_log_labels(loss_axes)
    loss_axes.set_title("Training loss (mean since the previous evaluation)")
    loss_axes.grid(alpha=0.3)
    for axes in (error_axes, loss_axes):
        axes.legend()
    finish(figure, caption)
    return figure


def inputs_figure(rows: list[dict], caption: str | None = None) -> Any:
    """The median (line) and the 15th-85th percentile band (shaded) of each tracked sigmoid
    unit's input over the test set against steps: a row per unit, a column per variant (the
    batch-norm paper's Figure 1(b, c))."""
    plt = pyplot()
    variants = variants_in(rows)
    units = list(dict.fromkeys(row["unit"] for row in rows))
    figure, panels = plt.subplots(
        len(units),
        len(variants),
        figsize=(5.5 * len(variants), 2.3 * len(units) + 0.8),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for row_index, unit in enumerate(units):
        for axes, variant in zip(panels[row_index], variants):
            mine = [row for row in rows if row["variant"] == variant and row["unit"] == unit]
            steps = [row["step"] for row in mine]
            color = VARIANT_COLORS.get(variant, "tab:blue")
            axes.fill_between(
                steps,
                [row["p15"] for row in mine],
                [row["p85"] for row in mine],
                color=color,
                alpha=0.25,
                linewidth=0,
                label="15th-85th percentile",
            )
            axes.plot(steps, [row["p50"] for row in mine], color=color, label="median", **MARKER)
            axes.axhline(0.0, color="grey", linewidth=0.6)
            axes.grid(alpha=0.3)
            axes.set_title(f"{VARIANT_LABELS.get(variant, variant)}: unit {unit}", fontsize=10)
        panels[row_index][0].set_ylabel(f"input to unit {unit}")
    for axes in panels[-1]:
        axes.set_xlabel("training step")
        axes.legend(loc="lower right", fontsize=8)
    figure.suptitle("Input of sigmoid units of the last hidden layer over the test set")
    finish(figure, caption)
    return figure


def plot_curves(rows: list[dict], path: Path, caption: str | None = None) -> bool:
    """curves.png (see curves_figure). Returns False (and draws nothing) when matplotlib is
    not installed."""
    if pyplot() is None:
        return False
    save_figure(curves_figure(rows, caption), path)
    return True


def plot_inputs(rows: list[dict], path: Path, caption: str | None = None) -> bool:
    """inputs.png (see inputs_figure); False when matplotlib is not installed or nothing was
    tracked."""
    if pyplot() is None or not rows:
        return False
    save_figure(inputs_figure(rows, caption), path)
    return True
