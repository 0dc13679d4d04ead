"""ModuleDict and ParameterList: registration under PyTorch's names (keys; "0", "1", ...), the
dict and list protocols, state dicts that load, reprs, and errors that name the values."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

# --- ModuleDict -----------------------------------------------------------------------------


def test_module_dict_registers_modules_under_their_keys_in_order():
    layers = nn.ModuleDict({"encoder": nn.Linear(3, 4), "act": nn.ReLU(), "head": nn.Linear(4, 2)})
    assert list(layers.state_dict()) == [
        "encoder.weight",
        "encoder.bias",
        "head.weight",
        "head.bias",
    ]
    assert [name for name, _ in layers.named_parameters()] == list(layers.state_dict())
    assert list(layers) == ["encoder", "act", "head"] and len(layers) == 3
    assert isinstance(layers["act"], nn.ReLU) and "head" in layers and "tail" not in layers


def test_module_dict_inside_a_model_gives_dotted_state_dict_keys():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict([("a", nn.Linear(2, 1)), ("b", nn.Linear(2, 3))])

        def forward(self, x, head):
            return self.heads[head](x)

    model = Model()
    assert list(model.state_dict()) == [
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
    ]
    assert model(mg.ones(5, 2), "b").shape == (5, 3)
    copy = Model()
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy.heads["b"].weight.numpy(), model.heads["b"].weight.numpy())


def test_module_dict_supports_the_dict_protocol():
    layers = nn.ModuleDict()
    layers["first"] = nn.Linear(2, 2)
    layers.update(OrderedDict(second=nn.Tanh(), third=nn.Sigmoid()))
    layers.update([("first", nn.ReLU())])  # replaces, keeping the place
    assert list(layers.keys()) == ["first", "second", "third"]
    assert isinstance(layers["first"], nn.ReLU)
    assert [type(m) for m in layers.values()] == [nn.ReLU, nn.Tanh, nn.Sigmoid]
    assert [key for key, _ in layers.items()] == ["first", "second", "third"]
    assert isinstance(layers.pop("second"), nn.Tanh) and list(layers) == ["first", "third"]
    del layers["first"]
    assert list(layers) == ["third"]
    layers.clear()
    assert len(layers) == 0 and list(layers.state_dict()) == []


def test_module_dict_repr_is_pytorchs():
    layers = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(2, 3)})
    assert repr(layers) == (
        "ModuleDict(\n  (a): ReLU()\n  (b): Linear(in_features=2, out_features=3, bias=True)\n)"
    )


def test_module_dict_errors_name_the_offending_entry():
    with pytest.raises(KeyError, match=r"can't be empty or contain '\.', got 'a\.b'"):
        nn.ModuleDict({"a.b": nn.ReLU()})
    with pytest.raises(TypeError, match="name should be a string, got int"):
        nn.ModuleDict({1: nn.ReLU()})
    with pytest.raises(TypeError, match=r"cannot assign int to module 'a' \(Module or None"):
        nn.ModuleDict({"a": 3})
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        nn.ModuleDict([("a", nn.ReLU(), 3)])
    with pytest.raises(TypeError, match="element #1 should be a .* pair, got int"):
        nn.ModuleDict([("a", nn.ReLU()), 3])
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        nn.ModuleDict({"keys": nn.ReLU()})
    with pytest.raises(KeyError, match="missing"):
        nn.ModuleDict()["missing"]


# --- ParameterList --------------------------------------------------------------------------


def test_parameter_list_registers_parameters_as_numbered_names():
    params = nn.ParameterList([nn.Parameter(mg.ones(3, 4)), nn.Parameter(mg.zeros(4))])
    assert list(params.state_dict()) == ["0", "1"]
    assert [name for name, _ in params.named_parameters()] == ["0", "1"]
    assert len(params) == 2 and params[1].shape == (4,) and params[-1] is params[1]
    assert list(params) == list(params.parameters())


def test_parameter_list_makes_tensors_parameters_sharing_their_arrays():
    plain = mg.ones(2)
    params = nn.ParameterList([plain])
    assert isinstance(params[0], nn.Parameter) and params[0].requires_grad
    assert params[0].data is plain.data


def test_parameter_list_supports_the_list_protocol():
    params = nn.ParameterList()
    params.append(mg.zeros(1))
    params.extend([mg.zeros(2), mg.zeros(3)])
    params += [mg.zeros(4)]
    assert [p.shape for p in params] == [(1,), (2,), (3,), (4,)]
    params[1] = nn.Parameter(mg.ones(5))
    assert params[1].shape == (5,) and list(params.state_dict()) == ["0", "1", "2", "3"]
    tail = params[2:]
    assert isinstance(tail, nn.ParameterList) and tail[0] is params[2]
    assert list(tail.state_dict()) == ["0", "1"]


def test_parameter_list_in_a_model_is_trained_and_saved():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([nn.Parameter(mg.ones(2)) for _ in range(3)])

        def forward(self, x):
            for scale in self.scales:
                x = x * scale
            return x

    model = Model()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "scales.2"]
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    model(mg.tensor([1.0, 2.0])).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(model.scales[0].numpy(), [0.9, 0.8])
    copy = Model()
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy.scales[2].numpy(), model.scales[2].numpy())


def test_parameter_list_repr_is_pytorchs_with_minigrad_dtypes():
    params = nn.ParameterList([nn.Parameter(mg.zeros(3, 4)), mg.zeros(4, dtype=mg.float64)])
    assert repr(params) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [minigrad.float32 of size 3x4]\n"
        "    (1): Parameter containing: [minigrad.float64 of size 4]\n"
        ")"
    )
    assert repr(nn.ParameterList([mg.ones(2)])) == (
        "ParameterList(  (0): Parameter containing: [minigrad.float32 of size 2])"
    )
    assert repr(nn.ParameterList()) == "ParameterList()"


def test_parameter_list_errors_name_the_values():
    params = nn.ParameterList([mg.ones(2)])
    with pytest.raises(IndexError, match="ParameterList index 3 is out of range for length 1"):
        params[3]
    with pytest.raises(TypeError, match="holds Parameters or Tensors, got int"):
        params.append(3)
    with pytest.raises(TypeError, match="got list"):
        nn.ParameterList([[1.0, 2.0]])
