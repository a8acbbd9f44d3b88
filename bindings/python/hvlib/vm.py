"""A KVM virtual machine (``struct hv_vm``): the low-level building block.

::

    with hvlib.Vm() as vm:
        ram = vm.memory.add_region(0, "512K")
        vm.pio.register(0x10, 1, lambda off, width, write, value: print(chr(value)))
        vcpu = vm.create_vcpu()
        ram.buffer[0x1000:0x1000 + len(code)] = code
        vcpu.setup_real_mode(0, 0x1000)
        print(vcpu.run())          # Exit(reason=HLT, ...)

Each VM opens its own ``/dev/kvm`` descriptor; VMs share nothing and may run
side by side on different threads.
"""

from __future__ import annotations

import ctypes as C
import errno
import logging
import threading
from typing import Any, Dict, List, Optional

from . import _abi as A
from ._lib import bytes_or_none, lib
from ._util import Handle, StrPath, callback_depth, callback_failed, track, untrack
from .bus import Bus, Space
from .errors import Busy, InvalidArgument
from .ledger import Ledger
from .memory import GuestMemory
from .vcpu import Vcpu

_UNCLAIMED = {"ignore": A.HV_UNCLAIMED_IGNORE, "log": A.HV_UNCLAIMED_LOG,
              "fail": A.HV_UNCLAIMED_FAIL}
_PY_LEVELS = {A.HV_LOG_ERROR: logging.ERROR, A.HV_LOG_WARN: logging.WARNING,
              A.HV_LOG_INFO: logging.INFO, A.HV_LOG_DEBUG: logging.DEBUG}
_C_LEVELS = {"error": A.HV_LOG_ERROR, "warn": A.HV_LOG_WARN, "warning": A.HV_LOG_WARN,
             "info": A.HV_LOG_INFO, "debug": A.HV_LOG_DEBUG}


def make_log_fn(logger: logging.Logger) -> Any:
    """A C log callback forwarding the library's diagnostics to ``logger``
    (runs on vCPU threads; the caller keeps the returned object alive)."""

    def log_fn(opaque: Any, level: int, msg: Optional[bytes]) -> None:
        try:
            logger.log(_PY_LEVELS.get(level, logging.DEBUG), "%s",
                       (msg or b"").decode("utf-8", "replace"))
        except BaseException as e:  # noqa: BLE001 - must not unwind into C
            callback_failed(e, "hvlib log handler")

    return A.LOG_FN(log_fn)


def log_level(value: str) -> int:
    """``"error"``, ``"warn"``, ``"info"`` or ``"debug"`` as ``enum hv_log_level``."""
    try:
        return _C_LEVELS[value]
    except KeyError:
        raise InvalidArgument(message=f"log level {value!r}: expected one of "
                                      f"{', '.join(_C_LEVELS)}", function="log_level") from None


def _not_in_callback(what: str) -> None:
    # Destroying joins vCPU threads: from a handler on one it would join itself.
    if callback_depth():
        raise Busy(errno.EDEADLK, f"{what} from an I/O handler or exit callback would "
                                  "deadlock; stop the vCPU and close from another thread", what)


