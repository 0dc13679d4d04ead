"""minigrad.backends, as torch.backends, for scripts that ask about them: ``mps`` (Apple GPUs,
which minigrad does not drive) and ``cudnn`` (its flags are accepted; minigrad's convolutions
are its own im2col GEMMs, not cuDNN's). Not to be confused with minigrad.backend, the arrays."""

from minigrad.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
