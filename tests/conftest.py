"""Shared test set-up: the `gpu` marker skips cleanly where CuPy or a GPU is missing."""

import contextlib
import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad

if os.environ.get("MINIGRAD_FAKE_GPU") == "1":  # the gpu tests on the strict CuPy stand-in
    sys.path.insert(0, str(Path(__file__).parent / "fakecupy"))


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
    """Every test starts from the same random state and on one thread (the default is every
    core, which would make a test's splitting depend on the machine), and is put back on one
    thread even when it ran train.py, which sets the model's thread count."""
    minigrad.manual_seed(0)
    if minigrad.get_num_threads() != 1:
        minigrad.set_num_threads(1)
    yield
    if minigrad.get_num_threads() != 1:
        minigrad.set_num_threads(1)


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
"""Parametrize a test over this to run it on the CPU and (where there is one) the GPU."""

os.environ.setdefault("MINIGRAD_OFFLINE", "1")


def write_idx(path: Path, array: np.ndarray) -> None:
    magic = 0x0803 if array.ndim == 3 else 0x0801
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """A learnable fake MNIST: each class lights up its own band of rows."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for prefix, count in (("train", 600), ("t10k", 200)):
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 60, (count, 28, 28))
        for index, label in enumerate(labels):
            images[index, 2 * label + 3 : 2 * label + 6] = 255
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path / "data"


@pytest.fixture
def device_array(monkeypatch):
    """A stand-in for a device array without CuPy: a NumPy subclass that the backend reports as
    on "cuda:0" (device scopes do nothing), for the device checks of the CPU-only suite."""

    class DeviceArray(np.ndarray):
        pass

    host_device_of = minigrad.backend.device_of
    monkeypatch.setattr(
        minigrad.backend,
        "device_of",
        lambda a: "cuda:0" if isinstance(a, DeviceArray) else host_device_of(a),
    )
    monkeypatch.setattr(minigrad.backend, "on_device", lambda device: contextlib.nullcontext())
    return DeviceArray


@pytest.fixture
def split_ops(monkeypatch):
    """Ops split along the batch even for tiny arrays (PARALLEL_MIN_WORK lowered to 1) once
    set_num_threads(n > 1) is called; _seeded puts minigrad back on one thread afterwards."""
    monkeypatch.setattr(minigrad.backend.threads, "PARALLEL_MIN_WORK", 1)


@pytest.fixture(params=[1, 3], ids=["1-thread", "3-threads"])
def threads(request, split_ops):
    """Run a test with its ops unsplit, then split along the batch over 3 threads, so the
    split code paths meet the same checks."""
    minigrad.set_num_threads(request.param)
    return request.param
