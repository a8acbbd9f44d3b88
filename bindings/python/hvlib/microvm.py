"""A Linux micro-VM in a few lines (``struct hv_microvm``)::

    with hvlib.MicroVM(kernel="vmlinuz", initrd="initrd.cpio.gz",
                       cmdline="console=ttyS0 quiet", memory="256M", cpus=2) as vm:
        status = vm.run(timeout=60)
    print(status.reason, vm.text)

The VM is created (kernel and initrd loaded) by the constructor; ``start()``
runs each vCPU on its own thread, ``wait()`` waits for the guest to stop and
returns a :class:`Status`.  The serial console is captured (``vm.output``)
and/or streamed to ``console=``; ``vm.send()`` types into it.  Any number of
micro-VMs may run at once: the GIL is released while guests run.
"""

from __future__ import annotations

import ctypes as C
import enum
import errno
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _abi as A
from ._console import Console, ConsoleSink
from ._lib import lib
from ._util import Size, StrPath, parse_size, track, untrack
from .errors import InvalidArgument, Timeout
from .ledger import Ledger
from .vcpu import Exit, Vcpu
from .vm import Vm, log_level, make_log_fn

# Wait in slices so that Ctrl-C (KeyboardInterrupt) is seen while a guest runs.
_WAIT_SLICE_MS = 200


class StopReason(enum.IntEnum):
    """Why the guest stopped (``enum hv_stop_reason``)."""

    RUNNING = 0
    POWEROFF = 1
    REBOOT = 2
    CRASH = 3
    ERROR = 4
    REQUESTED = 5

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Status:
    """How a micro-VM ended: ``reason``, the ``vcpu`` that saw it, ``error``
    (a positive errno for ``ERROR``, else 0), the ``exit`` that ended it and
    the library's ``message``."""

    reason: StopReason
    vcpu: int
    error: int
    message: str
    exit: Exit

    @property
    def poweroff(self) -> bool:
        """True if the guest powered itself off (a clean shutdown)."""
        return self.reason == StopReason.POWEROFF

    @classmethod
    def _from_c(cls, s: A.MicrovmStatus) -> "Status":
        try:
            reason = StopReason(s.reason)
        except ValueError:
            reason = StopReason.ERROR
        return cls(reason, s.vcpu, -s.error if s.error < 0 else s.error,
                   s.message.decode("utf-8", "replace"), Exit._from_c(s.exit))

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}" if self.message else str(self.reason)


@dataclass(frozen=True)
class Disk:
    """A virtio-blk disk over a raw image file: ``/dev/vda``, ``/dev/vdb``, ...
    in the order given.  ``serial`` (at most 20 bytes) appears in
    ``/sys/block/vdX/serial``."""

    path: StrPath
    readonly: bool = False
    serial: Optional[str] = None


def _disk_array(disks: Sequence[Union[StrPath, Disk]], keep: List[Any]) -> Any:
    """The C array for ``disks``; the strings it points to go into ``keep``."""
    lib().require("hv_microvm_disk_init", "virtio disks")
    arr = (A.MicrovmDisk * max(len(disks), 1))()
    for i, d in enumerate(disks):
        disk = d if isinstance(d, Disk) else Disk(d)
        lib().hv_microvm_disk_init(C.byref(arr[i]))
        path = os.fsencode(disk.path)
        serial = None if disk.serial is None else disk.serial.encode()
        keep += [path, serial]
        arr[i].path, arr[i].serial = path, serial
        arr[i].flags = A.HV_MICROVM_DISK_F_READONLY if disk.readonly else 0
    return arr


@dataclass(frozen=True)
class Net:
    """A virtio-net interface on a host tap: ``eth0``, ``eth1``, ... in the
    order given.  hvlib creates the tap ``tap`` (or attaches to an existing
    one), which needs CAP_NET_ADMIN or a persistent tap owned by the user;
    the host side's addresses are yours to set.  ``mac``: "52:54:00:12:34:56"
    or 6 bytes; None for a random locally administered one."""

    tap: str
    mac: Optional[Union[str, bytes]] = None


def _parse_mac(mac: Union[str, bytes]) -> bytes:
    raw = mac if isinstance(mac, bytes) else bytes(int(x, 16) for x in mac.split(":"))
    if len(raw) != 6 or raw[0] & 1:
        raise ValueError("not a unicast MAC")
    return raw


