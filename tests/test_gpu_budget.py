"""The host traffic of train.py on a GPU, counted exactly on the CuPy stand-in: a steady-state
training step copies its batch to the device and nothing else (no read, no sync); the logging
read every 50 steps reads the deferred label check and the meter's two sums; an evaluation
reads those three, then three per test batch. One more transfer anywhere fails the test.

Figures (bn on and off alike; the batch sizes are the models' defaults, 60 and 128):

    bnpaper  step: 2 writes (images 188160 B, labels 480 B)    log: 3 reads (1, 4, 8 B)
    cnn      step: 2 writes (images 401408 B, labels 1024 B)   log: 3 reads (1, 4, 8 B)

An evaluation of one test batch: 6 reads (cnn); bnpaper's input tracker adds a write of its
units' index per batch and one read of the percentiles (7 reads, 1 write). A batch of a
dataset already on the device copies only its index over (1 write).
"""

from __future__ import annotations

import functools
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
import train
from experiment import report
from experiment.tracking import InputTracker
from minigrad import backend
from minigrad.utils.data import DataLoader, TensorDataset, dataloader

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not hasattr(sys.modules.get("cupy"), "_fake"),
        reason="counts transfers: needs the CuPy stand-in's log (MINIGRAD_FAKE_GPU=1)",
    ),
    pytest.mark.filterwarnings("ignore::datasets.checksums.UnverifiedDataWarning"),  # tiny_mnist
]

IMAGE_BYTES = 28 * 28 * 4  # one float32 MNIST image
LABEL_BYTES = 8  # one int64 label
DEFERRED_FLAG_BYTES, LOSS_SUM_BYTES, CORRECT_BYTES = 1, 4, 8  # bool, float32, int64
REPOSITORY = Path(train.__file__).resolve().parent


@functools.cache
def lines_of(function) -> set[str]:
    """The "path:line" of each line of `function`, as the stand-in names its callers."""
    function = inspect.unwrap(function)  # Run.evaluate is wrapped by no_grad
    source, first = inspect.getsourcelines(function)
    path = Path(inspect.getsourcefile(function)).resolve().relative_to(REPOSITORY).as_posix()
    return {f"{path}:{number}" for number in range(first, first + len(source))}


def made_in(event, function) -> bool:
    """Whether `function` is among the callers of the transfer."""
    return bool(lines_of(function) & set(event.stack))


def run_on_gpu(model: str, bn: bool, data_dir, out) -> train.Run:
    """A variant as train.py sets it up for `--model model --device cuda`: the model's defaults
    (SGD with its lr and momentum, its batch size), the shuffling, device-bound DataLoader."""
    argv = ["--model", model, "--bn", "on" if bn else "off", "--device", "cuda"]
    config = train.parse_args([*argv, "--data-dir", str(data_dir), "--out", str(out)])
    out.mkdir()
    run = train.Run(config, "bn" if bn else "plain", train.load_data(config), out, logs={})
    assert type(run.optimizer).__name__ == "SGD" and run.loader.device == "cuda:0"
    run.first_batch, run.first_seconds = 0, 0.0  # as train_epoch sets them for postfix()
    return run


def train_step(run: train.Run, batches) -> None:
    """One pass of train_epoch's loop body: the batch, the step, the meter."""
    images, labels = next(batches)
    loss, correct = run.train_step(images, labels)
    run.meter.add(loss, correct, len(labels))
    run.progress.step += 1
    run.progress.batch += 1


@pytest.fixture
def cupy():
    """The stand-in, with no check left pending by an earlier test (the next read runs them)."""
    backend.raise_deferred()
    return sys.modules["cupy"]


