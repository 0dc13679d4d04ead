"""nn.Module, Parameter and the containers: registration, traversal, modes, devices, state dicts."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
from minigrad import nn


class Block(nn.Module):
    """A Linear plus a batch-norm-like buffer pair, like the layers other files define."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(features, features)
        self.register_buffer("running_mean", minigrad.zeros(features))
        self.register_buffer("num_batches_tracked", minigrad.tensor(0))
        self.register_buffer("scratch", minigrad.zeros(features), persistent=False)

    def forward(self, x):
        return self.fc(x) - self.running_mean


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(minigrad.ones(1))
        self.body = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), Block(3))
        self.head = nn.Linear(3, 2, bias=False)

    def forward(self, x):
        return self.head(self.body(x) * self.scale)


def test_named_parameters_follow_registration_order_through_nested_modules():
    names = [name for name, _ in Net().named_parameters()]
    assert names == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.2.fc.weight",
        "body.2.fc.bias",
        "head.weight",
    ]


def test_parameters_without_recurse_are_only_the_modules_own():
    net = Net()
    assert list(net.parameters(recurse=False)) == [net.scale]


def test_named_buffers_include_non_persistent_ones():
    names = [name for name, _ in Net().named_buffers()]
    assert names == ["body.2.running_mean", "body.2.num_batches_tracked", "body.2.scratch"]


def test_children_and_modules_traverse_in_order():
    net = Net()
    assert [name for name, _ in net.named_children()] == ["body", "head"]
    assert list(net.children()) == [net.body, net.head]
    assert [name for name, _ in net.named_modules()] == [
        "",
        "body",
        "body.0",
        "body.1",
        "body.2",
        "body.2.fc",
        "head",
    ]
    assert len(list(net.modules())) == 7


def test_shared_parameter_appears_once_in_parameters_but_under_both_names_in_state_dict():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_none_to_a_registered_name_keeps_the_slot():
    layer = nn.Linear(3, 2)
    layer.bias = None
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    layer.bias = nn.Parameter(minigrad.zeros(2))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_assigning_a_plain_tensor_to_a_parameter_name_is_a_type_error():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor to parameter 'weight'"):
        layer.weight = minigrad.zeros(2, 3)


def test_buffers_can_be_reassigned_with_tensors_and_none():
    block = Block(2)
    block.running_mean = minigrad.ones(2)
    assert np.array_equal(block.state_dict()["running_mean"], [1.0, 1.0])
    block.running_mean = None
    assert "running_mean" not in block.state_dict()


def test_assigning_a_parameter_before_init_names_the_fix():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(minigrad.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_register_buffer_rejects_dotted_and_existing_names():
    module = nn.Module()
    with pytest.raises(KeyError, match="contain '.'"):
        module.register_buffer("a.b", minigrad.zeros(1))
    module.plain = 3
    with pytest.raises(KeyError, match="'plain' already exists"):
        module.register_buffer("plain", minigrad.zeros(1))


def test_missing_attribute_error_names_the_class():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght  # noqa: B018


def test_forward_missing_raises_not_implemented():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\]"):
        nn.Module()(minigrad.zeros(1))


def test_train_and_eval_propagate_to_every_submodule():
    net = Net()
    assert all(module.training for module in net.modules())
    assert net.eval() is net
    assert not any(module.training for module in net.modules())
    net.train()
    assert all(module.training for module in net.modules())


@pytest.mark.parametrize("device", DEVICES)
def test_to_moves_parameters_and_buffers_in_place_and_keeps_identity(device):
    net = Net()
    params_before = list(net.parameters())
    out = net.to(device)
    assert out is net
    assert list(net.parameters()) == params_before
    assert all(p is q for p, q in zip(net.parameters(), params_before))
    expected = minigrad.backend.normalize_device(device)
    assert all(t.device == expected for t in [*net.parameters(), *net.buffers()])
    assert net(minigrad.ones(2, 4, device=device)).device == expected


def test_to_dtype_converts_floating_tensors_only():
    block = Block(2).to(minigrad.float64)
    assert block.fc.weight.dtype == minigrad.float64
    assert block.running_mean.dtype == minigrad.float64
    assert block.num_batches_tracked.dtype == minigrad.int64