def _net_array(nets: Sequence[Union[str, Net]], keep: List[Any]) -> Any:
    """The C array for ``nets``; the strings it points to go into ``keep``."""
    lib().require("hv_microvm_net_init", "virtio network interfaces")
    arr = (A.MicrovmNet * max(len(nets), 1))()
    for i, n in enumerate(nets):
        net = n if isinstance(n, Net) else Net(n)
        lib().hv_microvm_net_init(C.byref(arr[i]))
        tap = net.tap.encode()
        keep.append(tap)
        arr[i].tap = tap
        if net.mac is not None:
            try:
                arr[i].mac[:] = list(_parse_mac(net.mac))
            except ValueError as e:
                raise InvalidArgument(message=f"net {net.tap}: bad mac {net.mac!r} ({e})",
                                      function="MicroVM") from None
            arr[i].flags = A.HV_MICROVM_NET_F_MAC
    return arr


_CONSOLE_DEVICES = {"serial": A.HV_MICROVM_CONSOLE_SERIAL,
                    "virtio": A.HV_MICROVM_CONSOLE_VIRTIO}


def _pin_list(pin: Optional[Sequence[int]], cpus: int) -> List[int]:
    """One host CPU per vCPU: vCPU i runs on pin[i % len(pin)]."""
    if not pin:
        return []
    cores = [int(c) for c in pin]
    if any(c < 0 for c in cores):
        raise InvalidArgument(message=f"pin={list(pin)}: CPU numbers must be >= 0",
                              function="MicroVM")
    return [cores[i % len(cores)] for i in range(cpus)]


