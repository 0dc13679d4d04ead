"""Conv1d and Conv2d: the convolution layers over (N, C, L) and (N, C, H, W) inputs, with
stride, padding, dilation and groups and PyTorch's default init."""

from __future__ import annotations

import math
from collections.abc import Callable

from minigrad import backend
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.conv import conv1d, conv2d
from minigrad.ops.window import conv_pads, sizes
from minigrad.tensor import Tensor, zeros


class _ConvNd(Module):
    """What Conv1d and Conv2d share: y = conv(x, weight, bias, stride, padding, dilation,
    groups) with weight (out_channels, in_channels / groups, *kernel_size) and bias
    (out_channels,), each size a tuple with one entry per spatial axis.

    Initialised as PyTorch does: kaiming_uniform_ with a = sqrt(5), which gives
    W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = (in_channels / groups) * prod(kernel_size)."""

    dims: int  # the spatial axes: 1 or 2
    convolution: Callable[..., Tensor]  # conv1d or conv2d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        device: str | None = None,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(
                f"{name}: channel counts must be positive, got in_channels={in_channels}, "
                f"out_channels={out_channels}"
            )
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels and out_channels must be divisible by groups, got "
                f"in_channels={in_channels}, out_channels={out_channels}, groups={groups}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = sizes(kernel_size, self.dims, "kernel_size", name)
        self.stride = sizes(stride, self.dims, "stride", name)
        self.dilation = sizes(dilation, self.dims, "dilation", name)
        self.groups = groups
        # rejects bad values now, as PyTorch
        conv_pads(padding, self.kernel_size, self.stride, self.dilation, name)
        self.padding = (
            padding if isinstance(padding, str) else sizes(padding, self.dims, "padding", name)
        )
        dtype = dtype or backend.float32
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(zeros(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return self.convolution(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """y = conv1d(x, weight, bias, stride, padding, dilation, groups) for x of shape
    (N, in_channels, L); weight (out_channels, in_channels / groups, k), bias (out_channels,)."""

    dims = 1
    convolution = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """y = conv2d(x, weight, bias, stride, padding, dilation, groups) for x of shape
    (N, in_channels, H, W); weight (out_channels, in_channels / groups, kh, kw),
    bias (out_channels,)."""

    dims = 2
    convolution = staticmethod(conv2d)