def test_zero_grad_sets_gradients_to_none():
    net = Net()
    net(minigrad.ones(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_keys_follow_pytorch_naming_and_skip_non_persistent_buffers():
    state = Net().state_dict()
    assert isinstance(state, OrderedDict)
    # As in PyTorch: a module's own parameters, then its own buffers, then its children.
    assert list(state) == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.2.running_mean",
        "body.2.num_batches_tracked",
        "body.2.fc.weight",
        "body.2.fc.bias",
        "head.weight",
    ]
    counter = state["body.2.num_batches_tracked"]
    assert counter.shape == () and counter.dtype == np.int64


def test_state_dict_values_are_host_numpy_copies():
    layer = nn.Linear(3, 2)
    state = layer.state_dict()
    assert type(state["weight"]) is np.ndarray
    state["weight"][...] = 7.0
    assert not np.any(layer.weight.numpy() == 7.0)


def test_load_state_dict_round_trip_copies_into_the_existing_arrays():
    source, target = Net(), Net()
    weight_array = target.head.weight.data
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.head.weight.data is weight_array
    x = minigrad.randn(5, 4)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_load_state_dict_accepts_tensors_and_casts_to_the_model_dtype():
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": minigrad.tensor([[1.0, 2.0]]), "bias": np.array([0.5])})
    assert layer.bias.dtype == minigrad.float32
    np.testing.assert_array_equal(layer(minigrad.tensor([[1.0, 1.0]])).numpy(), [[3.5]])


def test_load_state_dict_strict_reports_missing_unexpected_and_mismatched_together():
    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 2))
    state = model.state_dict()
    state["0.weight"] = np.zeros((10, 5), dtype=np.float32)
    del state["2.bias"]
    state["3.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing keys: '2.bias'" in message
    assert "unexpected keys: '3.weight'" in message
    assert "0.weight: checkpoint (10, 5) vs model (10, 4)" in message


def test_load_state_dict_copies_nothing_when_a_check_fails():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 3))
    before = model.state_dict()
    bad = {name: np.full_like(value, 9.0) for name, value in before.items()}
    bad["1.weight"] = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"1.weight: checkpoint \(3, 3\) vs model \(3, 2\)"):
        model.load_state_dict(bad)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_non_strict_returns_the_incompatible_keys():
    layer = nn.Linear(2, 2)
    result = layer.load_state_dict({"weight": np.ones((2, 2)), "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"]
    assert result.unexpected_keys == ["extra"]
    missing, unexpected = result
    assert (missing, unexpected) == (["bias"], ["extra"])
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones((2, 2)))


def test_load_state_dict_non_strict_still_rejects_shape_mismatches():
    with pytest.raises(RuntimeError, match="weight: checkpoint"):
        nn.Linear(2, 2).load_state_dict({"weight": np.ones((2, 3))}, strict=False)


def test_repr_nests_children_with_extra_repr():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.1)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")"
    )


def test_parameter_requires_grad_and_has_pytorch_repr():
    param = nn.Parameter(minigrad.tensor([1.0, 2.0]))
    assert param.requires_grad and param.is_leaf
    assert repr(param).startswith("Parameter containing:\ntensor([1., 2.]")


def test_apply_visits_children_before_the_parent():
    visited = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert model.apply(lambda module: visited.append(type(module).__name__)) is model
    assert visited == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_sequential_indexing_slicing_len_iteration_and_append():
    first, second, third = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(first, second)
    assert model.append(third) is model
    assert len(model) == 3
    assert list(model) == [first, second, third]
    assert model[0] is first and model[-1] is third
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [second, third]
    assert [name for name, _ in tail.named_children()] == ["1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range for length 3"):
        model[3]
    assert model(minigrad.ones(4, 2)).shape == (4, 1)


def test_sequential_from_ordered_dict_uses_its_names():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 3 and layers[-1].out_features == 1
    assert [name for name, _ in layers.named_parameters()][-2:] == ["2.weight", "2.bias"]
    assert isinstance(layers[:2], nn.ModuleList)


def test_identity_and_flatten():
    x = minigrad.randn(2, 3, 4, 5)
    assert nn.Identity(7, key="ignored")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_reassigning_a_registered_name_keeps_its_position():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    model[0] = nn.Linear(2, 2, bias=False)
    assert list(model.state_dict()) == ["0.weight", "2.weight", "2.bias"]
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(minigrad.zeros(2, 2))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_deepcopy_gives_an_independent_model():
    model = nn.Sequential(Block(2))
    clone = copy.deepcopy(model)
    clone[0].fc.weight.data[...] = 5.0
    clone[0].running_mean.data[...] = 1.0
    assert not np.any(model[0].fc.weight.numpy() == 5.0)
    assert list(clone.state_dict()) == list(model.state_dict())
    assert isinstance(clone[0].fc.weight, nn.Parameter)


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    seen = []
    handle = model[1].register_forward_hook(
        lambda module, inputs, output: seen.append((module, inputs[0].shape, output.shape))
    )
    model(minigrad.ones(4, 3))
    assert seen == [(model[1], (4, 2), (4, 2))]
    handle.remove()
    model(minigrad.ones(4, 3))
    assert len(seen) == 1


def test_forward_hook_may_replace_the_output():
    layer = nn.Identity()
    layer.register_forward_hook(lambda module, inputs, output: output * 2)
    assert layer(minigrad.tensor([1.0, 3.0])).tolist() == [2.0, 6.0]
