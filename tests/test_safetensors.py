"""minigrad.safetensors (and minigrad.save/load with format="safetensors"): state dicts round
trip; files written by hand from the format's specification load, so the format is checked
apart from our writer; our files read by hand and by the real safetensors.numpy; atomic
writes; clear errors for what the format cannot hold."""

import json
import os
import struct
import sys

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
from minigrad import nn
from minigrad import safetensors as st
from minigrad.serialization import CheckpointError


def _package_installed() -> bool:
    try:
        import safetensors.numpy  # noqa: F401
    except ImportError:
        return False
    return True


needs_package = pytest.mark.skipif(
    not _package_installed(),
    reason="needs the safetensors package (pip install 'minigrad[safetensors]')",
)


def _model():
    return nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)
    )


def spec_file(entries: dict, metadata: dict | None = None) -> bytes:
    """A safetensors file built from the format's specification: an unsigned little-endian
    64-bit header length, the JSON header (padded with spaces to a multiple of 8 bytes),
    then each tensor's little-endian bytes at its data_offsets. `entries`: name ->
    (dtype name, shape, raw bytes)."""
    header, chunks, offset = {}, [], 0
    for name, (dtype, shape, raw) in entries.items():
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def read_by_hand(path) -> tuple[dict, bytes]:
    """The header and the byte buffer of a safetensors file, parsed without any library."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


class Tied(nn.Module):
    """An output layer that shares the embedding's weight (tied weights)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 4)
        self.out = nn.Linear(4, 5, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, indices):
        return self.out(self.embed(indices))


# --- round trips --------------------------------------------------------------------------


@needs_package
def test_state_dict_round_trip_gives_identical_outputs(tmp_path):
    source = _model()
    source(minigrad.randn(4, 1, 6, 6))  # training mode: the running statistics move
    source.eval()
    path = tmp_path / "model.safetensors"
    st.save_file(source.state_dict(), path)
    loaded = st.load_file(path)
    assert set(loaded) == set(source.state_dict())
    assert all(isinstance(value, minigrad.Tensor) for value in loaded.values())
    assert loaded["1.num_batches_tracked"].dtype == minigrad.int64
    target = _model().eval()
    assert target.load_state_dict(loaded) == ([], [])
    x = minigrad.randn(2, 1, 6, 6)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())


@needs_package
def test_save_model_keeps_one_name_per_tied_tensor_and_load_model_restores_it(tmp_path):
    source = Tied()
    path = tmp_path / "tied.safetensors"
    st.save_model(source, path, metadata={"epoch": "3"})
    header, _ = read_by_hand(path)
    assert set(header) == {"embed.weight", "__metadata__"}  # as safetensors.torch.save_model
    assert header["__metadata__"] == {"epoch": "3", "out.weight": "embed.weight"}
    target = Tied()
    assert st.load_model(target, path) == ([], [])
    assert target.out.weight is target.embed.weight
    indices = minigrad.tensor(np.array([0, 3]))
    np.testing.assert_array_equal(target(indices).numpy(), source(indices).numpy())


@needs_package
def test_load_model_strict_names_missing_and_unexpected_keys(tmp_path):
    path = tmp_path / "linear.safetensors"
    st.save_file({"weight": np.ones((2, 3), np.float32), "extra": np.zeros(1, np.float32)}, path)
    with pytest.raises(RuntimeError) as error:
        st.load_model(nn.Linear(3, 2), path)
    assert 'Missing key(s) in state_dict: "bias"' in str(error.value)
    assert 'Unexpected key(s) in state_dict: "extra"' in str(error.value)
    layer = nn.Linear(3, 2)
    assert st.load_model(layer, path, strict=False) == (["bias"], ["extra"])
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones((2, 3)))


@needs_package
def test_loaded_tensors_are_writable_and_train(tmp_path):
    path = tmp_path / "w.safetensors"
    st.save_file({"w": minigrad.ones(3)}, path)
    weight = st.load_file(path)["w"]
    weight.add_(1)
    np.testing.assert_array_equal(weight.numpy(), [2, 2, 2])


# --- the format itself ----------------------------------------------------------------------


