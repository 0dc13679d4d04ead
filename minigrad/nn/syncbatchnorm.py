"""SyncBatchNorm: batch norm whose training statistics are those of the global batch of every
rank of a process group (PyTorch's torch.nn.SyncBatchNorm), and convert_sync_batchnorm."""

from __future__ import annotations

from typing import Any

from minigrad.distributed import process_group as distributed
from minigrad.nn.batchnorm import _BatchNorm
from minigrad.nn.module import Module
from minigrad.ops.norm import sync_batch_norm
from minigrad.tensor import Tensor


class SyncBatchNorm(_BatchNorm):
    """Batch normalization of (N, C, *) inputs, per channel C, whose training statistics are
    those of the union of every rank's batch (minigrad.ops.norm.SyncBatchNorm has the math):
    each forward in training mode makes two all_reduce calls of C + 1 and C float64 values,
    each backward one of 2C values. The running statistics are updated with the global mean
    and the variance made unbiased over the global count, so they stay the same on every rank.

    Without an initialized process group (and `process_group` None) it is BatchNorm; in eval
    mode it normalizes with the running statistics, with no communication. Parameters,
    buffers and state_dict keys are BatchNorm's, so a checkpoint loads into either.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: str | None = None,
        dtype=None,
    ) -> None:
        super().__init__(
            num_features,
            eps=eps,
            momentum=momentum,
            affine=affine,
            track_running_stats=track_running_stats,
            device=device,
            dtype=dtype,
        )
        self.process_group = process_group

    def forward(self, x: Tensor) -> Tensor:
        group = self._group()
        if group is None or not self.training:
            return super().forward(x)
        self._check_input(x)
        momentum = self._batch_momentum(self.track_running_stats)
        stats = (self.running_mean, self.running_var)
        out = sync_batch_norm(x, *stats, self.weight, self.bias, momentum, self.eps, group)
        if self.track_running_stats:  # counted once the op has accepted the batch
            self._count_batch()
        return out

    def _group(self) -> Any:
        """The communicator to synchronize over, or None to run as BatchNorm."""
        if self.process_group is not None:
            return self.process_group
        return distributed.group_of(None) if distributed.is_initialized() else None

    def _check_input(self, x: Tensor) -> None:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: expected input of shape (N, {self.num_features}, *), got {x.shape}"
            )

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """`module` with every BatchNorm1d/BatchNorm2d in it replaced by a SyncBatchNorm that
        takes over its options, parameters, buffers, mode and requires_grad (the same Tensor
        objects, so an optimizer made earlier keeps working); `module` itself is returned
        unless it is such a layer. As torch.nn.SyncBatchNorm.convert_sync_batchnorm."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            return cls._from_batchnorm(module, process_group)
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, process_group)
            if converted is not child:
                setattr(module, name, converted)
        return module

    @classmethod
    def _from_batchnorm(cls, layer: _BatchNorm, process_group: Any) -> SyncBatchNorm:
        synced = cls(
            layer.num_features,
            eps=layer.eps,
            momentum=layer.momentum,
            affine=layer.affine,
            track_running_stats=layer.track_running_stats,
            process_group=process_group,
        )
        for name in ("weight", "bias"):
            setattr(synced, name, getattr(layer, name))
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            setattr(synced, name, getattr(layer, name))
        synced.train(layer.training)
        return synced
