"""Pooling layers over (N, C, H, W) inputs: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d."""

from __future__ import annotations

from minigrad.nn.module import Module
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigrad.tensor import Tensor


class _Pool2d(Module):
    """What the windowed pools share: kernel_size, stride (kernel_size when None), padding and
    ceil_mode."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each kernel_size window (stride defaults to kernel_size, -inf padding);
    ceil_mode=True keeps the partial windows at the bottom and right, as in PyTorch. The
    arguments are PyTorch's, in its order; dilation and return_indices take only their
    defaults (1 and False): other values raise ValueError."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        if dilation not in (1, (1, 1)) or return_indices:
            raise ValueError(
                f"MaxPool2d: dilation={dilation!r} and return_indices={return_indices!r} are "
                "not supported; only dilation=1 and return_indices=False are"
            )
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = dilation
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size window (stride defaults to kernel_size); the zero padding
    counts in the mean unless count_include_pad=False; ceil_mode=True keeps the partial windows
    at the bottom and right, whose cells past the padding never count, as in PyTorch."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class AdaptiveAvgPool2d(Module):
    """Mean pooling to a fixed output_size (1 for the global average), any size as in PyTorch:
    output row p averages input rows floor(p H / out_h) to ceil((p + 1) H / out_h), exclusive
    (columns likewise), so windows may differ in size and overlap when out_h does not divide H."""

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