class MicroVM:
    """A Linux guest on a PC without firmware (see ``hvlib/microvm.h``).

    Args:
        kernel: bzImage or ELF vmlinux.
        initrd: initramfs (optional).
        cmdline: kernel command line (default ``"console=ttyS0 panic=-1"``).
        memory: guest RAM, bytes or a size string ("256M", "1G").
        cpus: number of vCPUs.
        pin: host CPUs to run vCPUs on: vCPU i on ``pin[i % len(pin)]``, so
            ``pin=[2]`` keeps every vCPU on core 2.
        console: where console output goes as it arrives: a callable taking
            bytes, a binary or a text file (e.g. ``sys.stdout``), or None.
        capture: keep console output in :attr:`output` (default True).
        disks: virtio-blk disks, image paths or :class:`Disk` objects.
        rng: a virtio-rng device (entropy for the guest from the host).
        vsock_cid: a virtio-vsock device (vhost-vsock) with this guest CID (3 or
            more): host programs then reach the guest with ``socket.AF_VSOCK``.
        transport: how the virtio devices reach the guest: ``"mmio"``
            (virtio-mmio, the default) or ``"pci"`` (virtio-pci behind a PCI
            host bridge, with MSI-X).
        balloon: a virtio-balloon (:meth:`balloon_set_target`, :meth:`balloon_info`).
        console_device: "serial" (the UART, ttyS0; default) or "virtio"
            (virtio-console, hvc0; the default cmdline becomes
            ``console=hvc0 panic=-1``): where ``console``/``send()`` go.
        nets: virtio-net interfaces, tap names or :class:`Net` objects.
        pvh: boot a bzImage through PVH; hugepages: guest RAM on 2 MiB pages.
        ledger: a :class:`~hvlib.Ledger` to admit the VM against: its memory
            and vCPUs are reserved here and returned at :meth:`close`;
            :class:`~hvlib.AdmissionRefused` says what is short.
        log: the library's diagnostics level for the ``hvlib.microvm`` logger.
        seccomp: confine the library's vCPU and device threads with seccomp
            filters (``HV_MICROVM_F_SECCOMP``; default True, False opts out).
            The interpreter's own threads are never filtered, but the
            ``hvlib.microvm`` logger's handlers run on library threads under
            their filters: a handler that opens files or sockets there ends
            the process with SIGSYS (use handlers writing to open streams, or
            ``seccomp=False``).

    Raises :class:`~hvlib.KvmUnavailable`, :class:`~hvlib.LoadError` (the
    message names the file and the problem), :class:`~hvlib.InvalidArgument`.
    Use it as a context manager, or call :meth:`close`: every thread, fd and
    mapping is released on every path.
    """

    def __init__(self, kernel: StrPath, initrd: Optional[StrPath] = None,
                 cmdline: Optional[str] = None, *, memory: Size = "256M", cpus: int = 1,
                 pin: Optional[Sequence[int]] = None, console: ConsoleSink = None,
                 capture: bool = True, disks: Sequence[Union[StrPath, Disk]] = (),
                 rng: bool = False, pvh: bool = False, hugepages: bool = False,
                 log: str = "warn", vsock_cid: int = 0, transport: str = "mmio",
                 balloon: bool = False, console_device: str = "serial",
                 nets: Sequence[Union[str, Net]] = (),
                 ledger: Optional[Ledger] = None, seccomp: bool = True) -> None:
        self._handle: Optional[int] = None
        self._console: Optional[Console] = None
        self._vm: Optional[Vm] = None
        self.status: Optional[Status] = None
        if cpus < 1:
            raise InvalidArgument(message=f"cpus={cpus}: need at least 1", function="MicroVM")
        transports = {"mmio": A.HV_MICROVM_TRANSPORT_MMIO, "pci": A.HV_MICROVM_TRANSPORT_PCI}
        if transport not in transports:
            raise InvalidArgument(message=f"transport={transport!r}: 'mmio' or 'pci'",
                                  function="MicroVM")
        L = lib()
        cfg = A.alloc(A.MicrovmConfig)
        L.hv_microvm_config_init(C.byref(cfg))
        # The C side may keep pointers into these: they live as long as self.
        self._keep = [os.fsencode(kernel), None if initrd is None else os.fsencode(initrd),
                      None if cmdline is None else cmdline.encode()]
        cfg.kernel, cfg.initrd, cfg.cmdline = self._keep[:3]
        cfg.flags = ((A.HV_MICROVM_F_PVH if pvh else 0) |
                     (A.HV_MICROVM_F_HUGEPAGES if hugepages else 0) |
                     (A.HV_MICROVM_F_RNG if rng else 0) |
                     (A.HV_MICROVM_F_BALLOON if balloon else 0) |
                     (A.HV_MICROVM_F_SECCOMP if seccomp else 0))
        if balloon:
            L.require("hv_microvm_balloon", "MicroVM(balloon=True)")
        if disks:
            self._disks = _disk_array(disks, self._keep)
            cfg.disks = C.cast(self._disks, C.POINTER(A.MicrovmDisk))
            cfg.nr_disks = len(disks)
        if vsock_cid:
            cfg.vsock_cid = vsock_cid
        cfg.transport = transports[transport]
        if console_device not in _CONSOLE_DEVICES:
            raise InvalidArgument(message=f"console_device={console_device!r}: 'serial' or "
                                  "'virtio'", function="MicroVM")
        cfg.console = _CONSOLE_DEVICES[console_device]
        if nets:
            self._nets = _net_array(nets, self._keep)
            cfg.nets = C.cast(self._nets, C.POINTER(A.MicrovmNet))
            cfg.nr_nets = len(nets)
        cfg.mem_bytes = parse_size(memory, "memory")
        cfg.nr_vcpus = cpus
        cores = _pin_list(pin, cpus)
        self._pin = (A.u32 * max(len(cores), 1))(*cores)
        cfg.pin_cpus = C.cast(self._pin, C.POINTER(A.u32)) if cores else None
        cfg.nr_pin_cpus = len(cores)
        self._log_fn = make_log_fn(logging.getLogger("hvlib.microvm"))
        cfg.log_fn = self._log_fn
        cfg.log_level = log_level(log)
        self._console = Console(console, capture)
        cfg.console_out_fd = self._console.write_fd
        if ledger is not None:
            cfg.ledger = ledger.handle
        self._ledger = ledger  # it must outlive the micro-VM
        handle = C.c_void_p()
        try:
            L.call("hv_microvm_create", C.byref(cfg), C.byref(handle))
        except BaseException:
            self._console.close()
            raise
        self._handle = handle.value
        self._started = False
        self.cpus = cpus
        self.memory_bytes = cfg.mem_bytes
        track(self)

    def __repr__(self) -> str:
        state = ("closed" if self._handle is None else str(self.status.reason) if self.status
                 else "running" if self._started else "created")
        return f"<MicroVM {self.cpus} vCPUs {self.memory_bytes >> 20} MiB {state}>"

    def __enter__(self) -> "MicroVM":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) or getattr(self, "_console", None):
            self.close()

    def _h(self) -> int:
        if self._handle is None:
            raise ValueError("micro-VM is closed")
        return self._handle

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start every vCPU on its own thread.  :class:`~hvlib.Busy` if started."""
        lib().call("hv_microvm_start", self._h())
        self._started = True

    def wait(self, timeout: Optional[float] = None) -> Status:
        """Wait until the guest stops (at most ``timeout`` seconds), then
        return its :class:`Status`; the console output is complete by then.
        Raises :class:`~hvlib.Timeout` (guest still running) on timeout."""
        if self.status is not None:
            return self.status
        h = self._h()
        L = lib()
        deadline = None if timeout is None else time.monotonic() + timeout
        st = A.alloc(A.MicrovmStatus)
        while True:
            left_ms = _WAIT_SLICE_MS
            if deadline is not None:
                left_ms = max(0, min(left_ms, int((deadline - time.monotonic()) * 1000)))
            ret = L.hv_microvm_wait(h, left_ms, C.byref(st))
            if ret == 0:
                break
            if ret != -errno.ETIMEDOUT:
                L.check("hv_microvm_wait", ret)
            if deadline is not None and time.monotonic() >= deadline:
                raise Timeout(message=f"guest still running after {timeout} s",
                              function="MicroVM.wait")
        self.status = Status._from_c(st)
        assert self._console is not None
        self._console.finish()  # vCPUs are joined: no writer is left
        return self.status

    def run(self, timeout: Optional[float] = None) -> Status:
        """``start()`` then ``wait(timeout)``.  On timeout the guest is
        stopped and :class:`~hvlib.Timeout` raised, with ``.status`` set."""
        self.start()
        try:
            return self.wait(timeout)
        except Timeout as e:
            self.stop()
            e.status = self.wait()
            raise

    def stop(self) -> None:
        """Stop the guest from outside (reason ``REQUESTED``); does not wait."""
        if self._handle is not None:
            lib().call("hv_microvm_stop", self._handle)

    def close(self) -> None:
        """Stop the guest if it runs and release everything.  Idempotent."""
        handle, self._handle = self._handle, None
        if handle:
            lib().hv_microvm_destroy(handle)
            if self._vm is not None:
                for v in self._vm.vcpus:
                    v._handle = None
                self._vm._closed_by_owner()
            untrack(self)
        console, self._console = self._console, None
        if console is not None:
            console.close()  # after destroy: the UART is gone, nothing writes

    @property
    def running(self) -> bool:
        return self._started and self.status is None and self._handle is not None

    def fileno(self) -> int:
        """A descriptor that becomes readable once the guest stopped (for
        select/poll/asyncio); then :meth:`wait` returns at once."""
        return lib().hv_microvm_poll_fd(self._h())

    # --- console -----------------------------------------------------------------------

    @property
    def output(self) -> bytes:
        """Everything the guest wrote to its console so far (with capture)."""
        return self._console.output if self._console else b""

    @property
    def text(self) -> str:
        """:attr:`output` decoded (UTF-8, invalid bytes replaced, no ``\\r``)."""
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, pattern: Union[bytes, str], timeout: Optional[float] = None) -> bytes:
        """Wait until ``pattern`` appears in the console output; returns the
        output up to and including it.  :class:`~hvlib.Timeout`, or
        ``EOFError`` if the guest stopped first."""
        console = self._console
        if console is None:
            raise ValueError("micro-VM is closed")
        needle = pattern.encode() if isinstance(pattern, str) else pattern
        deadline = None if timeout is None else time.monotonic() + timeout
        # In slices, so that a guest that stops (crashes, powers off) without
        # the pattern is reported at once, not after the whole timeout.
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            step = 0.25 if left is None else max(0.0, min(0.25, left))
            try:
                return console.output[:console.wait_for(needle, step)]
            except Timeout:
                if self._stopped():
                    try:  # the output is complete now
                        return console.output[:console.wait_for(needle, 0)]
                    except EOFError:
                        assert self.status is not None
                        raise EOFError(f"the guest stopped ({self.status.message}) before "
                                       f"{needle!r} appeared on its console") from None
                if left is not None and left <= step:
                    tail = console.output[-2000:].decode(errors="replace")
                    raise Timeout(message=f"no {needle!r} on the console after {timeout} s;"
                                  f" its last output:\n{tail}", function="wait_for") from None

    def _stopped(self) -> bool:
        """Whether the guest has stopped (collecting its status if so)."""
        if self.status is not None:
            return True
        if not self._started or self._handle is None:
            return False
        try:
            self.wait(timeout=0)
        except Timeout:
            return False
        return True

    def send(self, data: Union[bytes, str], timeout: float = 10.0) -> None:
        """Type ``data`` into the guest's console, waiting while the UART's
        FIFO (or the virtio-console's input buffer) is full.  :class:`~hvlib.Timeout` if the guest stops reading."""
        h = self._h()
        buf = data.encode() if isinstance(data, str) else bytes(data)
        deadline = time.monotonic() + timeout
        L = lib()
        while buf:
            n = L.hv_microvm_console_input(h, buf, len(buf))
            buf = buf[n:]
            if buf:
                if time.monotonic() > deadline or self.status is not None:
                    raise Timeout(message=f"the guest did not take {len(buf)} console bytes",
                                  function="MicroVM.send")
                time.sleep(0.001)

    # --- balloon -----------------------------------------------------------------------

    def _balloon(self, what: str) -> int:
        L = lib()
        L.require("hv_microvm_balloon", what)
        handle = L.hv_microvm_balloon(self._h())
        if not handle:
            raise InvalidArgument(message="this micro-VM has no balloon (MicroVM(balloon=True))",
                                  function=what)
        return handle

    def balloon_set_target(self, size: Size) -> None:
        """Ask the guest's balloon driver to hold ``size`` (bytes or "64M") of its RAM;
        0 gives it all back.  Returns at once: watch ``balloon_info()["actual_bytes"]``."""
        lib().call("hv_virtio_balloon_set_target", self._balloon("MicroVM.balloon_set_target"),
                   parse_size(size, "size") if size else 0)

    def balloon_info(self, refresh_stats: bool = False) -> Dict[str, Any]:
        """The balloon's state: ``target_bytes``, ``actual_bytes``, page counters,
        ``stats_updates``, ``stats_time_ns`` and ``stats`` (name -> value, only those the
        driver reported).  ``refresh_stats`` asks the driver for new ones first (they
        arrive shortly after: ``stats_updates`` grows)."""
        handle = self._balloon("MicroVM.balloon_info")
        L = lib()
        if refresh_stats:
            L.cdll.hv_virtio_balloon_request_stats(handle)  # -EAGAIN: one is on its way
        info = A.alloc(A.BalloonInfo)
        info.size = C.sizeof(A.BalloonInfo)
        L.call("hv_virtio_balloon_get", handle, C.byref(info))
        out: Dict[str, Any] = {name: getattr(info, name) for name, _ in A.BalloonInfo._fields_
                               if name not in ("size", "stats_valid", "stats")}
        stats = {}
        for tag in range(A.HV_VIRTIO_BALLOON_S_NR):
            if info.stats_valid & (1 << tag):
                name = A.BALLOON_STAT_NAMES[tag] if tag < len(A.BALLOON_STAT_NAMES) \
                    else f"tag{tag}"
                stats[name] = int(info.stats[tag])
        out["stats"] = stats
        return out

    # --- lower layers ------------------------------------------------------------------

    @property
    def vm(self) -> Vm:
        """The underlying :class:`~hvlib.Vm` (memory, buses), owned by this micro-VM."""
        if self._vm is None:
            self._vm = Vm._borrowed(lib().hv_microvm_vm(self._h()), self)
        return self._vm

    def vcpu(self, index: int) -> Vcpu:
        """vCPU ``index`` (owned by this micro-VM; pause it to read registers)."""
        handle = lib().hv_microvm_vcpu(self._h(), index)
        if not handle:
            raise InvalidArgument(message=f"no vCPU {index} (the VM has {self.cpus})",
                                  function="MicroVM.vcpu")
        return self.vm._borrow_vcpu(handle)


__all__ = ["MicroVM", "Disk", "Net", "Status", "StopReason"]