@pytest.mark.parametrize("bn", [True, False], ids=["bn", "plain"])
@pytest.mark.parametrize("model, batch", [("bnpaper", 60), ("cnn", 128)])
def test_a_steady_training_step_only_copies_its_batch_and_a_logging_read_reads_three_numbers(
    model, batch, bn, tiny_mnist, tmp_path, cupy
):
    run = run_on_gpu(model, bn, tiny_mnist, tmp_path / "run")
    assert run.config.batch_size == batch
    batches = iter(run.loader)
    with run.stopwatch.running():
        for _ in range(2):  # warm-up: the optimizer's state is made in the first step
            train_step(run, batches)
        with cupy._fake.record() as step:
            train_step(run, batches)
        assert step.counts() == {"read": 0, "write": 2, "sync": 0}, str(step)
        assert [(event.api, event.nbytes) for event in step.writes] == [
            ("cupy.asarray", batch * IMAGE_BYTES),
            ("cupy.asarray", batch * LABEL_BYTES),
        ]
        assert all(made_in(event, dataloader.DataLoader._batches) for event in step.writes)

        pending = list(backend.arrays._deferred)  # the checks a read will run first
        with cupy._fake.record() as logging:
            shown = run.postfix()  # what train_epoch shows every 50 steps
    assert [message.split(":")[0] for _, message in pending] == ["cross_entropy"]
    assert logging.counts() == {"read": 3, "write": 0, "sync": 0}, str(logging)
    assert [(event.api, event.nbytes) for event in logging.reads] == [
        ("ndarray.item", DEFERRED_FLAG_BYTES),
        ("ndarray.item", LOSS_SUM_BYTES),
        ("ndarray.item", CORRECT_BYTES),
    ]
    assert all(made_in(event, train.Run.postfix) for event in logging.reads)
    assert float(shown["loss"]) > 0 and 0 <= float(shown["acc"]) <= 1


EVALUATION_BATCH = [  # what one test batch reads, after the deferred check
    ("read", DEFERRED_FLAG_BYTES, train.Run.evaluate),
    ("read", LOSS_SUM_BYTES, train.Run.evaluate),
    ("read", CORRECT_BYTES, train.Run.evaluate),
]
METER_READ = [
    ("read", DEFERRED_FLAG_BYTES, report.RunningMeter.read),
    ("read", LOSS_SUM_BYTES, report.RunningMeter.read),
    ("read", CORRECT_BYTES, report.RunningMeter.read),
]
TRACKED_UNITS = len(InputTracker.UNITS)


@pytest.mark.parametrize(
    "model, expected",
    [
        (
            "bnpaper",  # which tracks the inputs of 3 hidden units
            [
                *METER_READ,
                ("write", TRACKED_UNITS * 8, InputTracker._record),  # the units' index list
                *EVALUATION_BATCH,
                ("read", TRACKED_UNITS * 3 * 8, InputTracker.percentiles),
            ],
        ),
        ("cnn", [*METER_READ, *EVALUATION_BATCH]),
    ],
)
def test_an_evaluation_reads_the_meter_and_two_sums_per_test_batch(
    model, expected, tiny_mnist, tmp_path, cupy
):
    """The tiny test split is one evaluation batch (200 images)."""
    run = run_on_gpu(model, True, tiny_mnist, tmp_path / "run")
    run.logs.update(train.open_logs(run.config, run.checkpoint.parent))
    train_step(run, iter(run.loader))
    try:
        with cupy._fake.record() as evaluation:
            run.log_and_evaluate()
    finally:
        for log in run.logs.values():
            log.close()
    made = [
        (event.kind, event.nbytes, innermost_of(event, [function for *_, function in expected]))
        for event in evaluation.events
    ]
    assert made == expected, str(evaluation)


def innermost_of(event, functions: list):
    """The innermost caller of the transfer among `functions`."""
    for where in event.stack:
        for function in functions:
            if where in lines_of(function):
                return function
    return None


@pytest.mark.parametrize(
    "where, expected",
    [
        ("host", [20 * IMAGE_BYTES, 20 * LABEL_BYTES]),  # the batch's arrays
        ("device", [20 * 8]),  # the batch's int64 index, once for both arrays
    ],
)
def test_a_dataloader_batch_copies_the_batch_or_only_its_index_to_the_device(where, expected, cupy):
    images = np.zeros((100, 1, 28, 28), dtype=np.float32)
    labels = np.arange(100) % 10
    if where == "device":
        images = minigrad.tensor(images, device="cuda")
        labels = minigrad.tensor(labels, device="cuda")
    loader = DataLoader(TensorDataset(images, labels), 20, shuffle=True, seed=0, device="cuda")
    batches = iter(loader)
    next(batches)
    with cupy._fake.record() as batch:
        next(batches)
    assert batch.counts() == {"read": 0, "write": len(expected), "sync": 0}, str(batch)
    assert [event.nbytes for event in batch.writes] == expected
