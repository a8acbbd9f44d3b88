"""Port-I/O and MMIO dispatch to Python callbacks (``struct hv_bus``).

A handler is any callable ``fn(offset, width, is_write, value) -> int | None``:
``offset`` from the start of its range, ``width`` in bytes (1, 2, 4, 8),
``value`` the data of a write (0 for a read).  For a read, return the value the
guest sees (None means 0; it is truncated to ``width``); for a write the
return value is ignored.

Handlers run on the thread of the vCPU that made the access: the thread calling
``vcpu.run()``, or a vCPU thread hvlib created.  They run with the GIL held,
so keep them short.  If a handler raises, the access is treated as unclaimed
(reads see all-ones) and:

* under ``vcpu.run()`` / ``run_once()`` on a Python thread, the vCPU is kicked
  and the exception is re-raised from that call (likewise ``bus.dispatch()``);
* on a vCPU thread hvlib manages, it is logged to the ``"hvlib"`` logger.

A handler must not add or remove handlers on its own bus (the C library would
deadlock; the bindings raise :class:`~hvlib.Busy` instead).
"""

from __future__ import annotations

import ctypes as C
import enum
import errno
import threading
from typing import Any, Callable, Dict, List, Optional

from . import _abi as A
from ._lib import lib
from ._util import CallbackErrors, Handle, callback_failed, in_callback, thread_state, track, untrack
from .errors import Busy

#: fn(offset, width, is_write, value) -> value read (reads) or None
IoFn = Callable[[int, int, bool, int], Optional[int]]


def current_vcpu_index() -> Optional[int]:
    """Inside a port-I/O or MMIO handler called from a vCPU's run loop: the
    index of the vCPU whose access it is; ``None`` anywhere else (e.g. under
    :meth:`Bus.dispatch`).  ``hv_bus_current_vcpu()`` in ``hvlib/bus.h``."""
    L = lib()
    vcpu = L.cdll.hv_bus_current_vcpu()
    return None if not vcpu else int(L.cdll.hv_vcpu_index(vcpu))


class Space(enum.IntEnum):
    """Address space of a bus (``enum hv_bus_space``)."""

    PIO = A.HV_BUS_PIO
    MMIO = A.HV_BUS_MMIO


def _active_buses() -> List[int]:
    st = thread_state()
    buses = getattr(st, "buses", None)
    if buses is None:
        buses = st.buses = []
    return buses


class IoHandler:
    """A registered range: ``base``, ``length``, ``name``, ``space``, ``fn``.
    ``remove()`` unregisters it; once it returns, ``fn`` is not running and
    will not be called again."""

    def __init__(self, bus: "Bus", base: int, length: int, fn: IoFn, name: str) -> None:
        self.bus = bus
        self.base = base
        self.length = length
        self.fn = fn
        self.name = name
        self.space = bus.space
        self.handle: Optional[int] = None
        self._c_fn = A.IO_FN(self._trampoline)  # kept alive while registered

    def __repr__(self) -> str:
        return (f"<IoHandler {self.name!r} {self.space.name} "
                f"[{self.base:#x}, {self.base + self.length:#x})>")

    def _trampoline(self, opaque: Any, offset: int, width: int, is_write: bool,
                    value: Any) -> int:
        buses = _active_buses()
        buses.append(self.bus._handle)
        try:
            with in_callback():
                result = self.fn(offset, width, bool(is_write), value[0] if is_write else 0)
                if not is_write:
                    value[0] = (result or 0) & ((1 << (8 * width)) - 1)
            return 0
        except BaseException as e:  # noqa: BLE001 - must not unwind into C
            callback_failed(e, f"I/O handler {self.name!r} ({self.space.name} "
                              f"{self.base + offset:#x}, {width} bytes, "
                               f"{'write' if is_write else 'read'}); the access is "
                               "treated as unclaimed")
            return -errno.EIO
        finally:
            buses.pop()

    def remove(self) -> None:
        """Unregister (idempotent)."""
        self.bus.unregister(self)


class Bus(Handle):
    """An I/O bus.  ``Bus(Space.PIO)`` creates a standalone bus (no KVM needed,
    for device tests with :meth:`dispatch`); a VM's buses are ``vm.pio`` and
    ``vm.mmio``."""

    def __init__(self, space: Space = Space.PIO) -> None:
        handle = C.c_void_p()
        lib().call("hv_bus_create", int(space), C.byref(handle))
        self._init(handle.value, Space(space), owner=None)
        track(self)

    @classmethod
    def _borrowed(cls, handle: int, space: Space, owner: Any) -> "Bus":
        self = cls.__new__(cls)
        self._init(handle, space, owner)
        return self

    def _init(self, handle: Optional[int], space: Space, owner: Any) -> None:
        self._handle = handle
        self.space = space
        self._owner = owner
        self._handlers: Dict[int, IoHandler] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Bus {self.space.name} {len(self._handlers)} handlers>"


    def close(self) -> None:
        """Destroy a standalone bus (idempotent); a VM's buses die with the VM."""
        if self._owner is not None:
            return
        self._check_not_inside()
        handle, self._handle = self._handle, None
        if handle:
            lib().hv_bus_destroy(handle)
            untrack(self)
        self._handlers.clear()

    def _vm_closed(self) -> None:
        self._handle = None
        self._handlers.clear()

    def _check_open(self) -> int:
        h = self._handle
        if h is None:
            raise ValueError("bus is closed")
        return h

    def _check_not_inside(self) -> None:
        if self._handle is not None and self._handle in _active_buses():
            raise Busy(errno.EDEADLK, "an I/O handler must not change or close its own bus",
                       "Bus")

    @property
    def handlers(self) -> List[IoHandler]:
        with self._lock:
            return list(self._handlers.values())

    def register(self, base: int, length: int, fn: IoFn,
                 name: Optional[str] = None) -> IoHandler:
        """Claim ``[base, base + length)`` for ``fn`` (see the module doc).
        Raises :class:`AlreadyExists` (overlap, the message names the other
        range), :class:`InvalidArgument` (zero length, beyond 0xffff on PIO)."""
        h = self._check_open()
        self._check_not_inside()
        if not callable(fn):
            raise TypeError(f"I/O handler must be callable, not {type(fn).__name__}")
        name = name or getattr(fn, "__name__", None) or "python-handler"
        handler = IoHandler(self, base, length, fn, name)
        out = A.u32()
        lib().call("hv_bus_register", h, base, length, handler._c_fn, None,
                   name.encode("utf-8", "replace"), C.byref(out))
        handler.handle = out.value
        with self._lock:
            self._handlers[out.value] = handler
        return handler

    def unregister(self, handler: IoHandler) -> None:
        """Remove a handler (idempotent once removed)."""
        if handler.handle is None or self._handle is None:
            return
        self._check_not_inside()
        lib().call("hv_bus_unregister", self._handle, handler.handle)
        with self._lock:
            self._handlers.pop(handler.handle, None)
        handler.handle = None

    def dispatch(self, addr: int, width: int, is_write: bool, value: int = 0) -> int:
        """Deliver one access as a vCPU would; returns the value read (or
        ``value`` for a write).  :class:`NotFound` if no range claims it; an
        exception the handler raises propagates."""
        h = self._check_open()
        v = A.u64(value)
        L = lib()
        with CallbackErrors() as errors:
            ret = L.hv_bus_dispatch(h, addr, width, is_write, C.byref(v))
        errors.reraise()
        L.check("hv_bus_dispatch", ret)
        return v.value


__all__ = ["Space", "IoFn", "IoHandler", "Bus"]
