"""The stand-in's cupy.cuda.runtime: the device count and the current device (as CUDA's
runtime API names them), and deviceSynchronize (logged as a sync)."""

from cupy import _array, _devices, _namespace, _transfers

CUDARuntimeError = _devices.CUDARuntimeError
is_hip = False
_MEMORY = 80 * 1024**3  # what each pretend GPU has


def getDeviceCount() -> int:
    return _devices.count()


def getDevice() -> int:
    return _devices.current()


def setDevice(device) -> None:
    _devices.set_current(device)


def deviceSynchronize() -> None:
    _transfers.note("sync", "runtime.deviceSynchronize", _devices.current())


def streamSynchronize(stream) -> None:
    _transfers.note("sync", "runtime.streamSynchronize", _devices.current())


def deviceCanAccessPeer(device, peerDevice) -> int:
    _devices.check(device), _devices.check(peerDevice)
    return 0  # the stand-in has no peer access: arrays of another device are refused


def memGetInfo() -> tuple:
    return _MEMORY - _array.live_bytes(_devices.current()), _MEMORY


def runtimeGetVersion() -> int:
    return 12080


def driverGetVersion() -> int:
    return 12080


def getDeviceProperties(device) -> dict:
    _devices.check(device)
    return {
        "name": b"minigrad stand-in GPU",
        "totalGlobalMem": _MEMORY,
        "major": 9,
        "minor": 0,
        "multiProcessorCount": 132,
    }


_namespace.install(globals(), "cupy.cuda.runtime")
