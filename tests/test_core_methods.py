"""The Tensor methods and functions PyTorch users reach for: comparisons, all/any, equal and
allclose; view_as & co, clone, t, flip, repeat, split, chunk, gather, index_select, masked_fill;
std, prod, logsumexp, amax/amin, norm, cumsum; sin and cos; the in-place forms; type() and the
conversions. Values against hand-computed ones, gradients against finite differences in
float64, errors that name the bad values."""

import math

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg


def leaf(*shape, low=-1.0, high=1.0, device="cpu", seed=0):
    values = np.random.default_rng(seed).uniform(low, high, size=shape)
    return mg.tensor(values, dtype=mg.float64, device=device, requires_grad=True)


def grad_of(op, values):
    """d sum(op(x)) / dx at x = values (float64)."""
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    op(x).sum().backward()
    return x.grad.numpy()


GATHER_INDEX = [[[0, 3], [1, 1], [2, 0]], [[3, 3], [0, 2], [1, 0]]]  # shape (2, 3, 2), repeats

GRADIENT_OPS = {
    "std": lambda x: x.std(),
    "std_dim_keepdim": lambda x: x.std(dim=1, keepdim=True),
    "std_correction_0": lambda x: mg.std(x, dim=(0, 2), correction=0),
    "prod": lambda x: x.prod(),
    "prod_dim": lambda x: x.prod(1),
    "prod_keepdim": lambda x: mg.prod(x, -1, keepdim=True),
    "logsumexp": lambda x: x.logsumexp(1),
    "logsumexp_dims": lambda x: mg.logsumexp(x, (0, 2), keepdim=True),
    "amax": lambda x: x.amax(),
    "amax_dim": lambda x: x.amax(1),
    "amin_dims": lambda x: mg.amin(x, (0, 2), keepdim=True),
    "norm": lambda x: x.norm(),
    "norm_1": lambda x: x.norm(1, dim=2),
    "norm_inf": lambda x: x.norm(math.inf, dim=1),
    "norm_minus_inf": lambda x: x.norm(-math.inf),
    "norm_3": lambda x: mg.norm(x, 3, dim=(1, 2), keepdim=True),
    "norm_half": lambda x: x.norm(0.5, dim=0),
    "cumsum": lambda x: x.cumsum(1),
    "cumsum_last": lambda x: mg.cumsum(x, -1),
    "sin": lambda x: x.sin(),
    "cos": lambda x: mg.cos(x),
    "flip": lambda x: x.flip(0, 2),
    "flip_list": lambda x: mg.flip(x, [1]),
    "repeat": lambda x: x.repeat(2, 1, 1, 3),
    "clone": lambda x: x.clone() * x,
    "t": lambda x: x[0].t(),
    "view_as": lambda x: x.view_as(mg.zeros(4, 6)),
    "reshape_as": lambda x: x.T.reshape_as(mg.zeros(24)),
    "expand_as": lambda x: x[:, :1].expand_as(x) * x,
    "split": lambda x: x.split([1, 2], dim=1)[1],
    "split_size": lambda x: mg.split(x, 3, dim=2)[1],
    "chunk": lambda x: mg.chunk(x, 2, dim=2)[0],
    "gather": lambda x: x.gather(2, mg.tensor(GATHER_INDEX)),
    "gather_dim_0": lambda x: mg.gather(x, 0, mg.tensor([[[1, 0, 1, 1]]])),
    "index_select": lambda x: x.index_select(1, mg.tensor([2, 0, 2])),
    "masked_fill": lambda x: x.masked_fill(x > 0, 0.5),
}


@pytest.mark.parametrize("name", GRADIENT_OPS)
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_match_finite_differences(name, device):
    assert mg.gradcheck(GRADIENT_OPS[name], leaf(2, 3, 4, device=device))


@pytest.mark.parametrize("name", GRADIENT_OPS)
def test_float32_stays_float32_forward_and_backward(name):
    x = (mg.rand(2, 3, 4) + 0.1).detach().requires_grad_()
    out = GRADIENT_OPS[name](x)
    assert out.dtype == mg.float32
    out.sum().backward()
    assert x.grad.dtype == mg.float32 and x.grad.shape == (2, 3, 4)


