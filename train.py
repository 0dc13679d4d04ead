"""Train a network with and without batch normalization on real data and compare convergence.

    python train.py                                   # the main job: the paper's MNIST net
    python train.py --dataset fashion-mnist --model cnn --epochs 2
    python train.py --resume runs/20261128-101500     # continue an interrupted run
    mpiexec -n 2 python train.py                      # data-parallel over 2 processes

Argument parsing and the experiment loop live here; the library in minigrad/, the data sets
in datasets/, the models in models/, and the experiment's pieces (its configuration, stopwatch,
progress bar, tracked inputs, report and plots) in experiment/.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import minigrad
import models
from experiment import plots, report
from experiment.config import Config
from experiment.progress import progress_bar
from experiment.stopwatch import Stopwatch
from experiment.tracking import InputTracker
from minigrad import backend, optim
from minigrad import distributed as dist
from minigrad.data import DataLoader, TensorDataset
from minigrad.nn import functional as F
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.utils.data import DistributedSampler

VARIANTS = {"on": ["bn"], "off": ["plain"], "both": ["bn", "plain"]}
SCHEDULERS = ("none", "step", "multistep", "cosine", "warmup")
EVAL_BATCH = 1000
USABLE_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
# for models that register no default
FALLBACKS = {
    "batch_size": 64,
    "optimizer": "sgd",
    "momentum": 0.0,
    "threads": max(1, (USABLE_CPUS or 1) // dist.launched_world_size()),  # ranks share the cores
}
# what a resumed run may change besides its length (--steps/--epochs): where and how it runs
CHANGEABLE_ON_RESUME = ("device", "threads", "data_dir", "checkpoint_every", "plots")
EXIT_DIVERGED = 3
# the statuses every rank of an mpiexec job reaches together; any other one ends the whole job
STATUSES_OF_ALL_RANKS = (0, EXIT_DIVERGED, 130)
EXIT_STATUS_HELP = (
    "exit status: 0 done; 1 an error (data missing, an output that cannot be written); 2 bad "
    f"options; {EXIT_DIVERGED} a variant diverged (its loss became NaN or infinite); 130 "
    "interrupted (continue with --resume)"
)


# --- arguments ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train the same network with and without batch normalization and report "
        "how many steps each needs to reach given test accuracies.",
        epilog=EXIT_STATUS_HELP,
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
    parser.add_argument(
        "--sync-bn",
        choices=("on", "off"),
        default="on",
        help="under mpiexec with several ranks: batch norm over the global batch (on: "
        "SyncBatchNorm) or over each rank's share of it (off) (default: %(default)s)",
    )
    parser.add_argument(
        "--init",
        type=init_value,
        metavar="STD|pytorch",
        help="initial weights: from N(0, STD^2) with zero biases, or PyTorch's default init "
        "(default: the model's; bnpaper: 0.1)",
    )
    parser.add_argument(
        "--hidden-dropout",
        type=float,
        default=0.0,
        help="dropout probability after each hidden activation of the MLPs (default: %(default)s)",
    )
    parser.add_argument(
        "--train-samples",
        type=int,
        metavar="N",
        help="train on the first N samples of the training split only (default: all)",
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
        "--plots",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="draw curves.png and inputs.png at the end (--no-plots: for runs that a script "
        "drives, such as the studies; default: on)",
    )
    parser.add_argument(
        "--eval-every", type=int, default=250, help="evaluate every N steps (default: %(default)s)"
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        metavar="N",
        help="write the checkpoints every N steps and at each epoch's end (default: at every "
        "evaluation, i.e. --eval-every)",
    )
    parser.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run in DIR from its last checkpoint (--steps/--epochs "
        "extend it; --device, --threads, --data-dir, --checkpoint-every, --plots may change)",
    )
    parser.add_argument(
        "--track-inputs",
        action=argparse.BooleanOptionalAction,
        help="record percentiles of the inputs of a few units of the last hidden "
        "activation at each evaluation: inputs.csv, inputs.png (default: on for "
        "bnpaper)",
    )
    return parser


def init_value(text: str) -> float | str:
    """--init: "pytorch", or a positive, finite standard deviation."""
    if text == "pytorch":
        return text
    try:
        std = float(text)
    except ValueError:
        std = math.nan
    if not (math.isfinite(std) and std > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number or 'pytorch', got {text!r}")
    return std


def parse_args(argv: list[str] | None = None) -> Config:
    """Parse and check every value before anything is loaded or trained (bad values: exit 2);
    the run's configuration, a resumed run's merged with the changes the command line makes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    resume_changes = []
    if args.resume:
        args, resume_changes = _resumed_args(parser, args, _given_options(parser, argv))
    _fill_in_defaults(args)
    _check_values(parser, args)
    if resume_changes:
        print(f"resume: applying {', '.join(resume_changes)}")
    return Config(**vars(args))


