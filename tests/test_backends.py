"""minigrad.backends answers torch.backends' questions as a CPU/CuPy framework must."""

import minigrad.backends as backends


def test_mps_is_never_available():
    assert backends.mps.is_available() is False and backends.mps.is_built() is False


def test_cudnn_flags_are_settable_and_cudnn_is_not_used(monkeypatch):
    monkeypatch.setattr(backends.cudnn, "benchmark", True)
    monkeypatch.setattr(backends.cudnn, "deterministic", True)
    assert backends.cudnn.benchmark and backends.cudnn.deterministic
    assert backends.cudnn.is_available() is False and backends.cudnn.version() is None