# --- comparisons, all/any, equal, allclose ------------------------------------------------


def test_comparisons_are_functions_and_methods_with_bool_results_and_no_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    expected = {
        "eq": [False, True, False],
        "ne": [True, False, True],
        "lt": [True, False, False],
        "le": [True, True, False],
        "gt": [False, False, True],
        "ge": [False, True, True],
    }
    for name, values in expected.items():
        for result in (getattr(mg, name)(x, 2.0), getattr(x, name)(mg.tensor(2.0))):
            assert result.dtype == mg.bool_ and not result.requires_grad
            np.testing.assert_array_equal(result.numpy(), values)
    broadcast = mg.gt(mg.tensor([1.0, 2.0]), mg.tensor([[1.0], [3.0]]))
    np.testing.assert_array_equal(broadcast.numpy(), [[False, True], [False, False]])


def test_all_and_any_reduce_over_dims():
    y = mg.tensor([[True, False], [True, True]])
    assert y.all().item() is False and mg.any(y).item() is True
    np.testing.assert_array_equal(y.all(1).numpy(), [False, True])
    np.testing.assert_array_equal(mg.all(y, dim=0).numpy(), [True, False])
    assert y.any(dim=0, keepdim=True).shape == (1, 2)
    assert y.all(dim=(0, 1)).item() is False
    floats = mg.tensor([1.0, 0.0])
    assert floats.all().dtype == mg.bool_ and floats.any().item() is True
    assert mg.tensor([1, 2], dtype=mg.uint8).all().dtype == mg.uint8  # as PyTorch
    assert mg.zeros(0).all().item() is True and mg.zeros(0).any().item() is False


def test_equal_needs_the_same_shape_and_values_of_any_dtype():
    assert mg.equal(mg.tensor([1, 2]), mg.tensor([1.0, 2.0]))
    assert mg.tensor([1.0, 2.0]).equal(mg.tensor([1.0, 2.0]))
    assert not mg.equal(mg.tensor([1, 2]), mg.tensor([[1, 2]]))
    assert not mg.equal(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.5]))
    assert not mg.equal(mg.tensor([math.nan]), mg.tensor([math.nan]))
    with pytest.raises(TypeError, match="equal: other must be a Tensor, got list"):
        mg.equal(mg.tensor([1, 2]), [1, 2])


def test_allclose_uses_rtol_and_atol_with_broadcasting():
    a = mg.tensor([1.0, 100.0], dtype=mg.float64)
    # |a - b| <= atol + rtol * |b|: 1e-3 + 1e-8 is allowed at 100, 2e-3 is not
    assert mg.allclose(a, mg.tensor([1.0 + 5e-9, 100.0005], dtype=mg.float64))
    assert not mg.allclose(a, mg.tensor([1.0, 100.002], dtype=mg.float64))
    assert a.allclose(mg.tensor([1.0, 100.002], dtype=mg.float64), rtol=0.0, atol=0.01)
    assert mg.allclose(mg.tensor([2.0, 2.0]), mg.tensor([2.0]))
    nan = mg.tensor([math.nan])
    assert not mg.allclose(nan, nan) and mg.allclose(nan, nan, equal_nan=True)
    with pytest.raises(TypeError, match="input has dtype float32 but other has dtype float64"):
        mg.allclose(mg.tensor([1.0]), mg.tensor([1.0], dtype=mg.float64))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        mg.allclose(mg.tensor([1.0, 1.0]), mg.tensor([1.0, 2.0, 3.0]))


# --- shape methods ----------------------------------------------------------------------------


def test_view_as_reshape_as_and_expand_as_take_the_other_tensors_shape():
    x = mg.arange(6.0)
    assert x.view_as(mg.zeros(2, 3)).shape == (2, 3)
    assert x.reshape_as(mg.zeros(3, 2)).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert mg.tensor([[1.0], [2.0]]).expand_as(mg.zeros(2, 3)).tolist() == [[1, 1, 1], [2, 2, 2]]
    with pytest.raises(TypeError, match="view_as: other must be a Tensor, got list"):
        x.view_as([2, 3])
    with pytest.raises(ValueError, match=r"cannot view a tensor of shape \(6,\).*\(4,\)"):
        x.view_as(mg.zeros(4))
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(6,\) to \(3, 3\)"):
        x.expand_as(mg.zeros(3, 3))


