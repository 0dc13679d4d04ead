"""The studies' pictures (matplotlib): small multiples of the test-error curves per grid value
with summary panels (lr, init, lr-cnn), the train/test gap (reg), and the batch-size panels
(batch). Lines are medians over seeds, shaded bands and error bars their range."""

from __future__ import annotations

import math
import statistics
from typing import Any

from experiment.cells import diverged_at, grouped, steps_to
from experiment.plots import (
    MARKER,
    VARIANT_COLORS,
    error_axis,
    finish,
    plain_log_labels,
    pyplot,
    test_error_percent,
)

COLORS = {**VARIANT_COLORS, "dropout": "tab:green", "bn+dropout": "tab:purple"}
LABELS = {
    "bn": "with BN",
    "plain": "without BN",
    "dropout": "dropout 0.5",
    "bn+dropout": "BN + dropout 0.5",
}
SMALL_MARKER = {**MARKER, "markersize": 2.5}


def seed_curves(group: list[dict], value=lambda point: test_error_percent(point[1])):
    """Steps, and the median, lowest and highest of `value` over the seeds at each step (the
    seeds that got there: a diverged run's curve ends early)."""
    by_step: dict[int, list[float]] = {}
    for result in group:
        for point in result["test_curve"]:
            by_step.setdefault(point[0], []).append(value(point))
    steps = sorted(by_step)
    columns = [by_step[step] for step in steps]
    return (
        steps,
        [statistics.median(c) for c in columns],
        [min(c) for c in columns],
        [max(c) for c in columns],
    )


def draw_band(axes: Any, group: list[dict], variant: str, scale: int = 1, value=None) -> None:
    """The median over seeds with markers, the range shaded, and an x where a run diverged."""
    steps, median, low, high = seed_curves(group, *([value] if value else []))
    x = [step * scale for step in steps]
    color = COLORS.get(variant)
    axes.plot(x, median, color=color, label=LABELS.get(variant, variant), **SMALL_MARKER)
    if len(group) > 1:
        axes.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
    for result in group:
        if diverged_at(result) is not None and result["test_curve"]:
            step, accuracy, _ = result["test_curve"][-1]
            error = test_error_percent(accuracy)
            axes.plot([step * scale], [error], "x", color=color, markersize=9, mew=2)


def _panels(plt: Any, count: int, columns: int | None = None, height: float = 3.1):
    """A grid of `count` panels (at most 5 a row, the rows as full as they can be), flat."""
    columns = columns or math.ceil(count / math.ceil(count / 5))
    rows = math.ceil(count / columns)
    figure, panels = plt.subplots(rows, columns, figsize=(3.7 * columns, height * rows + 0.7))
    flat = list(panels.flat) if hasattr(panels, "flat") else [panels]
    for axes in flat[count:]:
        axes.set_visible(False)
    return figure, flat[:count]


