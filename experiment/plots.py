"""train.py's pictures: curves.png (test accuracy and training loss) and inputs.png (the
tracked inputs), drawn with matplotlib (the `train` extra) when it is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiment.report import variants_in
from minigrad import fileio

VARIANT_LABELS = {"bn": "with batch norm", "plain": "without batch norm"}


def _pyplot() -> Any:
    """matplotlib.pyplot with a file-only back end, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save_figure(plt: Any, figure: Any, path: Path) -> None:
    figure.tight_layout()
    with fileio.atomic_path(path) as temp:
        figure.savefig(temp, dpi=120)
    plt.close(figure)


def plot_curves(rows: list[dict], path: Path) -> bool:
    """curves.png: test accuracy and training loss against steps, every variant on the same
    axes. Returns False (and draws nothing) when matplotlib is not installed."""
    plt = _pyplot()
    if plt is None:
        return False
    figure, (accuracy_axes, loss_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for variant in variants_in(rows):
        tests = [row for row in rows if row["variant"] == variant and row["split"] == "test"]
        trains = [row for row in rows if row["variant"] == variant and row["split"] == "train"]
        label = VARIANT_LABELS.get(variant, variant)
        accuracy_axes.plot([r["step"] for r in tests], [r["accuracy"] for r in tests], label=label)
        loss_axes.plot([r["step"] for r in trains], [r["loss"] for r in trains], label=label)
    accuracy_axes.set(xlabel="training step", ylabel="test accuracy", title="Test accuracy")
    loss_axes.set(
        xlabel="training step", ylabel="training loss", title="Training loss", yscale="log"
    )
    for axes in (accuracy_axes, loss_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    _save_figure(plt, figure, path)
    return True


def plot_inputs(rows: list[dict], path: Path) -> bool:
    """inputs.png: the 15th, 50th and 85th percentiles of one sigmoid unit's input over the
    test set against steps, one panel per variant (the batch-norm paper's Figure 1(b, c))."""
    plt = _pyplot()
    if plt is None or not rows:
        return False
    unit = rows[0]["unit"]
    variants = variants_in(rows)
    figure, panels = plt.subplots(
        1, len(variants), figsize=(5.5 * len(variants), 4), sharey=True, squeeze=False
    )
    for axes, variant in zip(panels[0], variants):
        mine = [row for row in rows if row["variant"] == variant and row["unit"] == unit]
        steps = [row["step"] for row in mine]
        for key, style in (("p85", "--"), ("p50", "-"), ("p15", "--")):
            axes.plot(
                steps,
                [row[key] for row in mine],
                style,
                color="tab:blue",
                label=f"{key[1:]}th percentile",
            )
        axes.set(xlabel="training step", title=VARIANT_LABELS.get(variant, variant))
        axes.grid(alpha=0.3)
    panels[0][0].set_ylabel(f"input to sigmoid unit {unit} (last hidden layer)")
    panels[0][0].legend()
    _save_figure(plt, figure, path)
    return True