def test_clone_is_a_copy_that_stays_in_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    copy = mg.clone(x)
    assert copy.grad_fn is not None
    (copy * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    with mg.no_grad():
        copy.zero_()
    assert x.tolist() == [1.0, 2.0]


def test_t_transposes_tensors_of_at_most_2_dims():
    assert mg.tensor([[1, 2, 3], [4, 5, 6]]).t().tolist() == [[1, 4], [2, 5], [3, 6]]
    assert mg.t(mg.tensor([1, 2])).tolist() == [1, 2]
    assert mg.tensor(5.0).t().shape == ()
    with pytest.raises(ValueError, match=r"at most 2 dimensions, got shape \(2, 3, 4\)"):
        mg.zeros(2, 3, 4).t()


def test_flip_reverses_the_given_dims_into_a_copy():
    x = mg.arange(6).reshape(2, 3)
    assert x.flip(0, 1).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert x.flip([1]).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert mg.flip(x, (-2,)).tolist() == [[3, 4, 5], [0, 1, 2]]
    flipped = x.flip(0)
    flipped.fill_(7)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]  # a copy, as PyTorch's flip
    assert mg.tensor(3).flip(0).item() == 3
    with pytest.raises(ValueError, match=r"flip: dim 0 appears more than once in dims \(0, -2\)"):
        x.flip(0, -2)
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.flip(2)


def test_repeat_tiles_the_tensor_and_sums_the_gradient_over_the_copies():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.repeat(2, 1).tolist() == [[1, 2], [3, 4], [1, 2], [3, 4]]
    assert x.repeat(1, 2).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    assert x.repeat(3, 1, 2).shape == (3, 2, 4)
    assert x.repeat((0, 2)).shape == (0, 4)
    weights = np.arange(24.0).reshape(4, 6)
    (x.repeat(2, 3) * mg.tensor(weights)).sum().backward()
    # x[i, j] sits at rows i, i + 2 and columns j, j + 2, j + 4 of the 4 x 6 result
    expected = [[weights[i::2, j::2].sum() for j in range(2)] for i in range(2)]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    with pytest.raises(ValueError, match=r"got 1 repeat sizes \(2,\) for a tensor of shape"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"must be non-negative, got \(-1, 2\)"):
        x.repeat(-1, 2)


def test_split_by_a_size_or_by_sections():
    x = mg.arange(5)
    assert [piece.tolist() for piece in x.split(2)] == [[0, 1], [2, 3], [4]]
    assert [piece.tolist() for piece in mg.split(x, [1, 4])] == [[0], [1, 2, 3, 4]]
    assert [piece.tolist() for piece in x.split(5)] == [[0, 1, 2, 3, 4]]
    columns = mg.arange(6).reshape(2, 3).split(2, dim=1)
    assert [piece.shape for piece in columns] == [(2, 2), (2, 1)]
    assert [piece.shape for piece in mg.zeros(0).split(2)] == [(0,)]
    with pytest.raises(ValueError, match=r"sizes \[2, 2\] must be non-negative and add up to 5"):
        x.split([2, 2])
    with pytest.raises(ValueError, match="split_size must be positive.*got 0 for dim 0 of size 5"):
        x.split(0)
    with pytest.raises(ValueError, match="split: expects a tensor with at least 1 dimension"):
        mg.tensor(3).split(1)


def test_split_pieces_are_views_as_in_pytorch():
    x = mg.zeros(4)
    first, _ = x.split(2)
    first.fill_(1.0)
    assert x.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_chunk_makes_pieces_of_ceil_size_over_chunks():
    assert [p.tolist() for p in mg.arange(5).chunk(4)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in mg.arange(6).chunk(4)] == [[0, 1], [2, 3], [4, 5]]
    assert [p.tolist() for p in mg.arange(6).chunk(3)] == [[0, 1], [2, 3], [4, 5]]
    assert [p.shape for p in mg.zeros(2, 3).chunk(2, dim=-1)] == [(2, 2), (2, 1)]
    assert len(mg.zeros(0).chunk(3)) == 3
    with pytest.raises(ValueError, match="chunk: chunks must be positive, got 0"):
        mg.arange(5).chunk(0)


