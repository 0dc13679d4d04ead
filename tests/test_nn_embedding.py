"""Embedding, one_hot and pad: lookups and their scatter-add gradient, padding_idx, init, reprs,
PyTorch's pad order and cropping, and errors that name the offending values."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

TABLE = [[0.0, 1.0], [10.0, 11.0], [20.0, 21.0], [30.0, 31.0]]

# --- embedding ------------------------------------------------------------------------------


def test_embedding_picks_rows_for_indices_of_any_shape():
    weight = mg.tensor(TABLE)
    out = F.embedding(mg.tensor([[3, 0], [1, 1]]), weight)
    assert out.shape == (2, 2, 2) and out.dtype == mg.float32
    np.testing.assert_array_equal(
        out.numpy(), [[[30.0, 31.0], [0.0, 1.0]], [[10.0, 11.0], [10.0, 11.0]]]
    )
    np.testing.assert_array_equal(F.embedding(mg.tensor(2), weight).numpy(), [20.0, 21.0])
    int32 = mg.tensor([2], dtype=mg.int32)
    np.testing.assert_array_equal(F.embedding(int32, weight).numpy(), [[20.0, 21.0]])


def test_embedding_gradient_accumulates_repeated_indices():
    weight = mg.tensor(TABLE, requires_grad=True)
    out = F.embedding(mg.tensor([[1, 3, 1], [1, 0, 3]]), weight)
    (out * mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    # the gradient at position (i, j) is row j of the multiplier. Row 1 is picked at (0, 0),
    # (0, 2) and (1, 0), row 3 at (0, 1) and (1, 2), row 0 at (1, 1), row 2 never
    expected = [[3.0, 4.0], [1.0 + 5.0 + 1.0, 2.0 + 6.0 + 2.0], [0.0, 0.0], [3.0 + 5.0, 4.0 + 6.0]]
    np.testing.assert_array_equal(weight.grad.numpy(), expected)


def test_embedding_padding_row_gets_no_gradient():
    weight = mg.tensor(TABLE, requires_grad=True)
    F.embedding(mg.tensor([0, 2, 2, 3]), weight, padding_idx=2).sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[1, 1], [0, 0], [0, 0], [1, 1]])
    weight.grad = None
    F.embedding(mg.tensor([3, 0]), weight, padding_idx=-1).sum().backward()  # row 3
    np.testing.assert_array_equal(weight.grad.numpy(), [[1, 1], [0, 0], [0, 0], [0, 0]])


def test_embedding_gradient_matches_finite_differences():
    weight = mg.randn(5, 3, dtype=mg.float64, requires_grad=True)
    indices = mg.tensor([[0, 4, 4], [2, 0, 1]])
    assert mg.gradcheck(lambda w: F.embedding(indices, w), weight)
    # with a padding_idx the gradient leaves out that row on purpose, so finite differences
    # (which see the row's effect) apply to the other rows: the padding test above covers it


def test_embedding_module_zeroes_the_padding_row_and_keeps_it_zero_through_training():
    layer = nn.Embedding(6, 4, padding_idx=1)
    np.testing.assert_array_equal(layer.weight.numpy()[1], np.zeros(4))
    optimizer = mg.optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(3):
        layer(mg.tensor([[1, 2], [1, 5]])).pow(2).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    np.testing.assert_array_equal(layer.weight.numpy()[1], np.zeros(4))


def test_embedding_module_initialises_weight_from_a_standard_normal():
    layer = nn.Embedding(200, 50)
    values = layer.weight.numpy()
    assert values.shape == (200, 50) and values.dtype == np.float32
    assert abs(values.mean()) < 0.03 and abs(values.std() - 1) < 0.03


def test_embedding_module_repr_state_dict_and_negative_padding_idx():
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"
    layer = nn.Embedding(10, 3, padding_idx=-1)
    assert layer.padding_idx == 9
    assert repr(layer) == "Embedding(10, 3, padding_idx=9)"
    assert list(layer.state_dict()) == ["weight"]
    assert nn.Embedding(4, 2, dtype=mg.float64).weight.dtype == mg.float64


def test_embedding_rejects_float_indices_naming_the_dtype():
    with pytest.raises(TypeError, match="int64 or int32 indices, got dtype float32"):
        F.embedding(mg.tensor([0.0, 1.0]), mg.tensor(TABLE))
    with pytest.raises(TypeError, match="got list"):
        F.embedding([0, 1], mg.tensor(TABLE))


def test_embedding_names_the_indices_out_of_range():
    with pytest.raises(IndexError, match=r"index\(s\) -1, 4, outside the valid range 0..3"):
        F.embedding(mg.tensor([[0, 4], [-1, 4]]), mg.tensor(TABLE))
    with pytest.raises(IndexError, match="num_embeddings=4"):
        nn.Embedding(4, 2)(mg.tensor([7]))


def test_embedding_padding_idx_and_weight_errors_name_the_values():
    with pytest.raises(ValueError, match="padding_idx=4 for num_embeddings=4"):
        F.embedding(mg.tensor([0]), mg.tensor(TABLE), padding_idx=4)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=-6)
    with pytest.raises(ValueError, match=r"weight must be 2-D .* got \(4,\)"):
        F.embedding(mg.tensor([0]), mg.ones(4))


@pytest.mark.parametrize("device", DEVICES)
def test_embedding_on_each_device_matches_the_cpu(device):
    weight = mg.tensor(TABLE, device=device, requires_grad=True)
    out = F.embedding(mg.tensor([[1, 3, 1]], device=device), weight, padding_idx=3)
    out.sum().backward()
    assert out.device == weight.device == weight.grad.device
    np.testing.assert_array_equal(out.numpy(), [[[10, 11], [30, 31], [10, 11]]])
    np.testing.assert_array_equal(weight.grad.numpy(), [[0, 0], [2, 2], [0, 0], [0, 0]])


@pytest.mark.gpu
def test_embedding_on_gpu_reports_an_index_out_of_range_at_the_next_read():
    weight = mg.tensor(TABLE, device="cuda")
    out = F.embedding(mg.tensor([9], device="cuda"), weight)  # no read from the device yet
    with pytest.raises(IndexError, match="embedding: an index lay outside the valid range 0..3"):
        out.numpy()


# --- one_hot --------------------------------------------------------------------------------


def test_one_hot_values_and_dtype():
    out = F.one_hot(mg.tensor([0, 2, 1]), 4)
    assert out.dtype == mg.int64 and out.shape == (3, 4)
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])


def test_one_hot_infers_the_number_of_classes_and_keeps_the_input_shape():
    out = F.one_hot(mg.tensor([[3], [1]]))
    assert out.shape == (2, 1, 4)
    np.testing.assert_array_equal(out.numpy(), [[[0, 0, 0, 1]], [[0, 1, 0, 0]]])
    assert F.one_hot(mg.tensor(1), 3).tolist() == [0, 1, 0]
    assert F.one_hot(mg.tensor([], dtype=mg.int64), 3).shape == (0, 3)


def test_one_hot_errors_name_the_values():
    with pytest.raises(TypeError, match="index tensor of dtype int64, got dtype float32"):
        F.one_hot(mg.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="got dtype int32"):
        F.one_hot(mg.tensor([0, 1], dtype=mg.int32))
    with pytest.raises(IndexError, match=r"class value\(s\) 3, outside the valid range 0..2"):
        F.one_hot(mg.tensor([0, 3]), 3)
    with pytest.raises(IndexError, match=r"class value\(s\) -1, outside"):
        F.one_hot(mg.tensor([-1, 1]))
    with pytest.raises(ValueError, match="cannot infer the number of classes from an empty"):
        F.one_hot(mg.tensor([], dtype=mg.int64))
    with pytest.raises(ValueError, match="num_classes must be -1 or >= 0, got -2"):
        F.one_hot(mg.tensor([0]), -2)


# --- pad ------------------------------------------------------------------------------------

GRID = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_pad_widens_the_last_dim_first():
    x = mg.tensor(GRID)
    np.testing.assert_array_equal(
        F.pad(x, (1, 2)).numpy(), [[0, 1, 2, 3, 0, 0], [0, 4, 5, 6, 0, 0]]
    )
    np.testing.assert_array_equal(
        F.pad(x, (0, 1, 1, 0), value=9).numpy(),
        [[9, 9, 9, 9], [1, 2, 3, 9], [4, 5, 6, 9]],
    )
    assert F.pad(x, (1, 1)).dtype == mg.float32
    assert F.pad(mg.ones(2, 3, 4, 5), (1, 1, 2, 2)).shape == (2, 3, 8, 7)


def test_pad_with_negative_widths_crops():
    x = mg.tensor(GRID)
    np.testing.assert_array_equal(F.pad(x, (-1, 1), value=7).numpy(), [[2, 3, 7], [5, 6, 7]])
    assert F.pad(x, (-2, -1)).shape == (2, 0)


def test_pad_keeps_integer_tensors_integer():
    out = F.pad(mg.tensor([1, 2]), (1, 1), value=5)
    assert out.dtype == mg.int64 and out.tolist() == [5, 1, 2, 5]


def test_pad_gradient_is_the_output_gradient_sliced_back():
    x = mg.tensor(GRID, requires_grad=True)
    out = F.pad(x, (-1, 1, 1, 0))  # crop the first column, add a column and a top row
    out.backward(mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 4.0, 5.0], [0.0, 7.0, 8.0]])


@pytest.mark.parametrize("widths", [(1, 2), (0, 1, 2, 0), (-1, 1, 1, -1), (1, 1, 1, 1, 1, 1)])
def test_pad_gradient_matches_finite_differences(widths):
    x = mg.randn(2, 3, 4, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: F.pad(t, widths, value=0.5), x)


def test_pad_errors_name_the_values():
    x = mg.ones(2, 3)
    with pytest.raises(ValueError, match=r"divisible by 2, got pad=\(1,\)"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match=r"padding length 6 for input of shape \(2, 3\)"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(
        ValueError, match=r"dim 1 of size 3 padded by \(-3, -1\) would have size -1"
    ):
        F.pad(x, (-3, -1))
    with pytest.raises(TypeError, match=r"pad must be a sequence of ints, got \(1.5, 2\)"):
        F.pad(x, (1.5, 2))
    with pytest.raises(NotImplementedError, match="mode 'reflect' is not implemented"):
        F.pad(x, (1, 1), mode="reflect")


@pytest.mark.parametrize("device", DEVICES)
def test_pad_on_each_device(device):
    x = mg.tensor(GRID, device=device, requires_grad=True)
    out = F.pad(x, (1, 0))
    out.sum().backward()
    assert out.device == x.device == x.grad.device
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 2, 3], [0, 4, 5, 6]])
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
