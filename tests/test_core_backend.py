"""The backend boundary: one package knows NumPy/CuPy, devices are named clearly."""

import ast
import pathlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend

PACKAGE = pathlib.Path(mg.__file__).parent
BACKEND = PACKAGE / "backend"
# Host-side modules that read and write files or shuffle indices on the host, never op math.
HOST_SIDE = {"serialization.py", "safetensors.py"}
# Host-side packages: the data utilities, the vision data sets and transforms, and the files
# behind the data sets (fetching, checksums, readers).
HOST_SIDE_PACKAGES = {
    PACKAGE / "utils" / "data",
    PACKAGE / "vision",
    PACKAGE / "vision" / "sources",
}


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
        host_side = path.name in HOST_SIDE and path.parent == PACKAGE
        if host_side or path.parent in HOST_SIDE_PACKAGES or BACKEND in path.parents:
            continue
        imports = _array_imports(path)
        if imports:
            offenders[str(path.relative_to(PACKAGE))] = imports
    assert offenders == {}, f"array libraries imported outside minigrad/backend/: {offenders}"


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


def test_set_num_threads_sets_minigrad_threads_and_one_blas_thread():
    try:
        found_blas = mg.set_num_threads(3)
        assert mg.get_num_threads() == 3
        if found_blas:
            assert backend.blas_num_threads() == 1
        else:
            assert backend.blas_num_threads() is None
    finally:
        mg.set_num_threads(1)
    assert mg.get_num_threads() == 1
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match=f"need a positive int, got {bad!r}"):
            mg.set_num_threads(bad)
    assert mg.get_num_threads() == 1


@pytest.fixture
def three_threads(split_ops):
    mg.set_num_threads(3)


def test_parallel_parts_cut_the_first_axis_into_one_slice_per_thread(three_threads):
    parts = backend.parallel_parts(np.zeros((8, 2)))
    assert parts == [slice(0, 2), slice(2, 5), slice(5, 8)]
    assert backend.parallel_parts(np.zeros((2, 10))) == [slice(0, 1), slice(1, 2)]  # 2 items
    assert backend.parallel_parts(np.zeros((8, 2)), work=0) == [Ellipsis]  # under the minimum
    assert backend.parallel_parts(np.zeros(())) == [Ellipsis]  # 0-d: indexed whole by ...
    assert backend.parallel_parts(np.zeros((1, 50))) == [Ellipsis]


def test_parallel_parts_do_not_split_without_threads():
    assert mg.get_num_threads() == 1
    assert backend.parallel_parts(np.zeros((1000, 1000))) == [Ellipsis]


def test_parallel_map_keeps_order_and_runs_parts_on_other_threads(three_threads):
    import threading

    names = backend.parallel_map(lambda part: (part, threading.current_thread().name), [1, 2, 3])
    assert [part for part, _ in names] == [1, 2, 3]
    assert names[0][1] == threading.current_thread().name  # the caller runs the first part
    assert all(name.startswith("minigrad") for _, name in names[1:])


def test_parallel_map_waits_for_every_part_then_raises(three_threads):
    import threading
    import time

    done = []
    lock = threading.Lock()

    def work(part):
        if part == 0:
            raise KeyError("part 0 failed")
        time.sleep(0.05)
        with lock:
            done.append(part)

    with pytest.raises(KeyError, match="part 0 failed"):
        backend.parallel_map(work, [0, 1, 2])
    assert sorted(done) == [1, 2]  # the others had ended before the error came out


def test_parallel_matmul_equals_the_plain_product(three_threads):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 4))
    np.testing.assert_allclose(backend.parallel_matmul(a, b), a @ b, rtol=1e-14)
    np.testing.assert_allclose(backend.parallel_matmul(a.T.T[::2], b), a[::2] @ b, rtol=1e-14)


def test_host_memory_is_retained_by_default_unless_the_environment_says_0(monkeypatch):
    import platform

    from minigrad.backend import memory

    glibc = platform.libc_ver()[0] == "glibc"
    assert memory.retain_freed_host_memory() == glibc
    monkeypatch.delenv("MINIGRAD_RETAIN_FREED_MEMORY", raising=False)
    assert memory.retain_by_default() == glibc
    monkeypatch.setenv("MINIGRAD_RETAIN_FREED_MEMORY", "0")
    assert memory.retain_by_default() is False
