"""minigrad.viz: DOT text of autograd graphs (ops, tensors, names, edges) and its rendering."""

import re
import shutil

import pytest

import minigrad
from minigrad import nn, viz
from minigrad.nn import functional as F

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', re.MULTILINE)
EDGE = re.compile(r"^\s*(\w+) -> (\w+);", re.MULTILINE)


def labels(dot: str) -> dict[str, list[str]]:
    """Node id -> the lines of its label."""
    return {node: label.split("\\n") for node, label in NODE.findall(dot)}


def edges(dot: str) -> list[tuple[str, str]]:
    return EDGE.findall(dot)


def ops(dot: str) -> list[str]:
    """Op names in the order the DOT text lists them (the order the data flows)."""
    return [lines[0] for node, lines in labels(dot).items() if node.startswith("op")]


def inputs_of(dot: str) -> dict[str, list[str]]:
    """Op node id -> the first label line of each node feeding it, in argument order."""
    names = labels(dot)
    feeding: dict[str, list[str]] = {node: [] for node in names if node.startswith("op")}
    for source, target in edges(dot):
        if target in feeding:
            feeding[target].append(names[source][0])
    return feeding


def op_ids(dot: str, name: str) -> list[str]:
    return [
        node for node, lines in labels(dot).items() if node.startswith("op") and lines == [name]
    ]


def two_layer_net():
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Sigmoid(), nn.Linear(5, 2))
    x = minigrad.randn(4, 3)
    target = minigrad.tensor([0, 1, 1, 0], dtype=minigrad.int64)
    return model, F.cross_entropy(model(x), target)


def batch_norm_dot(backward: str) -> str:
    x = minigrad.randn(4, 3, requires_grad=True)
    gamma = minigrad.ones(3, requires_grad=True)
    beta = minigrad.zeros(3, requires_grad=True)
    y = F.batch_norm(x, None, None, gamma, beta, training=True, backward=backward)
    return viz.to_dot(y, {"x": x, "gamma": gamma, "beta": beta})


def test_to_dot_small_expression_has_ops_shapes_and_edges_in_data_flow_direction():
    a = minigrad.randn(2, 3, requires_grad=True)
    b = minigrad.randn(3, requires_grad=True)
    dot = viz.to_dot((a * b).sum(), {"a": a, "b": b})
    names = labels(dot)
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    assert ops(dot) == ["mul", "sum"]
    assert ["a", "(2, 3) float32"] in names.values()
    assert ["b", "(3,) float32"] in names.values()
    (mul,), (total,) = op_ids(dot, "mul"), op_ids(dot, "sum")
    assert inputs_of(dot) == {mul: ["a", "b"], total: ["(2, 3) float32"]}
    outputs = {names[target][0] for source, target in edges(dot) if source == total}
    assert outputs == {"() float32"}


def test_to_dot_draws_python_constants_as_small_nodes_feeding_their_op():
    x = minigrad.randn(2, requires_grad=True)
    dot = viz.to_dot(x * 2.0 + 1e-5)
    (mul,), (add,) = op_ids(dot, "mul"), op_ids(dot, "add")
    assert inputs_of(dot) == {mul: ["(2,) float32", "2.0"], add: ["(2,) float32", "1e-05"]}
    assert "shape=plaintext" in dot


def test_to_dot_of_a_leaf_is_one_tensor_node():
    dot = viz.to_dot(minigrad.ones(2, 2), title='a "leaf"')
    assert list(labels(dot).values()) == [["(2, 2) float32"]]
    assert edges(dot) == []
    assert 'label="a \\"leaf\\""' in dot


def test_to_dot_two_layer_module_names_parameters_and_links_each_layer():
    model, loss = two_layer_net()
    dot = viz.to_dot(loss, model)
    assert ops(dot) == ["linear", "batch_norm", "sigmoid", "linear", "cross_entropy"]
    names = labels(dot)
    assert ["0.weight", "(5, 3) float32"] in names.values()
    assert ["3.bias", "(2,) float32"] in names.values()
    first, second = op_ids(dot, "linear")
    (norm,), (loss_op,) = op_ids(dot, "batch_norm"), op_ids(dot, "cross_entropy")
    feeding = inputs_of(dot)
    assert feeding[first] == ["(4, 3) float32", "0.weight", "0.bias"]
    assert feeding[norm] == ["(4, 5) float32", "1.weight", "1.bias"]
    assert feeding[second] == ["(4, 5) float32", "3.weight", "3.bias"]
    assert feeding[loss_op] == ["(4, 2) float32", "(4,) int64"]
    first_output = next(target for source, target in edges(dot) if source == first)
    assert (first_output, norm) in edges(dot)


