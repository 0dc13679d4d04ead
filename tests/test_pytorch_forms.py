"""The forms PyTorch code calls that the upstream scripts tripped on: the losses' legacy
size_average/reduce flags and PyTorch's positional order, minigrad.Generator, the arguments of
.to(), contiguous(), and minigrad.backends."""

import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.utils.data import DataLoader, TensorDataset, random_split

LOG_PROBS = [[-0.5, -1.5, -2.0], [-2.5, -0.25, -1.75]]


def log_probs():
    return minigrad.tensor(LOG_PROBS, dtype=minigrad.float64)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"size_average": False}, 0.5 + 0.25),  # the sum
        ({"size_average": True}, (0.5 + 0.25) / 2),  # the mean
        ({"reduce": True}, (0.5 + 0.25) / 2),
        ({"reduce": False}, [0.5, 0.25]),  # per sample: reduce=False wins over size_average
        ({"reduce": False, "size_average": True}, [0.5, 0.25]),
    ],
)
def test_legacy_flags_choose_the_reduction_as_in_pytorch_and_warn(flags, expected):
    labels = minigrad.tensor([0, 1])
    with pytest.warns(UserWarning, match="size_average and reduce are deprecated") as record:
        loss = F.nll_loss(log_probs(), labels, **flags)
    np.testing.assert_allclose(loss.numpy(), expected)
    assert record[0].filename == __file__  # the warning names the caller's line


def test_legacy_flags_override_reduction_in_every_loss_and_module():
    x = minigrad.tensor([0.25, 0.75], dtype=minigrad.float64)
    y = minigrad.tensor([0.0, 1.0], dtype=minigrad.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert F.mse_loss(x, y, size_average=False).item() == pytest.approx(2 * 0.25**2)
        assert F.l1_loss(x, y, reduce=False).shape == (2,)
        assert F.smooth_l1_loss(x, y, size_average=False).item() == pytest.approx(0.0625)
        bce = F.binary_cross_entropy(x, y, size_average=False).item()
        assert bce == pytest.approx(-2 * np.log(0.75))
        logits = F.binary_cross_entropy_with_logits(x, y, reduce=False)
        assert logits.shape == (2,)
        assert nn.MSELoss(size_average=False).reduction == "sum"
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"
        assert nn.NLLLoss(None, False).reduction == "sum"  # PyTorch's positional order
        assert nn.SmoothL1Loss(reduce=False, beta=0.5).reduction == "none"
        assert nn.BCEWithLogitsLoss(size_average=False).reduction == "sum"


def test_no_flag_no_warning_and_pytorchs_positional_order():
    labels = minigrad.tensor([0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # (input, target, weight, size_average, ignore_index): label 1 ignored
        loss = F.nll_loss(log_probs(), labels, None, None, 1)
        assert loss.item() == pytest.approx(0.5)
        loss = F.cross_entropy(log_probs(), labels, None, None, 0, None, "sum")
        expected = -np.log(np.exp(LOG_PROBS[1]) / np.exp(LOG_PROBS[1]).sum())[1]
        assert loss.item() == pytest.approx(expected)


def test_generator_as_torchs_manual_seed_returns_it_and_its_state_advances():
    g = minigrad.Generator().manual_seed(3)
    assert isinstance(g, minigrad.Generator) and g.initial_seed() == 3
    assert minigrad.Generator().initial_seed() == 67280421310721  # PyTorch's default seed
    data = TensorDataset(minigrad.arange(20))
    first, _ = random_split(data, [10, 10], generator=minigrad.Generator().manual_seed(3))
    again, _ = random_split(data, [10, 10], generator=minigrad.Generator().manual_seed(3))
    assert list(first.indices) == list(again.indices)
    shared = minigrad.Generator().manual_seed(3)
    one, _ = random_split(data, [10, 10], generator=shared)
    two, _ = random_split(data, [10, 10], generator=shared)
    assert list(one.indices) == list(first.indices) and list(two.indices) != list(one.indices)
    loader = DataLoader(data, batch_size=20, shuffle=True, generator=g)
    order = next(iter(loader))[0].tolist()
    assert sorted(order) == list(range(20)) and order != list(range(20))
    seed = g.seed()
    assert g.initial_seed() == seed >= 0


def test_generator_refuses_a_device_and_a_negative_seed():
    with pytest.raises(ValueError, match="only CPU generators.*'cuda'"):
        minigrad.Generator("cuda")
    with pytest.raises(ValueError, match="must be >= 0, got -1"):
        minigrad.Generator().manual_seed(-1)


def test_tensor_to_takes_torchs_forms():
    x = minigrad.ones(2, 3)
    assert x.to("cpu", non_blocking=True) is x  # nothing changes: itself, as in PyTorch
    assert x.to(minigrad.float64).dtype == minigrad.float64
    assert x.to("cpu", minigrad.float64).dtype == minigrad.float64
    assert x.to(minigrad.device("cpu"), dtype=minigrad.float16).dtype == minigrad.float16
    assert x.to(device="cpu", dtype=minigrad.float64).dtype == minigrad.float64
    assert x.to(minigrad.zeros(1, dtype=minigrad.float64)).dtype == minigrad.float64
    copied = x.to("cpu", copy=True)
    assert copied is not x and not np.shares_memory(copied.numpy(), x.numpy())
    with pytest.raises(TypeError, match=r"Tensor.to\(\) got unexpected keyword.*'memory'"):
        x.to("cpu", memory=1)
    with pytest.raises(TypeError, match="takes the tensor alone, got 2"):
        x.to(x, minigrad.float64)


def test_a_gradient_flows_through_to():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    x.to("cpu", minigrad.float64).sum().backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.tolist() == [1.0, 1.0]


def test_module_to_takes_torchs_forms_in_place():
    layer = nn.Linear(2, 3)
    weight = layer.weight
    assert layer.to("cpu", non_blocking=True) is layer
    layer.to("cpu", minigrad.float64)
    assert layer.weight is weight and layer.weight.dtype == minigrad.float64
    layer.to(minigrad.zeros(1, dtype=minigrad.float32))
    assert layer.bias.dtype == minigrad.float32


def test_contiguous_and_is_contiguous():
    x = minigrad.ones(2, 3)
    assert x.is_contiguous() and not x.t().is_contiguous()
    assert x.contiguous() is x
    t = minigrad.ones(2, 3, requires_grad=True).t()
    made = t.contiguous()
    assert made.is_contiguous() and made.tolist() == t.tolist()
    made.sum().backward()  # a copy in the graph


def test_backends_answer_as_on_a_machine_without_mps():
    assert minigrad.backends.mps.is_available() is False