def test_gather_picks_along_one_dim_and_accumulates_repeats():
    x = mg.arange(12.0).reshape(3, 4).requires_grad_()
    index = mg.tensor([[0, 0], [1, 0]])
    assert x.gather(1, index).tolist() == [[0, 0], [5, 4]]  # index smaller than x in dim 0
    assert mg.gather(x, 0, mg.tensor([[2, 0, 1, 0]])).tolist() == [[8, 1, 6, 3]]
    assert x.gather(1, mg.tensor([[3]], dtype=mg.int32)).tolist() == [[3]]
    x.gather(1, mg.tensor([[0, 0, 2]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], [2, 0, 1, 0])
    np.testing.assert_array_equal(x.grad.numpy()[1:], 0)
    assert mg.tensor(5.0).gather(0, mg.tensor(0)).item() == 5.0


def test_gather_errors_name_the_index():
    x = mg.zeros(3, 4)
    with pytest.raises(
        TypeError, match="gather: index must have dtype int64 or int32, got float32"
    ):
        x.gather(1, mg.tensor([[0.0]]))
    with pytest.raises(TypeError, match="gather: index must be a Tensor of int64, got list"):
        x.gather(1, [[0]])
    with pytest.raises(
        ValueError, match=r"index has shape \(2,\) but the input has shape \(3, 4\)"
    ):
        x.gather(1, mg.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"index has shape \(4, 1\), larger than .* in dim 0"):
        x.gather(1, mg.zeros(4, 1, dtype=mg.int64))
    with pytest.raises(IndexError, match=r"gather: index 4 out of range for dim 1 of size 4"):
        x.gather(1, mg.tensor([[0, 4]]))
    with pytest.raises(IndexError, match=r"index -1 out of range .*\(valid indices are 0\.\.3\)"):
        x.gather(1, mg.tensor([[-1]]))


@pytest.mark.gpu
def test_an_index_out_of_range_on_a_gpu_raises_at_the_next_read():
    x = mg.zeros(3, 4, device="cuda")
    picked = x.gather(1, mg.tensor([[4]]))  # no read from the device yet
    with pytest.raises(IndexError, match="gather: an index lay out of range for dim 1 of size 4"):
        picked.numpy()
    selected = x.index_select(0, mg.tensor([-1]))
    with pytest.raises(IndexError, match="index_select: an index lay out of range for dim 0"):
        selected.numpy()


def _gpu_count() -> int:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no CuPy, or no usable GPU
        return 0


SECOND_GPU_OPS = {
    "eq": lambda x: x.eq(2.0),
    "all": lambda x: (x > 0).all(1),
    "long": lambda x: x.long(),
    "masked_fill": lambda x: x.masked_fill(x > 3, 0.0),
    "gather": lambda x: x.gather(1, mg.tensor([[0, 1]])),
    "index_select": lambda x: x.index_select(0, mg.tensor([2])),
    "prod": lambda x: x.prod(1),
    "norm": lambda x: x.norm(dim=0),
    "logsumexp": lambda x: x.logsumexp(1),
    "cumsum": lambda x: x.cumsum(1),
    "flip": lambda x: x.flip(0),
    "repeat": lambda x: x.repeat(2, 1),
    "split": lambda x: x.split(3, dim=1)[1],
}


@pytest.mark.gpu
@pytest.mark.skipif(_gpu_count() < 2, reason="needs two GPUs (or the CuPy stand-in's two)")
@pytest.mark.parametrize("name", SECOND_GPU_OPS)
def test_ops_on_a_second_gpu_run_and_stay_there(name):
    x = mg.arange(12.0).reshape(3, 4).to("cuda:1")
    out = SECOND_GPU_OPS[name](x)
    assert out.device == "cuda:1"
    np.testing.assert_array_equal(out.numpy(), SECOND_GPU_OPS[name](x.cpu()).numpy())
    assert mg.equal(x, x.clone()) and mg.allclose(x, x)


def test_index_select_takes_whole_slices_in_the_order_given():
    x = mg.arange(12.0).reshape(3, 4).requires_grad_()
    assert x.index_select(1, mg.tensor([3, 0, 3])).tolist() == [[3, 0, 3], [7, 4, 7], [11, 8, 11]]
    assert mg.index_select(x, 0, mg.tensor(2)).tolist() == [[8, 9, 10, 11]]  # 0-d index
    assert x.index_select(0, mg.tensor([1], dtype=mg.int32)).shape == (1, 4)
    x.index_select(0, mg.tensor([2, 2, 0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [1, 0, 2])
    with pytest.raises(ValueError, match=r"index must be 0-d or 1-d, got shape \(1, 1\)"):
        x.index_select(1, mg.tensor([[1]]))
    with pytest.raises(IndexError, match=r"index_select: index 4 out of range for dim 1 of size"):
        x.index_select(1, mg.tensor([4, 1]))


def test_masked_fill_puts_the_value_where_the_mask_is_true():
    x = mg.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    filled = x.masked_fill(x < 0, 0.0)
    assert filled.tolist() == [[1, 0], [3, 0]] and filled.dtype == mg.float32
    filled.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0], [1, 0]])
    row_mask = mg.tensor([True, False])
    assert mg.masked_fill(x, row_mask, 9.0).tolist() == [[9, -2], [9, -4]]  # mask broadcast
    assert mg.tensor([1, 2]).masked_fill(mg.tensor([True, False]), 2.5).tolist() == [2, 2]
    value = mg.tensor(5.0, requires_grad=True)
    x.masked_fill(x > 0, value).sum().backward()
    assert value.grad.item() == 2.0  # the sum of the gradient where the mask is true


