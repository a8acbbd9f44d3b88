"""Guest-physical memory: :class:`GuestMemory` (``struct hv_mem``) and its
:class:`MemoryRegion` objects.

A VM owns one map (``vm.memory``); a standalone one (``GuestMemory()``) needs
no KVM, which makes loaders and device models testable anywhere.

Memory safety: ``region.buffer`` is a writable ``memoryview`` over the very
bytes the guest sees, but it never points at memory that could go away under
it.  Anonymous regions are allocated by Python (``mmap``) and handed to hvlib
as caller-owned memory; memfd and shared-file regions are mapped a second time
by Python from the region's descriptor.  When the region or the VM goes away,
the guest loses the memory but outstanding views keep their mapping alive
(detached from the guest) instead of crashing the process.  Regions Python
cannot alias (private file mappings, regions added by C code such as a
micro-VM's RAM) have no buffer: use :meth:`GuestMemory.read` /
:meth:`GuestMemory.write`, which are bounds-checked by the C library.
"""

from __future__ import annotations

import ctypes as C
import enum
import mmap
import os
import threading
from typing import Any, Dict, List, Optional, Union

from . import _abi as A
from ._lib import bytes_or_none, lib
from ._util import Handle, Size, StrPath, parse_size, track, untrack
from .errors import InvalidArgument, OutOfMemory

PAGE_SIZE = mmap.PAGESIZE
HUGEPAGE_SIZE = 2 << 20
_MAP_NORESERVE = 0x4000  # Linux, all architectures hvlib supports
_MAP_HUGETLB = 0x40000

BytesLike = Union[bytes, bytearray, memoryview]


class Backing(enum.IntEnum):
    """What backs a region (``enum hv_mem_backing``)."""

    ANON = A.HV_MEM_ANON
    MEMFD = A.HV_MEM_MEMFD
    FILE = A.HV_MEM_FILE
    HOST = A.HV_MEM_HOST


class RegionFlags(enum.IntFlag):
    """``HV_MEM_F_*``."""

    READONLY = A.HV_MEM_F_READONLY
    HUGEPAGES = A.HV_MEM_F_HUGEPAGES
    DIRTY_LOG = A.HV_MEM_F_DIRTY_LOG
    PRIVATE = A.HV_MEM_F_PRIVATE


