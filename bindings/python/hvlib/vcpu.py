"""Virtual CPUs (``struct hv_vcpu``): registers, mode set-up and the run loop.

Two ways to run a vCPU, as in ``hvlib/vcpu.h``:

* your own loop on a Python thread: ``exit = vcpu.run()`` returns each exit
  that needs you (I/O a Python handler served does not come back);
* a managed thread: ``vcpu.start(on_exit)`` runs that loop on a thread hvlib
  creates and calls ``on_exit(exit)`` for each exit; return True to go on.

The GIL is released while the guest runs, so vCPUs (and VMs) on different
threads run in parallel; it is taken again only for Python I/O handlers and
callbacks.  Registers may only be read or written while the vCPU is not
inside ``run()`` (pause a managed vCPU first).
"""

from __future__ import annotations

import ctypes as C
import enum
import errno
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Tuple

from . import _abi as A
from ._lib import lib
from ._util import CallbackErrors, callback_depth, callback_failed, in_callback
from .errors import Busy

if TYPE_CHECKING:
    from .vm import Vm


class ExitReason(enum.IntEnum):
    """Why ``run()`` returned (``enum hv_exit_reason``)."""

    NONE = 0
    IO = 1
    MMIO = 2
    HLT = 3
    SHUTDOWN = 4
    SYSTEM_EVENT = 5
    KICKED = 6
    DEBUG = 7
    INTERNAL_ERROR = 8
    FAIL_ENTRY = 9
    STOP = 10
    UNKNOWN = 11


@dataclass(frozen=True)
class Exit:
    """One vCPU exit (a copy of ``struct hv_exit``).

    ``addr``/``value``/``width``/``is_write``/``count`` describe I/O and MMIO
    exits; ``data`` holds the raw union words (system event type and data,
    internal error sub-code, ...) for the other reasons.
    """

    reason: ExitReason
    kvm_reason: int
    handled: bool
    addr: int = 0
    value: int = 0
    width: int = 0
    is_write: bool = False
    count: int = 0
    data: Tuple[int, ...] = ()

    @classmethod
    def _from_c(cls, e: A.HvExit) -> "Exit":
        try:
            reason = ExitReason(e.reason)
        except ValueError:  # a newer library: keep going, name it UNKNOWN
            reason = ExitReason.UNKNOWN
        io = reason in (ExitReason.IO, ExitReason.MMIO)
        u = e.u.io
        return cls(reason, e.kvm_reason, bool(e.handled),
                   addr=u.addr if io else 0, value=u.value if io else 0,
                   width=u.width if io else 0, is_write=bool(u.is_write) if io else False,
                   count=u.count if io else 0, data=tuple(e.u.raw))

    @property
    def name(self) -> str:
        """The C library's name of the reason, e.g. ``"HLT"``."""
        return lib().hv_exit_reason_name(int(self.reason)).decode()

    def __str__(self) -> str:
        if self.reason in (ExitReason.IO, ExitReason.MMIO):
            op = "write" if self.is_write else "read"
            return f"{self.name} {op} {self.addr:#x} width {self.width} value {self.value:#x}"
        return self.name


#: on_exit(exit) -> True to keep running (managed threads, see Vcpu.start)
ExitFn = Callable[[Exit], Optional[bool]]