def test_masked_fill_errors_name_the_mask_and_value():
    x = mg.zeros(2)
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor, got dtype int64"):
        x.masked_fill(mg.tensor([1, 0]), 1.0)
    with pytest.raises(ValueError, match=r"a number or a 0-d tensor, got a tensor of shape \(2,\)"):
        x.masked_fill(mg.tensor([True, False]), mg.tensor([1.0, 2.0]))


# --- reductions -------------------------------------------------------------------------------


def test_std_is_the_square_root_of_var_with_the_same_correction():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64)  # squared deviations sum to 5
    assert x.std().item() == pytest.approx(math.sqrt(5 / 3))
    assert x.std(correction=0).item() == pytest.approx(math.sqrt(5 / 4))
    assert mg.std(x, unbiased=False).item() == pytest.approx(math.sqrt(5 / 4))
    assert x.std(False).item() == pytest.approx(math.sqrt(5 / 4))  # PyTorch's std(unbiased)
    rows = mg.tensor([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(rows.std(dim=1).numpy(), [math.sqrt(2), 0.0])
    assert rows.std(dim=1, keepdim=True).shape == (2, 1)


def test_std_gradient_is_zero_where_all_values_are_equal_and_nan_for_one_value():
    np.testing.assert_array_equal(grad_of(lambda t: t.std(), [1.0, 1.0, 1.0]), [0.0, 0.0, 0.0])
    single = mg.tensor([2.0], requires_grad=True)
    out = single.std()
    out.backward()
    assert math.isnan(out.item()) and math.isnan(single.grad.item())
    with pytest.raises(TypeError, match="std: needs a floating point tensor, got dtype int64"):
        mg.tensor([1, 2]).std()
    with pytest.raises(TypeError, match="var: needs a floating point tensor, got dtype int64"):
        mg.tensor([1, 2]).var()


def test_prod_values_and_dtypes():
    x = mg.tensor([[2.0, 3.0], [4.0, 5.0]])
    assert x.prod().item() == 120.0
    assert x.prod(0).tolist() == [8.0, 15.0]
    assert mg.prod(x, dim=-1, keepdim=True).tolist() == [[6.0], [20.0]]
    assert mg.tensor([1, 2], dtype=mg.int32).prod().dtype == mg.int64  # as PyTorch
    assert mg.tensor([True, True]).prod().dtype == mg.int64
    assert mg.tensor(3.0).prod(0).item() == 3.0
    with pytest.raises(TypeError, match=r"prod: dim must be one int .* got \(0, 1\)"):
        x.prod(dim=(0, 1))


@pytest.mark.parametrize(
    "values, expected",
    [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
        ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),  # one zero: the product of the others, exactly
        ([0.0, 0.0, 4.0], [0.0, 0.0, 0.0]),
    ],
)
def test_prod_gradient_is_the_product_of_the_others_even_with_zeros(values, expected):
    np.testing.assert_array_equal(grad_of(lambda t: t.prod(), values), expected)


def test_prod_gradient_along_a_dim_with_a_zero():
    grad = grad_of(lambda t: t.prod(0), [[2.0, 0.0], [3.0, 4.0]])
    np.testing.assert_array_equal(grad, [[3.0, 4.0], [2.0, 0.0]])
    with_zero = mg.tensor([[0.5, 0.0, -2.0], [1.5, 0.7, 0.0]], dtype=mg.float64)
    assert mg.gradcheck(lambda t: t.prod(1), with_zero.requires_grad_())


def test_logsumexp_values_without_overflow():
    x = mg.tensor([0.0, math.log(3.0)])
    assert x.logsumexp(0).item() == pytest.approx(math.log(4.0))
    big = mg.tensor([[1000.0, 1000.0], [-1000.0, 0.0]])
    np.testing.assert_allclose(big.logsumexp(1).numpy(), [1000 + math.log(2), 0.0], rtol=1e-6)
    assert big.logsumexp(dim=1, keepdim=True).shape == (2, 1)
    assert mg.logsumexp(mg.tensor([-math.inf, -math.inf]), 0).item() == -math.inf
    assert mg.tensor([1, 2]).logsumexp(0).dtype == mg.float32  # integers as float32


def test_logsumexp_gradient_is_the_softmax():
    values = [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]
    expected = np.exp(values) / np.exp(values).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad_of(lambda t: t.logsumexp(1), values), expected)


