"""Tensor creation, attributes, conversions and the factories (PyTorch's names and defaults)."""

import numpy as np
import pytest
from conftest import DEVICES

import minigrad as mg
from minigrad import backend


def test_default_dtypes_follow_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor(1.5).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True, False]).dtype == mg.bool_
    assert mg.tensor(np.zeros(2, dtype=np.float64)).dtype == mg.float64
    assert mg.tensor([1, 2], dtype=mg.float32).dtype == mg.float32


def test_tensor_copies_its_input():
    source = np.zeros(3, dtype=np.float32)
    t = mg.tensor(source)
    source[0] = 5
    assert t.numpy()[0] == 0


def test_attributes():
    t = mg.zeros(2, 3, requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(1) == 3
    assert t.numel() == 6 and len(t) == 2 and t.device == "cpu"
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert isinstance(t.data, np.ndarray)


def test_conversions():
    t = mg.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert t[0, 1].item() == 2.0
    host = t.numpy()
    host[0, 0] = 9
    assert t.numpy()[0, 0] == 1.5
    assert t.long().dtype == mg.int64 and t.double().dtype == mg.float64
    assert t.to(mg.float64).dtype == mg.float64
    with pytest.raises(ValueError, match=r"one element, got shape \(1, 2\)"):
        t.item()


def test_cast_is_differentiable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_factories():
    np.testing.assert_array_equal(mg.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(mg.ones((2, 3)).numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(mg.full((2,), 7.0).numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(mg.arange(5).numpy(), np.arange(5))
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0.0, 1.0, 0.25).dtype == mg.float32
    np.testing.assert_array_equal(mg.eye(3).numpy(), np.eye(3))
    base = mg.tensor([[1, 2]], dtype=mg.float64)
    assert mg.zeros_like(base).dtype == mg.float64 and mg.ones_like(base).shape == (1, 2)
    for factory in (mg.zeros, mg.ones, mg.rand, mg.randn):
        made = factory(2, 3)
        assert made.dtype == mg.float32 and made.shape == (2, 3)


def test_random_factories_are_seeded_and_distributed():
    mg.manual_seed(3)
    first = mg.randn(1000).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(first, mg.randn(1000).numpy())
    assert abs(first.mean()) < 0.1 and abs(first.std() - 1) < 0.1
    uniform = mg.rand(1000).numpy()
    assert uniform.min() >= 0 and uniform.max() < 1


def test_repr_looks_like_pytorch():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=mul" in repr(mg.tensor([1.0], requires_grad=True) * 2)


@pytest.mark.parametrize("device", DEVICES)
def test_to_device_round_trip_is_differentiable(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(device)
    assert y.device == ("cpu" if device == "cpu" else "cuda:0")
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_mixing_devices_names_both_without_a_gpu(device_array):
    """The op-level check, with a stand-in for a device array: any array that is not a plain
    NumPy array has its device compared."""
    on_gpu = mg.Tensor(np.ones(2).view(device_array))
    with pytest.raises(
        RuntimeError, match=r"add: expected all tensors on the same device, got \['cpu', 'cuda:0'\]"
    ):
        mg.ones(2) + on_gpu
    assert (on_gpu * on_gpu).device == "cuda:0"  # one device: no error


@pytest.mark.gpu
def test_mixing_devices_names_both():
    with pytest.raises(RuntimeError, match=r"same device, got \['cpu', 'cuda:0'\]"):
        mg.ones(2) + mg.ones(2, device="cuda")


def test_devices_as_pytorch_spells_them():
    cpu = mg.device("cpu")
    assert cpu == "cpu" and cpu.type == "cpu" and cpu.index is None
    assert repr(cpu) == "device(type='cpu')"
    gpu = mg.device("cuda", 1)
    assert gpu == "cuda:1" and (gpu.type, gpu.index) == ("cuda", 1)
    assert repr(gpu) == "device(type='cuda', index=1)"
    x = mg.ones(2)
    assert x.device == cpu and x.device.type == "cpu" and f"{x.device}" == "cpu"
    assert x.to(mg.device("cpu")).device == "cpu"
    assert mg.zeros(2, device=cpu).device == "cpu"
    with pytest.raises(backend.DeviceError, match="unknown device 'tpu'"):
        mg.device("tpu")


def test_cuda_and_accelerator_modules_say_whether_a_gpu_can_be_used():
    assert mg.cuda.is_available() == mg.cuda_is_available()
    assert mg.accelerator.is_available() == mg.cuda.is_available()
    expected = mg.device("cuda:0") if mg.cuda.is_available() else None
    assert mg.accelerator.current_accelerator() == expected
    assert mg.cuda.device_count() == (0 if expected is None else mg.cuda.device_count())
