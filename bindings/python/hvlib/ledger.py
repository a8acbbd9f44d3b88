"""Admission control: a host resource ledger shared by VMs (``hvlib/ledger.h``).

::

    ledger = hvlib.Ledger(memory="4G", cpus=2, memory_overcommit=1.5, cpu_overcommit=4)
    vm = hvlib.MicroVM(kernel="vmlinuz", memory="1G", cpus=2, ledger=ledger)
    # a VM beyond the policy raises hvlib.AdmissionRefused ("admission: 512 MiB
    # of guest memory asked, 300 MiB left of 4096 MiB x1.50 overcommit")
"""

from __future__ import annotations

import ctypes as C
from dataclasses import dataclass
from typing import Optional

from . import _abi as A
from ._lib import lib
from ._util import Handle, Size, parse_size
from .errors import InvalidArgument


@dataclass(frozen=True)
class LedgerUsage:
    """A snapshot of a ledger: capacities, limits (capacity x overcommit) and
    what is reserved; memory in bytes."""

    memory_capacity: int
    memory_limit: int
    memory_used: int
    cpu_capacity: int
    cpu_limit: int
    cpu_used: int
    memory_overcommit: float
    cpu_overcommit: float


def _pct(ratio: float, what: str) -> int:
    pct = round(ratio * 100)
    if not 1 <= pct <= 100000:
        raise InvalidArgument(message=f"{what}={ratio}: a ratio from 0.01 to 1000",
                              function="Ledger")
    return pct


class Ledger(Handle):
    """Host capacity in memory and CPUs with an overcommit ratio for each.

    ``memory`` (bytes or ``"4G"``) and ``cpus``: the capacity; ``None`` reads
    the host's (MemTotal and the CPUs this process may use, each lowered to
    its cgroup's limit).  ``memory_overcommit`` / ``cpu_overcommit``: the
    limit is capacity x ratio (1.0: none).  Share one between any number of
    :class:`MicroVM` or :class:`Vm` objects (``ledger=``), from any threads:
    a micro-VM reserves its memory and vCPUs at creation and returns them at
    ``close()``; a ``Vm`` reserves each memory region and vCPU as it is made.
    :meth:`reserve` / :meth:`release` serve a VMM of your own.
    """

    def __init__(self, *, memory: Optional[Size] = None, cpus: Optional[int] = None,
                 memory_overcommit: float = 1.0, cpu_overcommit: float = 1.0) -> None:
        L = lib()
        cfg = A.alloc(A.LedgerConfig)
        L.hv_ledger_config_init(C.byref(cfg))
        cfg.mem_bytes = 0 if memory is None else parse_size(memory, "memory")
        if memory is not None and cfg.mem_bytes == 0:
            raise InvalidArgument(message="memory=0: give a size, or None for the host's",
                                  function="Ledger")
        if cpus is not None and cpus < 1:
            raise InvalidArgument(message=f"cpus={cpus}: at least 1, or None for the host's",
                                  function="Ledger")
        cfg.cpus = cpus or 0
        cfg.mem_overcommit_pct = _pct(memory_overcommit, "memory_overcommit")
        cfg.cpu_overcommit_pct = _pct(cpu_overcommit, "cpu_overcommit")
        handle = C.c_void_p()
        L.call("hv_ledger_create", C.byref(cfg), C.byref(handle))
        self._handle = handle.value
        self._owner = None

    @property
    def handle(self) -> int:
        if not self._handle:
            raise InvalidArgument(message="the ledger is closed", function="Ledger")
        return self._handle

    def reserve(self, memory: Size = 0, cpus: int = 0) -> None:
        """Take memory and CPUs, both or neither; :class:`AdmissionRefused`
        says what is short."""
        lib().call("hv_ledger_reserve", self.handle, parse_size(memory, "memory"), cpus)

    def release(self, memory: Size = 0, cpus: int = 0) -> None:
        """Give back what :meth:`reserve` took."""
        lib().call("hv_ledger_release", self.handle, parse_size(memory, "memory"), cpus)

    def usage(self) -> LedgerUsage:
        u = A.alloc(A.LedgerUsage)
        u.size = C.sizeof(A.LedgerUsage)
        lib().call("hv_ledger_usage", self.handle, C.byref(u))
        return LedgerUsage(u.mem_capacity, u.mem_limit, u.mem_used, u.cpu_capacity,
                           u.cpu_limit, u.cpu_used, u.mem_overcommit_pct / 100,
                           u.cpu_overcommit_pct / 100)

    def close(self) -> None:
        """Destroy the ledger; :class:`Busy` while VMs still hold reservations
        (the ledger then stays usable).  Idempotent."""
        if self._handle:
            lib().call("hv_ledger_destroy", self._handle)
            self._handle = None

    def __del__(self) -> None:
        # Garbage collection cannot raise: a ledger still held stays allocated.
        if getattr(self, "_handle", None):
            try:
                self.close()
            except Exception:  # noqa: BLE001 - reservations outlive us: leak, never crash
                pass

    def __repr__(self) -> str:
        if not self._handle:
            return "<Ledger closed>"
        u = self.usage()
        return (f"<Ledger memory {u.memory_used >> 20}/{u.memory_limit >> 20} MiB, "
                f"cpus {u.cpu_used}/{u.cpu_limit}>")
