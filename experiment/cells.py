"""One grid cell of a study: a train.py run in its own directory, its results file, and the
reuse of a finished cell when the study is run again; with the spread over seeds as tables
print it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import train
from experiment import report

RESULT_FILE = "result.json"


@dataclass(frozen=True)
class Cell:
    """A grid point of a study, one variant and one seed: train.py run with `options` plus
    --bn, --seed and --out. `variant` is the study's name for it ("bn", "plain", "dropout",
    "bn+dropout"); `bn` says which of train.py's variants it is."""

    setting: str  # the grid value, as tables show it: "0.5", "pytorch", "256"
    variant: str
    bn: bool
    seed: int
    options: tuple[str, ...]

    @property
    def name(self) -> str:
        setting = re.sub(r"[^A-Za-z0-9.]+", "_", self.setting)
        return f"{setting}-{self.variant.replace('+', '_')}-seed{self.seed}"

    @property
    def train_variant(self) -> str:
        """The variant's name in train.py's summary.json."""
        return "bn" if self.bn else "plain"

    def argv(self, folder: Path, extra: Iterable[str] = ()) -> list[str]:
        """train.py's command line for this cell; `extra` says where it runs (--threads,
        --data-dir), which is not part of the experiment."""
        bn = ["--bn", "on" if self.bn else "off", "--seed", str(self.seed), "--out", str(folder)]
        return [*self.options, *bn, "--no-plots", *extra]


class CellFailed(Exception):
    """train.py ended a cell with an error (not a divergence, which is a result)."""


class CellInterrupted(Exception):
    """Ctrl-C stopped a cell; its train.py checkpoint is there but the cell is not finished."""


Measure = Callable[[Cell, Path], dict]


def run_cell(cell: Cell, folder: Path, measure: Measure | None, extra: Iterable[str] = ()) -> dict:
    """The cell's results: read back from `folder` when a run of the same cell finished there,
    else trained now (train.py's output going to folder/log.txt) and written to result.json."""
    record = dataclasses.asdict(cell)
    record["options"] = list(cell.options)
    saved = _finished(folder, record)
    if saved is not None:
        return {**saved, "reused": True}
    if folder.exists():
        shutil.rmtree(folder)  # a cell that never finished, or of other options: start afresh
    folder.mkdir(parents=True)
    started = time.perf_counter()
    with open(folder / "log.txt", "w") as log, contextlib.redirect_stdout(log):
        with contextlib.redirect_stderr(log):
            status = train.main(cell.argv(folder, extra))
    if status == 130:
        raise CellInterrupted(cell.name)
    if status not in (0, train.EXIT_DIVERGED):
        raise CellFailed(f"{cell.name}: train.py exited with status {status}; see {log.name}")
    summary = json.loads((folder / "summary.json").read_text())[cell.train_variant]
    rows = report.read_csv(folder / "metrics.csv")
    tests = [row for row in rows if row["split"] == "test"]
    diverged = summary["diverged_at_step"] is not None
    result = {
        "cell": record,
        "exit_status": status,
        "summary": summary,
        "test_curve": [[row["step"], row["accuracy"], row["loss"]] for row in tests],
        "measures": measure(cell, folder) if measure and not diverged else {},
        "seconds": round(time.perf_counter() - started, 2),
    }
    report.write_json(folder / RESULT_FILE, result)
    return {**result, "reused": False}


def _finished(folder: Path, record: dict) -> dict | None:
    path = folder / RESULT_FILE
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except ValueError:
        return None
    return saved if saved.get("cell") == record else None


# --- the spread over seeds, as the tables print it -----------------------------------------


def steps_to(result: dict, target: float) -> int | None:
    """The first evaluated step at which the cell's test accuracy reached `target`."""
    for step, accuracy, _ in result["test_curve"]:
        if accuracy >= target:
            return step
    return None


def diverged_at(result: dict) -> int | None:
    return result["summary"]["diverged_at_step"]


def format_steps(values: list[int | None], scale: int = 1) -> str:
    """The median over seeds of those that got there, its range, and how many did:
    "2,250", "2,250 (2,000-2,500)", "3,000 (2 of 3 seeds)", "never"."""
    reached = sorted(value * scale for value in values if value is not None)
    if not reached:
        return "never"
    text = f"{statistics.median_low(reached):,}"
    notes = []
    if reached[0] != reached[-1]:
        notes.append(f"{reached[0]:,}-{reached[-1]:,}")
    if len(reached) < len(values):
        notes.append(f"{len(reached)} of {len(values)} seeds")
    return f"{text} ({', '.join(notes)})" if notes else text


def format_accuracy(values: list[float | None]) -> str:
    """The mean over seeds in percent, with the range when there are several:
    "97.61% (97.48-97.75)"; seeds without a value (diverged) are left out and counted."""
    present = [value for value in values if value is not None]
    if not present:
        return "-"
    text = f"{100 * statistics.fmean(present):.2f}%"
    notes = []
    if len(present) > 1:
        notes.append(f"{100 * min(present):.2f}-{100 * max(present):.2f}")
    if len(present) < len(values):
        notes.append(f"{len(present)} of {len(values)} seeds")
    return f"{text} ({', '.join(notes)})" if notes else text


def format_divergence(results: list[dict]) -> str:
    steps = [diverged_at(result) for result in results if diverged_at(result) is not None]
    if not steps:
        return "-"
    at = (
        f"step {min(steps):,}"
        if min(steps) == max(steps)
        else f"steps {min(steps):,}-{max(steps):,}"
    )
    return f"{len(steps)} of {len(results)} seeds, at {at}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def grouped(results: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Results by (setting, variant), in grid order, each group's seeds in order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for result in results:
        cell = result["cell"]
        groups.setdefault((cell["setting"], cell["variant"]), []).append(result)
    return groups
