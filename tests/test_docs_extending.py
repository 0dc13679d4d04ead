"""docs/extending.md runs as printed (its training step on a tiny fake MNIST), its LayerNorm
agrees with the same math built from tensor ops, and a module added to models/ is offered by
train.py."""

import json
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import models
import train

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
TRAINING_CALL = "train.main("


def python_blocks() -> list[tuple[int, str]]:
    """(line number of the opening fence, code) of each ```python block of the doc, in order."""
    text = DOC.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```$", text, re.M | re.S)
    ]


def run_blocks(blocks: list[tuple[int, str]]) -> dict:
    """Exec the blocks in one namespace; tracebacks point at the doc's own line numbers."""
    namespace = {"__name__": "extending_walkthrough"}
    for fence_line, code in blocks:
        exec(compile("\n" * fence_line + code, str(DOC), "exec"), namespace)
    return namespace


@pytest.fixture(autouse=True)
def tensor_methods_restored():
    """Section 7 adds a Tensor method in the running session: remove what the doc added."""
    before = set(vars(minigrad.Tensor))
    yield
    for name in set(vars(minigrad.Tensor)) - before:
        delattr(minigrad.Tensor, name)


@pytest.fixture
def registry(monkeypatch):
    """A copy of the model registry for this test: what it registers is gone afterwards, so
    every test may register `lnmlp` again."""
    monkeypatch.setattr(models, "REGISTRY", dict(models.REGISTRY))
    return models.REGISTRY


@pytest.fixture
def walkthrough(registry, capsys) -> dict:
    """The doc's namespace after every block but the training call."""
    blocks = [block for block in python_blocks() if TRAINING_CALL not in block[1]]
    namespace = run_blocks(blocks)
    capsys.readouterr()
    return namespace


def test_walkthrough_runs_as_printed_and_trains_lnmlp(
    tiny_mnist,
    registry,
    tmp_path,
    monkeypatch,
    capsys,
):
    monkeypatch.setenv("MINIGRAD_DATA", str(tiny_mnist))
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert any(TRAINING_CALL in code for _, code in blocks)
    run_blocks(blocks)
    printed = capsys.readouterr().out
    assert "LayerNorm((100,), eps=1e-05)" in printed
    assert "tensor([9.35762297e-14, 6.93147181e-01, 3.00000000e+01], grad_fn=softplus)" in printed
    assert "True" in printed.splitlines()
    assert "['weight', 'bias']" in printed
    assert "lnmlp" in registry
    summary = json.loads((tmp_path / "runs" / "lnmlp" / "summary.json").read_text())
    assert list(summary) == ["plain"]  # --bn off: the LayerNorm network only
    assert summary["plain"]["final_test_accuracy"] > 0.5  # the fake classes are easy


def test_walkthrough_defines_its_names_again_in_a_second_session(walkthrough, registry):
    assert {"LayerNormOp", "layer_norm", "LayerNorm", "layer_norm_mlp"} <= set(walkthrough)
    assert registry["lnmlp"].builder is walkthrough["layer_norm_mlp"]


def test_lnmlp_puts_layernorm_off_and_batchnorm_on_after_each_hidden_linear(walkthrough):
    LayerNorm = walkthrough["LayerNorm"]
    for bn, norm in ((False, LayerNorm), (True, minigrad.nn.BatchNorm1d)):
        model = models.build("lnmlp", (1, 28, 28), 10, bn=bn)
        kinds = [type(module) for module in model.children()]
        assert kinds == [minigrad.nn.Flatten] + [
            minigrad.nn.Linear,
            norm,
            minigrad.nn.Sigmoid,
        ] * 3 + [minigrad.nn.Linear]
        assert model(minigrad.randn(4, 1, 28, 28)).shape == (4, 10)


def test_layernorm_layer_has_pytorch_names_defaults_and_repr(walkthrough):
    layer = walkthrough["LayerNorm"]((3, 4), eps=1e-3)
    assert repr(layer) == "LayerNorm((3, 4), eps=0.001)"
    assert walkthrough["LayerNorm"](5).eps == 1e-5
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    np.testing.assert_array_equal(state["weight"], np.ones((3, 4), dtype=np.float32))
    np.testing.assert_array_equal(state["bias"], np.zeros((3, 4), dtype=np.float32))


def layer_norm_from_tensor_ops(x, weight, bias, dims, eps=1e-5):
    """The forward of section 1 from primitive ops, which autograd differentiates node by node."""
    centered = x - x.mean(dim=dims, keepdim=True)
    var = (centered * centered).mean(dim=dims, keepdim=True)
    return centered / (var + eps).sqrt() * weight + bias


@pytest.mark.parametrize("device", DEVICES)
def test_derived_backward_matches_autograd_through_tensor_ops(walkthrough, device):
    layer_norm = walkthrough["layer_norm"]
    rng = np.random.default_rng(1)
    x_values = rng.normal(2.0, 3.0, (2, 3, 4, 5))
    weight_values, bias_values = rng.normal(size=(2, 4, 5))
    dy = minigrad.tensor(rng.normal(size=(2, 3, 4, 5)), device=device)
    grads = []
    for function in (
        lambda x, w, b: layer_norm(x, (4, 5), w, b),
        lambda x, w, b: layer_norm_from_tensor_ops(x, w, b, dims=(2, 3)),
    ):
        inputs = [
            minigrad.tensor(values, device=device, requires_grad=True)
            for values in (x_values, weight_values, bias_values)
        ]
        out = function(*inputs)
        out.backward(dy)
        grads.append([out.numpy()] + [tensor.grad.numpy() for tensor in inputs])
    for fused, graph in zip(*grads):
        np.testing.assert_allclose(fused, graph, rtol=1e-10, atol=1e-12)


@pytest.mark.gpu
def test_layer_norm_gradcheck_on_cuda(walkthrough):
    layer_norm = walkthrough["layer_norm"]
    inputs = [
        minigrad.randn(*shape, device="cuda", requires_grad=True) for shape in ((3, 5), (5,), (5,))
    ]
    assert minigrad.gradcheck(lambda x, w, b: layer_norm(x, (5,), w, b), *inputs)


@pytest.mark.parametrize(
    "x_shape, weight_shape, bias_shape, error, message",
    [
        ((3, 4), (5,), (5,), ValueError, r"expected input of shape \(\*, 5\), got \(3, 4\)"),
        ((3, 5), (4,), (5,), ValueError, r"expected input of shape \(\*, 4\), got \(3, 5\)"),
        ((3, 5), (5,), (1, 5), ValueError, r"bias has shape \(1, 5\), expected \(5,\)"),
    ],
)
def test_layer_norm_names_the_expected_shape(
    walkthrough, x_shape, weight_shape, bias_shape, error, message
):
    x, weight, bias = (minigrad.randn(*shape) for shape in (x_shape, weight_shape, bias_shape))
    with pytest.raises(error, match=message):
        walkthrough["layer_norm"](x, weight_shape, weight, bias)


def test_layer_norm_rejects_parameters_of_another_dtype(walkthrough):
    x = minigrad.randn(3, 5, dtype=minigrad.float64)
    with pytest.raises(TypeError, match="input has dtype float64 but weight has dtype float32"):
        walkthrough["LayerNorm"](5)(x)


@pytest.fixture
def extra_models_folder(tmp_path, monkeypatch):
    """A second folder of the models package, as if its files were in models/; the modules
    imported from it are forgotten afterwards."""
    folder = tmp_path / "more_models"
    folder.mkdir()
    monkeypatch.setattr(models, "__path__", [*models.__path__, str(folder)])
    yield folder
    for path in folder.glob("*.py"):
        sys.modules.pop(f"models.{path.stem}", None)
        if hasattr(models, path.stem):
            delattr(models, path.stem)


def test_a_new_module_in_models_is_registered_and_offered_by_train(
    extra_models_folder, registry, capsys
):
    (extra_models_folder / "tiny_linear.py").write_text(
        textwrap.dedent(
            '''\
            """A test-only model."""

            from minigrad import nn
            from models import register


            @register("tinylinear", "one Linear layer (test only)", lr=0.2, steps=5)
            def tiny_linear(input_shape, num_classes, bn):
                return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))
            '''
        )
    )
    models._discover()
    assert "tinylinear" in registry
    model_option = next(
        action for action in train.build_parser()._actions if action.dest == "model"
    )
    assert list(model_option.choices) == sorted(registry)
    args = train.parse_args(["--model", "tinylinear"])
    assert (args.lr, args.steps) == (0.2, 5)
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, even at "-"
    for name, spec in registry.items():
        assert "".join(f"{name}: {spec.help}".split()) in help_text


def test_a_built_in_op_is_one_file_its_all_lists_what_minigrad_exports():
    from minigrad.ops import elementwise, linalg, reduce, shape

    for module in (elementwise, linalg, reduce, shape):
        for name in module.__all__:
            assert name in minigrad.__all__ and getattr(minigrad, name) is getattr(module, name)


def test_the_built_in_op_section_adds_a_tensor_method(walkthrough):
    x = minigrad.tensor([-2.0, 0.5], dtype=minigrad.float64, requires_grad=True)
    np.testing.assert_allclose(x.softplus().numpy(), np.log1p(np.exp([-2.0, 0.5])), rtol=1e-12)
    x.softplus().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp([2.0, -0.5])), rtol=1e-12)
