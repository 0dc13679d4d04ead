"""Conv2d: the 2-d convolution layer over (N, C, H, W) inputs with PyTorch's default init."""

from __future__ import annotations

import math

from minigrad import backend
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.conv import conv2d
from minigrad.ops.window import conv_pads, pair
from minigrad.tensor import Tensor, zeros


class Conv2d(Module):
    """y = conv2d(x, weight, bias, stride, padding) for x of shape (N, in_channels, H, W);
    weight (out_channels, in_channels, kh, kw), bias (out_channels,).

    Initialised as PyTorch does: kaiming_uniform_ with a = sqrt(5), which gives
    W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = in_channels * kh * kw."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        bias: bool = True,
        device: str | None = None,
        dtype=None,
    ) -> None:
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(
                f"Conv2d: channel counts must be positive, got in_channels={in_channels}, "
                f"out_channels={out_channels}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        conv_pads(padding, self.kernel_size, self.stride)  # rejects bad values now, as PyTorch
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", "Conv2d")
        dtype = dtype or backend.float32
        shape = (out_channels, in_channels, *self.kernel_size)
        self.weight = Parameter(zeros(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text