class Vcpu:
    """A vCPU of a :class:`~hvlib.Vm`; create it with ``vm.create_vcpu()``.

    Micro-VM vCPUs (``microvm.vcpu(i)``) are borrowed: they close with their
    micro-VM, and their run loop is the micro-VM's.
    """

    def __init__(self, vm: "Vm", handle: int, borrowed: bool = False) -> None:
        self._vm = vm
        self._handle: Optional[int] = handle
        self._borrowed = borrowed
        self.index: int = lib().hv_vcpu_index(handle)
        self._on_exit: Optional[ExitFn] = None
        self._c_exit_fn: Any = None  # keeps the managed thread's trampoline alive

    def __repr__(self) -> str:
        return f"<Vcpu {self.index}{' closed' if self._handle is None else ''}>"

    def _h(self) -> int:
        if self._handle is None:
            raise ValueError("vCPU is closed")
        return self._handle

    @property
    def fd(self) -> int:
        """The raw KVM vCPU descriptor (owned by hvlib: do not close)."""
        return lib().hv_vcpu_fd(self._h())

    def close(self) -> None:
        """Destroy the vCPU (stops and joins a managed thread).  Idempotent.
        KVM keeps the index taken until the VM closes."""
        if self._handle and not self._borrowed and callback_depth():
            raise Busy(errno.EDEADLK, "closing a vCPU from an I/O handler or exit callback "
                                      "would deadlock", "Vcpu.close")
        handle, self._handle = self._handle, None
        if handle and not self._borrowed:
            lib().hv_vcpu_destroy(handle)
        self._c_exit_fn = None

    # --- running -----------------------------------------------------------------

    def _run(self, fn: str) -> Exit:
        h = self._h()
        e = A.alloc(A.HvExit)
        L = lib()
        with CallbackErrors(self) as errors:
            ret = getattr(L.cdll, fn)(h, C.byref(e))
        errors.reraise()  # a Python I/O handler raised: that is the error
        L.check(fn, ret)
        return Exit._from_c(e)

    def run(self) -> Exit:
        """Run until an exit that needs the caller (HLT, unclaimed I/O under
        the ``"fail"`` policy, shutdown, kick, ...).  I/O served by Python
        handlers happens inside.  An exception a handler raises is re-raised
        here."""
        return self._run("hv_vcpu_run")

    def run_once(self) -> Exit:
        """Enter the guest once (one KVM_RUN) and return that exit, I/O
        included (``exit.handled`` tells whether a handler served it)."""
        return self._run("hv_vcpu_run_once")

    def set_io_result(self, value: int) -> None:
        """The value an unclaimed I/O read returned by ``run()`` yields to the
        guest when it next runs."""
        lib().call("hv_vcpu_set_io_result", self._h(), value)

    def kick(self) -> None:
        """Make a running vCPU return ``KICKED`` soon (any thread)."""
        lib().call("hv_vcpu_kick", self._h())

    def _kick_quietly(self) -> None:
        # From inside a failed handler: end the run soon, never raise there.
        if self._handle:
            lib().hv_vcpu_kick(self._handle)

    # --- managed thread ----------------------------------------------------------

    def start(self, on_exit: Optional[ExitFn] = None) -> None:
        """Run on a thread hvlib creates.  ``on_exit(exit)`` runs there for
        each exit ``run()`` would return; return True to keep going (None or
        False ends the thread; no callback: end at the first exit).  A
        callback that raises is logged and ends the thread.  :class:`Busy` if
        already started."""
        h = self._h()

        def trampoline(opaque: Any, vcpu: Any, exit_p: Any) -> int:
            try:
                with in_callback():
                    return 0 if on_exit is not None and on_exit(Exit._from_c(exit_p[0])) else 1
            except BaseException as e:  # noqa: BLE001 - must not unwind into C
                callback_failed(e, f"on_exit of vCPU {self.index}; its thread ends")
                return 1

        fn = A.EXIT_FN(trampoline)
        lib().call("hv_vcpu_start", h, fn, None)
        self._c_exit_fn = fn

    def stop(self) -> None:
        """Ask the managed thread to end (does not wait)."""
        lib().call("hv_vcpu_stop", self._h())

    def join(self) -> Exit:
        """Wait for the managed thread; returns the exit that ended it.
        Raises the HvError that stopped it, if one did."""
        e = A.alloc(A.HvExit)
        lib().call("hv_vcpu_join", self._h(), C.byref(e))
        return Exit._from_c(e)

    def pause(self) -> None:
        """Park a managed vCPU outside the guest (to access its registers)."""
        lib().call("hv_vcpu_pause", self._h())

    def resume(self) -> None:
        lib().call("hv_vcpu_resume", self._h())

    def set_affinity(self, cpus: Sequence[int]) -> None:
        """Pin the managed thread to these host CPUs ([] unpins)."""
        arr = (A.u32 * max(len(cpus), 1))(*cpus)
        lib().call("hv_vcpu_set_affinity", self._h(), arr, len(cpus))

    # --- x86 state -----------------------------------------------------------------

    @property
    def regs(self) -> A.X86Regs:
        """A copy of the general-purpose registers; assign it back to change them."""
        r = A.X86Regs()
        lib().call("hv_vcpu_get_regs", self._h(), C.byref(r))
        return r

    @regs.setter
    def regs(self, r: A.X86Regs) -> None:
        lib().call("hv_vcpu_set_regs", self._h(), C.byref(r))

    def set_regs(self, **values: int) -> None:
        """Change some registers, e.g. ``vcpu.set_regs(rip=0x1000, rax=1)``."""
        r = self.regs
        for name, value in values.items():
            if name not in A.X86Regs.__dict__:
                raise TypeError(f"no register {name!r}")
            setattr(r, name, value)
        self.regs = r

    @property
    def sregs(self) -> A.X86Sregs:
        """A copy of the special registers (segments, CRs, EFER, ...)."""
        s = A.X86Sregs()
        lib().call("hv_vcpu_get_sregs", self._h(), C.byref(s))
        return s

    @sregs.setter
    def sregs(self, s: A.X86Sregs) -> None:
        lib().call("hv_vcpu_set_sregs", self._h(), C.byref(s))

    def setup_real_mode(self, cs: int = 0, ip: int = 0) -> None:
        """Real mode at cs:ip (CS base cs << 4, data segments 0, SP 0)."""
        lib().call("hv_x86_setup_real_mode", self._h(), cs, ip)

    def setup_protected_mode(self, entry: int) -> None:
        """Flat 32-bit protected mode, no paging, at ``entry``."""
        lib().call("hv_x86_setup_protected_mode", self._h(), entry)

    def setup_long_mode(self, entry: int, stack: int, scratch_gpa: int,
                        identity_bytes: int = 0) -> None:
        """64-bit long mode at ``entry`` with RSP ``stack``: a GDT and
        identity-mapping page tables (of ``identity_bytes``, 0: 4 GiB) are
        written to guest RAM at ``scratch_gpa`` (see
        :func:`long_mode_scratch_bytes`)."""
        lm = A.X86LongMode(size=C.sizeof(A.X86LongMode), entry=entry, stack=stack,
                           scratch_gpa=scratch_gpa, identity_bytes=identity_bytes)
        lib().call("hv_x86_setup_long_mode", self._h(), C.byref(lm))


def long_mode_scratch_bytes(identity_bytes: int = 0) -> int:
    """Guest RAM :meth:`Vcpu.setup_long_mode` writes at ``scratch_gpa``."""
    return int(lib().hv_x86_long_mode_scratch_bytes(identity_bytes))


__all__ = ["ExitReason", "Exit", "ExitFn", "Vcpu", "long_mode_scratch_bytes"]