def _fill_in_defaults(args: argparse.Namespace) -> None:
    """What the command line left out: the model's defaults, then train.py's."""
    spec = models.REGISTRY[args.model]
    for name in ("batch_size", "lr", "optimizer", "momentum", "threads", "init"):
        if getattr(args, name) is None:
            setattr(args, name, spec.defaults.get(name, FALLBACKS.get(name)))
    if args.epochs is None and args.steps is None:
        args.steps = spec.defaults.get("steps")
        args.epochs = None if args.steps else spec.defaults.get("epochs", 1)
    if args.checkpoint_every is None:
        args.checkpoint_every = args.eval_every
    if args.track_inputs is None:
        args.track_inputs = args.model == "bnpaper"
    args.out = args.out or time.strftime("runs/%Y%m%d-%H%M%S")


def _check_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit 2 with a message at the first value that cannot work; the device is normalized."""
    if args.lr is None:
        parser.error(f"--lr is needed: model {args.model!r} registers no default learning rate")
    _check_positive(
        parser, args, ("epochs", "steps", "batch_size", "eval_every", "checkpoint_every", "threads")
    )
    _check_positive(parser, args, ("train_samples",))
    if not 0 <= args.hidden_dropout < 1:
        parser.error(f"--hidden-dropout must be in [0, 1), got {args.hidden_dropout}")
    for name in ("lr", "momentum", "weight_decay"):
        if not math.isfinite(getattr(args, name)):
            parser.error(f"{_flag(name)} must be a finite number, got {getattr(args, name)}")
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    if not 0 <= args.momentum < 1:
        parser.error(f"--momentum must be in [0, 1), got {args.momentum}")
    if args.weight_decay < 0:
        parser.error(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    if args.epochs is not None and args.steps is not None:
        parser.error("give --epochs or --steps, not both")
    ranks = dist.launched_world_size()
    if args.batch_size % ranks:
        parser.error(f"--batch-size {args.batch_size} does not split over the {ranks} ranks")
    try:
        args.device = backend.normalize_device(args.device)
        backend.device_module(args.device)
    except backend.DeviceError as exc:
        parser.error(f"--device: {exc}")


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _check_positive(parser, args, names) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"{_flag(name)} must be a positive integer, got {value}")


def _given_options(parser, argv: list[str] | None) -> dict:
    """The options given on the command line, as opposed to those left at their defaults
    (argparse fills in a default only where the namespace lacks the attribute)."""
    unset = object()
    probe = argparse.Namespace(**dict.fromkeys(vars(parser.parse_args([])), unset))
    parser.parse_args(argv, probe)
    return {name: value for name, value in vars(probe).items() if value is not unset}


def _saved_options(parser, run_dir: str) -> tuple[Path, dict]:
    """config.json of the run in `run_dir` and the options it holds, which are train.py's."""
    config_path = Path(run_dir) / "config.json"
    if not config_path.is_file():
        parser.error(f"--resume: {config_path} not found (is {run_dir} a run directory?)")
    try:
        saved = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        parser.error(f"--resume: cannot read the run's configuration {config_path}: {exc}")
    if not isinstance(saved, dict):
        parser.error(f"--resume: {config_path} holds a {type(saved).__name__}, not a run's options")
    unknown = [name for name in saved if name not in vars(parser.parse_args([]))]
    if unknown:
        parser.error(f"--resume: {config_path} has options train.py does not know: {unknown}")
    return config_path, saved


