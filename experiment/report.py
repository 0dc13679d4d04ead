"""train.py's numbers: the metrics and inputs CSV logs, running means kept on the device,
the summary (steps to reach each accuracy target, the tracked inputs' drift) and the table."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from minigrad import backend, fileio

TARGETS = (0.90, 0.95, 0.97, 0.98)
COLUMNS = ("variant", "step", "epoch", "split", "loss", "accuracy", "lr", "seconds")
INPUT_COLUMNS = ("variant", "step", "unit", "p15", "p50", "p85")


def write_json(path: Path, value: Any) -> None:
    """Strict JSON: a NaN or infinity raises ValueError instead of writing invalid JSON."""
    fileio.write_text(path, json.dumps(value, indent=2, default=str, allow_nan=False) + "\n")


class CsvLog:
    """Appends one CSV row per measurement and flushes it, so an interrupted run keeps its log."""

    def __init__(self, path: Path, columns: tuple[str, ...], append: bool = False) -> None:
        self.path = Path(path)
        fresh = not (append and self.path.exists() and self.path.stat().st_size)
        self.stream = open(self.path, "w" if fresh else "a", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.stream)
        if fresh:
            self.writer.writerow(columns)
            self.stream.flush()

    def write(self, *values: Any) -> None:
        self.writer.writerow(f"{v:.6g}" if isinstance(v, float) else v for v in values)
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


def read_csv(path: Path) -> list[dict]:
    """The rows of a CsvLog, with the numbers parsed (ints stay ints)."""
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        for key, value in row.items():
            row[key] = _number_or_text(value)
    return rows


def drop_rows_after(path: Path, last_step: dict[str, int]) -> None:
    """Rewrite a CsvLog, atomically, without the rows of each variant in `last_step` logged
    after its step there (and without a row that a crash cut short)."""
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    if not rows:
        return
    header, *rows = rows
    variant_at, step_at = header.index("variant"), header.index("step")
    kept = [
        row
        for row in rows
        if len(row) == len(header) and int(row[step_at]) <= last_step.get(row[variant_at], math.inf)
    ]
    text = io.StringIO()
    csv.writer(text).writerows([header, *kept])
    fileio.write_text(path, text.getvalue())


def _number_or_text(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


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
        return backend.item(self.loss_sum) / self.count, backend.item(self.correct) / self.count

    def state_dict(self) -> dict:
        """The sums so far, for a checkpoint: a resumed run's next log averages the same steps."""
        return {"loss_sum": self.loss_sum, "correct": self.correct, "count": self.count}

    def load_state_dict(self, state: dict, device: str) -> None:
        """The sums of state_dict(), moved onto `device`."""
        self.reset()
        if state["count"]:
            self.loss_sum = backend.asarray(state["loss_sum"], device=device)
            self.correct = backend.asarray(state["correct"], device=device)
            self.count = state["count"]


def variants_in(rows: list[dict]) -> list[str]:
    """The variants that `rows` log, in the order they first appear."""
    return list(dict.fromkeys(row["variant"] for row in rows))


def steps_to_reach(rows: list[dict], variant: str, target: float) -> int | None:
    """The first evaluated step at which the variant's test accuracy reached `target`."""
    for row in rows:
        if row["variant"] == variant and row["split"] == "test" and row["accuracy"] >= target:
            return row["step"]
    return None


def summarize(rows: list[dict], outcomes: dict[str, dict]) -> dict:
    """Per variant: final/best test accuracy (None for a variant that diverged: its training
    did not end in a result), steps to each target, and its outcome (steps, "diverged_at_step",
    speed)."""
    summary = {}
    for variant, outcome in outcomes.items():
        tests = [row for row in rows if row["variant"] == variant and row["split"] == "test"]
        diverged = outcome["diverged_at_step"] is not None
        accuracies = [] if diverged else [row["accuracy"] for row in tests]
        summary[variant] = {
            "final_test_accuracy": accuracies[-1] if accuracies else None,
            "best_test_accuracy": max(accuracies, default=None),
            "steps_to": {
                f"{target:.2f}": steps_to_reach(rows, variant, target) for target in TARGETS
            },
            **outcome,
        }
    return summary


def input_drift(rows: list[dict]) -> dict[str, dict]:
    """Per variant and tracked unit: the median input at the first and last evaluation, how far
    the median moved over the run (max - min), and the 15-85 percentile spread at the end."""
    drift: dict[str, dict] = {}
    for variant in variants_in(rows):
        for unit in dict.fromkeys(row["unit"] for row in rows):
            mine = [row for row in rows if row["variant"] == variant and row["unit"] == unit]
            medians = [row["p50"] for row in mine]
            drift.setdefault(variant, {})[str(unit)] = {
                "median_first": medians[0],
                "median_last": medians[-1],
                "median_range": max(medians) - min(medians),
                "spread_last": mine[-1]["p85"] - mine[-1]["p15"],
            }
    return drift


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
    lines.append(["final accuracy"] + [_final_accuracy(summary[v]) for v in variants])
    lines.append(["best accuracy"] + [_percent(summary[v]["best_test_accuracy"]) for v in variants])
    lines.append(["s / epoch"] + [_number(summary[v].get("seconds_per_epoch")) for v in variants])
    widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines)


def _final_accuracy(result: dict) -> str:
    if result.get("diverged_at_step") is not None:
        return f"diverged at step {result['diverged_at_step']}"
    return _percent(result["final_test_accuracy"])


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
