"""Every op, layer, loss and optimizer on a GPU gives the CPU's numbers: one table of cases,
each run from the same inputs on "cpu" and on "cuda" (a few on "cuda:1" too), comparing the
forward values and every input and parameter gradient; gradients that add up, dropout's mask,
moves between GPUs; then the optimizers over three steps, clip_grad_norm_, the DataLoader's
batches, and a checkpoint of a GPU model and optimizer resumed on the GPU.

All in float64, so that equal is tight (rtol 1e-12; on the CuPy stand-in, where both sides are
NumPy, the results are in fact identical). The cuda:1 cases found four bugs, fixed since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.nn import functional as F
from minigrad.utils.data import DataLoader, TensorDataset

pytestmark = pytest.mark.gpu

RTOL, ATOL = 1e-12, 1e-14


@dataclass(frozen=True)
class Fixed:
    """An input given to the op as it is, with no gradient: labels, masks, indices, weights."""

    array: np.ndarray


@dataclass(frozen=True)
class Case:
    """`run(*inputs)` (or `run(layer, *inputs)`) on tensors made from `inputs` on one device:
    float arrays require grad, Fixed ones do not. `layer` builds the module on the CPU (its
    init seeded), which then goes to float64 and the device."""

    run: Callable[..., Any]
    inputs: tuple
    layer: Callable[[], nn.Module] | None = None
    second_gpu: bool = False  # also run on cuda:1
    differentiable: bool = True  # False: an op with no gradient (argmax)


_draws = np.random.default_rng(0)


def normal(*shape: int) -> np.ndarray:
    return _draws.standard_normal(shape)


def uniform(low: float, high: float, *shape: int) -> np.ndarray:
    return _draws.uniform(low, high, shape)


def labels(classes: int, *shape: int) -> Fixed:
    return Fixed(_draws.integers(0, classes, shape))


def mask(*shape: int) -> Fixed:
    return Fixed(_draws.random(shape) < 0.5)


def index(*values: int) -> Fixed:
    return Fixed(np.array(values))


def op(run: Callable, *inputs: Any, second_gpu: bool = False, differentiable=True) -> Case:
    return Case(run, inputs, second_gpu=second_gpu, differentiable=differentiable)


def layer(build: Callable[[], nn.Module], *inputs: Any, run=None, second_gpu=False) -> Case:
    return Case(run or (lambda module, *xs: module(*xs)), inputs, build, second_gpu)


def train_then_eval(module: nn.Module, x: minigrad.Tensor) -> tuple:
    """Batch norm on the batch's statistics, then on the running ones it updated."""
    trained = module(x)
    module.eval()
    return trained, module(x * 0.5 + 1), *module.buffers()


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, -2.0]])
WITH_ZEROS = np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0], [0.5, -1.0, 2.0]])
TARGET_WITH_IGNORED = Fixed(np.array([0, 2, -100, 1, 2]))

