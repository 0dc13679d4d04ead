"""The batch-norm studies from the command line: run a study's grid of train.py cells (reusing
every cell that finished before), then write its markdown table and its picture.

    python -m experiment.study lr                # or init, reg, batch, lr-cnn, all
    python -m experiment.study batch --steps 500 --seeds 1 --grid 4,60 --out runs/quick

Writes OUT/NAME/cells/CELL/ (train.py's outputs, log.txt and result.json), OUT/NAME/table.md
and OUT/NAME/NAME.png. Exit status: 0 done, 1 a cell failed, 2 bad options, 130 interrupted
(run the same command again to go on: the finished cells are reused).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from experiment.cells import Cell, CellFailed, CellInterrupted, run_cell
from experiment.plots import pyplot, save_figure
from experiment.studies import REFERENCE_BATCH, STUDIES, Study
from minigrad import fileio


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiment.study",
        description="Run a study of batch normalization's claims (a grid of train.py runs), "
        "then write its table (table.md) and picture (NAME.png).",
    )
    parser.add_argument("name", choices=[*STUDIES, "all"], help="the study, or all of them")
    parser.add_argument(
        "--steps",
        type=int,
        help="training steps per run (default: the study's; for batch: steps at batch 60, so "
        "that every batch size sees the same number of samples)",
    )
    parser.add_argument("--seeds", type=int, help="seeds per cell (default: the study's)")
    parser.add_argument(
        "--grid",
        help="comma-separated grid values instead of the study's (lr: 0.1,0.5,...; init: "
        "stds or pytorch; reg: plain,bn,dropout,bn+dropout; batch: sizes)",
    )
    parser.add_argument(
        "--out", default="runs/study", help="output directory (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, help="train.py's --threads for every cell")
    parser.add_argument("--data-dir", help="train.py's --data-dir for every cell")
    return parser


def grid_cells(study: Study, args: argparse.Namespace) -> list[Cell]:
    """The study's cells for the options given (ValueError for a grid value it cannot take)."""
    grid = tuple(args.grid.split(",")) if args.grid else study.settings
    return study.cells(study, grid, args.steps or study.steps, args.seeds or study.seeds)


def run_study(study: Study, cells: list[Cell], args: argparse.Namespace) -> Path:
    """Every cell (finished ones read back), then table.md and the picture; table.md's path."""
    steps = args.steps or study.steps
    seeds = args.seeds or study.seeds
    extra = [*(["--threads", str(args.threads)] if args.threads else [])]
    extra += ["--data-dir", args.data_dir] if args.data_dir else []
    folder = Path(args.out) / study.name
    results = []
    started = time.perf_counter()
    for index, cell in enumerate(cells, 1):
        result = run_cell(cell, folder / "cells" / cell.name, study.measure, extra)
        results.append(result)
        print(f"{study.name} [{index}/{len(cells)}] {cell.name}: {_outcome(result)}", flush=True)
    seconds = sum(result["seconds"] for result in results)
    reused = sum(result["reused"] for result in results)
    length = _length(study, steps)
    footer = (
        f"{len(cells)} runs ({reused} reused), {length}, {seeds} seed(s) each; "
        f"{seconds / 60:.1f} minutes of training and measuring, summed over the runs as each "
        f"ran (this invocation: {(time.perf_counter() - started) / 60:.1f} minutes). "
        f"`python -m experiment.study {study.name}"
        f"{f' --steps {steps}' if steps != study.steps else ''}"
        f"{f' --seeds {seeds}' if seeds != study.seeds else ''}"
        f"{f' --grid {args.grid}' if args.grid else ''}`"
    )
    table = folder / "table.md"
    fileio.write_text(table, f"## {study.title}\n\n{study.table(study, results)}\n\n{footer}\n")
    if pyplot() is not None:
        caption = (
            f"{study.title}; {length}; {seeds} seed(s) per cell: line the median, shaded or "
            f"bars the range over seeds; x a diverged run. python -m experiment.study {study.name}"
        )
        save_figure(study.figure(study, results, caption), folder / f"{study.name}.png")
    print(f"{study.name}: {table} ({seconds / 60:.1f} minutes of runs, {reused} reused)")
    return table


def _length(study: Study, steps: int) -> str:
    if study.name == "batch":
        return f"{steps * REFERENCE_BATCH:,} training samples at every batch size"
    return f"{steps:,} steps"


def _outcome(result: dict) -> str:
    summary = result["summary"]
    if summary["diverged_at_step"] is not None:
        text = f"diverged at step {summary['diverged_at_step']}"
    else:
        text = f"final test accuracy {summary['final_test_accuracy']:.2%}"
    took = "reused" if result["reused"] else f"{result['seconds']:.0f} s"
    return f"{text} ({took})"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("steps", "seeds", "threads"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name} must be a positive integer, got {value}")
    names = list(STUDIES) if args.name == "all" else [args.name]
    if args.grid and len(names) > 1:
        parser.error("--grid needs one study, not all")
    try:
        grids = {name: grid_cells(STUDIES[name], args) for name in names}
    except ValueError as exc:
        parser.error(str(exc))
    try:
        for name, cells in grids.items():
            run_study(STUDIES[name], cells, args)
    except CellInterrupted as interrupted:
        print(
            f"\ninterrupted in cell {interrupted}; run the same command again to go on (the "
            "finished cells are reused)",
            file=sys.stderr,
        )
        return 130
    except CellFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