def test_amax_and_amin_split_the_gradient_between_ties():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, -1.0, -1.0]])
    assert x.amax().item() == 3.0 and mg.amin(x).item() == -1.0
    assert x.amax(1).tolist() == [3.0, 2.0] and x.amin(dim=0, keepdim=True).shape == (1, 3)
    assert x.amax(dim=(0, 1)).item() == 3.0
    np.testing.assert_array_equal(
        grad_of(lambda t: t.amax(1), x.numpy()), [[0, 0.5, 0.5], [1, 0, 0]]
    )
    np.testing.assert_array_equal(
        grad_of(lambda t: t.amin(1), x.numpy()), [[1, 0, 0], [0, 0.5, 0.5]]
    )
    np.testing.assert_array_equal(
        grad_of(lambda t: t.amax(), x.numpy()), [[0, 0.5, 0.5], [0, 0, 0]]
    )


def test_amax_of_a_slice_with_a_nan_is_nan_with_nan_gradients_as_pytorch():
    grad = grad_of(lambda t: t.amax(1), [[1.0, math.nan, 3.0], [2.0, 2.0, 1.0]])
    assert np.isnan(grad[0]).all()
    np.testing.assert_array_equal(grad[1], [0.5, 0.5, 0.0])
    with pytest.raises(IndexError, match=r"amax: cannot reduce dim 0 of size 0 \(shape \(0, 3\)\)"):
        mg.zeros(0, 3).amax(0)
    assert mg.zeros(0, 3).amax(1).shape == (0,)


def test_norm_values_for_each_p():
    x = mg.tensor([[3.0, -4.0], [0.0, 1.0]], dtype=mg.float64)
    assert x.norm().item() == pytest.approx(math.sqrt(26))
    assert mg.norm(x, 2).item() == pytest.approx(math.sqrt(26))
    assert x.norm(dim=1).tolist() == [5.0, 1.0]
    assert x.norm(1).item() == 8.0
    assert x.norm(math.inf).item() == 4.0
    assert x.norm(-math.inf, dim=1).tolist() == [3.0, 0.0]
    assert x.norm(0).item() == 3.0  # the count of nonzero entries
    assert x.norm(3).item() == pytest.approx(92 ** (1 / 3))
    assert x.norm(p="fro", dim=(0, 1), keepdim=True).shape == (1, 1)


