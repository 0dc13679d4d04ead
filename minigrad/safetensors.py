"""Checkpoints in the safetensors format, under safetensors.torch's names: save_file/load_file,
save/load (bytes), save_model/load_model, on the real package's safetensors.numpy (the optional
extra ``pip install 'minigrad[safetensors]'``). PyTorch reads these files with
``safetensors.torch.load_file`` and minigrad reads PyTorch's.

A host-side I/O module, so it imports NumPy directly. A file is an 8-byte little-endian header
length, a JSON header (each tensor's dtype, shape and byte range, and an optional
"__metadata__" of strings) and the raw little-endian bytes. It holds a flat dict of named
tensors only (a state dict); the .npz format of minigrad.save holds nested checkpoints.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy

from minigrad import backend
from minigrad.fileio import atomic_path
from minigrad.serialization import CheckpointError
from minigrad.tensor import Tensor

__all__ = ["load", "load_file", "load_model", "save", "save_file", "save_model"]

HEADER_LENGTH_BYTES = 8
MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
METADATA_KEY = "__metadata__"
# The numpy dtypes that the format and NumPy both hold, by the format's dtype names.
DTYPES = {
    "BOOL": numpy.dtype(bool),
    "U8": numpy.dtype(numpy.uint8),
    "I8": numpy.dtype(numpy.int8),
    "U16": numpy.dtype(numpy.uint16),
    "I16": numpy.dtype(numpy.int16),
    "U32": numpy.dtype(numpy.uint32),
    "I32": numpy.dtype(numpy.int32),
    "U64": numpy.dtype(numpy.uint64),
    "I64": numpy.dtype(numpy.int64),
    "F16": numpy.dtype(numpy.float16),
    "F32": numpy.dtype(numpy.float32),
    "F64": numpy.dtype(numpy.float64),
    "C64": numpy.dtype(numpy.complex64),
}
_INSTALL = "pip install safetensors (or pip install 'minigrad[safetensors]')"
_SHARED_HELP = (
    "safetensors stores each tensor's bytes once per name, so a load would give independent "
    "copies; save_model(model, path) keeps one name per shared tensor, as safetensors.torch's does"
)


# --- save ---------------------------------------------------------------------------------


def save(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """The safetensors bytes of `tensors` (name -> Tensor or NumPy/CuPy array; see save_file)."""
    arrays = _host_arrays(tensors, "save")
    return _package().numpy.save(arrays, metadata=_checked_metadata(metadata, "save"))


def save_file(
    tensors: Mapping[str, Any],
    filename: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write `tensors` (name -> Tensor or NumPy/CuPy array, e.g. model.state_dict()) and the
    optional string `metadata` to `filename` as a safetensors file, atomically (as
    minigrad.save: an error leaves any old file intact).

    Every tensor must be contiguous (a transposed view raises ValueError: .clone() packs it)
    and of a dtype NumPy holds (bool, u/int8..64, float16/32/64, complex64); tensors that share
    memory raise RuntimeError (save_model keeps one name of each), as in safetensors.torch."""
    arrays = _host_arrays(tensors, "save_file")
    checked = _checked_metadata(metadata, "save_file")
    payload_bytes = sum(array.nbytes for array in arrays.values())
    with atomic_path(filename, payload_bytes) as temporary:
        _package().numpy.save_file(arrays, temporary, metadata=checked)


def save_model(
    model: Any,
    filename: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
    force_contiguous: bool = True,
) -> None:
    """Save `model`'s state dict to `filename`, keeping one name of each tensor shared by
    several (tied weights): the first in sorted order, the others recorded in the metadata as
    ``{dropped_name: kept_name}``, as safetensors.torch.save_model does, so that either
    library's load_model restores the sharing. `force_contiguous` is accepted for
    safetensors.torch's signature; minigrad's state dict is always contiguous host copies."""
    state = model.state_dict()
    entries = dict(metadata or {})
    for kept, *dropped in _tied_names(model):
        for name in dropped:
            entries.setdefault(name, kept)  # the caller's own entries win
            del state[name]
    save_file(state, filename, metadata=entries or None)


