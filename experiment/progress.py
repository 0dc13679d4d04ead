"""The console's progress bar for an epoch (tqdm: the `train` extra, never the library's)."""

from __future__ import annotations

from tqdm import tqdm


def progress_bar(total: int, description: str, initial: int = 0) -> tqdm:
    """A bar of `total` steps that starts at `initial` (a resumed epoch) and leaves no line."""
    return tqdm(
        total=total,
        initial=initial,
        desc=description,
        unit="step",
        leave=False,
        dynamic_ncols=True,
        mininterval=0.5,
    )