def convergence_figure(study: Any, results: list[dict], caption: str | None = None) -> Any:
    """One panel per grid value (test error of both variants against steps, log scale), then
    the final test error and the steps to the middle target against the grid value."""
    plt = pyplot()
    groups = grouped(results)
    settings = list(dict.fromkeys(r["cell"]["setting"] for r in results))
    variants = list(dict.fromkeys(r["cell"]["variant"] for r in results))
    figure, panels = _panels(plt, len(settings) + 2)
    errors = [test_error_percent(p[1]) for r in results for p in r["test_curve"] if p[1] < 1]
    limits = (max(min(errors, default=1) * 0.8, 0.1), 100)
    for axes, setting in zip(panels, settings):
        for variant in variants:
            draw_band(axes, groups.get((setting, variant), []), variant)
        error_axis(axes, study.targets)
        axes.set_ylim(*limits)
        axes.set(title=f"{study.setting_name} {setting}", xlabel="training step")
        if axes.get_subplotspec().colspan.start:  # the y label once per row
            axes.set_ylabel("")
    panels[0].legend(fontsize=8)
    final_axes, steps_axes = panels[len(settings) :]
    target = study.targets[len(study.targets) // 2]
    for offset, variant in zip((-0.08, 0.08), variants):
        color = COLORS.get(variant)
        for index, setting in enumerate(settings):
            group = groups.get((setting, variant), [])
            finals = [
                test_error_percent(r["summary"]["final_test_accuracy"])
                for r in group
                if r["summary"]["final_test_accuracy"] is not None
            ]
            _range_marker(final_axes, index + offset, finals, color)
            diverged = sum(diverged_at(r) is not None for r in group)
            if diverged:
                final_axes.plot([index + offset], [90], "x", color=color, markersize=9, mew=2)
            reached = [s for s in (steps_to(r, target) for r in group) if s is not None]
            _range_marker(steps_axes, index + offset, reached, color)
            if len(reached) < len(group):
                length = max(p[0] for r in group for p in r["test_curve"] or [[0]])
                steps_axes.plot([index + offset], [length], "^", color=color, fillstyle="none")
        final_axes.plot([], [], "o", color=color, label=LABELS.get(variant, variant))
    error_axis(final_axes, study.targets)
    final_axes.set_ylim(*limits)
    final_axes.set_title("Final test error, each seed (x: diverged)")
    steps_axes.set(ylabel="training steps", title=f"Steps to {target:.0%} (△: not reached)")
    steps_axes.set_ylim(bottom=0)
    steps_axes.grid(alpha=0.3)
    for axes in (final_axes, steps_axes):
        axes.set_xticks(range(len(settings)), settings)
        axes.set_xlabel(study.setting_name)
        axes.set_xlim(-0.5, len(settings) - 0.5)
    final_axes.legend(fontsize=8)
    finish(figure, caption)
    return figure


def _range_marker(axes: Any, x: float, values: list[float], color: str) -> None:
    """The median of `values` as a dash over their range, each value (a seed) as a dot."""
    if not values:
        return
    middle = statistics.median(values)
    spread = [[middle - min(values)], [max(values) - middle]]
    axes.errorbar([x], [middle], yerr=spread, fmt="_", color=color, markersize=12, capsize=0)
    axes.plot([x] * len(values), values, "o", color=color, markersize=3.5, alpha=0.7)


def regularization_figure(study: Any, results: list[dict], caption: str | None = None) -> Any:
    """Test error and test loss against steps for each variant (zoomed on the end, where a
    rising test loss shows overfitting), and the final accuracy on the training samples against
    the test set's, with the gap."""
    plt = pyplot()
    groups = grouped(results)
    figure, (error_axes, loss_axes, gap_axes) = _panels(plt, 3, columns=3, height=3.8)
    variants = [variant for (_, variant) in groups]
    for variant in variants:
        group = groups[(variant, variant)]
        draw_band(error_axes, group, variant)
        draw_band(loss_axes, group, variant, value=lambda point: point[2])
    error_axis(error_axes, ())
    errors = [test_error_percent(p[1]) for r in results for p in r["test_curve"] if p[1] < 1]
    if errors:
        error_axes.set_ylim(min(errors) * 0.9, min(errors) * 4)
    losses = [p[2] for r in results for p in r["test_curve"]]
    plain_log_labels(loss_axes)
    if losses:
        loss_axes.set_ylim(min(losses) * 0.9, min(losses) * 3)
    error_axes.set(title="Test error (zoomed)", xlabel="training step")
    loss_axes.set(title="Test loss (zoomed; rising: overfitting)", xlabel="training step")
    loss_axes.set_ylabel("test cross-entropy (log scale)")
    loss_axes.grid(alpha=0.3, which="both")
    error_axes.legend(fontsize=8)
    for index, variant in enumerate(variants):
        fits = [r["measures"] for r in groups[(variant, variant)] if r["measures"]]
        if not fits:
            continue
        means = {}
        for offset, split, hatch in ((-0.18, "train", ""), (0.18, "test", "//")):
            values = [100 * fit[f"{split}_accuracy"] for fit in fits]
            means[split] = statistics.fmean(values)
            gap_axes.bar(
                index + offset,
                means[split],
                width=0.34,
                color=COLORS.get(variant),
                alpha=0.5 if split == "test" else 0.9,
                hatch=hatch,
                yerr=[[means[split] - min(values)], [max(values) - means[split]]],
                capsize=3,
                label=f"{split} samples" if index == 0 else None,
            )
        gap = means["train"] - means["test"]
        middle = (
            means["test"] + means["train"]
        ) / 2  # above the test bar, below the train bar's top
        gap_axes.text(index + 0.18, middle, f"gap\n{gap:.1f}", ha="center", va="center", fontsize=8)
    low = min((bar.get_height() for bar in gap_axes.patches), default=90)
    gap_axes.set_ylim(max(math.floor(low) - 2, 0), 102)
    names = [LABELS.get(v, v).replace(" + ", " +\n") for v in variants]
    gap_axes.set_xticks(range(len(variants)), names, fontsize=8)
    gap_axes.set(ylabel="accuracy (%)", title="Accuracy at the end: train vs test")
    gap_axes.grid(alpha=0.3, axis="y")
    gap_axes.legend(fontsize=8, loc="upper center", ncol=2)
    finish(figure, caption)
    return figure


BATCH_KINDS = (  # (measure, label, marker, color) of the BN net's test accuracy
    ("running", "BN, eval mode (running averages)", "o", "tab:blue"),
    ("batch", "BN, each test batch's own statistics", "s", "tab:purple"),
    ("population", "BN, training-set statistics", "D", "tab:cyan"),
)


def batch_figure(study: Any, results: list[dict], caption: str | None = None) -> Any:
    """Final test error against the batch size (the plain net, and the BN net normalized three
    ways), then the test error of each batch size against the samples seen, with and without BN."""
    from matplotlib.ticker import FuncFormatter

    plt = pyplot()
    groups = grouped(results)
    batches = list(dict.fromkeys(r["cell"]["setting"] for r in results))
    figure, (final_axes, bn_axes, plain_axes) = _panels(plt, 3, columns=3, height=3.6)
    sizes = [int(batch) for batch in batches]
    plain = [
        [
            test_error_percent(r["summary"]["final_test_accuracy"])
            for r in groups.get((b, "plain"), [])
        ]
        for b in batches
    ]
    _median_line(final_axes, sizes, plain, COLORS["plain"], "without BN", "v", "--")
    for kind, label, marker, color in BATCH_KINDS:
        values = [
            [
                test_error_percent(r["measures"][kind])
                for r in groups.get((b, "bn"), [])
                if r["measures"]
            ]
            for b in batches
        ]
        _median_line(final_axes, sizes, values, color, label, marker)
    error_axis(final_axes, ())
    final_axes.set_title("Final test error")
    final_axes.legend(fontsize=7)
    colors = plt.get_cmap("viridis")
    for axes, variant, title in ((bn_axes, "bn", "With BN"), (plain_axes, "plain", "Without BN")):
        for index, batch in enumerate(batches):
            steps, median, _, _ = seed_curves(groups.get((batch, variant), []))
            color = colors(index / max(len(batches) - 1, 1))
            x = [step * int(batch) for step in steps]
            axes.plot(x, median, color=color, label=f"batch {batch}", **SMALL_MARKER)
        error_axis(axes, study.targets)
        axes.set(title=f"{title}: test error (eval mode)", xlabel="training samples seen")
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g}k"))
    shared = [line for axes in (bn_axes, plain_axes) for line in axes.get_lines()]
    errors = [value for line in shared for value in line.get_ydata() if value > 0]
    for axes in (bn_axes, plain_axes):
        axes.set_ylim(max(min(errors, default=1) * 0.8, 0.1), 100)
    bn_axes.legend(fontsize=7)
    final_axes.set_xscale("log", base=2)
    final_axes.set_xticks(sizes, batches)
    final_axes.set_xlabel("batch size (lr 0.5 x batch / 60)")
    finish(figure, caption)
    return figure


def _median_line(axes, x, groups, color, label, marker, linestyle="-") -> None:
    """Medians of each group joined by a line, each group's range as an error bar."""
    points = [(xi, values) for xi, values in zip(x, groups) if values]
    if not points:
        return
    medians = [statistics.median(values) for _, values in points]
    spread = [
        [m - min(v) for (_, v), m in zip(points, medians)],
        [max(v) - m for (_, v), m in zip(points, medians)],
    ]
    axes.errorbar(
        [xi for xi, _ in points],
        medians,
        yerr=spread,
        color=color,
        marker=marker,
        markersize=4,
        capsize=3,
        linestyle=linestyle,
        label=label,
        alpha=0.9,
    )