def _host_arrays(tensors: Any, caller: str) -> dict[str, numpy.ndarray]:
    """The host arrays of a name -> tensor mapping, checked as the format needs them."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"{caller}: expected a dict of name -> Tensor (e.g. model.state_dict()), got "
            f"{type(tensors).__name__}"
        )
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"{caller}: tensor names must be str, got {name!r}")
        array = value.data if isinstance(value, Tensor) else value
        if not backend.is_array(array):
            raise TypeError(
                f"{caller}: {name!r} is a {type(value).__name__}; a safetensors file holds "
                "Tensors and arrays only (minigrad.save keeps other values in its .npz format)"
            )
        if array.dtype not in DTYPES.values():
            raise TypeError(
                f"{caller}: {name!r} has dtype {array.dtype}, which safetensors cannot store "
                f"from NumPy; supported: {', '.join(str(dtype) for dtype in DTYPES.values())}"
            )
        if not array.flags.c_contiguous:
            raise ValueError(
                f"{caller}: {name!r} is not contiguous (shape {tuple(array.shape)}, strides "
                f"{array.strides}, e.g. a transposed view); safetensors stores packed bytes: "
                "pass tensor.clone(), which is packed"
            )
        arrays[name] = array
    _check_not_shared(arrays, caller)
    return {name: _on_host(array) for name, array in arrays.items()}


def _on_host(array: Any) -> numpy.ndarray:
    return array if isinstance(array, numpy.ndarray) else backend.to_numpy(array)


def _check_not_shared(arrays: dict[str, Any], caller: str) -> None:
    """Raise RuntimeError naming the tensors that share memory (views of one array)."""
    by_owner = defaultdict(list)
    for name, array in arrays.items():
        by_owner[id(_memory_owner(array))].append(name)
    shared = []
    for names in by_owner.values():
        overlapping = set()
        for index, name in enumerate(names):
            for other in names[index + 1 :]:
                if _overlap(arrays[name], arrays[other]):
                    overlapping |= {name, other}
        if overlapping:
            shared.append(sorted(overlapping))
    if shared:
        raise RuntimeError(f"{caller}: some tensors share memory: {shared}; {_SHARED_HELP}")


def _memory_owner(array: Any) -> Any:
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _overlap(first: Any, second: Any) -> bool:
    if isinstance(first, numpy.ndarray) and isinstance(second, numpy.ndarray):
        return bool(numpy.shares_memory(first, second))
    return True  # device views of one array: assume they overlap


def _checked_metadata(metadata: Any, caller: str) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(f"{caller}: metadata must be a dict of str -> str, got {metadata!r}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"{caller}: metadata must map str to str (the format stores text only), got "
                f"{key!r}: {value!r} ({type(value).__name__}); convert it with str() or json.dumps"
            )
    return dict(metadata)


def _tied_names(model: Any) -> list[list[str]]:
    """The state-dict names of each tensor that has several (tied weights), sorted."""
    groups = defaultdict(list)
    for name, tensor in model._state_tensors().items():
        groups[id(tensor.data)].append(name)
    return [sorted(names) for names in groups.values() if len(names) > 1]


# --- load ---------------------------------------------------------------------------------


def load(data: bytes, device: Any = "cpu") -> dict[str, Tensor]:
    """The tensors of safetensors bytes, as Tensors on `device` (see load_file)."""
    _check_header(_header_of_bytes(data, "the data"), "the data")
    arrays = _read(lambda: _package().numpy.load(bytes(data)), "the data")
    return _as_tensors(arrays, device)


def load_file(filename: str | os.PathLike, device: Any = "cpu") -> dict[str, Tensor]:
    """The tensors of a safetensors file (written by save_file or safetensors.torch), as
    Tensors on `device` ("cpu", "cuda:N", or an int N for "cuda:N"), in the file's order.

    A file that is not in the format raises minigrad.serialization.CheckpointError (a
    ValueError naming it); a tensor of a dtype NumPy does not have (BF16, the F8 types)
    raises TypeError naming the tensor and saying how to convert it in PyTorch."""
    path = os.fspath(filename)
    _check_header(_header_of_file(path), path)
    arrays = _read(lambda: _package().numpy.load_file(path), path)
    return _as_tensors(arrays, device)


def load_model(
    model: Any, filename: str | os.PathLike, strict: bool = True, device: Any = "cpu"
) -> tuple[list[str], list[str]]:
    """Load a file into `model` (the counterpart of save_model): the names a shared tensor
    was saved under fill all of its names. Returns (missing, unexpected) names; with `strict`,
    any of either raises RuntimeError, as safetensors.torch.load_model does."""
    state = load_file(filename, device=device)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing, unexpected = set(missing), list(unexpected)
    for names in _tied_names(model):
        saved = [name for name in names if name in state]
        kept = (saved or names)[0]
        for name in names:
            if name in saved and name != kept:
                unexpected.append(name)  # a second copy of one tensor, as torch's reports it
            elif name != kept:
                missing.discard(name)  # filled through the kept name
    if strict and (missing or unexpected):
        lines = [f"Error(s) in loading state_dict for {type(model).__name__}:"]
        if missing:
            lines.append("    Missing key(s) in state_dict: " + _quoted(sorted(missing)))
        if unexpected:
            lines.append("    Unexpected key(s) in state_dict: " + _quoted(sorted(unexpected)))
        raise RuntimeError("\n".join(lines))
    return sorted(missing), unexpected


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def is_safetensors_file(path: str | os.PathLike) -> bool:
    """Whether `path` starts as a safetensors file does (a header length and a JSON object)."""
    try:
        _header_of_file(os.fspath(path))
    except (CheckpointError, OSError):
        return False
    return True


def _header_of_file(path: str) -> dict:
    with open(path, "rb") as file:
        prefix = file.read(HEADER_LENGTH_BYTES)
        length = _header_length(prefix, os.fstat(file.fileno()).st_size, path)
        return _parse_header(file.read(length), path)


def _header_of_bytes(data: bytes, where: str) -> dict:
    length = _header_length(data[:HEADER_LENGTH_BYTES], len(data), where)
    return _parse_header(data[HEADER_LENGTH_BYTES : HEADER_LENGTH_BYTES + length], where)


def _header_length(prefix: bytes, total_bytes: int, where: str) -> int:
    if len(prefix) < HEADER_LENGTH_BYTES:
        raise CheckpointError(f"{where} is not a safetensors file: only {total_bytes} bytes")
    length = int.from_bytes(prefix, "little")
    if length > min(MAX_HEADER_BYTES, total_bytes - HEADER_LENGTH_BYTES):
        raise CheckpointError(
            f"{where} is not a safetensors file: its first 8 bytes give a header of {length} "
            f"bytes, but the file has {total_bytes}"
        )
    return length


def _parse_header(raw: bytes, where: str) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{where} is not a safetensors file: bad header ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where} is not a safetensors file: the header is not an object")
    return header


def _check_header(header: dict, where: str) -> None:
    """TypeError for the tensors of dtypes NumPy does not have, named with the fix."""
    foreign = {
        name: entry.get("dtype")
        for name, entry in header.items()
        if name != METADATA_KEY and isinstance(entry, dict) and entry.get("dtype") not in DTYPES
    }
    if foreign:
        listed = ", ".join(f"{name!r} ({dtype})" for name, dtype in foreign.items())
        raise TypeError(
            f"{where}: tensors {listed} have dtypes that NumPy, and so minigrad, cannot hold "
            f"(it holds {', '.join(DTYPES)}); convert them before saving, e.g. in PyTorch "
            "save_file({k: v.float() for k, v in state_dict.items()}, path) for BF16"
        )


def _read(read: Any, where: str) -> dict[str, numpy.ndarray]:
    package = _package()
    try:
        return read()
    except package.SafetensorError as error:
        raise CheckpointError(f"{where} is not a valid safetensors file: {error}") from None


def _as_tensors(arrays: dict[str, numpy.ndarray], device: Any) -> dict[str, Tensor]:
    if isinstance(device, int) and not isinstance(device, bool):
        device = f"cuda:{device}"
    device = backend.normalize_device(device)
    return {
        name: Tensor(backend.to_device(_writable(array), device)) for name, array in arrays.items()
    }


def _writable(array: numpy.ndarray) -> numpy.ndarray:
    return array if array.flags.writeable else array.copy()


def _package() -> ModuleType:
    """The safetensors package (with its numpy module), or an ImportError saying how to get it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as error:
        raise ImportError(
            f"minigrad.safetensors needs the safetensors package, which is not installed: "
            f"{_INSTALL}"
        ) from error
    return safetensors
