"""torch.backends.mps's queries: minigrad has no Metal (Apple GPU) back end."""


def is_available() -> bool:
    """False: minigrad cannot run on an Apple GPU."""
    return False


def is_built() -> bool:
    """False: minigrad is never built with Metal support."""
    return False
