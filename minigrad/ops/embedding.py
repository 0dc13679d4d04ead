"""Ops for integer-indexed inputs: embedding (rows of a table picked by index, the gradient
scattered back), one_hot (the same pick as 0/1 vectors), and pad, constant padding of the
sequences and maps such models feed on (a shape op: it belongs with ops/shape.py).
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.arguments import check_like
from minigrad.autograd.engine import Function
from minigrad.tensor import Tensor, on_tensors_device

__all__ = ["embedding", "one_hot", "pad"]

INDEX_DTYPES = (backend.int64, backend.int32)


class Embedding(Function):
    """y[..., :] = weight[indices[...], :];  d weight = zeros with each dy row added at its
    index (scatter-add, so repeated indices accumulate), the padding_idx row left 0."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.padding_idx = weight.shape, padding_idx
        return backend.array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        grad_weight = backend.array_module(grad).zeros(ctx.shape, dtype=grad.dtype)
        backend.scatter_add(grad_weight, indices.reshape(-1), grad.reshape(-1, ctx.shape[1]))
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None


class Pad(Function):
    """y = x placed inside a tensor filled with `value`, each dim widened by (before, after)
    (a negative width crops);  dx = dy sliced back at x's place (0 where x was cropped)."""

    @staticmethod
    def forward(ctx, x, widths=(), value=0):
        xp = backend.array_module(x)
        out_shape = tuple(size + before + after for size, (before, after) in zip(x.shape, widths))
        kept = tuple(
            slice(max(-before, 0), size - max(-after, 0))
            for size, (before, after) in zip(x.shape, widths)
        )
        placed = tuple(
            slice(max(before, 0), max(before, 0) + part.stop - part.start)
            for part, (before, _) in zip(kept, widths)
        )
        out = xp.full(out_shape, value, dtype=x.dtype)
        out[placed] = x[kept]
        ctx.shape, ctx.kept, ctx.placed = x.shape, kept, placed
        ctx.cropped = any(before < 0 or after < 0 for before, after in widths)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad[ctx.placed]
        if ctx.cropped:
            full = backend.array_module(grad).zeros(ctx.shape, dtype=grad.dtype)
            full[ctx.kept] = grad_x
            grad_x = full
        return grad_x


# --- the functional API -------------------------------------------------------------------


def _check_range(op: str, values: Any, size: int, what: str, size_name: str) -> None:
    """Every value must lie in [0, size). On the CPU the bad ones are named at once; on a GPU
    the check is deferred to the next read from the device (backend.defer_check), so that a
    step never waits for the device just to check its indices."""
    if not values.size:
        return
    out_of_range = (values < 0).any() | (values >= size).any()
    valid = f"the valid range 0..{size - 1} for {size_name}={size}"
    if type(values) is not backend.HostArray:
        backend.defer_check(
            out_of_range,
            f"{op}: an {what} lay outside {valid}; on a GPU they are checked at the next read "
            "from the device",
        )
    elif out_of_range:
        bad = sorted({int(v) for v in values.ravel() if not 0 <= v < size})
        shown = ", ".join(str(v) for v in bad[:10]) + (", ..." if len(bad) > 10 else "")
        raise IndexError(f"{op}: got {what}(s) {shown}, outside {valid}")


def normalize_padding_idx(padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx as a row in [0, num_embeddings) (a negative one counts from the end, as in
    PyTorch), None staying None; ValueError for one outside the table."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"Padding_idx must be within num_embeddings: got padding_idx={padding_idx} for "
            f"num_embeddings={num_embeddings}"
        )
    return padding_idx % num_embeddings


@on_tensors_device
def embedding(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    weight: Tensor,
    padding_idx: int | None = None,
) -> Tensor:
    """The rows of weight (num_embeddings, embedding_dim) at the integer indices `input` (any
    shape; int64 or int32), giving shape (*input.shape, embedding_dim). The padding_idx row
    gets no gradient (its value is whatever weight holds: nn.Embedding zeroes it)."""
    if not isinstance(input, Tensor) or input.dtype not in INDEX_DTYPES:
        kind = f"dtype {input.dtype}" if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding: input must be a tensor of int64 or int32 indices, got {kind}")
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}"
        )
    check_like("embedding", "input", input, weight, like_name="weight", same_dtype=False)
    rows = weight.shape[0]
    padding_idx = normalize_padding_idx(padding_idx, rows)
    _check_range("embedding", input.data, rows, "index", "num_embeddings")
    return Embedding.apply(weight, input, padding_idx=padding_idx)


@on_tensors_device
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes), 1 at each value's class and 0
    elsewhere; num_classes=-1 takes max(tensor) + 1 (a read from the device). No gradient."""
    if not isinstance(tensor, Tensor) or tensor.dtype != backend.int64:
        kind = f"dtype {tensor.dtype}" if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: expected an index tensor of dtype int64, got {kind}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be -1 or >= 0, got {num_classes!r}")
    labels = tensor.data
    if num_classes == -1:
        if not labels.size:
            raise ValueError(
                "one_hot: cannot infer the number of classes from an empty tensor; pass num_classes"
            )
        num_classes = int(backend.item(labels.max())) + 1
    _check_range("one_hot", labels, num_classes, "class value", "num_classes")
    classes = backend.array_module(labels).arange(num_classes, dtype=labels.dtype)
    return Tensor((labels[..., None] == classes).astype(backend.int64))


@on_tensors_device
def pad(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    pad: tuple[int, ...] | list[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """Constant padding, as torch.nn.functional.pad: `pad` gives (before, after) pairs from the
    last dim backwards, (left, right, top, bottom, ...); a negative width crops. The new
    elements are `value` (None: 0). Only mode="constant" is implemented."""
    if mode != "constant":
        raise NotImplementedError(
            f"pad: mode {mode!r} is not implemented; minigrad pads with mode='constant' only"
        )
    widths_flat = tuple(pad)
    if not all(isinstance(width, int) and not isinstance(width, bool) for width in widths_flat):
        raise TypeError(f"pad: pad must be a sequence of ints, got {pad!r}")
    if len(widths_flat) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got pad={pad!r}")
    if len(widths_flat) > 2 * input.ndim:
        raise ValueError(
            f"pad: padding length should be at most twice the input's dims, got padding "
            f"length {len(widths_flat)} for input of shape {input.shape}"
        )
    pairs = list(zip(widths_flat[0::2], widths_flat[1::2]))  # last dim first
    widths = ((0, 0),) * (input.ndim - len(pairs)) + tuple(reversed(pairs))
    for dim, (size, (before, after)) in enumerate(zip(input.shape, widths)):
        if size + before + after < 0:
            raise ValueError(
                f"pad: dim {dim} of size {size} padded by ({before}, {after}) would have size "
                f"{size + before + after}"
            )
    return Pad.apply(input, widths=widths, value=0 if value is None else value)
