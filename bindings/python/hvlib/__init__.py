"""hvlib: drive KVM virtual machines from Python.

High level, a Linux micro-VM::

    import hvlib
    with hvlib.MicroVM(kernel="vmlinuz", initrd="initrd.cpio.gz", memory="256M", cpus=2) as vm:
        status = vm.run(timeout=60)
        print(status.reason, vm.text)

Low level, a VMM of your own: :class:`Vm` with guest memory as memoryviews
(``vm.memory``), Python port-I/O and MMIO handlers (``vm.pio``, ``vm.mmio``)
and vCPUs with registers and a run-one-exit loop (``vm.create_vcpu()``).

The package is pure Python over ``libhvlib.so`` (ctypes); it finds the library
through ``$HVLIB_LIBRARY``, pkg-config or the dynamic loader, on first use.
Failures raise :class:`HvError` subclasses carrying the C library's message.
"""

from __future__ import annotations

from ._abi import X86Regs, X86Sregs
from ._lib import Library, load_library, strerror
from ._util import format_size, parse_size
from .bus import Bus, IoHandler, Space, current_vcpu_index
from .errors import (AdmissionRefused, AlreadyExists, BadAddress, Busy, HvError, InvalidArgument, KvmUnavailable,
                     LibraryNotFound, LibraryVersionError, LoadError, NotFound, NotSupported,
                     OutOfMemory, Timeout)
from .ledger import Ledger, LedgerUsage
from .memory import Backing, GuestMemory, LinuxBoot, MemoryRegion, RegionFlags
from .microvm import Disk, MicroVM, Net, Status, StopReason
from .vcpu import Exit, ExitReason, Vcpu, long_mode_scratch_bytes
from .vm import Vm

__version__ = "0.1.0"


def library_version() -> str:
    """Version of the libhvlib.so actually loaded, e.g. ``"0.1.0"``."""
    return ".".join(map(str, load_library().version_tuple))


__all__ = [
    "MicroVM", "Disk", "Net", "Status", "StopReason",
    "Vm", "Vcpu", "Exit", "ExitReason", "long_mode_scratch_bytes", "X86Regs", "X86Sregs",
    "GuestMemory", "MemoryRegion", "Backing", "RegionFlags", "LinuxBoot",
    "Bus", "Space", "IoHandler", "current_vcpu_index",
    "HvError", "LibraryNotFound", "LibraryVersionError", "KvmUnavailable", "InvalidArgument",
    "LoadError", "Timeout", "BadAddress", "AlreadyExists", "NotFound", "Busy", "NotSupported",
    "OutOfMemory", "AdmissionRefused", "Ledger", "LedgerUsage",
    "Library", "load_library", "library_version", "strerror", "parse_size", "format_size",
]
