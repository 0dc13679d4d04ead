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
    eval_every: int
    checkpoint_every: int
    resume: str | None  # the run directory being continued
    track_inputs: bool
