"""The factories PyTorch users reach for: from_numpy and as_tensor (sharing memory), empty,
randint, randperm, linspace, the *_like family, the random in-place fills, and PyTorch's other
names of the dtypes (minigrad.float, minigrad.long, ...)."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
from minigrad.tensor import (
    DTYPE_ALIASES,
    as_tensor,
    empty,
    empty_like,
    from_numpy,
    full_like,
    linspace,
    rand_like,
    randint,
    randn_like,
    randperm,
)


def test_dtype_aliases_are_pytorchs_names():
    assert DTYPE_ALIASES == {
        "float": mg.float32,
        "double": mg.float64,
        "half": mg.float16,
        "int": mg.int32,
        "long": mg.int64,
        "bool": mg.bool_,
    }


# --- sharing memory ---------------------------------------------------------------------------


def test_from_numpy_shares_memory_both_ways_and_keeps_the_dtype():
    array = np.zeros(3)
    t = from_numpy(array)
    assert t.dtype == mg.float64
    array[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]
    t[1] = 7.0
    assert array[1] == 7.0
    assert from_numpy(np.array([1, 2], dtype=np.int32)).dtype == mg.int32
    assert from_numpy(np.array([True])).dtype == mg.bool_


def test_from_numpy_refuses_what_is_not_a_numeric_array():
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        from_numpy([1, 2])
    with pytest.raises(TypeError, match="from_numpy: arrays of dtype <U1 are not supported"):
        from_numpy(np.array(["a"]))


def test_as_tensor_shares_memory_where_it_can():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert as_tensor(x) is x and as_tensor(x, dtype=mg.float32, device="cpu") is x
    doubled = as_tensor(x, dtype=mg.float64)  # converted, in the graph
    assert doubled.dtype == mg.float64
    doubled.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    array = np.zeros(2, dtype=np.float32)
    shared = as_tensor(array)
    array[0] = 3.0
    assert shared.tolist() == [3.0, 0.0]
    copied = as_tensor(array, dtype=mg.float64)
    array[1] = 4.0
    assert copied.tolist() == [3.0, 0.0]
    assert as_tensor([1.0, 2.0]).dtype == mg.float32
    assert as_tensor(np.zeros(2)).dtype == mg.float64


# --- empty, *_like ----------------------------------------------------------------------------


def test_empty_and_empty_like_have_the_shape_and_dtype():
    assert empty(2, 3).shape == (2, 3) and empty((2, 3)).dtype == mg.float32
    assert empty(4, dtype=mg.int64).dtype == mg.int64
    like = empty_like(mg.zeros(2, dtype=mg.int32))
    assert like.shape == (2,) and like.dtype == mg.int32
    assert empty_like(mg.zeros(2), dtype=mg.float64).dtype == mg.float64


def test_full_like_keeps_the_other_tensors_dtype_unless_given():
    assert full_like(mg.zeros(2, dtype=mg.int64), 2.7).tolist() == [2, 2]  # as PyTorch
    assert full_like(mg.zeros(2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert full_like(mg.zeros(2, dtype=mg.int64), 2.5, dtype=mg.float32).tolist() == [2.5, 2.5]
    assert full_like(mg.zeros(1), 0.0, requires_grad=True).requires_grad


def test_zeros_like_and_ones_like_take_dtype_and_device():
    base = mg.tensor([[1, 2]])
    assert mg.zeros_like(base).dtype == mg.int64
    assert mg.ones_like(base, dtype=mg.float64).dtype == mg.float64
    assert mg.zeros_like(base, device="cpu").device == "cpu"


def test_rand_like_and_randn_like_draw_floating_samples():
    base = mg.zeros(500, 2)
    uniform = rand_like(base)
    assert uniform.shape == (500, 2) and uniform.dtype == mg.float32
    assert 0 <= uniform.numpy().min() and uniform.numpy().max() < 1
    normal = randn_like(base, dtype=mg.float64).numpy()
    assert normal.dtype == np.float64 and abs(normal.mean()) < 0.1
    assert mg.rand(3, dtype=mg.float16).dtype == mg.float16
    with pytest.raises(TypeError, match="rand: random samples need a floating dtype, got int64"):
        rand_like(mg.zeros(2, dtype=mg.int64))
    with pytest.raises(TypeError, match="randn: random samples need a floating dtype, got int64"):
        randn_like(mg.zeros(2, dtype=mg.int64))


# --- randint, randperm, linspace ----------------------------------------------------------------


def test_randint_draws_integers_in_the_half_open_range():
    draws = randint(2, 5, (1000,))
    assert draws.dtype == mg.int64 and draws.shape == (1000,)
    assert set(draws.tolist()) == {2, 3, 4}
    assert set(randint(3, (500,)).tolist()) == {0, 1, 2}  # randint(high, size)
    assert randint(3, size=(2, 4)).shape == (2, 4)
    assert randint(0, 4, (3,), dtype=mg.float32).dtype == mg.float32
    assert randint(5, ()).shape == ()
    mg.manual_seed(7)
    first = randint(100, (20,)).tolist()
    mg.manual_seed(7)
    assert randint(100, (20,)).tolist() == first


def test_randint_errors_name_the_arguments():
    with pytest.raises(TypeError, match="randint: size must be a tuple of ints, got 3"):
        randint(5, 3)
    with pytest.raises(ValueError, match="low must be less than high, got low=5, high=2"):
        randint(5, 2, (3,))


def test_randperm_is_a_seeded_permutation():
    order = randperm(10)
    assert order.dtype == mg.int64 and sorted(order.tolist()) == list(range(10))
    mg.manual_seed(3)
    first = randperm(50).tolist()
    mg.manual_seed(3)
    assert randperm(50).tolist() == first and first != list(range(50))
    assert randperm(0).shape == (0,)
    assert randperm(4, dtype=mg.float32).dtype == mg.float32
    with pytest.raises(ValueError, match="randperm: n must be non-negative, got -1"):
        randperm(-1)


def test_linspace_includes_both_ends():
    assert linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert linspace(0, 10, 5).dtype == mg.float32
    assert linspace(2, 3, 1).tolist() == [2.0] and linspace(0, 1, 0).shape == (0,)
    assert linspace(-10, 0, 5, dtype=mg.int64).tolist() == [-10, -7, -5, -2, 0]  # truncated
    assert linspace(0, 1, 3, dtype=mg.float64).dtype == mg.float64
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative int, got -1"):
        linspace(0, 1, -1)


@pytest.mark.parametrize("device", DEVICES)
def test_new_factories_make_tensors_on_the_device(device):
    expected = "cpu" if device == "cpu" else "cuda:0"
    made = [
        empty(2, device=device),
        randint(3, (2,), device=device),
        randperm(3, device=device),
        linspace(0, 1, 3, device=device),
    ]
    assert [tensor.device for tensor in made] == [expected] * 4
    base = mg.zeros(2, device=device)
    for like in (empty_like(base), full_like(base, 1.0), rand_like(base), randn_like(base)):
        assert like.device == expected
    assert sorted(made[2].tolist()) == [0, 1, 2]


# --- random in-place fills --------------------------------------------------------------------


def test_uniform_and_normal_fill_in_place():
    x = mg.zeros(2000)
    same = x
    assert x.uniform_(-2.0, 3.0) is same and x._version == 1
    values = x.numpy()
    assert -2.0 <= values.min() and values.max() < 3.0 and abs(values.mean() - 0.5) < 0.2
    x.normal_(1.0, 0.5)
    values = x.numpy()
    assert abs(values.mean() - 1.0) < 0.05 and abs(values.std() - 0.5) < 0.05
    assert mg.zeros(3, dtype=mg.float16).uniform_().dtype == mg.float16


def test_random_fills_refuse_integers_and_leaves_that_require_grad():
    with pytest.raises(TypeError, match="uniform_: random samples need a floating dtype"):
        mg.zeros(2, dtype=mg.int64).uniform_()
    param = mg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: a leaf tensor that requires grad cannot"):
        param.normal_()
    with mg.no_grad():
        param.normal_()
    assert param.numpy().std() > 0
