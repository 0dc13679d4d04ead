"""torch.backends.cudnn's flags, accepted so that scripts which set them run: minigrad does not
call cuDNN (its convolutions are im2col GEMMs on CuPy), so they change nothing. Its GPU results
are deterministic for a given seed whatever `deterministic` and `benchmark` say."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = False


def is_available() -> bool:
    """False: minigrad does not use cuDNN."""
    return False


def version() -> None:
    """None, as PyTorch's when cuDNN is not used."""
    return None