CASES = {
    # reductions
    "sum": op(lambda x: x.sum(dim=(0, 2), keepdim=True), normal(3, 4, 5), second_gpu=True),
    "sum_all": op(lambda x: x.sum(), normal(3, 4)),
    "mean": op(lambda x: x.mean(1), normal(3, 4, 5)),
    "var": op(lambda x: x.var(0), normal(5, 3)),
    "var_correction_0": op(lambda x: x.var(dim=1, correction=0, keepdim=True), normal(3, 4)),
    "std": op(lambda x: x.std(1), normal(3, 6), second_gpu=True),
    "std_all": op(lambda x: x.std(), normal(4, 5)),
    "max": op(lambda x: x.max(), normal(3, 4)),
    "min": op(lambda x: x.min(), normal(3, 4)),
    "max_dim": op(lambda x: x.max(dim=1), normal(3, 4, 2), second_gpu=True),
    "min_dim_keepdim": op(lambda x: x.min(0, keepdim=True), normal(3, 4)),
    "argmax": op(lambda x: x.argmax(dim=2), normal(3, 4, 5), differentiable=False),
    "argmax_keepdim": op(lambda x: x.argmax(0, keepdim=True), normal(3, 4), differentiable=False),
    "argmax_all": op(lambda x: x.argmax(), normal(3, 4), differentiable=False),
    "amax_ties": op(lambda x: x.amax(dim=1), TIES),
    "amin_ties": op(lambda x: x.amin(dim=(0, 1)), TIES),
    "logsumexp": op(lambda x: x.logsumexp(1), normal(3, 5) * 10, second_gpu=True),
    "norm": op(lambda x: x.norm(), normal(3, 4)),
    "norm_p1_dim": op(lambda x: x.norm(p=1, dim=0), normal(3, 4)),
    "norm_inf": op(lambda x: x.norm(p=float("inf"), dim=1), normal(3, 4)),
    "norm_p3": op(lambda x: x.norm(p=3, dim=1, keepdim=True), normal(3, 4)),
    "cumsum": op(lambda x: x.cumsum(1), normal(3, 5), second_gpu=True),
    "prod": op(lambda x: x.prod(1), normal(3, 4)),
    "prod_with_zeros": op(lambda x: (x.prod(), x.prod(0)), WITH_ZEROS),
    "softmax": op(lambda x: F.softmax(x, dim=1), normal(4, 5), second_gpu=True),
    "log_softmax": op(lambda x: F.log_softmax(x, dim=0), normal(4, 5)),
    # indexing
    "basic_slices": op(lambda x: (x[1:, ::2], x[..., -1], x[0, 1:3, None]), normal(3, 4, 5)),
    "integer_array_repeats": op(lambda x, i: x[i], normal(4, 3), index(0, 2, 0, 3, 0)),
    "integer_arrays_two_dims": op(lambda x, i, j: x[i, j], normal(4, 3), index(1, 1), index(2, 2)),
    "integer_list": op(lambda x: x[:, [2, 0, 2]], normal(4, 3), second_gpu=True),
    "boolean_mask": op(lambda x, m: x[m], normal(3, 4), mask(3, 4), second_gpu=True),
    "boolean_row_mask": op(lambda x, m: x[m], normal(5, 2), mask(5)),
    "gather": op(lambda x, i: x.gather(1, i), normal(3, 4), labels(4, 3, 6)),
    "index_select": op(lambda x, i: x.index_select(1, i), normal(3, 4), index(3, 0, 3)),
    # shapes
    "cat": op(lambda a, b: minigrad.cat([a, b, a], dim=1), normal(2, 3), normal(2, 1)),
    "stack": op(lambda a, b: minigrad.stack([a, b], dim=1), normal(2, 3), normal(2, 3)),
    "split": op(lambda x: x.split(2, dim=1), normal(3, 5)),
    "split_sizes": op(lambda x: x.split([1, 3], dim=0), normal(4, 2)),
    "chunk": op(lambda x: x.chunk(3, dim=0), normal(7, 2)),
    "flip": op(lambda x: x.flip(0, 2), normal(2, 3, 4), second_gpu=True),
    "repeat": op(lambda x: x.repeat(2, 1, 3), normal(3, 2)),
    "permute": op(lambda x: x.permute(2, 0, 1), normal(2, 3, 4)),
    "transpose": op(lambda x: x.transpose(0, 2) * 1.0, normal(2, 3, 4)),
    "expand": op(lambda x: x.expand(3, 4, 5), normal(3, 1, 5)),
    "where": op(lambda m, a, b: minigrad.where(m, a, b), mask(3, 4), normal(3, 4), normal(1, 4)),
    "masked_fill": op(lambda x, m: x.masked_fill(m, 0.25), normal(3, 4), mask(3, 4)),
    "clamp": op(lambda x: x.clamp(-0.5, 0.5), normal(4, 5)),
    "clamp_min": op(lambda x: x.clamp(min=0.0), normal(4, 5)),
    "pow_scalar": op(lambda x: x**3, normal(3, 4)),
    "pow_tensor": op(lambda a, b: a**b, uniform(0.5, 2.0, 3, 4), normal(4)),
    "scalar_pow": op(lambda x: 2.0**x, normal(3, 4)),
    "matmul": op(lambda a, b: a @ b, normal(4, 3), normal(3, 5), second_gpu=True),
    "matmul_batched": op(lambda a, b: a @ b, normal(2, 1, 3, 4), normal(5, 4, 2)),
    "matmul_vector": op(lambda a, b: a @ b, normal(3, 4), normal(4)),
    # losses
    "cross_entropy": op(F.cross_entropy, normal(5, 3), labels(3, 5), second_gpu=True),
    "cross_entropy_weight": op(
        lambda x, y, w: F.cross_entropy(x, y, weight=w),
        normal(5, 3),
        labels(3, 5),
        Fixed(np.array([0.2, 1.0, 3.0])),
    ),
    "cross_entropy_ignore_index": op(F.cross_entropy, normal(5, 3), TARGET_WITH_IGNORED),
    "cross_entropy_ignore_index_weight_sum": op(
        lambda x, y, w: F.cross_entropy(x, y, weight=w, ignore_index=1, reduction="sum"),
        normal(6, 3),
        labels(3, 6),
        Fixed(np.array([0.5, 2.0, 1.5])),
    ),
    "cross_entropy_label_smoothing": op(
        lambda x, y: F.cross_entropy(x, y, label_smoothing=0.2), normal(5, 4), labels(4, 5)
    ),
    "cross_entropy_all_options": op(
        lambda x, y, w: F.cross_entropy(x, y, w, ignore_index=-100, label_smoothing=0.1),
        normal(5, 3),
        TARGET_WITH_IGNORED,
        Fixed(np.array([1.0, 0.5, 2.0])),
    ),
    "cross_entropy_spatial_none": op(
        lambda x, y: F.cross_entropy(x, y, reduction="none"), normal(2, 3, 4), labels(3, 2, 4)
    ),
    "cross_entropy_probabilities": op(
        F.cross_entropy, normal(4, 3), Fixed(np.random.default_rng(1).dirichlet([1, 1, 1], 4))
    ),
    "nll_loss": op(lambda x, y: F.nll_loss(F.log_softmax(x, 1), y), normal(5, 3), labels(3, 5)),
    "nll_loss_weight_ignore": op(
        lambda x, y, w: F.nll_loss(x, y, weight=w, ignore_index=2),
        normal(6, 3),
        labels(3, 6),
        Fixed(np.array([2.0, 1.0, 0.5])),
    ),
    "mse_loss": op(F.mse_loss, normal(3, 4), normal(3, 4), second_gpu=True),
    "mse_loss_sum": op(lambda x, y: F.mse_loss(x, y, reduction="sum"), normal(3, 4), normal(3, 4)),
    "l1_loss": op(F.l1_loss, normal(3, 4), normal(3, 4)),
    "smooth_l1_loss": op(lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), normal(4, 5), normal(4, 5)),
    "smooth_l1_loss_none": op(
        lambda x, y: F.smooth_l1_loss(x, y, reduction="none"), normal(4, 5), normal(4, 5)
    ),
    "binary_cross_entropy": op(
        F.binary_cross_entropy, uniform(0.05, 0.95, 4, 3), Fixed(_draws.random((4, 3)))
    ),
    "binary_cross_entropy_weight": op(
        lambda x, y, w: F.binary_cross_entropy(x, y, weight=w, reduction="sum"),
        uniform(0.05, 0.95, 4, 3),
        Fixed((_draws.random((4, 3)) < 0.5) * 1.0),
        Fixed(np.array([0.5, 1.0, 2.0])),
    ),
    "bce_with_logits": op(
        F.binary_cross_entropy_with_logits, normal(4, 3) * 5, Fixed(_draws.random((4, 3)))
    ),
    "bce_with_logits_pos_weight": op(
        lambda x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw),
        normal(4, 3),
        Fixed((_draws.random((4, 3)) < 0.5) * 1.0),
        Fixed(uniform(0.5, 2.0, 4, 1)),
        Fixed(np.array([1.0, 3.0, 0.5])),
    ),
    "loss_modules": op(
        lambda x, y: nn.CrossEntropyLoss(label_smoothing=0.1)(x, y) + nn.MSELoss()(x, x * 0.5),
        normal(5, 3),
        labels(3, 5),
    ),
    # layers
    "linear": layer(lambda: nn.Linear(4, 3), normal(5, 4), second_gpu=True),
    "linear_no_bias_3d": layer(lambda: nn.Linear(4, 2, bias=False), normal(2, 3, 4)),
    "conv1d": layer(lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1), normal(2, 2, 9)),
    "conv2d": layer(lambda: nn.Conv2d(3, 4, 3, padding=1), normal(2, 3, 6, 5), second_gpu=True),
    "conv2d_groups_dilation": layer(
        lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), normal(2, 4, 7, 6)
    ),
    "conv2d_stride_no_bias": layer(
        lambda: nn.Conv2d(2, 3, (3, 2), stride=2, bias=False), normal(2, 2, 7, 6)
    ),
    "conv2d_depthwise": layer(lambda: nn.Conv2d(3, 3, 3, groups=3), normal(2, 3, 5, 5)),
    "max_pool2d": layer(lambda: nn.MaxPool2d(2), normal(2, 3, 6, 4)),
    "max_pool2d_ceil_mode": layer(
        lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), normal(2, 3, 8, 7), second_gpu=True
    ),
    "max_pool2d_padding": layer(lambda: nn.MaxPool2d(3, stride=2, padding=1), normal(1, 2, 7, 7)),
    "avg_pool2d": layer(lambda: nn.AvgPool2d(2), normal(2, 3, 6, 4)),
    "avg_pool2d_ceil_mode": layer(
        lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        normal(2, 3, 8, 7),
    ),
    "adaptive_avg_pool2d": layer(lambda: nn.AdaptiveAvgPool2d((2, 3)), normal(2, 3, 7, 5)),
    "adaptive_avg_pool2d_1": layer(lambda: nn.AdaptiveAvgPool2d(1), normal(2, 3, 4, 4)),
    "batchnorm1d_train": layer(lambda: nn.BatchNorm1d(4), normal(6, 4), second_gpu=True),
    "batchnorm1d_train_then_eval": layer(
        lambda: nn.BatchNorm1d(4, momentum=0.3), normal(6, 4), run=train_then_eval
    ),
    "batchnorm1d_3d_train_then_eval": layer(
        lambda: nn.BatchNorm1d(3), normal(4, 3, 5), run=train_then_eval
    ),
    "batchnorm2d_train": layer(lambda: nn.BatchNorm2d(3), normal(4, 3, 3, 2)),
    "batchnorm2d_train_then_eval": layer(
        lambda: nn.BatchNorm2d(3), normal(4, 3, 3, 2), run=train_then_eval, second_gpu=True
    ),
    "batchnorm2d_no_affine": layer(
        lambda: nn.BatchNorm2d(3, affine=False), normal(4, 3, 2, 2), run=train_then_eval
    ),
    "layer_norm": layer(lambda: nn.LayerNorm(5), normal(3, 4, 5), second_gpu=True),
    "layer_norm_2d_shape": layer(lambda: nn.LayerNorm((4, 5)), normal(3, 4, 5)),
    "group_norm": layer(lambda: nn.GroupNorm(2, 4), normal(3, 4, 3, 2), second_gpu=True),
    "group_norm_no_affine": layer(lambda: nn.GroupNorm(3, 6, affine=False), normal(2, 6, 4)),
    "embedding": layer(lambda: nn.Embedding(6, 3), labels(6, 2, 5), second_gpu=True),
    "embedding_padding_idx": layer(
        lambda: nn.Embedding(5, 2, padding_idx=1), Fixed(np.array([[1, 0, 1], [4, 1, 0]]))
    ),
    "gelu": layer(nn.GELU, normal(4, 5) * 3, second_gpu=True),
    "gelu_tanh": layer(lambda: nn.GELU(approximate="tanh"), normal(4, 5) * 3),
    "silu": layer(nn.SiLU, normal(4, 5) * 3),
    "elu": layer(lambda: nn.ELU(alpha=0.7), normal(4, 5) * 3),
    "leaky_relu": layer(lambda: nn.LeakyReLU(0.2), normal(4, 5)),
    "softmax_module": layer(lambda: nn.Softmax(dim=0), normal(3, 4)),
    "log_softmax_module": layer(lambda: nn.LogSoftmax(dim=1), normal(3, 4)),
    "dropout_eval": layer(lambda: nn.Dropout(0.5).eval(), normal(3, 4)),
    "small_net": layer(
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3, padding=1),
            nn.BatchNorm2d(2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8, 3),
        ),
        normal(3, 1, 4, 4),
        second_gpu=True,
    ),
}