def _resumed_args(parser, args, given: dict) -> tuple[argparse.Namespace, list[str]]:
    """The saved configuration of the run being resumed, and the changes the command line
    makes to it. Options that change the experiment must agree with the saved ones."""
    config_path, saved = _saved_options(parser, args.resume)
    unchecked = ("steps", "epochs", *CHANGEABLE_ON_RESUME, "resume", "out")
    for name, value in given.items():
        if name == "out" and Path(value) != Path(args.resume):
            parser.error(
                f"--out {value} conflicts with --resume {args.resume}: a resumed run writes into "
                "its own directory"
            )
        if name not in unchecked and value != saved.get(name):
            parser.error(
                f"{_option(name, value)} conflicts with the run being resumed, which has "
                f"{_option(name, saved.get(name))} ({config_path}); a resumed run keeps its "
                "experiment: drop the option, or start a new run"
            )
    resumed = argparse.Namespace(**{**vars(parser.parse_args([])), **saved})
    resumed.resume, resumed.out = args.resume, args.resume
    changes = []
    if "steps" in given or "epochs" in given:
        resumed.steps, resumed.epochs = given.get("steps"), given.get("epochs")
        length, saved_length = _run_length(vars(resumed)), _run_length(saved)
        if length != saved_length:
            if resumed.scheduler != "none":
                parser.error(
                    f"{length} cannot extend this run: its --scheduler {resumed.scheduler} was "
                    f"laid out over {saved_length}"
                )
            changes.append(f"{length} (was {saved_length})")
    for name in CHANGEABLE_ON_RESUME:
        if name in given and given[name] != saved.get(name):
            setattr(resumed, name, given[name])
            changes.append(f"{_option(name, given[name])} (was {saved.get(name)})")
    return resumed, changes


def _option(name: str, value) -> str:
    """An option as it is written on the command line: --model cnn, --no-track-inputs."""
    if isinstance(value, bool):
        return _flag(name) if value else f"--no-{_flag(name)[2:]}"
    return f"{_flag(name)} {value}"


def _run_length(options: dict) -> str:
    """--steps N or --epochs N, from a configuration's options by name."""
    steps, epochs = options.get("steps"), options.get("epochs")
    if steps is not None and epochs is not None:
        return f"--steps {steps} --epochs {epochs}"
    return f"--steps {steps}" if steps is not None else f"--epochs {epochs}"


# --- the experiment -----------------------------------------------------------------------


@dataclass
class Progress:
    """Where a variant's training stands; saved in its checkpoint, with the stopwatch's time
    as "seconds", so --resume continues."""

    step: int = 0
    epoch: int = 0
    batch: int = 0  # batches already trained on within `epoch`
    epoch_started_at: float = 0.0  # the training time when `epoch` began
    evaluated_at: int = -1
    finished: bool = False
    diverged_at: int | None = None  # the step at which the loss was seen NaN or infinite
    epoch_seconds: list = field(default_factory=list)


class StopRequested(Exception):
    """Ctrl-C was pressed; the step in flight has finished and the state is consistent."""


class Diverged(Exception):
    """The loss (or a tracked input) became NaN or infinite: training this variant is over."""


class OutputError(Exception):
    """An output file could not be written (disk full, no permission); the message names it."""


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError from writing `path` into an OutputError that names it. Every output is
    written atomically, so `path` is left as it was."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if str(path) in reason:  # fileio's errors name the file (and, disk full, the space)
            raise OutputError(reason) from exc
        raise OutputError(f"could not write {path}: {reason}; it is left as it was") from exc


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


