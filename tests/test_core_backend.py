"""The backend boundary: one module knows NumPy/CuPy, devices are named clearly."""

import ast
import pathlib

import pytest

import minigrad as mg
from minigrad import backend

PACKAGE = pathlib.Path(mg.__file__).parent
# Host-side modules that read and write files or shuffle indices on the host, never op math.
HOST_SIDE = {"backend.py", "serialization.py", "data.py"}


def _array_imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in {"numpy", "cupy", "cupyx"}]
    return found


def test_only_the_backend_imports_numpy_or_cupy():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name in HOST_SIDE and path.parent == PACKAGE:
            continue
        imports = _array_imports(path)
        if imports:
            offenders[str(path.relative_to(PACKAGE))] = imports
    assert offenders == {}, f"array libraries imported outside backend.py: {offenders}"


def test_the_check_itself_sees_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import cupy as cp\n    from numpy import zeros\n")
    assert _array_imports(sample) == ["cupy", "numpy"]


def test_device_names():
    assert backend.normalize_device("cpu") == "cpu"
    assert backend.normalize_device("cuda") == "cuda:0"
    assert backend.normalize_device("cuda:1") == "cuda:1"
    with pytest.raises(backend.DeviceError, match="unknown device 'gpu'"):
        backend.normalize_device("gpu")


def test_default_device_from_environment(monkeypatch):
    monkeypatch.setenv("MINIGRAD_DEVICE", "cpu")
    assert mg.zeros(1).device == "cpu"
    monkeypatch.setenv("MINIGRAD_DEVICE", "tpu")
    with pytest.raises(backend.DeviceError, match="'tpu'"):
        mg.zeros(1)


def test_asking_for_cuda_without_a_gpu_says_why_and_how(monkeypatch):
    if mg.cuda_is_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(backend.DeviceError, match="cupy|CuPy|GPU"):
        mg.zeros(2, device="cuda")
    assert not mg.cuda_is_available()


def test_scatter_add_accumulates_repeats():
    target = mg.zeros(3).data
    backend.scatter_add(target, mg.tensor([0, 0, 2]).data, mg.tensor([1.0, 2.0, 5.0]).data)
    assert target.tolist() == [3.0, 0.0, 5.0]


def test_set_num_threads_round_trip():
    before = mg.get_num_threads()
    if before is None:
        pytest.skip("NumPy here does not use OpenBLAS")
    try:
        assert mg.set_num_threads(1) and mg.get_num_threads() == 1
    finally:
        mg.set_num_threads(before)
    assert mg.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1 thread, got 0"):
        mg.set_num_threads(0)


def test_retain_freed_host_memory_reports_whether_it_applied():
    import platform

    applied = backend.retain_freed_host_memory()
    assert applied == (platform.libc_ver()[0] == "glibc")
