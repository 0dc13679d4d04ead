"""The strict CuPy stand-in of tests/fakecupy: each of its rules, the names list generated from
CuPy's sources, a planted leak it catches, and the cuda:1 bugs it found in minigrad, fixed
since (each now a regression test)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad import backend
from minigrad.autograd.engine import Function

FAKECUPY = Path(__file__).parent / "fakecupy"
HERE = "tests/test_fakecupy.py"


@pytest.fixture(scope="module")
def cupy():
    """The stand-in as `cupy`: the one already imported (MINIGRAD_FAKE_GPU=1), or imported for
    this module only, so that the rest of the suite still sees no CuPy."""
    loaded = sys.modules.get("cupy")
    if loaded is not None and hasattr(loaded, "_fake"):
        yield loaded
        return
    if loaded is not None:
        pytest.skip("a real CuPy is imported")
    sys.path.insert(0, str(FAKECUPY))
    try:
        import cupy as stand_in

        yield stand_in
    finally:
        sys.path.remove(str(FAKECUPY))
        for name in [name for name in sys.modules if name.split(".")[0] in _STAND_IN_MODULES]:
            del sys.modules[name]


_STAND_IN_MODULES = {"cupy", "cupyx", "cupy_names"}


@pytest.fixture
def cupyx(cupy):
    import cupyx

    return cupyx


@pytest.fixture
def log(cupy):
    with cupy._fake.record() as recording:
        yield recording


@pytest.fixture
def on_stand_in(cupy, monkeypatch):
    """minigrad's backend using the stand-in as its CuPy."""
    monkeypatch.setattr(backend.arrays, "_cupy", cupy)
    return cupy


def line() -> str:
    """This file's path and the caller's line, as the stand-in names a caller."""
    return f"{HERE}:{sys._getframe(1).f_lineno}"


# --- host arrays stay out ------------------------------------------------------------------


def test_implicit_conversion_to_numpy_raises_as_in_cupy(cupy):
    x = cupy.arange(3.0)
    for convert in (np.asarray, np.array, lambda a: np.array([a, a])):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            convert(x)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.maximum(x, 0),
        lambda x: np.exp(x),
        lambda x: np.sum(x),
        lambda x: np.concatenate([x, x]),
        lambda x: np.where(x > 0, x, 0),
    ],
    ids=["maximum", "exp", "sum", "concatenate", "where"],
)
def test_numpy_functions_refuse_device_arrays(cupy, call):
    with pytest.raises(TypeError, match="ufuncs|get_array_module"):
        call(cupy.arange(3.0))


@pytest.mark.parametrize(
    "mix",
    [
        lambda cp, x, host: x + host,
        lambda cp, x, host: host + x,
        lambda cp, x, host: x * np.array(2.0),  # 0-d NumPy arrays too, as in CuPy
        lambda cp, x, host: cp.add(x, host),
        lambda cp, x, host: cp.maximum(x, 0, out=host),
        lambda cp, x, host: cp.concatenate([x, host]),
        lambda cp, x, host: cp.where(x > 0, x, host),
        lambda cp, x, host: x.dot(host),
    ],
    ids=["x+host", "host+x", "0-d", "add", "out=host", "concatenate", "where", "dot"],
)
def test_a_host_array_in_a_device_op_raises(cupy, mix):
    with pytest.raises(TypeError, match="Unsupported type|incorrect type|must be cupy.ndarray"):
        mix(cupy, cupy.arange(3.0), np.ones(3))


def test_assigning_a_host_array_to_a_slice_raises_as_in_cupy(cupy):
    x = cupy.zeros(3)
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        x[...] = np.ones(3)
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        x[:2] = [1.0, 2.0]


def test_python_and_numpy_scalars_are_kernel_arguments(cupy, log):
    x = cupy.arange(3.0, dtype=cupy.float32)
    y = np.float32(2) * x + 1 - x / 2
    x[0] = np.float32(5)
    x[...] = 1.5
    assert y.dtype == cupy.float32 and type(y) is cupy.ndarray
    assert (x == np.array(1.5)).all().item() and log.counts() == {"read": 1, "write": 0, "sync": 0}


