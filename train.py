"""Train a network with and without batch normalization on real data and compare convergence.

    python train.py                                   # the main job: the paper's MNIST net
    python train.py --dataset fashion-mnist --model cnn --epochs 2
    python train.py --resume runs/20261128-101500     # continue an interrupted run

Argument parsing and the experiment loop live here; the pieces live in minigrad/, datasets/
and models/, and reporting in minigrad/report.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import minigrad
import models
from minigrad import backend, nn, optim, report
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F

VARIANTS = {"on": ["bn"], "off": ["plain"], "both": ["bn", "plain"]}
SCHEDULERS = ("none", "step", "multistep", "cosine", "warmup")
EVAL_BATCH = 1000
USABLE_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
# for models that register no default
FALLBACKS = {"batch_size": 64, "optimizer": "sgd", "momentum": 0.0, "threads": USABLE_CPUS or 1}


# --- arguments ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train the same network with and without batch normalization and report "
        "how many steps each needs to reach given test accuracies.",
    )
    model_help = "; ".join(f"{spec.name}: {spec.help}" for spec in models.REGISTRY.values())
    parser.add_argument(
        "--dataset", choices=datasets.NAMES, default="mnist", help="data set (default: %(default)s)"
    )
    parser.add_argument(
        "--model",
        choices=sorted(models.REGISTRY),
        default="bnpaper",
        help=f"registered model ({model_help})",
    )
    parser.add_argument(
        "--bn",
        choices=VARIANTS,
        default="both",
        help="train with batch norm (on), without (off), or both for comparison "
        "(default: %(default)s)",
    )
    parser.add_argument("--epochs", type=int, help="epochs to train (instead of --steps)")
    parser.add_argument("--steps", type=int, help="optimizer steps to train (default: the model's)")
    parser.add_argument("--batch-size", type=int, help="mini-batch size (default: the model's)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    parser.add_argument(
        "--optimizer", choices=("sgd", "adam", "adamw"), help="optimizer (default: the model's)"
    )
    parser.add_argument("--momentum", type=float, help="SGD momentum (default: the model's or 0)")
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=0.0,
        help="L2 / decoupled decay (default: %(default)s)",
    )
    parser.add_argument(
        "--scheduler",
        choices=SCHEDULERS,
        default="none",
        help="lr schedule over the run: step (x0.1 at 1/2), multistep (x0.1 at "
        "1/2 and 3/4), cosine, warmup (linear over the first 5%%; default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        default=backend.default_device(),
        help="cpu, cuda or cuda:N (default: $MINIGRAD_DEVICE or cpu)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for init and data order (default: %(default)s)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads that minigrad splits its large ops over (default: the model's; all "
        "cores, but 1 for the small MLPs, whose ops are too small to share)",
    )
    parser.add_argument(
        "--data-dir", help="data cache (default: $MINIGRAD_DATA or ~/.cache/minigrad)"
    )
    parser.add_argument("--out", help="output directory (default: runs/<timestamp>)")
    parser.add_argument(
        "--eval-every", type=int, default=250, help="evaluate every N steps (default: %(default)s)"
    )
    parser.add_argument("--resume", metavar="DIR", help="continue the interrupted run in DIR")
    parser.add_argument(
        "--track-inputs",
        action=argparse.BooleanOptionalAction,
        help="record percentiles of the inputs of a few units of the last hidden "
        "activation at each evaluation: inputs.csv, inputs.png (default: on for "
        "bnpaper)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check every value before anything is loaded or trained (bad values: exit 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume:
        args = _resumed_args(parser, args)
    spec = models.REGISTRY[args.model]
    for name in ("batch_size", "lr", "optimizer", "momentum", "threads"):
        if getattr(args, name) is None:
            setattr(args, name, spec.defaults.get(name, FALLBACKS.get(name)))
    if args.lr is None:
        parser.error(f"--lr is needed: model {args.model!r} registers no default learning rate")
    if args.epochs is None and args.steps is None:
        args.steps = spec.defaults.get("steps")
        args.epochs = None if args.steps else spec.defaults.get("epochs", 1)
    _check_positive(parser, args, ("epochs", "steps", "batch_size", "eval_every", "threads"))
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    if not 0 <= args.momentum < 1:
        parser.error(f"--momentum must be in [0, 1), got {args.momentum}")
    if args.weight_decay < 0:
        parser.error(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if args.epochs is not None and args.steps is not None:
        parser.error("give --epochs or --steps, not both")
    if args.track_inputs is None:
        args.track_inputs = args.model == "bnpaper"
    try:
        args.device = backend.normalize_device(args.device)
        backend.device_module(args.device)
    except backend.DeviceError as exc:
        parser.error(f"--device: {exc}")
    return args


def _check_positive(parser, args, names) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")


def _resumed_args(parser, args) -> argparse.Namespace:
    """The saved configuration of the run being resumed (its own values win)."""
    config_path = Path(args.resume) / "config.json"
    if not config_path.is_file():
        parser.error(f"--resume: {config_path} not found (is {args.resume} a run directory?)")
    saved = json.loads(config_path.read_text())
    resumed = argparse.Namespace(**saved)
    resumed.resume, resumed.out = args.resume, args.resume
    return resumed


# --- the experiment -----------------------------------------------------------------------


@dataclass
class Progress:
    """Where a variant's training stands; saved in its checkpoint so --resume continues."""

    step: int = 0
    epoch: int = 0
    batch: int = 0  # batches already trained on within `epoch`
    seconds: float = 0.0  # training time so far, evaluation excluded
    evaluated_at: int = -1
    finished: bool = False
    epoch_seconds: list = field(default_factory=list)