class Run:
    """One variant (bn or plain): model, optimizer, data, and the loop that trains it."""

    def __init__(
        self, config: Config, variant: str, data, out: Path, logs: dict[str, report.CsvLog]
    ):
        self.config, self.variant, self.logs = config, variant, logs
        train_x, train_y, self.test_x, self.test_y = data
        if config.batch_size > len(train_x):
            raise ValueError(
                f"--batch-size {config.batch_size} is larger than the {config.dataset} training "
                f"set ({len(train_x)} samples): not one batch to train on"
            )
        minigrad.manual_seed(config.seed)  # same init and data order for both variants
        dataset = datasets.REGISTRY[config.dataset]
        self.network = make_model(config, variant, tuple(train_x.shape[1:]))
        self.network.to(config.device)
        self.model = data_parallel(config, self.network)
        self.optimizer = make_optimizer(config, self.model.parameters())
        rank, ranks = place()
        if rank:  # each rank its own dropout (rank 0 keeps a plain run's)
            minigrad.manual_seed(config.seed + rank)
        training_set = TensorDataset(train_x, train_y)
        self.sampler = DistributedSampler(training_set, ranks, rank, seed=config.seed)
        self.loader = DataLoader(  # this rank's share of each batch (one rank: all of it)
            training_set,
            batch_size=config.batch_size // ranks,
            sampler=self.sampler,
            drop_last=True,
            seed=config.seed + rank,  # each rank its own augmentation
            device=config.device,
            transform=dataset.train_transform,
        )
        self.total_steps = config.steps or config.epochs * len(self.loader)
        self.scheduler = make_scheduler(config, self.optimizer, self.total_steps)
        self.progress = Progress()
        self.stopwatch = Stopwatch()  # the training time: evaluations and checkpoints excluded
        self.meter = report.RunningMeter()  # the training loss/accuracy since the last log
        self.writer = rank == 0  # rank 0 alone writes checkpoints, logs and pictures
        self.checkpoint = out / f"{variant}.ckpt.npz"
        self.tracker = InputTracker(self.model) if config.track_inputs else None

    @property
    def done(self) -> bool:
        return self.progress.finished or self.progress.diverged_at is not None

    # checkpoints -------------------------------------------------------------------------
    def save(self) -> None:
        if not self.writer:
            return
        with self.stopwatch.paused():
            progress = {**dataclasses.asdict(self.progress), "seconds": self.stopwatch.elapsed}
            state = {
                "model": self.network.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else {},
                "meter": self.meter.state_dict(),
                "progress": progress,
            }
            with writing(self.checkpoint):
                minigrad.save(state, self.checkpoint)

    def restore(self) -> None:
        """Load this variant's checkpoint, if the interrupted run got as far as writing one."""
        if not self.checkpoint.exists():
            return
        state = minigrad.load(self.checkpoint)
        self.network.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler:
            self.scheduler.load_state_dict(state["scheduler"])
        self.meter.load_state_dict(state["meter"], self.config.device)
        progress = dict(state["progress"])
        self.stopwatch = Stopwatch(progress.pop("seconds"))
        self.progress = Progress(**progress)
        if self.progress.step > self.total_steps:
            raise ValueError(
                f"{_run_length(vars(self.config))} makes the run {self.total_steps} steps long, "
                f"but '{self.variant}' has already trained {self.progress.step}: a run can be "
                "extended, not shortened"
            )
        if self.progress.step < self.total_steps:  # extended by --steps or --epochs
            self.progress.finished = False

    # training ----------------------------------------------------------------------------
    def train(self, stop: GracefulInterrupt) -> None:
        """Train to the last step, or until the loss is seen NaN or infinite; either way the
        checkpoint is saved at the end."""
        try:
            if self.progress.evaluated_at < 0:  # the untrained network: where both curves start
                self.log_and_evaluate()
            while self.progress.step < self.total_steps:
                self.train_epoch(stop)
        except Diverged as divergence:
            self.progress.diverged_at = self.progress.step
            print(f"\n{self.variant}: {divergence}; stopped this variant", file=sys.stderr)
        else:
            self.progress.finished = True
        self.save()

    def train_epoch(self, stop: GracefulInterrupt) -> None:
        """Train to the epoch's end (or the run's last step); the stopwatch runs meanwhile."""
        progress, loader = self.progress, self.loader
        epochs = math.ceil(self.total_steps / len(loader))
        todo = min(len(loader), progress.batch + self.total_steps - progress.step)
        loader.set_epoch(progress.epoch, start_batch=progress.batch)  # resumes mid-epoch too
        self.sampler.set_epoch(progress.epoch)
        self.model.train()
        self.first_batch, self.first_seconds = progress.batch, self.stopwatch.elapsed
        description = f"{self.variant} epoch {progress.epoch + 1}/{epochs}"
        with (
            self.stopwatch.running(),
            progress_bar(todo, description, initial=progress.batch)
            if self.writer
            else Silent() as bar,
        ):
            for images, labels in loader:
                if progress.batch >= todo:
                    break
                if any_rank(stop.requested):
                    raise StopRequested
                loss, correct = self.train_step(images, labels)
                self.meter.add(*global_batch_metrics(loss, correct, len(labels)))
                progress.step += 1
                progress.batch += 1
                bar.update(1)
                if progress.step % 50 == 0:  # a host sync, so not on every step
                    bar.set_postfix(self.postfix())
                if progress.step % self.config.eval_every == 0:
                    self.log_and_evaluate()
                if progress.step % self.config.checkpoint_every == 0 and progress.batch < todo:
                    self.save()  # (at the loop's end, the epoch's or the run's end saves)
        if progress.batch == len(loader):
            progress.epoch_seconds.append(self.stopwatch.elapsed - progress.epoch_started_at)
            progress.epoch, progress.batch = progress.epoch + 1, 0
            progress.epoch_started_at = self.stopwatch.elapsed
        if progress.evaluated_at != progress.step:  # each epoch's end, and the last step
            self.log_and_evaluate()
        if progress.step < self.total_steps:  # the last step is saved by train()
            self.save()

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

    def require_finite(self, value: float, what: str) -> None:
        """Values read at the logging syncs anyway: a NaN or infinite one ends the variant (on
        every rank: the values are the same on all of them, the decision is taken together)."""
        if any_rank(not math.isfinite(value)):
            raise Diverged(
                f"training diverged: the {what} is {value} at step {self.progress.step} "
                f"(--lr {self.config.lr})"
            )

    def postfix(self) -> dict:
        loss, accuracy = self.meter.read()
        self.require_finite(loss, "training loss")
        seconds = self.stopwatch.elapsed - self.first_seconds
        samples = (self.progress.batch - self.first_batch) * self.config.batch_size
        return {
            "loss": f"{loss:.3f}",
            "acc": f"{accuracy:.3f}",
            "samples/s": f"{samples / seconds:.0f}",
        }

    def log_and_evaluate(self) -> None:
        """Log the training loss/accuracy since the last log, then the test set's, at the
        training time so far (the stopwatch stands still: evaluating is not training)."""
        with self.stopwatch.paused():
            lr = self.optimizer.param_groups[0]["lr"]
            if self.meter.count:
                loss, accuracy = self.meter.read()
                self.require_finite(loss, "training loss")
                self.record("train", loss, accuracy, lr)
                self.meter.reset()
            self.record("test", *self.evaluate(), lr)
            self.progress.evaluated_at = self.progress.step
            self.model.train()

    def record(self, split: str, loss: float, accuracy: float, lr: float) -> None:
        step, epoch, seconds = self.progress.step, self.progress.epoch, self.stopwatch.elapsed
        self.logs["metrics"].write(self.variant, step, epoch, split, loss, accuracy, lr, seconds)

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
        self.require_finite(total_loss, "test loss")
        if self.tracker:
            tracked = self.tracker.percentiles()
            for unit, percentiles in tracked.items():
                for value in percentiles:
                    self.require_finite(value, f"input of tracked unit {unit}")
            for unit, percentiles in tracked.items():
                self.logs["inputs"].write(self.variant, self.progress.step, unit, *percentiles)
        return total_loss / len(self.test_y), correct / len(self.test_y)

    def outcome(self) -> dict:
        """Steps, speed and whether it diverged, for the summary."""
        progress, seconds = self.progress, self.stopwatch.elapsed
        per_epoch = progress.epoch_seconds
        seconds_per_epoch = sum(per_epoch) / len(per_epoch) if per_epoch else None
        samples = progress.step * self.config.batch_size
        return {
            "steps": progress.step,
            "diverged_at_step": progress.diverged_at,
            "train_seconds": round(seconds, 3),
            "seconds_per_epoch": seconds_per_epoch,
            "samples_per_second": samples / seconds if seconds else None,
            "ranks": place()[1],
            "batch_norm": batch_norm_kind(self.config, self.variant),
        }


