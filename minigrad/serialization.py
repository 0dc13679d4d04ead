"""minigrad.save / minigrad.load: checkpoints as .npz archives, written atomically, never pickled;
a state dict can also go to a safetensors file that PyTorch opens (minigrad.safetensors).

A host-side I/O module, so it imports NumPy directly. The archive holds one .npy member per
array, named by its path in the saved object ("model/0.weight"), plus one member
"__minigrad__": UTF-8 JSON describing the whole object (dict key order and key types, lists,
Python scalars and strings, and which member each array is). Loading uses allow_pickle=False.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy

from minigrad import backend
from minigrad.fileio import atomic_path
from minigrad.tensor import Tensor

FORMAT_NAME = "minigrad-checkpoint"
FORMAT_VERSION = 1
METADATA_MEMBER = "__minigrad__"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SCALARS = (bool, int, float, str, type(None))
FORMATS = ("npz", "safetensors")
SAFETENSORS_SUFFIX = ".safetensors"


class CheckpointError(ValueError):
    """A file that cannot be read as a minigrad checkpoint (the message names the file)."""


# --- save ---------------------------------------------------------------------------------


def save(obj: Any, path: str | os.PathLike, format: str | None = None) -> None:
    """Write `obj` to `path` as an .npz checkpoint, atomically.

    `format` "safetensors" (the default for a path ending in ".safetensors") writes a flat
    dict of name -> Tensor or array, such as model.state_dict(), as a safetensors file that
    PyTorch reads with safetensors.torch.load_file (minigrad.safetensors.save_file; it needs
    the `safetensors` package); "npz" (the default otherwise) is minigrad's own format:

    obj is a state dict or any nesting of dicts (str or int keys), lists and tuples whose
    leaves are arrays, Tensors (stored on the host), NumPy scalars, Python numbers, strings,
    bools or None; e.g. {"model": model.state_dict(), "optimizer": opt.state_dict(),
    "step": 10}. The data goes to a temporary file in the same directory, which is flushed,
    fsynced and renamed over `path`: an error leaves any old file intact and no temporary file
    behind (a full disk or failed fsync raises minigrad.fileio.AtomicWriteError, an OSError
    naming `path`); a crash leaves the old file too, and the next save to `path` removes the
    temporary file it left."""
    if _chosen_format(format, path) == "safetensors":
        _save_safetensors(obj, path)
        return
    arrays: dict[str, numpy.ndarray] = {}
    tree = _encode(obj, "", arrays)
    metadata = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree}
    encoded = json.dumps(metadata, allow_nan=True).encode("utf-8")
    arrays[METADATA_MEMBER] = numpy.frombuffer(encoded, dtype=numpy.uint8)
    _write_atomically(os.fspath(path), arrays)


def _chosen_format(format: str | None, path: str | os.PathLike) -> str:
    if format is None:
        return "safetensors" if os.fspath(path).endswith(SAFETENSORS_SUFFIX) else "npz"
    if format not in FORMATS:
        raise ValueError(f"save: unknown format {format!r}; expected one of {FORMATS}")
    return format


def _save_safetensors(obj: Any, path: str | os.PathLike) -> None:
    from minigrad import safetensors

    if not isinstance(obj, Mapping) or not all(
        isinstance(value, Tensor) or backend.is_array(value) for value in obj.values()
    ):
        raise TypeError(
            "save: format 'safetensors' holds a flat dict of name -> Tensor or array (a "
            f"state_dict), got {_describe_top(obj)}; save nested checkpoints (optimizer "
            "state, step counts) with format='npz'"
        )
    safetensors.save_file(obj, path)


def _describe_top(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return f"a {type(obj).__name__}"
    name, value = next(
        (name, value)
        for name, value in obj.items()
        if not (isinstance(value, Tensor) or backend.is_array(value))
    )
    return f"a dict whose {name!r} is of type {type(value).__name__}"


def _encode(value: Any, path: str, arrays: dict) -> Any:
    """A JSON node for `value`; arrays are moved into `arrays` under a unique member name."""
    if isinstance(value, Tensor):
        return {"tensor": _store(value.data, path, arrays)}
    if backend.is_array(value) or isinstance(value, numpy.generic):
        kind = "scalar" if isinstance(value, numpy.generic) else "array"
        return {kind: _store(value, path, arrays)}
    if isinstance(value, _SCALARS):
        return {"value": value}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(
                    f"save: dict keys must be str or int, got {key!r} "
                    f"({type(key).__name__}) at {_where(path)}"
                )
            items.append([key, _encode(item, _join(path, key), arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(item, _join(path, i), arrays) for i, item in enumerate(value)]}
    hint = "; save its state_dict() instead" if hasattr(value, "state_dict") else ""
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at {_where(path)}; "
        "checkpoints hold arrays, Tensors, dicts, lists and Python scalars/strings" + hint
    )


def _where(path: str) -> str:
    return repr(path) if path else "the top level"


def _join(path: str, key: Any) -> str:
    return f"{path}/{key}" if path else str(key)


def _store(array: Any, path: str, arrays: dict) -> str:
    host = numpy.asarray(backend.to_numpy(array) if backend.is_array(array) else array)
    if host.dtype.kind in "OV":
        raise TypeError(f"save: array at {path!r} has dtype {host.dtype}, which needs pickling")
    name = path or "array"
    if name in arrays or name == METADATA_MEMBER:
        suffix = 1
        while f"{name}~{suffix}" in arrays:
            suffix += 1
        name = f"{name}~{suffix}"
    arrays[name] = host
    return name


def _write_atomically(path: str, arrays: dict) -> None:
    payload_bytes = sum(array.nbytes for array in arrays.values())  # plus small headers
    with atomic_path(path, payload_bytes) as temporary, open(temporary, "xb") as file:
        numpy.savez(file, **arrays)


# --- load ---------------------------------------------------------------------------------


def load(path: str | os.PathLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read a checkpoint written by save(): dicts, lists and scalars come back as they were,
    arrays as NumPy arrays and Tensors as Tensors on `map_location` (a device name, "cpu" by
    default; load_state_dict copies onto the model's device anyway).

    A safetensors file (from minigrad.save(..., format="safetensors") or PyTorch's
    safetensors.torch.save_file) is read too: its dict of name -> Tensor on `map_location`
    (minigrad.safetensors.load_file; it needs the `safetensors` package).

    As torch.load's: `weights_only` is accepted, and nothing is ever unpickled whatever it is
    (a checkpoint holds arrays and JSON only)."""
    if map_location is not None and not isinstance(map_location, str):
        raise TypeError(
            f"load: map_location must be a device name such as 'cpu' or 'cuda:0', got "
            f"{type(map_location).__name__} (functions and dicts are not supported)"
        )
    device = backend.normalize_device(map_location or "cpu")
    path = os.fspath(path)
    with open(path, "rb") as file:
        is_zip = file.read(4) in _ZIP_MAGIC
    if not is_zip:
        from minigrad import safetensors

        if safetensors.is_safetensors_file(path):
            return safetensors.load_file(path, device=device)
        raise CheckpointError(
            f"{path} is not a minigrad checkpoint: neither an .npz (zip) archive nor a "
            "safetensors file"
        )
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            if METADATA_MEMBER not in archive.files:
                raise CheckpointError(
                    f"{path} is not a minigrad checkpoint: the .npz has no {METADATA_MEMBER!r} "
                    "member (was it written by numpy.savez rather than minigrad.save?)"
                )
            metadata = _read_metadata(archive[METADATA_MEMBER], path)
            return _decode(metadata["tree"], archive, path, device)
    except CheckpointError:
        raise
    except Exception as exc:  # zipfile, NumPy header and JSON errors all mean a damaged file
        raise CheckpointError(
            f"{path} is not a minigrad checkpoint: {type(exc).__name__}: {exc}"
        ) from exc


def _read_metadata(raw: numpy.ndarray, path: str) -> dict:
    metadata = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path} is not a minigrad checkpoint: unknown metadata format")
    if metadata.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} is not a minigrad checkpoint this version can read: format version "
            f"{metadata.get('version')!r}, expected {FORMAT_VERSION}"
        )
    return metadata


def _decode(node: dict, archive: Any, path: str, device: str) -> Any:
    (kind, payload), *rest = node.items()
    if rest:
        raise CheckpointError(f"{path} is not a minigrad checkpoint: malformed node {node!r}")
    if kind == "value":
        return payload
    if kind == "dict":
        return {key: _decode(item, archive, path, device) for key, item in payload}
    if kind in ("list", "tuple"):
        items = [_decode(item, archive, path, device) for item in payload]
        return items if kind == "list" else tuple(items)
    if kind in ("array", "tensor", "scalar"):
        if payload not in archive.files:
            raise CheckpointError(
                f"{path} is not a minigrad checkpoint: array member {payload!r} is missing"
            )
        array = archive[payload]
        if kind == "tensor":
            return Tensor(backend.to_device(array, device))
        return array[()] if kind == "scalar" else array
    raise CheckpointError(f"{path} is not a minigrad checkpoint: unknown node kind {kind!r}")