class StopRequested(Exception):
    """Ctrl-C was pressed; the step in flight has finished and the state is consistent."""


class GracefulInterrupt:
    """The first Ctrl-C asks the loop to stop after the current step (so the checkpoint never
    holds a half-applied update); a second one interrupts at once."""

    def __enter__(self) -> GracefulInterrupt:
        self.requested = False
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info) -> None:
        signal.signal(signal.SIGINT, self.previous)


class InputTracker:
    """While active, records the input of a few fixed units of the model's last hidden
    activation (the last Sigmoid/Tanh/ReLU module), as the batch-norm paper's Figure 1 does."""

    UNITS = (0, 1, 2)
    PERCENTILES = (15, 50, 85)

    def __init__(self, model: nn.Module) -> None:
        activations = [m for m in model.modules() if isinstance(m, (nn.Sigmoid, nn.Tanh, nn.ReLU))]
        if not activations:
            raise ValueError("--track-inputs needs a model with a Sigmoid/Tanh/ReLU module")
        self.layer = activations[-1]

    def __enter__(self) -> InputTracker:
        self.chunks = []
        self.handle = self.layer.register_forward_hook(self._record)
        return self

    def _record(self, module, inputs, output) -> None:
        self.chunks.append(inputs[0].data[:, list(self.UNITS)])

    def __exit__(self, *exc_info) -> None:
        self.handle.remove()

    def percentiles(self) -> dict[int, list[float]]:
        """unit -> [15th, 50th, 85th percentile] of its input over everything recorded."""
        xp = backend.array_module(self.chunks[0])
        values = xp.concatenate(self.chunks)
        table = xp.percentile(values, list(self.PERCENTILES), axis=0).tolist()
        return {unit: [row[i] for row in table] for i, unit in enumerate(self.UNITS)}