def test_norm_gradients_at_zero_and_at_ties_follow_pytorch():
    np.testing.assert_array_equal(grad_of(lambda t: t.norm(), [0.0, 0.0]), [0.0, 0.0])
    np.testing.assert_allclose(grad_of(lambda t: t.norm(), [3.0, -4.0]), [0.6, -0.8])
    np.testing.assert_array_equal(grad_of(lambda t: t.norm(1), [0.0, -2.0]), [0.0, -1.0])
    grad = grad_of(lambda t: t.norm(math.inf), [3.0, -3.0, 1.0])
    np.testing.assert_array_equal(grad, [0.5, -0.5, 0.0])
    grad = grad_of(lambda t: t.norm(0.5), [0.0, 4.0, 1.0])  # 0 at x = 0, not inf
    np.testing.assert_allclose(grad, [0.0, 1.5, 3.0])
    counted = mg.tensor([0.0, 2.0], requires_grad=True)
    counted.norm(0).backward()
    assert counted.grad is None  # the count has no gradient, as in PyTorch


def test_norm_errors_name_p_dim_and_dtype():
    with pytest.raises(ValueError, match="norm: p must be 'fro' or a number, got 'nuc'"):
        mg.ones(2, 2).norm("nuc")
    with pytest.raises(ValueError, match=r"p='fro' takes at most 2 dims, got dim=\(0, 1, 2\)"):
        mg.ones(2, 2, 2).norm("fro", dim=(0, 1, 2))
    with pytest.raises(TypeError, match="norm: needs a floating point tensor, got dtype int64"):
        mg.tensor([3, 4]).norm()


def test_cumsum_values_dtypes_and_gradient():
    assert mg.tensor([1.0, 2.0, 3.0]).cumsum(0).tolist() == [1.0, 3.0, 6.0]
    assert mg.cumsum(mg.tensor([[1, 2], [3, 4]]), dim=1).tolist() == [[1, 3], [3, 7]]
    assert mg.tensor([1, 2], dtype=mg.int32).cumsum(0).dtype == mg.int64  # as PyTorch
    assert mg.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert mg.tensor(3.0).cumsum(0).shape == ()
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x.cumsum(0) * mg.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [111.0, 110.0, 100.0])
    with pytest.raises(IndexError, match="dim 1 is out of range"):
        x.cumsum(1)


# --- unary math -------------------------------------------------------------------------------


