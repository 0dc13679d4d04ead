"""minigrad.vision.sources.labels (the class-label check) under this package's old path."""

from minigrad.vision.sources.labels import check_labels

__all__ = ["check_labels"]