@needs_package
def test_a_file_written_from_the_specification_loads_exactly(tmp_path):
    weights = np.arange(6, dtype="<f4").reshape(2, 3) / 4
    steps = np.array([7, -1], dtype="<i8")
    mask = np.array([True, False, True])
    half = np.array([0.5, -2.0], dtype="<f2")
    path = tmp_path / "by_hand.safetensors"
    path.write_bytes(
        spec_file(
            {
                "layer.weight": ("F32", (2, 3), weights.tobytes()),
                "steps": ("I64", (2,), steps.tobytes()),
                "mask": ("BOOL", (3,), mask.tobytes()),
                "half": ("F16", (2,), half.tobytes()),
                "scalar": ("F64", (), np.float64(2.5).tobytes()),
            },
            metadata={"format": "pt"},
        )
    )
    loaded = st.load_file(path)
    np.testing.assert_array_equal(loaded["layer.weight"].numpy(), weights)
    assert loaded["layer.weight"].dtype == minigrad.float32
    np.testing.assert_array_equal(loaded["steps"].numpy(), steps)
    assert loaded["mask"].numpy().tolist() == [True, False, True]
    assert loaded["half"].numpy().dtype == np.float16 and loaded["half"].numpy().tolist() == [
        0.5,
        -2,
    ]
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5
    assert set(minigrad.load(path)) == set(loaded)  # minigrad.load recognizes the format


@needs_package
def test_our_file_is_the_specifications_and_safetensors_numpy_reads_it(tmp_path):
    from safetensors.numpy import load_file

    weights = np.arange(12, dtype=np.float32).reshape(3, 4)
    labels = np.array([3, 1], dtype=np.int64)
    path = tmp_path / "ours.safetensors"
    st.save_file({"w": minigrad.tensor(weights), "labels": labels}, path, metadata={"k": "v"})
    header, buffer = read_by_hand(path)
    assert header["__metadata__"] == {"k": "v"}
    assert header["w"]["dtype"] == "F32" and header["w"]["shape"] == [3, 4]
    assert header["labels"]["dtype"] == "I64" and header["labels"]["shape"] == [2]
    start, end = header["w"]["data_offsets"]
    np.testing.assert_array_equal(np.frombuffer(buffer[start:end], "<f4").reshape(3, 4), weights)
    start, end = header["labels"]["data_offsets"]
    np.testing.assert_array_equal(np.frombuffer(buffer[start:end], "<i8"), labels)
    by_package = load_file(str(path))
    np.testing.assert_array_equal(by_package["w"], weights)
    np.testing.assert_array_equal(by_package["labels"], labels)


@needs_package
def test_save_returns_the_bytes_and_load_reads_them():
    data = st.save({"a": minigrad.tensor([1.0, 2.0])}, metadata={"note": "x"})
    header_length = struct.unpack("<Q", data[:8])[0]
    assert json.loads(data[8 : 8 + header_length])["__metadata__"] == {"note": "x"}
    assert st.load(data)["a"].numpy().tolist() == [1.0, 2.0]


