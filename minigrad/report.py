"""Experiment bookkeeping for train.py: the metrics CSV, running means kept on the device,
progress bars, the summary (steps to reach each accuracy target) and the plots."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tqdm import tqdm

TARGETS = (0.90, 0.95, 0.97, 0.98)
COLUMNS = ("variant", "step", "epoch", "split", "loss", "accuracy", "lr", "seconds")


def write_atomic(path: Path, text: str) -> None:
    """Write a text file so that a crash leaves either the old file or the new one, never half."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=2, default=str) + "\n")


class MetricsLog:
    """Appends one CSV row per measurement and flushes it, so an interrupted run keeps its log."""

    def __init__(self, path: Path, append: bool = False) -> None:
        self.path = Path(path)
        fresh = not (append and self.path.exists())
        self.stream = open(self.path, "w" if fresh else "a", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.stream)
        if fresh:
            self.writer.writerow(COLUMNS)
            self.stream.flush()

    def write(
        self,
        variant: str,
        step: int,
        epoch: int,
        split: str,
        loss: float,
        accuracy: float,
        lr: float,
        seconds: float,
    ) -> None:
        self.writer.writerow(
            (
                variant,
                step,
                epoch,
                split,
                f"{loss:.6f}",
                f"{accuracy:.6f}",
                f"{lr:.6g}",
                f"{seconds:.3f}",
            )
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


def read_metrics(path: Path) -> list[dict]:
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        row["step"], row["epoch"] = int(row["step"]), int(row["epoch"])
        for key in ("loss", "accuracy", "lr", "seconds"):
            row[key] = float(row[key])
    return rows


class RunningMeter:
    """Sums of loss and correct predictions kept as device scalars: adding costs no host sync;
    only reading (a few times per epoch) copies two numbers to the host."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.loss_sum = self.correct = None
        self.count = 0

    def add(self, loss: Any, correct: Any, count: int) -> None:
        weighted = loss.data * count
        self.loss_sum = weighted if self.loss_sum is None else self.loss_sum + weighted
        self.correct = correct.data if self.correct is None else self.correct + correct.data
        self.count += count

    def read(self) -> tuple[float, float]:
        if not self.count:
            return float("nan"), float("nan")
        return float(self.loss_sum) / self.count, float(self.correct) / self.count


def progress_bar(total: int, description: str, initial: int = 0) -> tqdm:
    return tqdm(
        total=total,
        initial=initial,
        desc=description,
        unit="step",
        leave=False,
        dynamic_ncols=True,
        mininterval=0.5,
    )


def steps_to_reach(rows: list[dict], variant: str, target: float) -> int | None:
    """The first evaluated step at which the variant's test accuracy reached `target`."""
    for row in rows:
        if row["variant"] == variant and row["split"] == "test" and row["accuracy"] >= target:
            return row["step"]
    return None


def summarize(rows: list[dict], timings: dict[str, dict]) -> dict:
    """Per variant: final/best test accuracy, steps to each target, and speed."""
    summary = {}
    for variant, timing in timings.items():
        tests = [row for row in rows if row["variant"] == variant and row["split"] == "test"]
        summary[variant] = {
            "final_test_accuracy": tests[-1]["accuracy"] if tests else None,
            "best_test_accuracy": max((row["accuracy"] for row in tests), default=None),
            "steps_to": {
                f"{target:.2f}": steps_to_reach(rows, variant, target) for target in TARGETS
            },
            **timing,
        }
    return summary


def comparison_table(summary: dict) -> str:
    """For each accuracy target, the steps each variant needed and the ratio plain / bn."""
    variants = list(summary)
    header = ["test accuracy"] + [f"{variant} steps" for variant in variants]
    if len(variants) == 2:
        header.append(f"{variants[1]}/{variants[0]}")
    lines = [header]
    for target in TARGETS:
        key = f"{target:.2f}"
        steps = [summary[variant]["steps_to"][key] for variant in variants]
        row = [f">= {target:.0%}"] + ["-" if s is None else str(s) for s in steps]
        if len(variants) == 2:
            row.append(f"{steps[1] / steps[0]:.1f}x" if None not in steps else "-")
        lines.append(row)
    lines.append(
        ["final accuracy"] + [_percent(summary[v]["final_test_accuracy"]) for v in variants]
    )
    lines.append(["best accuracy"] + [_percent(summary[v]["best_test_accuracy"]) for v in variants])
    lines.append(["s / epoch"] + [_number(summary[v].get("seconds_per_epoch")) for v in variants])
    widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def plot_curves(rows: list[dict], path: Path) -> bool:
    """curves.png: test accuracy and training loss against steps, every variant on the same
    axes. Returns False (and draws nothing) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (accuracy_axes, loss_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for variant in dict.fromkeys(row["variant"] for row in rows):
        tests = [row for row in rows if row["variant"] == variant and row["split"] == "test"]
        trains = [row for row in rows if row["variant"] == variant and row["split"] == "train"]
        label = {"bn": "with batch norm", "plain": "without batch norm"}.get(variant, variant)
        accuracy_axes.plot([r["step"] for r in tests], [r["accuracy"] for r in tests], label=label)
        loss_axes.plot([r["step"] for r in trains], [r["loss"] for r in trains], label=label)
    accuracy_axes.set(xlabel="training step", ylabel="test accuracy", title="Test accuracy")
    loss_axes.set(
        xlabel="training step", ylabel="training loss", title="Training loss", yscale="log"
    )
    for axes in (accuracy_axes, loss_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    path = Path(path)
    temp = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temp, dpi=120)
    plt.close(figure)
    os.replace(temp, path)
    return True