def test_advanced_assignment_and_index_lists_copy_host_data_over_as_in_cupy(cupy, log):
    x = cupy.zeros(4)
    x[cupy.arange(2)] = np.array([1.0, 2.0])
    picked = x[[0, 1]]
    assert [event.api for event in log.writes] == [
        "ndarray.__setitem__ (values copied to the device)",
        "ndarray.__getitem__ (index copied to the device)",
    ]
    assert picked.get().tolist() == [1.0, 2.0]


def test_results_are_device_arrays_and_zero_dim_not_scalars(cupy):
    x = cupy.arange(6.0).reshape(2, 3).copy()
    for result in (x.sum(), x[0, 0], cupy.maximum(x, 1)[1, 2], x.max(axis=None)):
        assert type(result) is cupy.ndarray
    assert x[0].base is x and x.T.base is x and x.reshape(6)[1:].base is x


def test_out_of_bounds_indices_wrap_around_as_in_cupy(cupy, cupyx):
    x = cupy.arange(3.0)
    assert x[cupy.asarray([1, 4, -1])].get().tolist() == [1.0, 1.0, 2.0]
    assert cupy.take(x, cupy.asarray([5])).get().tolist() == [2.0]
    target = cupy.zeros(3)
    cupyx.scatter_add(target, cupy.asarray([0, 3, 5]), 1.0)
    assert target.get().tolist() == [2.0, 0.0, 1.0]


# --- only CuPy's names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "cupy.float128",
        "cupy.asmatrix",
        "cupy.random.Generator.normal",
        "cupy.cuda.Device.name",
        "cupy.lib.stride_tricks.broadcast_shape",
        "cupyx.scatter_mul",
        "cupy.ndarray.itemset",
        "cupy.ndarray.__index__",
    ],
)
def test_names_cupy_lacks_raise_attribute_error(cupy, cupyx, path):
    value = {"cupy": cupy, "cupyx": cupyx}[path.split(".")[0]]
    *parents, missing = path.split(".")[1:]
    for name in parents:
        value = getattr(value, name)
    with pytest.raises(AttributeError):
        getattr(value, missing)