def on_device(case: Case, device: str) -> tuple[list, list]:
    """The case's outputs and the gradients of its float inputs and its layer's parameters
    (the backward of sum(out * weight), weights fixed per output), as host arrays."""
    minigrad.manual_seed(0)
    module = case.layer().double().to(device) if case.layer else None
    inputs = [
        minigrad.tensor(value.array, device=device)
        if isinstance(value, Fixed)
        else minigrad.tensor(value, device=device, requires_grad=True)
        for value in case.inputs
    ]
    result = case.run(module, *inputs) if module else case.run(*inputs)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    differentiable = [out for out in outputs if out.requires_grad]
    loss = sum(
        (out * minigrad.tensor(_weights(number, out.shape), device=device)).sum()
        for number, out in enumerate(differentiable)
    )
    if differentiable:
        loss.backward()
    leaves = [x for x in inputs if x.requires_grad]
    leaves += list(module.parameters()) if module else []
    expected = minigrad.backend.normalize_device(device)
    assert all(out.device == expected for out in outputs)
    assert all(leaf.grad is None or leaf.grad.device == expected for leaf in leaves)
    return [out.numpy() for out in outputs], [_grad(leaf) for leaf in leaves]


def _weights(number: int, shape: tuple) -> np.ndarray:
    return np.random.default_rng(100 + number).standard_normal(shape)


