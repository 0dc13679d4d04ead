"""The stand-in's cupy.cuda: Device (the current device, `with Device(i):` and `.use()`),
Stream and Event (their synchronize() logged as syncs), the memory pools and the runtime."""

import itertools as _itertools
import threading as _threading

from cupy import _array, _devices, _namespace, _transfers
from cupy.cuda import runtime

_local = _threading.local()  # per host thread: the devices left by `with`, the streams in use
_stream_ptrs = _itertools.count(0x1000)


def _thread_state():
    if not hasattr(_local, "device_stack"):
        _local.device_stack = []
        _local.streams = {}  # device id -> the stack of streams made current there
    return _local


class Device:
    """A CUDA device; `with Device(i):` makes it current for the block."""

    def __init__(self, device=None):
        self.id = _devices.current() if device is None else int(device)

    def __int__(self) -> int:
        return self.id

    def __enter__(self):
        previous = _devices.current()
        _devices.set_current(self.id)  # CUDA's error for a device that does not exist
        _thread_state().device_stack.append(previous)
        return self

    def __exit__(self, *args) -> None:
        _devices.set_current(_thread_state().device_stack.pop())

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"

    def use(self):
        _devices.set_current(self.id)
        return self

    def synchronize(self) -> None:
        _devices.check(self.id)
        _transfers.note("sync", "Device.synchronize", self.id)

    @property
    def compute_capability(self) -> str:
        _devices.check(self.id)
        return "90"

    @property
    def mem_info(self) -> tuple:
        return runtime.memGetInfo()

    def __eq__(self, other):
        return isinstance(other, Device) and self.id == other.id

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self.id < other.id if isinstance(other, Device) else NotImplemented

    def __le__(self, other):
        return self.id <= other.id if isinstance(other, Device) else NotImplemented

    def __gt__(self, other):
        return self.id > other.id if isinstance(other, Device) else NotImplemented

    def __ge__(self, other):
        return self.id >= other.id if isinstance(other, Device) else NotImplemented

    __hash__ = None


def get_device_id() -> int:
    return _devices.current()


def is_available() -> bool:
    return _devices.count() > 0


def _check_stream_device(device_id: int) -> int:
    current = _devices.current()
    if device_id not in (-1, current):
        raise RuntimeError(
            f"The device that the stream is created on ({device_id}) does not match with the "
            f"current device ({current})"
        )
    return current


class Stream:
    """A CUDA stream. Work on the stand-in finishes at once; synchronize() is logged."""

    null = None
    ptds = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        if null:
            self.ptr, self.device_id = 0, -1
        elif ptds:
            self.ptr, self.device_id = 2, -1  # cudaStreamPerThread
        else:
            self.ptr, self.device_id = next(_stream_ptrs), _devices.current()
        self.is_non_blocking = bool(non_blocking)
        self.priority = priority or 0

    def __eq__(self, other):
        return isinstance(other, Stream) and self.ptr == other.ptr

    def __hash__(self) -> int:
        return self.ptr

    def __repr__(self) -> str:
        return f"<Stream {self.ptr} (device {self.device_id})>"

    def __enter__(self):
        device = _check_stream_device(self.device_id)
        _thread_state().streams.setdefault(device, []).append(self)
        return self

    def __exit__(self, *args) -> None:
        device = self.device_id if self.device_id != -1 else _devices.current()
        _thread_state().streams[device].pop()

    def use(self):
        device = _check_stream_device(self.device_id)
        stack = _thread_state().streams.setdefault(device, [])
        stack[-1:] = [self]
        return self

    @property
    def done(self) -> bool:
        return True

    def synchronize(self) -> None:
        device = self.device_id if self.device_id != -1 else _devices.current()
        _transfers.note("sync", "Stream.synchronize", device)

    def record(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event) -> None:
        pass


Stream.null = Stream(null=True)
Stream.ptds = Stream(ptds=True)


def get_current_stream(device_id=-1) -> Stream:
    device = _devices.current() if device_id == -1 else _devices.check(device_id)
    stack = _thread_state().streams.get(device)
    return stack[-1] if stack else Stream.null


class Event:
    """A CUDA event; synchronize() is logged as a sync."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        if interprocess and not disable_timing:
            raise ValueError("Timing must be disabled for interprocess events")
        self.ptr = next(_stream_ptrs)
        self._device = _devices.current()

    @property
    def done(self) -> bool:
        return True

    def record(self, stream=None) -> None:
        self._device = _devices.current()

    def synchronize(self) -> None:
        _transfers.note("sync", "Event.synchronize", self._device)


def get_elapsed_time(start_event, end_event) -> float:
    end_event.synchronize()
    return 0.0


class MemoryPool:
    """The device memory pool: used_bytes() counts the live arrays of the current device (the
    stand-in caches nothing, so total_bytes() is the same and freeing has nothing to do)."""

    def __init__(self, allocator=None):
        self._limits = {}

    def used_bytes(self) -> int:
        return _array.live_bytes(_devices.current())

    def total_bytes(self) -> int:
        return self.used_bytes()

    def free_bytes(self) -> int:
        return 0

    def n_free_blocks(self) -> int:
        return 0

    def free_all_blocks(self, stream=None) -> None:
        pass

    def free_all_free(self) -> None:
        pass

    def set_limit(self, size=None, fraction=None) -> None:
        if size is not None and fraction is not None:
            raise ValueError("size and fraction cannot be specified at one time")
        self._limits[_devices.current()] = size or 0

    def get_limit(self) -> int:
        return self._limits.get(_devices.current(), 0)


class PinnedMemoryPool:
    """The pinned host memory pool (nothing is pinned on the stand-in)."""

    def __init__(self, allocator=None):
        pass

    def free_all_blocks(self) -> None:
        pass

    def n_free_blocks(self) -> int:
        return 0


MemoryPointer = _array.MemoryPointer
_default_memory_pool = MemoryPool()
_default_pinned_memory_pool = PinnedMemoryPool()

_namespace.install(globals(), "cupy.cuda")
