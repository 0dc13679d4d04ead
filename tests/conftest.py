"""Shared test set-up: the `gpu` marker skips cleanly where CuPy or a GPU is missing."""

import os

import pytest

import minigrad


def _gpu_skip_reason() -> str | None:
    try:
        import cupy  # noqa: F401
    except ImportError:
        return "needs CuPy (pip install cupy-cuda12x or cupy-cuda13x)"
    if not minigrad.cuda_is_available():
        return "CuPy is installed but no CUDA GPU is visible"
    return None


GPU_SKIP_REASON = _gpu_skip_reason()
requires_cuda = pytest.mark.skipif(GPU_SKIP_REASON is not None, reason=str(GPU_SKIP_REASON))


def pytest_collection_modifyitems(config, items):
    """Every test marked `gpu` is skipped, with the reason, when no GPU can be used."""
    if GPU_SKIP_REASON is None:
        return
    skip = pytest.mark.skip(reason=f"GPU test: {GPU_SKIP_REASON}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    minigrad.manual_seed(0)
    yield


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
"""Parametrize a test over this to run it on the CPU and (where there is one) the GPU."""

os.environ.setdefault("MINIGRAD_OFFLINE", "1")