def _grad(leaf: minigrad.Tensor) -> Any:
    return None if leaf.grad is None else leaf.grad.numpy()


def assert_same(device_values: list, cpu_values: list) -> None:
    assert len(device_values) == len(cpu_values)
    for number, (on_gpu, on_cpu) in enumerate(zip(device_values, cpu_values)):
        if on_cpu is None:
            assert on_gpu is None, f"#{number}: a gradient on the GPU only"
            continue
        assert on_gpu.dtype == on_cpu.dtype and on_gpu.shape == on_cpu.shape, f"#{number}"
        np.testing.assert_allclose(on_gpu, on_cpu, rtol=RTOL, atol=ATOL, err_msg=f"#{number}")


def _gpu_count() -> int:
    return minigrad.backend.get_cupy().cuda.runtime.getDeviceCount()


DEVICE_CASES = [
    pytest.param(name, device, id=f"{name}-{device}")
    for name, case in CASES.items()
    for device in (["cuda", "cuda:1"] if case.second_gpu else ["cuda"])
]


def needs_second_gpu(device: str) -> None:
    if device == "cuda:1" and _gpu_count() < 2:
        pytest.skip("needs a second GPU")


@pytest.mark.parametrize("name, device", DEVICE_CASES)
def test_op_values_and_gradients_on_the_gpu_equal_the_cpu(name, device):
    needs_second_gpu(device)
    case = CASES[name]
    cpu_outputs, cpu_grads = on_device(case, "cpu")
    outputs, grads = on_device(case, device)
    assert_same(outputs, cpu_outputs)
    assert_same(grads, cpu_grads)
    assert any(grad is not None for grad in cpu_grads) == case.differentiable