def test_arguments_cupy_lacks_raise_type_error(cupy):
    x = cupy.arange(3.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial'"):
        x.max(initial=0.0)
    with pytest.raises(TypeError, match="Wrong arguments"):
        cupy.add(x, x, where=x > 0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'like'"):
        cupy.zeros(3, like=x)
    with pytest.raises(AttributeError):
        x.flags.writeable  # noqa: B018 (CuPy's flags have none)


def test_the_names_minigrad_needs_exist(cupy, cupyx):
    rng = cupy.random.default_rng(0)
    assert rng.random(2, dtype=cupy.float32).dtype == cupy.float32
    assert rng.standard_normal((2, 2)).shape == (2, 2)
    assert cupy.lib.stride_tricks.as_strided(cupy.arange(4.0), (2, 2), (8, 8)).shape == (2, 2)
    assert callable(cupy.lib.stride_tricks.sliding_window_view) and callable(cupyx.scatter_add)
    assert cupy.cuda.runtime.getDeviceCount() == cupy._fake.device_count()
    assert cupy.get_array_module(cupy.zeros(1)) is cupy and cupy.get_array_module(1.0) is np


def test_the_stand_in_offers_no_name_that_cupy_lacks(cupy, cupyx):
    from cupy._ufunc import allowed_array_members
    from cupy_names import CLASSES, MODULES

    modules = {
        "cupy": cupy,
        "cupyx": cupyx,
        "cupy.random": cupy.random,
        "cupy.cuda": cupy.cuda,
        "cupy.cuda.runtime": cupy.cuda.runtime,
        "cupy.lib": cupy.lib,
        "cupy.lib.stride_tricks": cupy.lib.stride_tricks,
        "cupy.linalg": cupy.linalg,
        "cupy.fft": cupy.fft,
    }
    for label, module in modules.items():
        offered = {name for name in vars(module) if not name.startswith("_")}
        assert offered <= set(MODULES[label]), label
    classes = {
        "random.Generator": cupy.random.Generator,
        "cuda.Device": cupy.cuda.Device,
        "cuda.Stream": cupy.cuda.Stream,
        "cuda.MemoryPool": cupy.cuda.MemoryPool,
    }
    for label, cls in classes.items():
        offered = {name for name in vars(cls) if not name.startswith("_")}
        assert offered <= set(CLASSES[label]), label
    extra = set(dir(cupy.ndarray)) - set(dir(object)) - allowed_array_members()
    assert {name for name in extra if not name.startswith("_") or name.endswith("__")} == {
        "__weakref__",  # __slots__ machinery, no attribute of an array
    }


def test_cupy_names_come_from_cupy_14_sources():
    names = _load("cupy_names")
    assert names.VERSION.startswith("14.")
    assert names.MODULES["cupy"]["asarray"] == (
        "function",
        ("a", "dtype=", "order=", "*", "copy=", "blocking="),
    )
    assert names.MODULES["cupy"]["maximum"] == ("ufunc", None)
    assert "sliding_window_view" in names.MODULES["cupy.lib.stride_tricks"]
    assert "scatter_add" in names.MODULES["cupyx"]
    assert "normal" not in names.CLASSES["random.Generator"]
    assert names.CLASSES["ndarray"]["max"] == ("axis=", "out=", "keepdims=")


def test_generator_reads_python_and_cython_sources(tmp_path):
    generate = _load("generate_names")
    files = {
        "cupy/_version.py": "__version__ = '14.9.0'\n",
        "cupy/__init__.py": "from cupy import _core\nfrom cupy._core import ndarray\n"
        "from cupy._creation.basic import zeros\nfrom numpy import float32\nadd = _core.add\n",
        "cupy/_core/__init__.py": "from cupy._core._routines_math import add\n"
        "from cupy._core.core import ndarray\n",
        "cupy/_core/_routines_math.pyx": "cdef _add = create_arithmetic('add', '+')\nadd = _add\n",
        "cupy/_core/core.pyx": "cdef class _ndarray_base:\n"
        "    cpdef _ndarray_base sum(self, axis=None, dtype=None, *, bint keepdims=False):\n"
        "        pass\n\n    @property\n    def shape(self):\n        pass\n\n"
        "class ndarray(_ndarray_base):\n    pass\n",
        "cupy/_creation/__init__.py": "",
        "cupy/_creation/basic.py": "def zeros(shape, dtype=float, order='C'):\n    pass\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    sources = generate.Sources(tmp_path)
    names = generate.Resolver(sources).public_names("cupy")
    assert sources.version() == "14.9.0"
    assert {name: symbol.kind for name, symbol in names.items()} == {
        "ndarray": "class",
        "zeros": "def",
        "float32": "numpy",
        "add": "ufunc",
    }
    assert names["zeros"].params == ("shape", "dtype=", "order=")
    members = generate.class_members(sources, "cupy._core.core", "ndarray")
    assert members == {"sum": ("axis=", "dtype=", "*", "keepdims="), "shape": None}


def _load(module: str):
    """A module of tests/fakecupy by path (kept in sys.modules for its dataclasses)."""
    name = f"fakecupy_{module}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FAKECUPY / f"{module}.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


# --- devices ---------------------------------------------------------------------------------


def test_arrays_made_inside_a_device_block_live_on_that_device(cupy):
    with cupy.cuda.Device(1):
        on_one = cupy.zeros(3) + 1
        assert on_one.device.id == 1 and cupy.cuda.runtime.getDevice() == 1
    assert cupy.zeros(3).device.id == 0 and cupy.cuda.Device().id == 0


def test_an_op_on_an_array_of_another_device_raises(cupy):
    with cupy.cuda.Device(1):
        on_one = cupy.ones(3)
    on_zero = cupy.ones(3)
    with pytest.raises(ValueError, match=r"resides \(1\) is different from the current device"):
        on_one * 2
    with cupy.cuda.Device(1):
        with pytest.raises(ValueError, match=r"resides \(0\) is different from the current"):
            on_one + on_zero
    assert on_one.reshape(3, 1).device.id == 1  # a view runs no kernel: no check


def test_device_use_switches_and_unknown_devices_raise(cupy):
    try:
        cupy.cuda.Device(1).use()
        assert cupy.arange(2).device.id == 1
    finally:
        cupy.cuda.Device(0).use()
    with pytest.raises(cupy.cuda.runtime.CUDARuntimeError, match="invalid device ordinal"):
        with cupy.cuda.Device(cupy._fake.device_count()):
            pass


def test_a_generator_draws_on_its_own_device_only(cupy):
    with cupy.cuda.Device(1):
        rng = cupy.random.default_rng(0)
        assert rng.random(2).device.id == 1
    with pytest.raises(RuntimeError, match="Generator state is allocated in a different device"):
        rng.random(2)


def test_copies_between_devices_follow_cupy(cupy):
    on_zero = cupy.arange(6.0).reshape(2, 3)
    with cupy.cuda.Device(1):
        assert cupy.asarray(on_zero).device.id == 1
        with pytest.raises(NotImplementedError, match="non-contiguous array between devices"):
            on_zero[:, :2].copy()


# --- the transfer log ------------------------------------------------------------------------


def test_each_read_write_and_sync_is_logged_with_its_line(cupy, log):
    x = cupy.arange(3.0)
    expected = [
        ("read", "ndarray.get", (x.get(), line())[1]),
        ("read", "ndarray.item", (x[0].item(), line())[1]),
        ("read", "float(ndarray)", (float(x[1]), line())[1]),
        ("read", "bool(ndarray)", (bool(x[2] > 1), line())[1]),
        ("read", "ndarray.tolist", (x.tolist(), line())[1]),
        ("read", "ndarray.get", (cupy.asnumpy(x), line())[1]),
        ("write", "cupy.asarray", (cupy.asarray(np.ones(2)), line())[1]),
        ("write", "ndarray.set", (x.set(np.zeros(3)), line())[1]),
        ("sync", "Stream.synchronize", (cupy.cuda.get_current_stream().synchronize(), line())[1]),
        ("sync", "Device.synchronize", (cupy.cuda.Device(0).synchronize(), line())[1]),
    ]
    assert [(event.kind, event.api, event.where) for event in log.events] == expected


def test_counters_reset_and_record_nest(cupy):
    cupy._fake.reset()
    x = cupy.ones(2)
    with cupy._fake.record() as outer:
        x.get()
        with cupy._fake.record() as inner:
            float(x[0])
    assert (len(outer.events), len(inner.events)) == (2, 1)
    assert cupy._fake.counters() == {"read": 2, "write": 0, "sync": 0}
    cupy._fake.reset()
    assert cupy._fake.counters() == {"read": 0, "write": 0, "sync": 0}


def test_forbid_raises_at_the_line_that_transfers(cupy):
    x = cupy.ones(2)
    with cupy._fake.forbid("read"):
        x + 1  # no transfer: fine
        with pytest.raises(cupy._fake.TransferError, match=rf"read ndarray.get at {HERE}:\d+"):
            x.get()


def test_sliding_window_view_copies_the_window_shape_over_and_reads_it_back(cupy, log):
    windows = cupy.lib.stride_tricks.sliding_window_view(cupy.zeros((4, 5)), (2, 3))
    assert windows.shape == (3, 3, 2, 3)
    assert log.counts() == {"read": 2, "write": 1, "sync": 0}
    with pytest.raises(TypeError):  # CuPy 14 takes window_shape only as a tuple
        cupy.lib.stride_tricks.sliding_window_view(cupy.zeros(4), 2)


def test_mask_indexing_reads_the_selected_count_as_in_cupy(cupy, log):
    x = cupy.arange(4.0)
    assert x[x > 1].shape == (2,)
    assert [event.api for event in log.reads] == ["boolean mask indexing (the selected count)"]


# --- a planted leak --------------------------------------------------------------------------


class LeakyReLU(Function):
    """A copy of minigrad's ReLU whose forward calls NumPy on its input: a leak that works on
    the CPU and that the stand-in must catch."""

    name = "leaky_copy_of_relu"

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)  # the leak: numpy. on array data, outside the backend
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


def test_a_planted_numpy_leak_in_an_op_is_caught_and_the_real_op_passes(on_stand_in):
    values = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    assert LeakyReLU.apply(minigrad.tensor(values)).numpy().tolist() == [0.0, 0.5, 2.0]
    x = minigrad.tensor(values, device="cuda")
    with pytest.raises(TypeError, match="does not support ufuncs"):
        LeakyReLU.apply(x)
    np.testing.assert_array_equal(minigrad.relu(x).numpy(), [0.0, 0.5, 2.0])


# --- what the stand-in found in minigrad, fixed since: cuda:1 work outside Function.apply ------

stand_in_only = pytest.mark.skipif(
    not hasattr(sys.modules.get("cupy"), "_fake"),
    reason="needs the stand-in: two GPUs without peer access, and its transfer log",
)


@pytest.mark.gpu
@stand_in_only
@pytest.mark.parametrize("factory", ["zeros", "ones", "full", "arange", "eye"])
def test_factories_make_cuda_1_tensors_on_gpu_1(factory):
    make = {
        "zeros": lambda d: minigrad.zeros(2, device=d),
        "ones": lambda d: minigrad.ones(2, device=d),
        "full": lambda d: minigrad.full((2,), 1.0, device=d),
        "arange": lambda d: minigrad.arange(2, device=d),
        "eye": lambda d: minigrad.eye(2, device=d),
    }[factory]
    assert make("cuda:1").device == "cuda:1"


@pytest.mark.gpu
@stand_in_only
@pytest.mark.parametrize("draw", ["rand", "randn", "kaiming_uniform_"])
def test_random_draws_on_cuda_1(draw):
    make = {
        "rand": lambda: minigrad.rand(2, device="cuda:1"),
        "randn": lambda: minigrad.randn(2, device="cuda:1"),
        "kaiming_uniform_": lambda: minigrad.nn.init.kaiming_uniform_(
            minigrad.zeros(3, 4).to("cuda:1")
        ),
    }[draw]
    assert make().device == "cuda:1"


@pytest.mark.gpu
@stand_in_only
def test_backward_on_cuda_1():
    x = minigrad.ones(3).to("cuda:1").requires_grad_(True)
    (x * 2).sum().backward()
    assert x.grad.device == "cuda:1"


@pytest.mark.gpu
@stand_in_only
@pytest.mark.parametrize(
    "operation",
    [
        "copy_",
        "fill_",
        "setitem",
        "max_dim",
        "argmax",
        "batchnorm_train",
        "optimizer_step",
        "gradcheck",
        "dataloader",
        "cross_entropy",
    ],
)
def test_cuda_1_operations_outside_function_apply(operation):
    device = "cuda:1"
    run = {
        "copy_": lambda: minigrad.zeros(3).to(device).copy_(minigrad.ones(3)),
        "fill_": lambda: minigrad.zeros(3).to(device).fill_(2.0),
        "setitem": lambda: minigrad.zeros(3).to(device).__setitem__(0, 2.0),
        "max_dim": lambda: minigrad.ones(4, 3).to(device).max(dim=1),
        "argmax": lambda: minigrad.ones(4, 3).to(device).argmax(dim=1),
        "batchnorm_train": lambda: minigrad.nn.BatchNorm1d(3).to(device)(
            minigrad.ones(4, 3).to(device)
        ),
        "optimizer_step": lambda: _sgd_step(device),
        "gradcheck": lambda: minigrad.gradcheck(
            lambda a: a * a, minigrad.ones(2, dtype=minigrad.float64).to(device).requires_grad_()
        ),
        "dataloader": lambda: next(iter(_loader(minigrad.ones(4, 2).to(device)))),
        "cross_entropy": lambda: minigrad.nn.functional.cross_entropy(
            minigrad.ones(2, 3).to(device), minigrad.tensor([0, 1]).to(device)
        ),
    }[operation]
    run()


def _loader(images):
    from minigrad.data import DataLoader, TensorDataset  # minigrad.utils.data's, by its old path

    return DataLoader(TensorDataset(images), batch_size=2)


def _sgd_step(device: str) -> None:
    weight = minigrad.ones(3).to(device).requires_grad_(True)
    weight.grad = minigrad.ones(3).to(device)
    minigrad.optim.SGD([weight], lr=0.1).step()


@pytest.mark.gpu
@stand_in_only
def test_a_cuda_training_step_makes_no_transfer():
    cupy = sys.modules["cupy"]
    model = minigrad.nn.Sequential(
        minigrad.nn.Linear(4, 8), minigrad.nn.ReLU(), minigrad.nn.Linear(8, 3)
    ).to("cuda")
    optimizer = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, target = minigrad.ones(5, 4).to("cuda"), minigrad.tensor([0, 1, 2, 0, 1]).to("cuda")
    with cupy._fake.record() as step:
        loss = minigrad.nn.functional.cross_entropy(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert step.counts() == {"read": 0, "write": 0, "sync": 0}, str(step)
    with cupy._fake.record() as logging:
        read_at = (loss.item(), line())[1]
    assert logging.reads and {event.outside("minigrad/") for event in logging.reads} == {read_at}
