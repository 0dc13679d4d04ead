"""BatchNorm1d and BatchNorm2d: one shared base class around F.batch_norm, PyTorch's semantics.

Parameters weight (gamma) and bias (beta); buffers running_mean, running_var and
num_batches_tracked, so state_dict keys match PyTorch's ("1.running_mean", ...).
"""

from __future__ import annotations

from minigrad import backend
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.norm import batch_norm
from minigrad.tensor import Tensor, ones, tensor, zeros


class _BatchNorm(Module):
    """Normalizes each of `num_features` channels (dim 1) over the batch and every dim after
    the channels, then scales by weight and shifts by bias.

    Training: batch statistics; the running ones are updated in place,
    running = (1 - momentum) running + momentum batch (the unbiased batch variance for
    running_var), or with momentum=None a cumulative average (1 / num_batches_tracked).
    Eval: the running statistics. track_running_stats=False keeps no running statistics
    and uses batch statistics in both modes; affine=False has no weight and bias.
    """

    _input_dims: tuple[str, ...]  # the accepted input shapes, written with C for the channels

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: str | None = None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = dtype or backend.float32
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer(
                "num_batches_tracked", tensor(0, dtype=backend.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (in place)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """reset_running_stats(), weight = 1, bias = 0 (in place)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        training, running_mean = self.training, self.running_mean
        update_running = training and self.track_running_stats
        use_running = update_running or not training
        out = batch_norm(
            x,
            running_mean if use_running else None,
            self.running_var if use_running else None,
            self.weight,
            self.bias,
            training=training or running_mean is None,
            momentum=self._batch_momentum(update_running),
            eps=self.eps,
        )
        if update_running:  # counted once batch_norm has accepted the batch
            self._count_batch()
        return out

    def _batch_momentum(self, update_running: bool) -> float:
        """This batch's weight in the running statistics: momentum, or with momentum=None the
        cumulative average's 1 / (batches so far + 1)."""
        if update_running and self.momentum is None:
            return 1.0 / (int(self.num_batches_tracked.item()) + 1)
        return 0.0 if self.momentum is None else self.momentum

    def _count_batch(self) -> None:
        count = self.num_batches_tracked.data
        with backend.on_device_of(count):
            count += 1  # in place: the buffer's own array

    def _check_input(self, x: Tensor) -> None:
        expected = [dims for dims in self._input_dims if len(dims) == x.ndim]
        if not expected or x.shape[1] != self.num_features:
            channels = str(self.num_features)
            shapes = " or ".join(
                "(" + ", ".join(channels if dim == "C" else dim for dim in dims) + ")"
                for dims in self._input_dims
            )
            raise ValueError(
                f"{type(self).__name__}: expected input of shape {shapes}, got {x.shape}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per channel C."""

    _input_dims = (("N", "C"), ("N", "C", "L"))


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, per channel C over N, H and W."""

    _input_dims = (("N", "C", "H", "W"),)