TWICE = {
    "leaf_used_twice": lambda x: (x * x.exp()).sum().backward(),
    "intermediate_used_twice": lambda x: (lambda y: (y * y.sin()).sum().backward())(x.exp()),
    "cat_of_a_leaf_with_itself": lambda x: minigrad.cat([x, x]).sum().backward(),
    "two_backward_calls": lambda x: [(x * 2).sum().backward() for _ in range(2)],
}
TWICE_GRADS = {
    "leaf_used_twice": lambda v: np.exp(v) * (1 + v),
    "intermediate_used_twice": lambda v: _y_sin_y_grad(np.exp(v)),
    "cat_of_a_leaf_with_itself": lambda v: np.full_like(v, 2.0),
    "two_backward_calls": lambda v: np.full_like(v, 4.0),
}


def _y_sin_y_grad(y: np.ndarray) -> np.ndarray:
    """d(y sin y)/dx for y = exp(x): y (sin y + y cos y)."""
    return y * (np.sin(y) + y * np.cos(y))


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
@pytest.mark.parametrize("use", TWICE)
def test_gradients_of_a_tensor_used_twice_add_up_on_its_gpu(use, device):
    needs_second_gpu(device)
    values = np.array([0.5, -1.0, 2.0])
    x = minigrad.tensor(values, device=device, requires_grad=True)
    TWICE[use](x)
    assert x.grad.device == x.device
    np.testing.assert_allclose(x.grad.numpy(), TWICE_GRADS[use](values), rtol=RTOL)


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
@pytest.mark.parametrize("make", [nn.Dropout, nn.Dropout2d], ids=["dropout", "dropout2d"])
def test_dropout_on_the_gpu_scales_what_it_keeps_and_passes_the_gradient_through_it(make, device):
    needs_second_gpu(device)
    values = np.random.default_rng(0).uniform(0.5, 1.5, (40, 30, 2, 2))
    x = minigrad.tensor(values, device=device, requires_grad=True)
    out = make(0.25)(x)
    weights = _weights(0, out.shape)
    (out * minigrad.tensor(weights, device=device)).sum().backward()
    assert out.device == x.grad.device == minigrad.backend.normalize_device(device)
    kept = out.numpy() != 0
    np.testing.assert_allclose(out.numpy(), values * kept / 0.75, rtol=RTOL)
    np.testing.assert_allclose(x.grad.numpy(), weights * kept / 0.75, rtol=RTOL)
    assert abs(kept.mean() - 0.75) < 0.1
    if make is nn.Dropout2d:  # whole channels
        assert np.all(kept.all(axis=(2, 3)) | ~kept.any(axis=(2, 3)))


