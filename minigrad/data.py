"""The old home of the data utilities, kept so ``minigrad.data`` imports keep working: the
same objects as minigrad.utils.data (PyTorch's path), which is where they live."""

# ruff: noqa: F401, F403 (the names imported here are this module's API)

from minigrad.utils.data import *
from minigrad.utils.data import __all__