class MemoryRegion:
    """A region of guest-physical memory.

    Attributes: ``id`` (also its KVM slot), ``gpa``, ``size``, ``name``,
    ``backing`` (:class:`Backing` as hvlib sees it), ``flags``
    (:class:`RegionFlags`), ``fd`` (hvlib's memfd/file descriptor or -1; do not
    close it).
    """

    def __init__(self, memory: "GuestMemory", info: A.MemRegionInfo,
                 mapping: Optional[mmap.mmap] = None, anchor: Any = None) -> None:
        self._memory = memory
        self.id: int = info.id
        self.gpa: int = info.gpa
        self.size: int = info.bytes
        self.backing = Backing(info.backing)
        self.flags = RegionFlags(info.flags)
        self.fd: int = info.fd
        self.name: str = info.name.decode("utf-8", "replace") if info.name else ""
        self._mapping = mapping     # Python's own view of the memory, if any
        self._anchor = anchor       # ctypes object pinning the mapping's address
        self._view: Optional[memoryview] = None
        self._removed = False

    def __repr__(self) -> str:
        state = " removed" if self._removed else ""
        return (f"<MemoryRegion {self.id} {self.name!r} gpa={self.gpa:#x} size={self.size:#x} "
                f"{self.backing.name.lower()}{state}>")

    @property
    def end(self) -> int:
        """First guest-physical address after the region."""
        return self.gpa + self.size

    @property
    def buffer(self) -> memoryview:
        """A writable memoryview of the region's bytes (what the guest sees).

        Raises ``BufferError`` for regions Python cannot alias safely (see the
        module documentation); use ``memory.read()``/``memory.write()`` there.
        """
        if self._view is None:
            if self._mapping is None:
                raise BufferError(
                    f"region {self.name or self.id!r} ({self.backing.name.lower()}) has no "
                    "Python buffer; use read()/write()")
            self._view = memoryview(self._mapping)
        return self._view

    def read(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset`` from the region's start."""
        self._check_range(offset, n)
        return self._memory.read(self.gpa + offset, n)

    def write(self, offset: int, data: BytesLike) -> None:
        """Copy ``data`` to ``offset`` from the region's start."""
        self._check_range(offset, memoryview(data).nbytes)
        self._memory.write(self.gpa + offset, data)

    def _check_range(self, offset: int, n: int) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise InvalidArgument(
                message=f"[{offset:#x}, {offset + n:#x}) is outside region "
                        f"{self.name or self.id!r} of {self.size:#x} bytes",
                function="MemoryRegion")

    def set_dirty_log(self, enable: bool) -> None:
        """Turn dirty-page logging on or off (VM memory only)."""
        self._memory._check_open()
        lib().call("hv_mem_set_dirty_log", self._memory._handle, self.id, enable)

    def dirty_pages(self) -> List[int]:
        """Fetch and clear the dirty log: guest-physical addresses of the 4 KiB
        pages written since the last call."""
        bitmap = self.dirty_bitmap()
        pages = []
        for word_index, byte in enumerate(bitmap):
            if byte:
                for bit in range(8):
                    if byte >> bit & 1:
                        pages.append(self.gpa + (word_index * 8 + bit) * 4096)
        return pages

    def dirty_bitmap(self) -> bytes:
        """Fetch and clear the raw dirty bitmap (bit n: page n of the region)."""
        self._memory._check_open()
        L = lib()
        n = L.hv_mem_dirty_bitmap_bytes(self.size)
        buf = (C.c_uint64 * ((n + 7) // 8))()
        L.call("hv_mem_get_dirty_log", self._memory._handle, self.id, buf, C.sizeof(buf))
        return bytes(buf)[:n]

    def remove(self) -> None:
        """Remove the region from the map (and the guest)."""
        self._memory.remove_region(self)

    def _detach(self) -> None:
        """The region is gone: drop Python's mapping unless views still use it."""
        self._removed = True
        if self._view is not None:
            try:
                self._view.release()
            except BufferError:
                pass  # someone exported from it; their views keep the mapping alive
            self._view = None
        self._anchor = None
        if self._mapping is not None:
            try:
                self._mapping.close()
            except BufferError:
                pass  # live views: the mapping is freed when the last one goes
            self._mapping = None


class GuestMemory(Handle):
    """A guest-physical memory map (``struct hv_mem``).

    ``GuestMemory()`` creates a standalone map (no KVM needed); a VM's map is
    ``vm.memory``.  Closing a standalone map (``close()``, ``with``) unmaps
    everything; a VM's map lives as long as the VM.
    """

    def __init__(self) -> None:
        handle = C.c_void_p()
        lib().call("hv_mem_create", C.byref(handle))
        self._init(handle.value, owner=None)
        track(self)

    @classmethod
    def _borrowed(cls, handle: int, owner: Any) -> "GuestMemory":
        self = cls.__new__(cls)
        self._init(handle, owner)
        return self

    def _init(self, handle: Optional[int], owner: Any) -> None:
        self._handle = handle
        self._owner = owner
        self._regions: Dict[int, MemoryRegion] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"{len(self.regions)} regions"
        return f"<GuestMemory {state}>"


    def close(self) -> None:
        """Destroy a standalone map and everything in it (idempotent).  For a
        VM's map this does nothing: close the VM."""
        if self._owner is not None:
            return
        with self._lock:
            handle, self._handle = self._handle, None
            regions, self._regions = list(self._regions.values()), {}
        if handle:
            lib().hv_mem_destroy(handle)
            untrack(self)
        for r in regions:
            r._detach()

    def _vm_closed(self) -> None:
        """Called by the owning VM after it destroyed the map."""
        with self._lock:
            self._handle = None
            regions, self._regions = list(self._regions.values()), {}
        for r in regions:
            r._detach()

    @property
    def closed(self) -> bool:
        return self._handle is None

    def _check_open(self) -> int:
        h = self._handle
        if h is None:
            raise ValueError("guest memory is closed")
        return h

    # --- regions ---------------------------------------------------------------

    def add_region(self, gpa: int, size: Size, *, name: Optional[str] = None,
                   readonly: bool = False, hugepages: bool = False,
                   dirty_log: bool = False, backing: Union[str, Backing] = "anon",
                   fd: Optional[int] = None, fd_offset: int = 0,
                   private: bool = False) -> MemoryRegion:
        """Add ``size`` bytes of guest memory at guest-physical ``gpa`` (both
        page aligned; 2 MiB with ``hugepages``) and return the region.

        ``backing``: ``"anon"`` (zero-filled, the default), ``"memfd"``
        (shareable, its descriptor in ``region.fd``), or ``"file"`` with ``fd``
        (mapped shared, or copy-on-write with ``private=True``; giving ``fd``
        implies ``"file"``).  ``readonly``: guest writes exit as MMIO (ROM).
        Raises :class:`AlreadyExists` on overlap, :class:`InvalidArgument` on
        alignment, :class:`OutOfMemory`.
        """
        h = self._check_open()
        nbytes = parse_size(size, "region size")
        kind = Backing.FILE if fd is not None else (
            backing if isinstance(backing, Backing) else _parse_backing(backing))
        if kind == Backing.FILE and fd is None:
            raise InvalidArgument(message="file backing needs fd=", function="add_region")
        if kind == Backing.HOST:
            raise InvalidArgument(message="host backing is chosen by the bindings themselves "
                                          "for anonymous memory", function="add_region")
        flags = ((A.HV_MEM_F_READONLY if readonly else 0) |
                 (A.HV_MEM_F_DIRTY_LOG if dirty_log else 0) |
                 (A.HV_MEM_F_PRIVATE if private else 0))
        cfg = A.alloc(A.MemRegionConfig)
        lib().hv_mem_region_config_init(C.byref(cfg))
        cfg.flags = flags
        cfg.gpa = gpa
        cfg.bytes = nbytes
        cfg.name = bytes_or_none(name)
        mapping: Optional[mmap.mmap] = None
        anchor: Any = None
        if kind == Backing.ANON:
            # Python owns the memory (see the module doc); same flags as hvlib's own.
            mapping, anchor = _anon_mapping(nbytes, gpa, hugepages, name)
            cfg.backing = A.HV_MEM_HOST
            cfg.host_addr = C.addressof(anchor)
        else:
            cfg.backing = int(kind)
            cfg.flags |= A.HV_MEM_F_HUGEPAGES if hugepages else 0
            if kind == Backing.FILE:
                cfg.fd = fd  # type: ignore[assignment]
                cfg.fd_offset = fd_offset
        rid = A.u32()
        try:
            lib().call("hv_mem_add_region", h, C.byref(cfg), C.byref(rid))
        except BaseException:
            anchor = None
            if mapping is not None:
                mapping.close()
            raise
        info = A.alloc(A.MemRegionInfo)
        lib().call("hv_mem_region_info", h, rid.value, C.byref(info))
        if kind == Backing.MEMFD or (kind == Backing.FILE and not private and not readonly):
            # Shared memfd/file: a second, shared mapping aliases the guest's bytes
            # (hvlib maps a read-only or private file copy-on-write: no alias).
            try:
                mapping = mmap.mmap(info.fd, nbytes, mmap.MAP_SHARED,
                                    mmap.PROT_READ | mmap.PROT_WRITE,
                                    offset=fd_offset if kind == Backing.FILE else 0)
            except OSError:
                mapping = None  # e.g. a file opened read-only: no buffer, read()/write() work
        region = MemoryRegion(self, info, mapping, anchor)
        if kind == Backing.ANON:
            region.backing = Backing.ANON  # hvlib sees HOST: the mapping is Python's
        with self._lock:
            self._regions[region.id] = region
        return region

    def remove_region(self, region: Union[MemoryRegion, int]) -> None:
        """Remove a region (object or id) from the map, also while the guest runs.

        :class:`NotFound` if unknown; :class:`Busy` while a running virtio queue
        holds its rings or unfinished buffers there (stop or reset the device first)."""
        h = self._check_open()
        rid = region.id if isinstance(region, MemoryRegion) else int(region)
        lib().call("hv_mem_remove_region", h, rid)
        with self._lock:
            obj = self._regions.pop(rid, None)
        if obj is not None:
            obj._detach()

    @property
    def regions(self) -> List[MemoryRegion]:
        """Every region in ascending guest-physical order, including regions
        C code added (those have no ``buffer``)."""
        h = self._check_open()
        L = lib()
        n = L.call("hv_mem_regions", h, None, 0)
        ids = (A.u32 * max(n, 1))()
        n = min(L.call("hv_mem_regions", h, ids, n), n)
        out = []
        for rid in ids[:n]:
            with self._lock:
                known = self._regions.get(rid)
            if known is None:
                info = A.alloc(A.MemRegionInfo)
                L.call("hv_mem_region_info", h, rid, C.byref(info))
                known = MemoryRegion(self, info)
            out.append(known)
        return out

    # --- access ----------------------------------------------------------------

    def read(self, gpa: int, n: int) -> bytes:
        """``n`` bytes of guest memory at ``gpa`` (may span adjacent regions).
        :class:`BadAddress` if any byte is not backed."""
        h = self._check_open()
        if n < 0:
            raise InvalidArgument(message=f"read of {n} bytes", function="GuestMemory.read")
        buf = C.create_string_buffer(n)
        lib().call("hv_mem_read", h, gpa, buf, n)
        return buf.raw

    def write(self, gpa: int, data: BytesLike) -> None:
        """Copy ``data`` (any bytes-like object) to guest memory at ``gpa``
        (read-only regions included: the host may load ROM).  :class:`BadAddress`
        if any byte is not backed; nothing is written then."""
        h = self._check_open()
        view = memoryview(data)
        # ctypes needs one contiguous, writable run of bytes, or a bytes copy.
        src = view.cast("B") if view.contiguous and not view.readonly else view.tobytes()
        if isinstance(src, bytes):
            lib().call("hv_mem_write", h, gpa, src, len(src))
        else:
            arr = (C.c_char * len(src)).from_buffer(src)
            lib().call("hv_mem_write", h, gpa, arr, len(src))

    # --- loaders -----------------------------------------------------------------

    def load_raw(self, data: BytesLike, gpa: int) -> None:
        """Copy a raw image to ``gpa`` (as :meth:`write`, with the loader's
        checks; a failure raises :class:`LoadError`)."""
        h = self._check_open()
        b = bytes(memoryview(data).cast("B"))
        lib().call("hv_loader_load_raw", h, b, len(b), gpa)

    def load_linux(self, kernel: StrPath, initrd: Optional[StrPath] = None,
                   cmdline: Optional[str] = None, *, pvh: bool = False) -> "LinuxBoot":
        """Load a Linux bzImage (64-bit boot protocol, or PVH with ``pvh=True``)
        or an ELF vmlinux (PVH) and an initrd from files, with the loader's
        default layout (see loader.h).  Raises :class:`LoadError` naming the
        file and the problem."""
        h = self._check_open()
        cfg = A.alloc(A.LinuxBootConfig)
        lib().hv_linux_boot_config_init(C.byref(cfg))
        cfg.flags = A.HV_LINUX_F_PVH if pvh else 0
        cfg.cmdline = cmdline.encode() if cmdline is not None else None
        res = A.alloc(A.LinuxBootResult)
        lib().call("hv_loader_load_linux_file", h, os.fsencode(kernel),
                   bytes_or_none(initrd), C.byref(cfg), C.byref(res))
        return LinuxBoot(mode="pvh" if res.mode == A.HV_LINUX_BOOT_PVH else "64bit",
                         entry=res.entry, boot_params=res.boot_params,
                         used=[(u.what, u.addr, u.size) for u in res.used[:res.nr_used]])


class LinuxBoot:
    """Where :meth:`GuestMemory.load_linux` put things and how to start the
    boot vCPU: ``mode`` "64bit" (long mode, RIP = entry, RSI = boot_params)
    or "pvh" (32-bit protected mode, EBX = boot_params)."""

    def __init__(self, mode: str, entry: int, boot_params: int, used: List[Any]) -> None:
        self.mode = mode
        self.entry = entry
        self.boot_params = boot_params
        self.used = used

    def __repr__(self) -> str:
        return f"<LinuxBoot {self.mode} entry={self.entry:#x} boot_params={self.boot_params:#x}>"


def _parse_backing(name: str) -> Backing:
    try:
        return {"anon": Backing.ANON, "memfd": Backing.MEMFD, "file": Backing.FILE}[name]
    except KeyError:
        raise InvalidArgument(message=f"backing {name!r}: expected 'anon', 'memfd' or 'file'",
                              function="add_region") from None


def _anon_mapping(nbytes: int, gpa: int, hugepages: bool, name: Optional[str]):
    """A private anonymous mapping like hvlib's HV_MEM_ANON, owned by Python."""
    if nbytes == 0 or nbytes % PAGE_SIZE or gpa % PAGE_SIZE:
        raise InvalidArgument(
            message=f"guest memory region {name or 'guest-ram'!r}: gpa {gpa:#x} and size "
                    f"{nbytes:#x} must be non-zero multiples of {PAGE_SIZE:#x}",
            function="add_region")
    if hugepages and (nbytes % HUGEPAGE_SIZE or gpa % HUGEPAGE_SIZE):
        raise InvalidArgument(
            message=f"guest memory region {name or 'guest-ram'!r}: hugepage regions need "
                    f"2 MiB alignment (gpa {gpa:#x}, size {nbytes:#x})", function="add_region")
    flags = mmap.MAP_PRIVATE | (_MAP_HUGETLB if hugepages else _MAP_NORESERVE)
    try:
        mapping = mmap.mmap(-1, nbytes, flags, mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as e:
        raise OutOfMemory(e.errno or 12,
                          f"mapping {nbytes} bytes of {'hugepage' if hugepages else 'anonymous'}"
                          f" memory for {name or 'guest-ram'!r}: {e.strerror}",
                          "add_region") from None
    if not hugepages and hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            mapping.madvise(mmap.MADV_HUGEPAGE)  # best effort, as hvlib does
        except OSError:
            pass
    anchor = (C.c_char * nbytes).from_buffer(mapping)
    return mapping, anchor


__all__ = ["Backing", "RegionFlags", "MemoryRegion", "GuestMemory", "LinuxBoot"]