def test_to_dot_accepts_named_parameters_as_a_dict():
    model, loss = two_layer_net()
    assert viz.to_dot(loss, dict(model.named_parameters())) == viz.to_dot(loss, model)


def test_to_dot_show_grad_puts_gradient_shapes_on_the_leaves_after_backward():
    model, loss = two_layer_net()
    loss.backward(retain_graph=True)
    with_grads = labels(viz.to_dot(loss, model, show_grad=True))
    assert ["0.weight", "(5, 3) float32", "grad (5, 3)"] in with_grads.values()
    assert ["1.bias", "(5,) float32", "grad (5,)"] in with_grads.values()
    assert ["(4, 5) float32"] in with_grads.values()  # the engine keeps no inner gradients
    assert "grad (" not in viz.to_dot(loss, model)


def test_to_dot_after_backward_that_freed_the_graph_says_to_retain_it():
    _, loss = two_layer_net()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*retain_graph=True"):
        viz.to_dot(loss)


def test_to_dot_walks_a_graph_deeper_than_the_recursion_limit():
    x = minigrad.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y + 1.0
    assert ops(viz.to_dot(y)) == ["add"] * 3000


def test_to_dot_rejects_an_unknown_layout_direction():
    with pytest.raises(ValueError, match="rankdir must be one of .*got 'up'"):
        viz.to_dot(minigrad.ones(1), rankdir="up")


def test_batch_norm_graph_version_records_the_articles_primitive_steps_in_order():
    dot = batch_norm_dot("graph")
    steps = [op for op in ops(dot) if op != "reshape"]  # gamma and beta to shape (1, C)
    assert steps == ["mean", "sub", "mul", "mean", "add", "sqrt", "div", "mul", "mul", "add"]
    (square, *_), (add_eps, _) = op_ids(dot, "mul"), op_ids(dot, "add")
    feeding = inputs_of(dot)
    assert feeding[square] == ["(4, 3) float32", "(4, 3) float32"]  # (x - mean) squared
    assert feeding[add_eps] == ["(1, 3) float32", "1e-05"]
    assert feeding[op_ids(dot, "div")[0]] == ["1", "(1, 3) float32"]  # the reciprocal
    assert "batch_norm" not in ops(dot)


def test_batch_norm_fused_is_exactly_one_batchnorm_op():
    dot = batch_norm_dot("fused")
    assert ops(dot) == ["batch_norm"]
    assert list(inputs_of(dot).values()) == [["x", "gamma", "beta"]]


def test_render_without_graphviz_writes_the_dot_file_and_says_how_to_render(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda program: None)
    dot = viz.to_dot(minigrad.ones(2, requires_grad=True) * 3.0)
    with pytest.warns(UserWarning, match=r"apt-get install graphviz.*dot -Tsvg"):
        written = viz.render(dot, tmp_path / "graph.svg")
    assert written == tmp_path / "graph.dot"
    assert written.read_text() == dot
    assert sorted(path.name for path in tmp_path.iterdir()) == ["graph.dot"]  # no temp files


def test_render_rejects_an_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"must end in .dot or one of.*'.svg'.*got"):
        viz.render("digraph {}", tmp_path / "graph.jpeg")


def test_render_makes_a_non_empty_svg_with_graphviz(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz)")
    dot = viz.to_dot(minigrad.ones(2, requires_grad=True) * 3.0)
    written = viz.render(dot, tmp_path / "graph.svg")
    svg = written.read_text()
    assert written == tmp_path / "graph.svg"
    assert "<svg" in svg and ">mul<" in svg
    assert sorted(path.name for path in tmp_path.iterdir()) == ["graph.dot", "graph.svg"]


@pytest.mark.parametrize(
    "example, files, expected",
    [
        ("batchnorm", ["batchnorm_fused.dot", "batchnorm_graph.dot"], "gamma"),
        ("mlp", ["mlp.dot"], "grad (5, 3)"),
    ],
)
def test_command_line_writes_the_examples_dot_files(
    tmp_path, monkeypatch, example, files, expected
):
    monkeypatch.setattr(viz.shutil, "which", lambda program: None)
    with pytest.warns(UserWarning, match="not on PATH"):
        assert viz.main([example, "--out", str(tmp_path / "out")]) == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == files
    assert expected in (tmp_path / "out" / files[0]).read_text()
