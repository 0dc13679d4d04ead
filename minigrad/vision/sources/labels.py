"""Check that a file's class labels lie in 0..num_classes-1, naming the file and the bad values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHOWN_VALUES = 5


def check_labels(labels: np.ndarray, num_classes: int, path: str | Path) -> None:
    """Raise ValueError if a label lies outside 0..num_classes-1: the file, the bad values
    (the first few distinct ones), how many labels are bad and where the first one is."""
    bad = (labels < 0) | (labels >= num_classes)
    if not bad.any():
        return
    values = np.unique(labels[bad])
    shown = ", ".join(str(value) for value in values[:SHOWN_VALUES])
    more = f" and {len(values) - SHOWN_VALUES} more" if len(values) > SHOWN_VALUES else ""
    raise ValueError(
        f"{path}: labels must lie in 0..{num_classes - 1}, but {int(bad.sum())} of "
        f"{labels.size} do not (values {shown}{more}; the first at item {int(bad.argmax())})"
    )