class Run:
    """One variant (bn or plain): model, optimizer, data, and the loop that trains it."""

    def __init__(self, args, variant: str, data, out: Path, logs: dict[str, report.CsvLog]):
        self.args, self.variant, self.logs = args, variant, logs
        train_x, train_y, self.test_x, self.test_y = data
        minigrad.manual_seed(args.seed)  # same init and data order for both variants
        input_shape, classes = tuple(train_x.shape[1:]), int(train_y.max()) + 1
        self.model = models.build(args.model, input_shape, classes, bn=variant == "bn")
        self.model.to(args.device)
        self.optimizer = make_optimizer(args, self.model.parameters())
        self.loader = DataLoader(
            TensorDataset(train_x, train_y),
            batch_size=args.batch_size,
            shuffle=True,
            drop_last=True,
            seed=args.seed,
            device=args.device,
            transform=augmentation(args),
        )
        self.total_steps = args.steps or args.epochs * len(self.loader)
        self.scheduler = make_scheduler(args, self.optimizer, self.total_steps)
        self.progress = Progress()
        self.checkpoint = out / f"{variant}.ckpt.npz"
        self.tracker = InputTracker(self.model) if args.track_inputs else None

    # checkpoints -------------------------------------------------------------------------
    def save(self) -> None:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else {},
            "progress": dict(self.progress.__dict__),
        }
        minigrad.save(state, self.checkpoint)

    def restore(self) -> None:
        """Load this variant's checkpoint, if the interrupted run got as far as writing one."""
        if not self.checkpoint.exists():
            return
        state = minigrad.load(self.checkpoint)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler:
            self.scheduler.load_state_dict(state["scheduler"])
        self.progress = Progress(**state["progress"])

    # training ----------------------------------------------------------------------------
    def train(self, stop: GracefulInterrupt) -> None:
        if self.progress.evaluated_at < 0:  # the untrained network: where both curves start
            self.started = time.perf_counter()
            self.log_and_evaluate(report.RunningMeter(), elapsed=0.0)
        while self.progress.step < self.total_steps:
            self.train_epoch(stop)
        self.progress.finished = True
        self.save()

    def train_epoch(self, stop: GracefulInterrupt) -> None:
        progress, loader = self.progress, self.loader
        epochs = math.ceil(self.total_steps / len(loader))
        todo = min(len(loader), progress.batch + self.total_steps - progress.step)
        bar = report.progress_bar(
            todo, f"{self.variant} epoch {progress.epoch + 1}/{epochs}", initial=progress.batch
        )
        meter = report.RunningMeter()
        loader.set_epoch(progress.epoch, start_batch=progress.batch)  # resumes mid-epoch too
        self.model.train()
        self.started, self.first_batch = time.perf_counter(), progress.batch
        for images, labels in loader:
            if progress.batch >= todo:
                break
            loss, correct = self.train_step(images, labels)
            meter.add(loss, correct, len(labels))
            progress.step += 1
            progress.batch += 1
            bar.update(1)
            if progress.step % 50 == 0:  # a host sync, so not on every step
                bar.set_postfix(self.postfix(meter))
            if progress.step % self.args.eval_every == 0:
                self.log_and_evaluate(meter)
            if stop.requested:
                bar.close()
                self.progress.seconds += time.perf_counter() - self.started
                raise StopRequested
        bar.close()
        elapsed = time.perf_counter() - self.started
        progress.seconds += elapsed
        if progress.batch == len(loader):
            progress.epoch_seconds.append(elapsed)
            progress.epoch, progress.batch = progress.epoch + 1, 0
        if progress.evaluated_at != progress.step:  # each epoch's end, and the last step
            self.log_and_evaluate(meter, elapsed=0.0)

    def train_step(self, images, labels):
        self.optimizer.zero_grad()
        logits = self.model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        self.optimizer.step()
        if self.scheduler:
            self.scheduler.step()
        with minigrad.no_grad():
            correct = (logits.argmax(dim=1) == labels).sum()
        return loss.detach(), correct  # device scalars: summed on the device, read when logged

    def postfix(self, meter: report.RunningMeter) -> dict:
        loss, accuracy = meter.read()
        seconds = time.perf_counter() - self.started
        samples = (self.progress.batch - self.first_batch) * self.args.batch_size
        return {
            "loss": f"{loss:.3f}",
            "acc": f"{accuracy:.3f}",
            "samples/s": f"{samples / seconds:.0f}",
        }

    def log_and_evaluate(self, meter: report.RunningMeter, elapsed: float | None = None) -> None:
        """Log the training loss/accuracy since the last log, then the test set's."""
        if elapsed is None:
            elapsed = time.perf_counter() - self.started
        seconds = self.progress.seconds + elapsed
        lr = self.optimizer.param_groups[0]["lr"]
        if meter.count:
            self.record("train", *meter.read(), lr, seconds)
            meter.reset()
        evaluation_started = time.perf_counter()
        self.record("test", *self.evaluate(), lr, seconds)
        self.progress.evaluated_at = self.progress.step
        self.started += time.perf_counter() - evaluation_started  # evaluation is not training
        self.model.train()

    def record(self, split: str, loss: float, accuracy: float, lr: float, seconds: float) -> None:
        progress = self.progress
        self.logs["metrics"].write(
            self.variant, progress.step, progress.epoch, split, loss, accuracy, lr, seconds
        )

    @minigrad.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Mean cross-entropy and accuracy on the test set, in eval mode (and, when tracking,
        the percentiles of the tracked units' inputs)."""
        self.model.eval()
        total_loss = correct = 0.0
        with self.tracker or contextlib.nullcontext():
            for start in range(0, len(self.test_y), EVAL_BATCH):
                images = self.test_x[start : start + EVAL_BATCH]
                labels = self.test_y[start : start + EVAL_BATCH]
                logits = self.model(images)
                total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
                correct += (logits.argmax(dim=1) == labels).sum().item()
        if self.tracker:
            for unit, percentiles in self.tracker.percentiles().items():
                self.logs["inputs"].write(self.variant, self.progress.step, unit, *percentiles)
        return total_loss / len(self.test_y), correct / len(self.test_y)

    def timing(self) -> dict:
        progress = self.progress
        per_epoch = progress.epoch_seconds
        seconds_per_epoch = sum(per_epoch) / len(per_epoch) if per_epoch else None
        samples = progress.step * self.args.batch_size
        return {
            "steps": progress.step,
            "train_seconds": round(progress.seconds, 3),
            "seconds_per_epoch": seconds_per_epoch,
            "samples_per_second": samples / progress.seconds if progress.seconds else None,
        }


def augmentation(args):
    """CIFAR-10 training batches get random crops (4-pixel black padding) and horizontal flips,
    then the per-channel normalization, on whole batches on the host."""
    if args.dataset != "cifar10":
        return None
    mean, std = datasets.CHANNEL_STATS[args.dataset]

    def augment(batch, rng):
        images, labels = batch
        images = datasets.transforms.cifar_augment(images, rng)
        return datasets.transforms.normalize(images, mean, std), labels

    return augment


def make_optimizer(args, parameters) -> optim.Optimizer:
    if args.optimizer == "sgd":
        return optim.SGD(
            parameters, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay
        )
    if args.optimizer == "adam":
        return optim.Adam(parameters, lr=args.lr, weight_decay=args.weight_decay)
    return optim.AdamW(parameters, lr=args.lr, weight_decay=args.weight_decay or 1e-2)


def make_scheduler(args, optimizer, total_steps: int):
    """A per-step schedule over the whole run (scheduler.step() after every optimizer step)."""
    schedulers = optim.lr_scheduler
    if args.scheduler == "step":
        return schedulers.StepLR(optimizer, step_size=max(total_steps // 2, 1))
    if args.scheduler == "multistep":
        return schedulers.MultiStepLR(optimizer, [total_steps // 2, total_steps * 3 // 4])
    if args.scheduler == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=total_steps)
    if args.scheduler == "warmup":
        return schedulers.LinearLR(
            optimizer, start_factor=0.1, total_iters=max(total_steps // 20, 1)
        )
    return None


def load_data(args):
    """Host arrays of the train split; the test split moved to the device once."""
    train_x, train_y = datasets.load(args.dataset, "train", root=args.data_dir)
    test_x, test_y = datasets.load(args.dataset, "test", root=args.data_dir)
    if args.dataset == "cifar10":  # training batches are normalized after augmentation
        test_x = datasets.transforms.normalize(test_x, *datasets.CHANNEL_STATS[args.dataset])
    test_x = minigrad.tensor(test_x, device=args.device)
    test_y = minigrad.tensor(test_y, device=args.device)
    return train_x, train_y, test_x, test_y


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    minigrad.set_num_threads(args.threads)
    backend.retain_freed_host_memory()  # reuse freed arrays' pages: no page faults per step
    out = Path(args.out or time.strftime("runs/%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        report.write_json(out / "config.json", vars(args))
    try:
        data = load_data(args)
    except datasets.DatasetNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    append = bool(args.resume)
    logs = {"metrics": report.CsvLog(out / "metrics.csv", report.COLUMNS, append)}
    if args.track_inputs:
        logs["inputs"] = report.CsvLog(out / "inputs.csv", report.INPUT_COLUMNS, append)
    try:
        runs = [Run(args, variant, data, out, logs) for variant in VARIANTS[args.bn]]
    except ValueError as exc:  # a model that does not fit the data or the options
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with GracefulInterrupt() as stop:
        for run in runs:
            if args.resume:
                run.restore()
            if run.progress.finished:
                continue
            try:
                run.train(stop)
            except StopRequested:
                run.save()
                print(
                    f"\ninterrupted at step {run.progress.step} of '{run.variant}'; checkpoint "
                    f"saved. Continue with: python train.py --resume {out}",
                    file=sys.stderr,
                )
                return 130
    for log in logs.values():
        log.close()
    rows = report.read_csv(out / "metrics.csv")
    summary = report.summarize(rows, {run.variant: run.timing() for run in runs})
    if args.track_inputs:
        input_rows = report.read_csv(out / "inputs.csv")
        for variant, drift in report.input_drift(input_rows).items():
            summary[variant]["input_drift"] = drift
        report.plot_inputs(input_rows, out / "inputs.png")
    report.write_json(out / "summary.json", summary)
    if not report.plot_curves(rows, out / "curves.png"):
        print("(matplotlib is not installed: no curves.png or inputs.png; pip install matplotlib)")
    print(report.comparison_table(summary))
    print(f"outputs in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
