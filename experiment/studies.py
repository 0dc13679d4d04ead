"""The four claims of the batch-norm paper as studies: each a grid of cells (train.py runs),
what is measured on a trained cell beyond train.py's summary, and the study's table.

lr: higher learning rates; init: less care with the initial weights; reg: a regularizer
(the train/test gap, against dropout); batch: how it depends on the batch, and what eval mode's
running statistics do there; lr-cnn: the learning rates for the CNN on Fashion-MNIST.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import minigrad
import train
from experiment.cells import (
    Cell,
    Measure,
    format_accuracy,
    format_divergence,
    format_steps,
    grouped,
    markdown_table,
    steps_to,
)
from experiment.config import Config
from experiment.study_plots import batch_figure, convergence_figure, regularization_figure
from minigrad import nn
from minigrad.nn import functional as F

MNIST_TARGETS = (0.90, 0.95, 0.97)
FASHION_TARGETS = (0.85, 0.88, 0.90)
REFERENCE_BATCH = 60  # the batch study's --steps count steps at this batch size
EVALUATIONS = 40  # test-set evaluations per run (every 250 steps in the main job)
DROPOUT = 0.5


@dataclass(frozen=True)
class Study:
    """A study: its grid (cells for a run length, a number of seeds and the grid values), the
    measurements on each trained cell, its table, and its defaults."""

    name: str
    title: str
    setting_name: str  # what the grid values are: "lr", "init std", "batch"
    settings: tuple[str, ...]  # the grid's values, as --grid names them
    steps: int  # the default run length
    seeds: int  # the default number of seeds
    cells: Callable[[Study, tuple[str, ...], int, int], list[Cell]]
    table: Callable[[Study, list[dict]], str]
    figure: Callable  # (study, results, caption) -> a matplotlib Figure
    measure: Measure | None = None
    targets: tuple[float, ...] = MNIST_TARGETS


def eval_every(steps: int, evaluations: int = EVALUATIONS) -> list[str]:
    """Evaluate `evaluations` times over the run; write the checkpoint only at its end (a cell
    that is interrupted is run again)."""
    every = max(steps // evaluations, 1)
    return ["--eval-every", str(every), "--checkpoint-every", str(steps)]


# --- the grids -------------------------------------------------------------------------------


def paper_net_cells(option: str) -> Callable:
    """The paper's net on MNIST with and without BN at each grid value of `option` (--lr,
    --init), everything else as in the main job."""

    def cells(study: Study, settings: tuple[str, ...], steps: int, seeds: int) -> list[Cell]:
        base = ("--model", "bnpaper", "--dataset", "mnist", "--no-track-inputs")
        return [
            Cell(
                value,
                variant,
                variant == "bn",
                seed,
                (*base, option, value, "--steps", str(steps), *eval_every(steps)),
            )
            for value in settings
            for variant in ("bn", "plain")
            for seed in range(seeds)
        ]

    return cells


def cnn_lr_cells(study: Study, settings: tuple[str, ...], steps: int, seeds: int) -> list[Cell]:
    """The small CNN on Fashion-MNIST (SGD, momentum 0.9, batch 128) at each learning rate."""
    base = ("--model", "cnn", "--dataset", "fashion-mnist", "--steps", str(steps))
    evaluations = eval_every(steps, 10)
    return [
        Cell(lr, variant, variant == "bn", seed, (*base, "--lr", lr, *evaluations))
        for lr in settings
        for variant in ("bn", "plain")
        for seed in range(seeds)
    ]


REGULARIZATION_VARIANTS = {  # the study's variant -> (batch norm, dropout)
    "plain": (False, 0.0),
    "bn": (True, 0.0),
    "dropout": (False, DROPOUT),
    "bn+dropout": (True, DROPOUT),
}


def regularization_cells(
    study: Study, settings: tuple[str, ...], steps: int, seeds: int
) -> list[Cell]:
    """The ReLU MLP 784-512-256-10 (PyTorch's init, SGD lr 0.1, momentum 0.9, batch 128) on the
    first 5,000 MNIST training samples, long enough to fit them, as each variant."""
    base = (
        "--model",
        "mlp",
        "--dataset",
        "mnist",
        "--train-samples",
        "5000",
        "--steps",
        str(steps),
    )
    unknown = [variant for variant in settings if variant not in REGULARIZATION_VARIANTS]
    if unknown:
        raise ValueError(
            f"reg: unknown variant(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(REGULARIZATION_VARIANTS)}"
        )
    cells = []
    for variant in settings:
        bn, dropout = REGULARIZATION_VARIANTS[variant]
        options = (*base, "--hidden-dropout", str(dropout), *eval_every(steps))
        cells += [Cell(variant, variant, bn, seed, options) for seed in range(seeds)]
    return cells


def batch_cells(study: Study, settings: tuple[str, ...], steps: int, seeds: int) -> list[Cell]:
    """The paper's net with and without BN at each batch size B, for the same number of samples
    (`steps` x 60) and the learning rate scaled with the batch (0.5 x B / 60), so that SGD
    makes about the same progress per sample at every B and what changes with B is BN's batch."""
    samples = steps * REFERENCE_BATCH
    cells = []
    for batch in settings:
        size = int(batch)
        cell_steps = max(samples // size, 1)
        options = (
            "--model", "bnpaper", "--dataset", "mnist", "--no-track-inputs",
            "--batch-size", batch,
            "--lr", f"{0.5 * size / REFERENCE_BATCH:.6g}",
            "--steps", str(cell_steps),
            *eval_every(cell_steps),
        )  # fmt: skip
        cells += [
            Cell(batch, variant, variant == "bn", seed, options)
            for variant in ("bn", "plain")
            for seed in range(seeds)
        ]
    return cells


# --- measurements on a trained cell ----------------------------------------------------------


def trained_model(folder: Path, variant: str):
    """The cell's configuration, its network with the final weights, and its data."""
    config = Config(**json.loads((folder / "config.json").read_text()))
    data = train.load_data(config)
    model = train.make_model(config, variant, tuple(data[0].shape[1:]))
    model.load_state_dict(minigrad.load(folder / f"{variant}.ckpt.npz")["model"])
    return config, model.to(config.device), data


@minigrad.no_grad()
def evaluate(model: nn.Module, images, labels, batch_size: int, device: str) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over the whole batches of `batch_size` in the model's
    current mode (train mode: BN normalizes with each batch's statistics)."""
    total_loss = correct = 0.0
    count = len(labels) // batch_size * batch_size
    for start in range(0, count, batch_size):
        x, y = (_on(device, array[start : start + batch_size]) for array in (images, labels))
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(dim=1) == y).sum().item()
    return total_loss / count, correct / count


def _on(device: str, array):
    return array if isinstance(array, minigrad.Tensor) else minigrad.tensor(array, device=device)


def measure_fit(cell: Cell, folder: Path) -> dict:
    """Loss and accuracy of the final network on its training samples and on the test set, both
    in eval mode: the train/test gap."""
    config, model, (train_x, train_y, test_x, test_y) = trained_model(folder, cell.train_variant)
    model.eval()
    train_loss, train_accuracy = evaluate(model, train_x, train_y, 1000, config.device)
    test_loss, test_accuracy = evaluate(model, test_x, test_y, 1000, config.device)
    return {
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
    }


def measure_bn_statistics(cell: Cell, folder: Path) -> dict:
    """The final BN network's test accuracy normalized three ways: eval mode (the running
    averages kept during training, momentum 0.1), the statistics of each test batch of the
    training batch size (train mode, what the network saw while it trained), and the population
    statistics of the whole training set (recomputed in batches of 1,000 with the cumulative
    average; the paper's Algorithm 2)."""
    if not cell.bn:
        return {}
    config, model, (train_x, train_y, test_x, test_y) = trained_model(folder, "bn")
    model.eval()
    running = evaluate(model, test_x, test_y, 1000, config.device)[1]
    model.train()
    batch = evaluate(model, test_x, test_y, config.batch_size, config.device)[1]
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.reset_running_stats()
            module.momentum = None  # the cumulative average over the batches seen
    evaluate(model, train_x, train_y, 1000, config.device)  # train mode: gathers the statistics
    model.eval()
    population = evaluate(model, test_x, test_y, 1000, config.device)[1]
    return {"running": running, "batch": batch, "population": population}


# --- the tables ------------------------------------------------------------------------------


def convergence_table(study: Study, results: list[dict]) -> str:
    """Per grid value and variant: steps to each target, final and best test accuracy (the
    spread over seeds), divergence."""
    header = [study.setting_name, "variant"]
    header += [f"steps to {target:.0%}" for target in study.targets]
    header += ["final test accuracy", "best test accuracy", "diverged"]
    rows = []
    for (setting, variant), group in grouped(results).items():
        row = [setting, variant]
        row += [format_steps([steps_to(r, target) for r in group]) for target in study.targets]
        row.append(format_accuracy([r["summary"]["final_test_accuracy"] for r in group]))
        row.append(format_accuracy([r["summary"]["best_test_accuracy"] for r in group]))
        row.append(format_divergence(group))
        rows.append(row)
    return markdown_table(header, rows)


def regularization_table(study: Study, results: list[dict]) -> str:
    """Per variant: accuracy on the training samples and on the test set, the gap, and the test
    loss at the end against its lowest over the run (a rising test loss is overfitting)."""
    header = [
        "variant",
        "train accuracy",
        "test accuracy",
        "gap (train - test)",
        "final test loss",
        "lowest test loss",
    ]
    rows = []
    for (_, variant), group in grouped(results).items():
        fits = [r["measures"] for r in group if r["measures"]]
        gaps = [fit["train_accuracy"] - fit["test_accuracy"] for fit in fits]
        rows.append(
            [
                variant,
                format_accuracy([fit["train_accuracy"] for fit in fits]),
                format_accuracy([fit["test_accuracy"] for fit in fits]),
                format_points(gaps),
                format_number([fit["test_loss"] for fit in fits]),
                format_number([min(point[2] for point in r["test_curve"]) for r in group]),
            ]
        )
    return markdown_table(header, rows)


def batch_table(study: Study, results: list[dict]) -> str:
    """Per batch size: the plain net's final test accuracy, the BN net's with its three kinds of
    statistics, and the samples each needed to reach 90%."""
    header = [
        "batch",
        "lr",
        "steps",
        "without BN",
        "BN, eval mode (running averages)",
        "BN, each test batch's statistics",
        "BN, training-set statistics",
        "samples to 90%: BN / without",
    ]
    groups = grouped(results)
    rows = []
    for batch in dict.fromkeys(result["cell"]["setting"] for result in results):
        bn, plain = groups.get((batch, "bn"), []), groups.get((batch, "plain"), [])
        any_cell = (bn or plain)[0]["cell"]
        options = any_cell["options"]
        kinds = [
            [r["measures"].get(kind) for r in bn] for kind in ("running", "batch", "population")
        ]
        samples = [
            format_steps([steps_to(r, 0.90) for r in group], scale=int(batch))
            for group in (bn, plain)
        ]
        rows.append(
            [
                batch,
                f"{float(options[options.index('--lr') + 1]):.4g}",
                f"{int(options[options.index('--steps') + 1]):,}",
                format_accuracy([r["summary"]["final_test_accuracy"] for r in plain]),
                *(format_accuracy(values) for values in kinds),
                " / ".join(samples),
            ]
        )
    return markdown_table(header, rows)


def format_points(values: list[float]) -> str:
    """Differences of accuracies in percentage points: "4.1 pt (3.9-4.3)"."""
    if not values:
        return "-"
    mean = sum(values) / len(values)
    spread = f" ({100 * min(values):.1f}-{100 * max(values):.1f})" if len(values) > 1 else ""
    return f"{100 * mean:.1f} pt{spread}"


def format_number(values: list[float]) -> str:
    if not values:
        return "-"
    mean = sum(values) / len(values)
    spread = f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else ""
    return f"{mean:.3f}{spread}"


STUDIES = {
    study.name: study
    for study in (
        Study(
            "lr",
            "Learning rate: the paper's net with and without batch norm",
            "lr",
            ("0.1", "0.5", "1", "2", "5", "10", "20", "50"),
            steps=10_000,
            seeds=3,
            cells=paper_net_cells("--lr"),
            table=convergence_table,
            figure=convergence_figure,
        ),
        Study(
            "init",
            "Initialization: the paper's net with weights from N(0, std²), or PyTorch's init",
            "init std",
            ("0.01", "0.05", "0.1", "0.5", "1.0", "pytorch"),
            steps=10_000,
            seeds=3,
            cells=paper_net_cells("--init"),
            table=convergence_table,
            figure=convergence_figure,
        ),
        Study(
            "reg",
            "Regularization: a ReLU MLP 512-256 on 5,000 MNIST training samples",
            "variant",
            tuple(REGULARIZATION_VARIANTS),
            steps=4_000,
            seeds=3,
            cells=regularization_cells,
            table=regularization_table,
            figure=regularization_figure,
            measure=measure_fit,
        ),
        Study(
            "batch",
            "Batch size: the paper's net at the same number of samples, lr 0.5 x batch / 60",
            "batch",
            ("2", "4", "8", "16", "60", "256"),
            steps=2_000,
            seeds=3,
            cells=batch_cells,
            table=batch_table,
            figure=batch_figure,
            measure=measure_bn_statistics,
        ),
        Study(
            "lr-cnn",
            "Learning rate: the small CNN on Fashion-MNIST (SGD, momentum 0.9, batch 128)",
            "lr",
            ("0.01", "0.05", "0.2", "0.5"),
            steps=600,
            seeds=1,
            cells=cnn_lr_cells,
            table=convergence_table,
            figure=convergence_figure,
            targets=FASHION_TARGETS,
        ),
    )
}
