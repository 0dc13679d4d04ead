"""A run's configuration: train.py's options once parsed, checked and merged with a resumed
run's, frozen. It is what config.json holds and what --resume reads back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    """One field per option of train.py, in the order of its --help (and of config.json)."""

    dataset: str
    model: str
    bn: str  # "on", "off" or "both"
    sync_bn: str  # "on" or "off": SyncBatchNorm over the ranks of an mpiexec job, or BN per rank
    init: float | str | None  # a weight std, "pytorch", or None for a model that sets none
    hidden_dropout: float
    train_samples: int | None  # the first N training samples, or None for all
    epochs: int | None  # the run's length: epochs or steps, the other None
    steps: int | None
    batch_size: int
    lr: float
    optimizer: str
    momentum: float
    weight_decay: float
    scheduler: str
    device: str  # normalized: "cpu" or "cuda:N"
    seed: int
    threads: int
    data_dir: str | None
    out: str
    plots: bool  # draw curves.png and inputs.png
    eval_every: int
    checkpoint_every: int
    resume: str | None  # the run directory being continued
    track_inputs: bool