@pytest.mark.parametrize(
    "move",
    [
        pytest.param(lambda x: (x.to("cuda:0") * 2).sum(), id="doubled"),
        pytest.param(lambda x: (x.to("cuda:0") ** 2).mean(1).sum(), id="squared_mean"),
        pytest.param(lambda x: x.to("cuda:0").sum(), id="summed"),
        pytest.param(lambda x: x[:, ::2].to("cuda:0").sum(), id="slice"),
    ],
)
def test_a_tensor_moved_between_gpus_gets_its_gradient_back_on_its_own(move):
    needs_second_gpu("cuda:1")
    values = np.arange(12.0).reshape(3, 4)
    x = minigrad.tensor(values, device="cuda:1", requires_grad=True)
    cpu_x = minigrad.tensor(values, requires_grad=True)
    moved, on_cpu = move(x), move(cpu_x)
    assert moved.device == "cuda:0"
    moved.backward()
    on_cpu.backward()
    assert x.grad.device == "cuda:1"
    assert_same([moved.numpy(), x.grad.numpy()], [on_cpu.numpy(), cpu_x.grad.numpy()])


# --- optimizers --------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
    "sgd_nesterov_decay": lambda p: optim.SGD(
        p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2
    ),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adam_decay": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "adam_amsgrad": lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw_amsgrad_maximize": lambda p: optim.AdamW(p, lr=0.01, amsgrad=True, maximize=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "adadelta": lambda p: optim.Adadelta(p, lr=1.0, rho=0.8, weight_decay=1e-3),
}

BATCH = np.random.default_rng(3).standard_normal((6, 4))
BATCH_LABELS = np.array([0, 1, 2, 0, 1, 2])


def small_model(device: str, seed: int = 0) -> nn.Module:
    """No bias before the batch norm: its gradient would be rounding noise alone, which Adam
    and RMSprop divide by its own size (a GPU's noise differs from the CPU's)."""
    minigrad.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(4, 5, bias=False), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 3)
    )
    return model.double().to(device)


def train_steps(model: nn.Module, optimizer: optim.Optimizer, steps: int, device: str) -> list:
    """The parameters after each of `steps` training steps on the fixed batch."""
    x = minigrad.tensor(BATCH, device=device)
    y = minigrad.tensor(BATCH_LABELS, device=device)
    after = []
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        after.append(list(model.state_dict().values()))
    return after


def assert_same_states(device_state: dict, cpu_state: dict) -> None:
    assert device_state["param_groups"] == cpu_state["param_groups"]
    assert device_state["state"].keys() == cpu_state["state"].keys()
    for index, values in cpu_state["state"].items():
        assert device_state["state"][index].keys() == values.keys()
        for name, value in values.items():
            np.testing.assert_allclose(device_state["state"][index][name], value, rtol=RTOL)


OPTIMIZER_RUNS = [
    pytest.param(
        name,
        device,
        id=f"{name}-{device}",
    )
    for name in OPTIMIZERS
    for device in ("cuda", "cuda:1")
]