def test_sin_and_cos_values_and_integer_inputs_as_float32():
    x = mg.tensor([0.0, math.pi / 2, math.pi], dtype=mg.float64)
    np.testing.assert_allclose(x.sin().numpy(), [0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(mg.cos(x).numpy(), [1.0, 0.0, -1.0], atol=1e-15)
    np.testing.assert_allclose(grad_of(mg.sin, [0.0, math.pi]), [1.0, -1.0])
    np.testing.assert_allclose(grad_of(mg.cos, [math.pi / 2]), [-1.0])
    for op in (mg.sin, mg.cos, mg.exp, mg.log, mg.sqrt, mg.tanh, mg.sigmoid):
        assert op(mg.tensor([1, 2])).dtype == mg.float32  # as PyTorch
    assert mg.abs(mg.tensor([-1, 2])).dtype == mg.int64


def test_clamp_of_an_integer_tensor_with_float_bounds_is_float32():
    out = mg.tensor([1, 5]).clamp(0.5, 2.5)
    assert out.dtype == mg.float32 and out.tolist() == [1.0, 2.5]
    assert mg.tensor([1, 5]).clamp(1, 3).dtype == mg.int64


# --- in-place forms ---------------------------------------------------------------------------


def test_clamp_and_masked_fill_in_place_write_into_the_tensor():
    x = mg.tensor([-2.0, 0.5, 3.0])
    same = x
    assert x.clamp_(-1, 1) is same
    assert x.tolist() == [-1.0, 0.5, 1.0]
    x.clamp_(min=0)
    assert x.tolist() == [0.0, 0.5, 1.0]
    x.masked_fill_(x > 0.7, -1.0)
    assert x.tolist() == [0.0, 0.5, -1.0]
    with pytest.raises(ValueError, match="clamp: at least one of min and max must be given"):
        x.clamp_()
    with pytest.raises(TypeError, match="dtype float32, which cannot be stored in a tensor of"):
        mg.tensor([1, 5]).clamp_(0.5, 2.5)
    with pytest.raises(RuntimeError, match=r"result has shape \(2, 3\) but the tensor has shape"):
        x.masked_fill_(mg.tensor([[True, False, True], [True, False, True]]), 0.0)


@pytest.mark.parametrize(
    "name, reference",
    [
        ("neg_", np.negative),
        ("exp_", np.exp),
        ("log_", np.log),
        ("sqrt_", np.sqrt),
        ("abs_", np.abs),
        ("tanh_", np.tanh),
        ("sigmoid_", lambda v: 1 / (1 + np.exp(-v))),
        ("relu_", lambda v: np.maximum(v, 0)),
        ("sin_", np.sin),
        ("cos_", np.cos),
    ],
)
def test_unary_in_place_methods_write_the_out_of_place_values(name, reference):
    values = np.array([0.5, 1.5, 2.0])
    x = mg.tensor(values, dtype=mg.float64)
    same = x
    assert getattr(x, name)() is same and x._version == 1
    np.testing.assert_allclose(x.numpy(), reference(values), rtol=1e-15)


def test_pow_in_place_and_in_place_refused_on_a_leaf_that_requires_grad():
    x = mg.tensor([2.0, 3.0])
    x.pow_(2)
    x **= 0.5
    np.testing.assert_allclose(x.numpy(), [2.0, 3.0])
    leaf_param = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="clamp_: a leaf tensor that requires grad cannot"):
        leaf_param.clamp_(0, 0.5)
    with mg.no_grad():
        leaf_param.clamp_(0, 0.5)
    assert leaf_param.tolist() == [0.5, 0.5]


# --- type() and the conversions ---------------------------------------------------------------


def test_type_names_follow_pytorch_with_minigrads_prefix():
    assert mg.zeros(2).type() == "minigrad.FloatTensor"
    assert mg.tensor([1, 2]).type() == "minigrad.LongTensor"
    assert mg.tensor([True]).type() == "minigrad.BoolTensor"
    assert mg.zeros(1, dtype=mg.float64).type() == "minigrad.DoubleTensor"
    assert mg.zeros(1, dtype=mg.float16).type() == "minigrad.HalfTensor"
    assert mg.zeros(1, dtype=mg.int32).type() == "minigrad.IntTensor"
    assert mg.zeros(1, dtype=mg.uint8).type() == "minigrad.ByteTensor"


def test_type_with_a_dtype_or_a_name_converts():
    x = mg.tensor([1.5, 2.5])
    assert x.type(mg.float32) is x
    assert x.type(mg.float64).dtype == mg.float64
    assert x.type("minigrad.IntTensor").tolist() == [1, 2]
    with pytest.raises(ValueError, match="type: unknown type name 'torch.FloatTensor'"):
        x.type("torch.FloatTensor")


@pytest.mark.gpu
def test_type_on_a_gpu():
    x = mg.zeros(2, device="cuda")
    assert x.type() == "minigrad.cuda.FloatTensor"
    assert x.type("minigrad.DoubleTensor").device == "cpu"
    assert mg.zeros(2).type("minigrad.cuda.LongTensor").device == "cuda:0"


def test_int_half_and_bool_conversions():
    x = mg.tensor([0.0, 1.7, -2.5], requires_grad=True)
    assert x.int().dtype == mg.int32 and x.int().tolist() == [0, 1, -2]
    assert x.half().dtype == mg.float16
    assert x.bool().tolist() == [False, True, True]
    as_long = x.long()  # an integer result leaves the graph, as in PyTorch
    assert not as_long.requires_grad and as_long.grad_fn is None