@needs_package
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    import safetensors.numpy

    path = tmp_path / "model.safetensors"
    st.save_file({"w": minigrad.zeros(2)}, path)
    old = path.read_bytes()

    def half_written(arrays, filename, metadata=None):
        with open(filename, "wb") as file:
            file.write(b"\x10\x00")
        raise OSError("disk went away")

    monkeypatch.setattr(safetensors.numpy, "save_file", half_written)
    with pytest.raises(OSError, match="disk went away"):
        st.save_file({"w": minigrad.ones(2)}, path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.safetensors"]


# --- minigrad.save / minigrad.load ------------------------------------------------------------


@needs_package
def test_minigrad_save_writes_safetensors_by_suffix_or_format(tmp_path):
    from safetensors.numpy import load_file

    state = _model().state_dict()
    minigrad.save(state, tmp_path / "model.safetensors")
    minigrad.save(state, tmp_path / "model.bin", format="safetensors")
    for name in ("model.safetensors", "model.bin"):
        assert set(load_file(str(tmp_path / name))) == set(state)
        loaded = minigrad.load(tmp_path / name)
        np.testing.assert_array_equal(loaded["4.weight"].numpy(), state["4.weight"])
    minigrad.save(state, tmp_path / "model.npz")  # the default format elsewhere is .npz
    assert (tmp_path / "model.npz").read_bytes()[:2] == b"PK"


def test_minigrad_save_safetensors_needs_a_flat_dict_of_tensors(tmp_path):
    with pytest.raises(TypeError, match="whose 'step' is of type int.*format='npz'"):
        minigrad.save({"w": minigrad.ones(2), "step": 3}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="unknown format 'pickle'"):
        minigrad.save({}, tmp_path / "x.pt", format="pickle")


def test_minigrad_load_of_neither_format_says_so(tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00" * 16)
    with pytest.raises(CheckpointError, match="neither an .npz .* nor a safetensors file"):
        minigrad.load(path)


# --- what the format cannot hold ----------------------------------------------------------------


def test_non_contiguous_tensor_is_refused_naming_it(tmp_path):
    transposed = minigrad.randn(3, 4).T
    with pytest.raises(ValueError, match=r"'w' is not contiguous \(shape \(4, 3\).*clone\(\)"):
        st.save_file({"w": transposed}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_tensors_sharing_memory_are_refused_naming_them(tmp_path):
    weight = minigrad.randn(4, 4)
    with pytest.raises(RuntimeError, match=r"share memory: \[\['a', 'b'\]\].*save_model"):
        st.save_file({"a": weight, "b": weight, "c": minigrad.ones(2)}, tmp_path / "x.safetensors")
    base = np.zeros(8, np.float32)
    with pytest.raises(RuntimeError, match=r"\[\['head', 'whole'\]\]"):
        st.save_file({"whole": base, "head": base[:4]}, tmp_path / "x.safetensors")


@needs_package
def test_disjoint_views_of_one_array_are_not_shared(tmp_path):
    base = np.arange(8, dtype=np.float32)
    st.save_file({"low": base[:4], "high": base[4:]}, tmp_path / "x.safetensors")
    assert st.load_file(tmp_path / "x.safetensors")["high"].numpy().tolist() == [4, 5, 6, 7]


@pytest.mark.parametrize(
    ("tensors", "metadata", "error", "message"),
    [
        ([1, 2], None, TypeError, "expected a dict of name -> Tensor"),
        ({3: np.ones(2)}, None, TypeError, "tensor names must be str, got 3"),
        ({"w": [1.0, 2.0]}, None, TypeError, "'w' is a list"),
        ({"w": np.ones(2, np.complex128)}, None, TypeError, "'w' has dtype complex128"),
        ({"w": np.ones(2)}, {"epoch": 3}, TypeError, "got 'epoch': 3 \\(int\\)"),
    ],
)
def test_bad_input_is_refused_naming_the_value(tmp_path, tensors, metadata, error, message):
    with pytest.raises(error, match=message):
        st.save_file(tensors, tmp_path / "x.safetensors", metadata=metadata)


def test_bf16_tensors_raise_naming_them_and_the_conversion(tmp_path):
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(
        spec_file(
            {
                "ok": ("F32", (1,), np.float32(1).tobytes()),
                "w": ("BF16", (2,), b"\x80\x3f\x00\x40"),  # 1.0 and 2.0 in bfloat16
            }
        )
    )
    with pytest.raises(
        TypeError, match=r"tensors 'w' \(BF16\) have dtypes that NumPy.*v\.float\(\)"
    ):
        st.load_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x01\x02", "only 2 bytes"),
        (
            struct.pack("<Q", 1000) + b"{}",
            "its first 8 bytes give a header of 1000 bytes, but the file has 10",
        ),
        (struct.pack("<Q", 4) + b"nope", "bad header"),
        (struct.pack("<Q", 2) + b"[]", "the header is not an object"),
    ],
    ids=["too-short", "header-too-long", "not-json", "not-an-object"],
)
def test_a_file_not_in_the_format_raises_naming_it(tmp_path, content, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(
        CheckpointError, match=f"bad.safetensors is not a safetensors file: {message}"
    ):
        st.load_file(path)
    assert not st.is_safetensors_file(path)


@needs_package
def test_inconsistent_offsets_are_reported_as_a_bad_file(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(spec_file({"w": ("F32", (4,), b"\x00" * 8)}))  # 4 floats promised, 2 given
    with pytest.raises(CheckpointError, match="short.safetensors is not a valid safetensors file"):
        st.load_file(path)


def test_without_the_package_the_error_gives_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(
        ImportError, match=r"pip install safetensors \(or pip install 'minigrad\[safetensors\]'\)"
    ):
        st.save_file({"w": minigrad.ones(2)}, tmp_path / "x.safetensors")
    with pytest.raises(ImportError, match="needs the safetensors package"):
        minigrad.save({"w": minigrad.ones(2)}, tmp_path / "x.safetensors")


# --- devices --------------------------------------------------------------------------------


@needs_package
@pytest.mark.parametrize("device", DEVICES)
def test_tensors_are_saved_from_and_loaded_onto_a_device(tmp_path, device):
    path = tmp_path / "on_device.safetensors"
    st.save_file({"w": minigrad.arange(4, device=device)}, path)
    loaded = st.load_file(path, device=device)
    assert loaded["w"].device == minigrad.device(device)
    assert loaded["w"].numpy().tolist() == [0, 1, 2, 3]
    assert minigrad.load(path, map_location=device)["w"].device == minigrad.device(device)