@pytest.mark.parametrize("name, device", OPTIMIZER_RUNS)
def test_three_optimizer_steps_on_the_gpu_equal_the_cpu(name, device):
    needs_second_gpu(device)
    runs = {}
    for where in ("cpu", device):
        model = small_model(where)
        optimizer = OPTIMIZERS[name](model.parameters())
        runs[where] = (train_steps(model, optimizer, 3, where), optimizer.state_dict())
    (gpu_steps, gpu_state), (cpu_steps, cpu_state) = runs[device], runs["cpu"]
    for gpu_values, cpu_values in zip(gpu_steps, cpu_steps):
        assert_same(gpu_values, cpu_values)
    assert_same_states(gpu_state, cpu_state)


@pytest.mark.parametrize(
    "device",
    [
        "cuda",
        "cuda:1",
    ],
)
@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_grad_norm_on_the_gpu_equals_the_cpu(norm_type, device):
    needs_second_gpu(device)
    results = []
    for where in ("cpu", device):
        model = small_model(where)
        F.cross_entropy(
            model(minigrad.tensor(BATCH, device=where)),
            minigrad.tensor(BATCH_LABELS, device=where),
        ).backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), 0.05, norm_type=norm_type)
        assert total.device == minigrad.backend.normalize_device(where)
        results.append([total.numpy(), *(param.grad.numpy() for param in model.parameters())])
    assert_same(results[1], results[0])


# --- the DataLoader ----------------------------------------------------------------------

IMAGES = np.random.default_rng(4).standard_normal((10, 1, 3, 3)).astype(np.float32)
LABELS = np.arange(10) % 3


def epoch_of(dataset: TensorDataset, device: str) -> list:
    loader = DataLoader(dataset, batch_size=4, shuffle=True, seed=5, device=device)
    loader.set_epoch(1)
    batches = list(loader)
    for images, labels in batches:
        assert images.device == labels.device == minigrad.backend.normalize_device(device)
        assert (images.dtype, labels.dtype) == (minigrad.float32, minigrad.int64)
    return [[images.numpy(), labels.numpy()] for images, labels in batches]


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_the_dataloader_gives_the_cpu_batches_on_the_gpu(where, device):
    needs_second_gpu(device)
    cpu_batches = epoch_of(TensorDataset(IMAGES, LABELS), "cpu")
    if where == "host":
        dataset = TensorDataset(IMAGES, LABELS)
    else:
        dataset = TensorDataset(
            minigrad.tensor(IMAGES, device=device), minigrad.tensor(LABELS, device=device)
        )
    batches = epoch_of(dataset, device)
    assert len(batches) == len(cpu_batches) == 3
    for batch, cpu_batch in zip(batches, cpu_batches):
        for on_gpu, on_cpu in zip(batch, cpu_batch):
            np.testing.assert_array_equal(on_gpu, on_cpu)


# --- checkpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
@pytest.mark.parametrize(
    "make_optimizer", [OPTIMIZERS["sgd_momentum"], OPTIMIZERS["adam_amsgrad"]], ids=["sgd", "adam"]
)
def test_a_gpu_checkpoint_loaded_into_a_fresh_gpu_model_continues_identically(
    make_optimizer, device, tmp_path
):
    needs_second_gpu(device)
    model = small_model(device)
    optimizer = make_optimizer(model.parameters())
    train_steps(model, optimizer, 2, device)
    path = tmp_path / "gpu.ckpt.npz"
    minigrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)

    fresh = small_model(device, seed=1)
    fresh_optimizer = make_optimizer(fresh.parameters())
    state = minigrad.load(path)
    fresh.load_state_dict(state["model"])
    fresh_optimizer.load_state_dict(state["optimizer"])
    expected = minigrad.backend.normalize_device(device)
    assert all(tensor.device == expected for tensor in [*fresh.parameters(), *fresh.buffers()])
    assert all(
        minigrad.backend.device_of(value) == expected
        for values in fresh_optimizer.state.values()
        for value in values.values()
        if minigrad.backend.is_array(value)
    )

    continued = train_steps(model, optimizer, 2, device)
    resumed = train_steps(fresh, fresh_optimizer, 2, device)
    for resumed_values, continued_values in zip(resumed, continued):
        for on_resume, on_continue in zip(resumed_values, continued_values):
            np.testing.assert_array_equal(on_resume, on_continue)
    assert_same_states(fresh_optimizer.state_dict(), optimizer.state_dict())

    cpu_model = small_model("cpu")
    cpu_steps = train_steps(cpu_model, make_optimizer(cpu_model.parameters()), 4, "cpu")
    assert_same(resumed[-1], cpu_steps[-1])
