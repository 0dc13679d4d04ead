"""Embedding: a learnable table of vectors looked up by integer index (F.embedding)."""

from __future__ import annotations

from minigrad import backend
from minigrad.autograd.engine import no_grad
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.embedding import embedding, normalize_padding_idx
from minigrad.tensor import Tensor, zeros


class Embedding(Module):
    """y = weight[x] for integer indices x of any shape: (*) -> (*, embedding_dim), weight
    (num_embeddings, embedding_dim) initialised N(0, 1) as in PyTorch.

    padding_idx (negative counts from the end) names a row that starts at zero and gets no
    gradient, so it stays what it is (zero, unless it is written to) through training."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        device: str | None = None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = normalize_padding_idx(padding_idx, num_embeddings)
        shape = (num_embeddings, embedding_dim)
        self.weight = Parameter(zeros(shape, dtype=dtype or backend.float32, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), the padding_idx row zeroed (in place)."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, x: Tensor) -> Tensor:
        return embedding(x, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