def make_model(config: Config, variant: str, input_shape: tuple) -> minigrad.nn.Module:
    """The variant's network ("bn" or "plain") with the run's --init and --hidden-dropout
    (built on the CPU)."""
    return models.build(
        config.model,
        input_shape,
        datasets.REGISTRY[config.dataset].num_classes,
        bn=variant == "bn",
        init=config.init,
        dropout=config.hidden_dropout or None,
    )


def make_optimizer(config: Config, parameters) -> optim.Optimizer:
    if config.optimizer == "sgd":
        return optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == "adam":
        return optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay or 1e-2)


def make_scheduler(config: Config, optimizer, total_steps: int):
    """A per-step schedule over the whole run (scheduler.step() after every optimizer step)."""
    schedulers = optim.lr_scheduler
    if config.scheduler == "step":
        return schedulers.StepLR(optimizer, step_size=max(total_steps // 2, 1))
    if config.scheduler == "multistep":
        return schedulers.MultiStepLR(optimizer, [total_steps // 2, total_steps * 3 // 4])
    if config.scheduler == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=total_steps)
    if config.scheduler == "warmup":
        return schedulers.LinearLR(
            optimizer, start_factor=0.1, total_iters=max(total_steps // 20, 1)
        )
    return None


def load_data(config: Config):
    """Host arrays of the train split; the test split, transformed as its data set's registry
    entry says (normalized, for CIFAR-10), moved to the device once."""
    train_x, train_y = datasets.load(config.dataset, "train", root=config.data_dir)
    if config.train_samples:
        if config.train_samples > len(train_x):
            raise ValueError(
                f"--train-samples {config.train_samples} is more than the {config.dataset} "
                f"training set holds ({len(train_x)} samples)"
            )
        train_x, train_y = train_x[: config.train_samples], train_y[: config.train_samples]
    test_x, test_y = datasets.load(config.dataset, "test", root=config.data_dir)
    test_transform = datasets.REGISTRY[config.dataset].test_transform
    if test_transform is not None:
        test_x = test_transform(test_x)
    test_x = minigrad.tensor(test_x, device=config.device)
    test_y = minigrad.tensor(test_y, device=config.device)
    return train_x, train_y, test_x, test_y


def out_problem(out: Path) -> str | None:
    """Why `out` cannot hold the run's files (created here if missing), or None."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a directory"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"--out {out}: cannot create the directory: {exc.strerror or exc}"
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        return f"--out {out}: cannot write into the directory: {exc.strerror or exc}"
    return None


def open_logs(config: Config, out: Path) -> dict[str, report.CsvLog]:
    if place()[0]:  # rank 0 alone writes
        return {"metrics": Silent(), "inputs": Silent()}
    append = bool(config.resume)
    logs = {"metrics": report.CsvLog(out / "metrics.csv", report.COLUMNS, append)}
    if config.track_inputs:
        logs["inputs"] = report.CsvLog(out / "inputs.csv", report.INPUT_COLUMNS, append)
    return logs


def resume_logs(runs: list[Run], out: Path) -> None:
    """Cut from the logs what the interrupted run wrote after each variant's checkpoint (the
    resumed run writes those rows again, so every row appears once), and say where each
    variant goes on from."""
    logged_through = {run.variant: run.progress.evaluated_at for run in runs}
    for name in ("metrics.csv", "inputs.csv"):
        if (out / name).exists():
            with writing(out / name):
                report.drop_rows_after(out / name, logged_through)
    states = []
    for run in runs:
        progress = run.progress
        if progress.diverged_at is not None:
            states.append(f"{run.variant} diverged at step {progress.diverged_at}")
        elif progress.finished:
            states.append(f"{run.variant} finished at step {progress.step}")
        else:
            states.append(f"{run.variant} from step {progress.step} of {run.total_steps}")
    print(f"resuming {out}: {', '.join(states)}")


# --- more than one process --------------------------------------------------------------


@contextlib.contextmanager
def process_group(config: Config) -> Iterator[Config]:
    """The ranks that mpiexec started, joined for the run (a plain run is one rank; a caller's
    group is used as it is); on GPUs they talk through NCCL, each on its own GPU, which its
    configuration then names."""
    if dist.is_initialized():
        yield config
        return
    several = dist.launched_world_size() > 1
    dist.init_process_group("nccl" if several and config.device != "cpu" else None)
    try:
        own_device = getattr(dist.process_group.group_of(None), "device", None)
        yield dataclasses.replace(config, device=own_device) if own_device else config
    finally:
        dist.destroy_process_group()


def place() -> tuple[int, int]:
    """This process's rank and the number of ranks (0 and 1 outside a process group)."""
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def data_parallel(config: Config, network: minigrad.nn.Module) -> minigrad.nn.Module:
    """What a rank trains: the network itself when it is the only rank; else the network
    wrapped in DistributedDataParallel (rank 0's initial weights, gradients averaged), its
    batch norm synchronized over the global batch unless --sync-bn off."""
    if place()[1] == 1:
        return network
    if config.sync_bn == "off":  # each rank its own statistics; rank 0's are broadcast
        return DistributedDataParallel(network)
    network = minigrad.nn.SyncBatchNorm.convert_sync_batchnorm(network)
    # the running statistics come from the global batch, the same on every rank: no broadcast
    return DistributedDataParallel(network, broadcast_buffers=False)


def batch_norm_kind(config: Config, variant: str) -> str:
    """What the summary says of a variant's batch norm."""
    ranks = place()[1]
    if variant != "bn":
        return "none"
    if ranks == 1:
        return "over the batch"
    if config.sync_bn == "on":
        return f"synchronized over the global batch of {ranks} ranks (--sync-bn on)"
    return f"over each of the {ranks} ranks' share of the batch (--sync-bn off)"


def global_batch_metrics(loss: minigrad.Tensor, correct: minigrad.Tensor, count: int) -> tuple:
    """The step's mean loss and correct predictions over the global batch, from this rank's
    (`count` samples), and the global batch's size: one all_reduce of two numbers, which stay
    on the device."""
    ranks = place()[1]
    if ranks == 1:
        return loss, correct, count
    sums = minigrad.stack([loss.double() * count, correct.double()])
    dist.all_reduce(sums)
    return sums[0] / (count * ranks), sums[1], count * ranks


def any_rank(flag: bool) -> bool:
    """Whether `flag` is set on some rank; every rank calls it at the same point. The flag goes
    through MPI on the host (a NCCL group's MPI side), so a GPU never waits for it."""
    if place()[1] == 1:
        return flag
    group = dist.process_group.group_of(None)
    host = getattr(group, "mpi", group)
    value = minigrad.tensor([float(flag)])
    host.all_reduce(value.data, dist.ReduceOp.MAX)
    return value.item() > 0


class Silent:
    """A log or progress bar of a rank other than 0, which writes nothing."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc_info) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    with process_group(config) as config:
        status = experiment(config)
        if status not in STATUSES_OF_ALL_RANKS and place()[1] > 1:
            dist.process_group.group_of(None).abort(status)  # the others would wait forever
        return status


def experiment(config: Config) -> int:
    """Train the variants of the run and report; the exit status."""
    out = Path(config.out)
    problem = out_problem(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    minigrad.set_num_threads(config.threads)
    try:
        data = load_data(config)
    except datasets.DatasetNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # --train-samples beyond the training set
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logs: dict[str, report.CsvLog] = {}  # opened once a resumed run's logs are cut
    try:
        runs = [Run(config, variant, data, out, logs) for variant in VARIANTS[config.bn]]
        if config.resume:
            for run in runs:
                run.restore()
    except ValueError as exc:  # a model or a checkpoint that does not fit the data or options
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if config.resume and place()[0] == 0:
            resume_logs(runs, out)
        if place()[0] == 0:
            with writing(out / "config.json"):
                report.write_json(out / "config.json", dataclasses.asdict(config))
        logs.update(open_logs(config, out))
        return train_and_report(config, runs, out)
    except OutputError as exc:
        resumable = (out / "config.json").exists()
        hint = f"; once it is fixed, continue with: python train.py --resume {out}"
        print(f"error: {exc}{hint if resumable else ''}", file=sys.stderr)
        return 1
    finally:
        for log in logs.values():
            log.close()


def train_and_report(config: Config, runs: list[Run], out: Path) -> int:
    """Train every variant not done yet, then report; the exit status."""
    with GracefulInterrupt() as stop:
        for run in runs:
            if run.done:
                continue
            try:
                run.train(stop)
            except StopRequested:
                run.save()
                if run.writer:
                    print(
                        f"\ninterrupted at step {run.progress.step} of '{run.variant}'; "
                        f"checkpoint saved. Continue with: python train.py --resume {out}",
                        file=sys.stderr,
                    )
                return 130
    rank, ranks = place()
    if rank:  # the other ranks trained the same steps; rank 0 alone reports
        return EXIT_DIVERGED if any(run.progress.diverged_at is not None for run in runs) else 0
    if ranks > 1:
        print(f"{ranks} ranks ({dist.get_backend()}), batch norm: {batch_norm_kind(config, 'bn')}")
    rows = report.read_csv(out / "metrics.csv")
    summary = report.summarize(rows, {run.variant: run.outcome() for run in runs})
    if config.track_inputs:
        input_rows = report.read_csv(out / "inputs.csv")
        for variant, drift in report.input_drift(input_rows).items():
            summary[variant]["input_drift"] = drift
        if config.plots:
            with writing(out / "inputs.png"):
                plots.plot_inputs(input_rows, out / "inputs.png", plots.caption(config))
    with writing(out / "summary.json"):
        report.write_json(out / "summary.json", summary)
    if config.plots:
        with writing(out / "curves.png"):
            plotted = plots.plot_curves(rows, out / "curves.png", plots.caption(config))
    if config.plots and not plotted:
        print(
            '(matplotlib is not installed: no curves.png or inputs.png; pip install -e ".[train]")'
        )
    print(report.comparison_table(summary))
    print(f"outputs in {out}/")
    diverged = [run.variant for run in runs if run.progress.diverged_at is not None]
    if diverged:
        print(f"exit status {EXIT_DIVERGED}: {' and '.join(diverged)} diverged", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


if __name__ == "__main__":
    sys.exit(main())
