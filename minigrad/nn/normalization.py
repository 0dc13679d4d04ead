"""LayerNorm and GroupNorm: per-sample normalization layers around F.layer_norm and
F.group_norm, with PyTorch's arguments, parameters (weight, bias) and reprs. They keep no
running statistics, so they act the same in training and eval mode.
"""

from __future__ import annotations

from minigrad import backend
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.norm import group_norm, layer_norm
from minigrad.tensor import Tensor, ones, zeros


class _AffineNorm(Module):
    """What LayerNorm and GroupNorm share: weight = 1 and bias = 0 of one shape, or None."""

    def _register_affine(self, shape: tuple, weight: bool, bias: bool, dtype, device) -> None:
        dtype = dtype or backend.float32
        if weight:
            self.weight = Parameter(ones(shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if weight and bias:
            self.bias = Parameter(zeros(shape, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0 (in place)."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    """Normalizes each sample over its last len(normalized_shape) dims (mean and biased
    variance of those values), then scales by weight and shifts by bias (both of shape
    normalized_shape; elementwise_affine=False has neither, bias=False no bias)."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: str | None = None,
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._register_affine(self.normalized_shape, elementwise_affine, bias, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(_AffineNorm):
    """Splits the num_channels channels of (N, C, *) inputs into num_groups groups and
    normalizes each group of each sample over its channels and all later dims, then scales
    and shifts each channel by weight and bias of shape (C,) (affine=False has neither,
    bias=False no bias)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: str | None = None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups <= 0:
            raise ValueError(f"GroupNorm: num_groups must be a positive int, got {num_groups!r}")
        if num_channels % num_groups:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._register_affine((num_channels,), affine, bias, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