class Vm(Handle):
    """A KVM VM with its guest memory (``vm.memory``), I/O buses (``vm.pio``,
    ``vm.mmio``) and vCPUs (``vm.create_vcpu()``).

    ``irqchip``: in-kernel interrupt controllers (x86: PIC, IOAPIC, LAPIC,
    PIT).  ``unclaimed``: what an access no handler claims does, ``"ignore"``
    (reads see all-ones), ``"log"``, or ``"fail"`` (``run()`` returns it).
    ``log``: ``"error"`` ... ``"debug"``, delivered to the ``hvlib`` logger.
    Raises :class:`~hvlib.KvmUnavailable` with the library's explanation if
    KVM cannot be used.
    """

    def __init__(self, *, irqchip: bool = False, unclaimed: str = "ignore",
                 log: str = "warn", kvm_path: Optional[StrPath] = None,
                 ledger: Optional["Ledger"] = None) -> None:
        if unclaimed not in _UNCLAIMED:
            raise InvalidArgument(message=f"unclaimed={unclaimed!r}: expected 'ignore', 'log' "
                                          "or 'fail'", function="Vm")
        L = lib()
        cfg = A.alloc(A.VmConfig)
        L.hv_vm_config_init(C.byref(cfg))
        cfg.flags = A.HV_VM_F_IRQCHIP if irqchip else 0
        self._kvm_path = bytes_or_none(kvm_path)
        cfg.kvm_path = self._kvm_path
        self._log_fn = make_log_fn(logging.getLogger("hvlib.vm"))
        cfg.log_fn = self._log_fn
        cfg.log_level = log_level(log)
        cfg.unclaimed_io = _UNCLAIMED[unclaimed]
        if ledger is not None:
            cfg.ledger = ledger.handle
        handle = C.c_void_p()
        L.call("hv_vm_create", C.byref(cfg), C.byref(handle))
        self._init(handle.value, owner=None)
        self._ledger = ledger  # it must outlive the VM
        track(self)

    @classmethod
    def _borrowed(cls, handle: int, owner: Any) -> "Vm":
        """The VM inside a micro-VM: it dies with its owner."""
        self = cls.__new__(cls)
        self._init(handle, owner)
        return self

    def _init(self, handle: Optional[int], owner: Any) -> None:
        self._handle = handle
        self._owner = owner
        self._vcpus: Dict[int, Vcpu] = {}
        self._lock = threading.Lock()
        self.memory = GuestMemory._borrowed(lib().hv_vm_mem(handle), self)
        self.pio = Bus._borrowed(lib().hv_vm_bus(handle, int(Space.PIO)), Space.PIO, self)
        self.mmio = Bus._borrowed(lib().hv_vm_bus(handle, int(Space.MMIO)), Space.MMIO, self)

    def __repr__(self) -> str:
        return f"<Vm {'closed' if self._handle is None else f'{len(self._vcpus)} vCPUs'}>"


    def _h(self) -> int:
        if self._handle is None:
            raise ValueError("VM is closed")
        return self._handle

    def close(self) -> None:
        """Destroy the vCPUs, then the VM with its memory and buses
        (idempotent).  A micro-VM's VM closes with the micro-VM."""
        if self._owner is not None:
            return
        _not_in_callback("Vm.close")
        with self._lock:
            handle, self._handle = self._handle, None
            vcpus, self._vcpus = list(self._vcpus.values()), {}
        if not handle:
            return
        for v in vcpus:
            v.close()
        lib().hv_vm_destroy(handle)
        # Only now may Python's own mappings behind guest RAM go.
        self._closed_by_owner()
        untrack(self)

    def _closed_by_owner(self) -> None:
        self._handle = None
        self.memory._vm_closed()
        self.pio._vm_closed()
        self.mmio._vm_closed()

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def fd(self) -> int:
        """The raw KVM VM descriptor (owned by hvlib: do not close)."""
        return lib().hv_vm_fd(self._h())

    @property
    def vcpus(self) -> List[Vcpu]:
        with self._lock:
            return [self._vcpus[i] for i in sorted(self._vcpus)]

    def create_vcpu(self, index: Optional[int] = None) -> Vcpu:
        """Create vCPU ``index`` (default: the next free one).
        :class:`~hvlib.AlreadyExists` if that index was used before."""
        h = self._h()
        with self._lock:
            if index is None:
                index = max(self._vcpus, default=-1) + 1
            out = C.c_void_p()
            lib().call("hv_vcpu_create", h, index, C.byref(out))
            vcpu = Vcpu(self, out.value)  # type: ignore[arg-type]
            self._vcpus[index] = vcpu
        return vcpu

    def _borrow_vcpu(self, handle: int) -> Vcpu:
        with self._lock:
            vcpu = Vcpu(self, handle, borrowed=True)
            return self._vcpus.setdefault(vcpu.index, vcpu)

    def irq_line(self, irq: int, level: bool) -> None:
        """Assert (True) or deassert an interrupt line of the in-kernel irqchip."""
        lib().call("hv_vm_irq_line", self._h(), irq, 1 if level else 0)

    def check_extension(self, cap: int) -> int:
        """KVM_CHECK_EXTENSION on the VM: the capability's value (0: absent)."""
        return lib().call("hv_vm_check_extension", self._h(), cap)


__all__ = ["Vm"]
