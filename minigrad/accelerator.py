"""minigrad.accelerator, as torch.accelerator: the accelerator a script should use, if any."""

from __future__ import annotations

from minigrad import backend, cuda


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator() -> backend.device | None:
    """device("cuda:0") when a GPU can be used, else None (as PyTorch's, for a CPU-only run)."""
    return backend.device("cuda") if cuda.is_available() else None
