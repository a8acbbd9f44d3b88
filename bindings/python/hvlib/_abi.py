"""ctypes mirrors of hvlib's public structures, callback types and constants.

Every structure has exactly the layout of its C counterpart in
``include/hvlib/*.h``; the sizes are checked when this module is imported and
``tests/python/test_abi.py`` compares every field's offset and size with what
the C compiler says.  Each class names its C type in ``_c_name_``.

This module only describes the ABI: it neither loads the library nor calls it.
"""

from __future__ import annotations

import ctypes as C
from typing import Dict, List, Type, TypeVar

u8 = C.c_uint8
u16 = C.c_uint16
u32 = C.c_uint32
i32 = C.c_int32
u64 = C.c_uint64


class Struct(C.Structure):
    """A C structure with a readable repr (fields and values)."""

    _c_name_ = ""

    def __repr__(self) -> str:
        parts = []
        for name, *_ in self._fields_:
            if name.startswith("reserved") or name.startswith("pad"):
                continue
            value = getattr(self, name)
            if isinstance(value, int):
                parts.append(f"{name}={value:#x}")
            elif isinstance(value, (Struct, Union)):
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class Union(C.Union):
    _c_name_ = ""


# --- common.h ---------------------------------------------------------------

HV_LOG_ERROR, HV_LOG_WARN, HV_LOG_INFO, HV_LOG_DEBUG = 0, 1, 2, 3

#: void (*hv_log_fn)(void *opaque, enum hv_log_level level, const char *msg)
LOG_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_int, C.c_char_p)

# --- mem.h ------------------------------------------------------------------

HV_MEM_ANON, HV_MEM_MEMFD, HV_MEM_FILE, HV_MEM_HOST = 0, 1, 2, 3
HV_MEM_F_READONLY = 1 << 0
HV_MEM_F_HUGEPAGES = 1 << 1
HV_MEM_F_DIRTY_LOG = 1 << 2
HV_MEM_F_PRIVATE = 1 << 3


class MemRegionConfig(Struct):
    _c_name_ = "hv_mem_region_config"
    _fields_ = [
        ("size", u32),
        ("flags", u32),
        ("backing", u32),
        ("fd", i32),
        ("gpa", u64),
        ("bytes", u64),
        ("fd_offset", u64),
        ("host_addr", C.c_void_p),
        ("name", C.c_char_p),
    ]


class MemRegionInfo(Struct):
    _c_name_ = "hv_mem_region_info"
    _fields_ = [
        ("id", u32),
        ("flags", u32),
        ("backing", u32),
        ("fd", i32),
        ("gpa", u64),
        ("bytes", u64),
        ("host_addr", C.c_void_p),
        ("name", C.c_char_p),
        ("reserved_tail", u64 * 4),
    ]


# --- bus.h ------------------------------------------------------------------

HV_BUS_PIO, HV_BUS_MMIO = 0, 1

#: int (*hv_io_fn)(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
IO_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, u64, u32, C.c_bool, C.POINTER(u64))

# --- vm.h -------------------------------------------------------------------

HV_UNCLAIMED_IGNORE, HV_UNCLAIMED_LOG, HV_UNCLAIMED_FAIL = 0, 1, 2
HV_VM_F_IRQCHIP = 1 << 0
HV_VM_F_SECCOMP = 1 << 1


class VmConfig(Struct):
    _c_name_ = "hv_vm_config"
    _fields_ = [
        ("size", u32),
        ("flags", u32),
        ("kvm_path", C.c_char_p),
        ("log_fn", LOG_FN),
        ("log_opaque", C.c_void_p),
        ("log_level", u32),
        ("unclaimed_io", u32),
        ("kick_signal", i32),
        ("reserved", u32),
        ("ledger", C.c_void_p),
    ]


# --- ledger.h ---------------------------------------------------------------


class LedgerConfig(Struct):
    _c_name_ = "hv_ledger_config"
    _fields_ = [
        ("size", u32),
        ("flags", u32),
        ("mem_bytes", u64),
        ("cpus", u32),
        ("mem_overcommit_pct", u32),
        ("cpu_overcommit_pct", u32),
        ("reserved", u32),
    ]


class LedgerUsage(Struct):
    _c_name_ = "hv_ledger_usage"
    _fields_ = [
        ("size", u32),
        ("cpu_capacity", u32),
        ("mem_capacity", u64),
        ("mem_limit", u64),
        ("mem_used", u64),
        ("cpu_limit", u32),
        ("cpu_used", u32),
        ("mem_overcommit_pct", u32),
        ("cpu_overcommit_pct", u32),
    ]


# --- vcpu.h -----------------------------------------------------------------


class ExitIo(Struct):
    _c_name_ = ""  # anonymous: hv_exit.u.io
    _fields_ = [
        ("addr", u64),
        ("value", u64),
        ("width", u32),
        ("is_write", u32),
        ("count", u32),
        ("reserved", u32),
    ]


class ExitSystemEvent(Struct):
    _fields_ = [("type", u32), ("ndata", u32), ("data", u64 * 4)]


class ExitInternal(Struct):
    _fields_ = [("suberror", u32), ("ndata", u32), ("data", u64 * 4)]


class ExitFailEntry(Struct):
    _fields_ = [("hardware_reason", u64)]


class ExitUnion(Union):
    _fields_ = [
        ("io", ExitIo),
        ("system_event", ExitSystemEvent),
        ("internal", ExitInternal),
        ("fail_entry", ExitFailEntry),
        ("raw", u64 * 8),
    ]


class HvExit(Struct):
    _c_name_ = "hv_exit"
    _fields_ = [
        ("reason", u32),
        ("kvm_reason", u32),
        ("handled", u32),
        ("reserved", u32),
        ("u", ExitUnion),
    ]


#: int (*hv_vcpu_exit_fn)(void *opaque, struct hv_vcpu *vcpu, const struct hv_exit *exit)
EXIT_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_void_p, C.POINTER(HvExit))

# --- x86.h ------------------------------------------------------------------


class X86Regs(Struct):
    """General-purpose registers (``struct hv_x86_regs`` = ``struct kvm_regs``)."""

    _c_name_ = "hv_x86_regs"
    _fields_ = [
        (name, u64)
        for name in (
            "rax rbx rcx rdx rsi rdi rsp rbp r8 r9 r10 r11 r12 r13 r14 r15 rip rflags"
        ).split()
    ]


class X86Segment(Struct):
    """A segment register (``struct hv_x86_segment`` = ``struct kvm_segment``)."""

    _c_name_ = "hv_x86_segment"
    _fields_ = [
        ("base", u64),
        ("limit", u32),
        ("selector", u16),
        ("type", u8),
        ("present", u8),
        ("dpl", u8),
        ("db", u8),
        ("s", u8),
        ("l", u8),
        ("g", u8),
        ("avl", u8),
        ("unusable", u8),
        ("padding", u8),
    ]


class X86DTable(Struct):
    """A descriptor table register, GDTR or IDTR (``struct hv_x86_dtable``)."""

    _c_name_ = "hv_x86_dtable"
    _fields_ = [("base", u64), ("limit", u16), ("padding", u16 * 3)]


class X86Sregs(Struct):
    """Special registers (``struct hv_x86_sregs`` = ``struct kvm_sregs``)."""

    _c_name_ = "hv_x86_sregs"
    _fields_ = (
        [(name, X86Segment) for name in "cs ds es fs gs ss tr ldt".split()]
        + [("gdt", X86DTable), ("idt", X86DTable)]
        + [(name, u64) for name in "cr0 cr2 cr3 cr4 cr8 efer apic_base".split()]
        + [("interrupt_bitmap", u64 * 4)]
    )


class X86Fpu(Struct):
    """FPU and SSE state (``struct hv_x86_fpu`` = ``struct kvm_fpu``)."""

    _c_name_ = "hv_x86_fpu"
    _fields_ = [
        ("fpr", (u8 * 16) * 8),
        ("fcw", u16),
        ("fsw", u16),
        ("ftwx", u8),
        ("pad1", u8),
        ("last_opcode", u16),
        ("last_ip", u64),
        ("last_dp", u64),
        ("xmm", (u8 * 16) * 16),
        ("mxcsr", u32),
        ("pad2", u32),
    ]


class X86Msr(Struct):
    _c_name_ = "hv_x86_msr"
    _fields_ = [("index", u32), ("reserved", u32), ("data", u64)]


class X86CpuidEntry(Struct):
    """One CPUID leaf (``struct hv_x86_cpuid_entry`` = ``struct kvm_cpuid_entry2``)."""

    _c_name_ = "hv_x86_cpuid_entry"
    _fields_ = [
        ("function", u32),
        ("index", u32),
        ("flags", u32),
        ("eax", u32),
        ("ebx", u32),
        ("ecx", u32),
        ("edx", u32),
        ("padding", u32 * 3),
    ]


class X86LongMode(Struct):
    _c_name_ = "hv_x86_long_mode"
    _fields_ = [
        ("size", u32),
        ("flags", u32),
        ("entry", u64),
        ("stack", u64),
        ("scratch_gpa", u64),
        ("identity_bytes", u64),
    ]


# --- loader.h ---------------------------------------------------------------

HV_LINUX_F_PVH = 1 << 0
HV_LINUX_BOOT_64, HV_LINUX_BOOT_PVH = 1, 2
HV_LOADER_MAX_USED = 8


class E820Range(Struct):
    _c_name_ = "hv_e820_range"
    _fields_ = [("addr", u64), ("size", u64), ("type", u32), ("reserved", u32)]


class LinuxBootConfig(Struct):
    _c_name_ = "hv_linux_boot_config"
    _fields_ = [
        ("size", u32),
        ("flags", u32),
        ("cmdline", C.c_char_p),
        ("initrd", C.c_void_p),
        ("initrd_size", u64),
        ("mem_ranges", C.POINTER(E820Range)),
        ("nr_mem_ranges", u32),
        ("reserved", u32),
        ("acpi_rsdp_addr", u64),
        ("kernel_addr", u64),
        ("boot_params_addr", u64),
        ("cmdline_addr", u64),
        ("initrd_addr", u64),
    ]


class LoaderUsed(Struct):
    _c_name_ = "hv_loader_used"
    _fields_ = [("addr", u64), ("size", u64), ("what", u32), ("reserved", u32)]


class LinuxBootResult(Struct):
    _c_name_ = "hv_linux_boot_result"
    _fields_ = [
        ("mode", u32),
        ("nr_used", u32),
        ("entry", u64),
        ("boot_params", u64),
        ("used", LoaderUsed * HV_LOADER_MAX_USED),
        ("reserved_tail", u64 * 4),
    ]


# --- microvm.h --------------------------------------------------------------

HV_MICROVM_F_PVH = 1 << 0
HV_MICROVM_F_HUGEPAGES = 1 << 1
HV_MICROVM_F_RNG = 1 << 2
HV_MICROVM_F_BALLOON = 1 << 3
HV_MICROVM_F_SECCOMP = 1 << 4
HV_MICROVM_DISK_F_READONLY = 1 << 0
HV_MICROVM_TRANSPORT_MMIO = 0
HV_MICROVM_TRANSPORT_PCI = 1
HV_MICROVM_NET_F_MAC = 1 << 0
HV_MICROVM_CONSOLE_SERIAL, HV_MICROVM_CONSOLE_VIRTIO = 0, 1


class MicrovmDisk(Struct):
    _c_name_ = "hv_microvm_disk"
    _fields_ = [("size", u32), ("flags", u32), ("path", C.c_char_p), ("serial", C.c_char_p)]


class MicrovmNet(Struct):
    _c_name_ = "hv_microvm_net"
    _fields_ = [("size", u32), ("flags", u32), ("tap", C.c_char_p), ("mac", u8 * 6),
                ("reserved", u8 * 2)]


#: void (*hv_microvm_console_fn)(void *opaque, const uint8_t *buf, size_t len)
#: (buf as void *: the callback copies it with ctypes.string_at)
CONSOLE_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_void_p, C.c_size_t)


class MicrovmConfig(Struct):
    _c_name_ = "hv_microvm_config"
    _fields_ = [
        ("size", u32),
        ("flags", u32),
        ("kernel", C.c_char_p),
        ("initrd", C.c_char_p),
        ("cmdline", C.c_char_p),
        ("mem_bytes", u64),
        ("nr_vcpus", u32),
        ("console_out_fd", i32),
        ("console_fn", CONSOLE_FN),
        ("console_opaque", C.c_void_p),
        ("pin_cpus", C.POINTER(u32)),
        ("nr_pin_cpus", u32),
        ("log_level", u32),
        ("log_fn", LOG_FN),
        ("log_opaque", C.c_void_p),
        ("disks", C.POINTER(MicrovmDisk)),
        ("nr_disks", u32),
        ("reserved", u32),
        ("vsock_cid", u64),
        ("transport", u32),
        ("console", u32),
        ("nr_nets", u32),
        ("nets", C.POINTER(MicrovmNet)),
        ("ledger", C.c_void_p),
    ]


class MicrovmStatus(Struct):
    _c_name_ = "hv_microvm_status"
    _fields_ = [
        ("reason", u32),
        ("vcpu", u32),
        ("error", i32),
        ("reserved", u32),
        ("exit", HvExit),
        ("message", C.c_char * 256),
        ("reserved_tail", u64 * 4),
    ]


# --- virtio_balloon.h -------------------------------------------------------

HV_VIRTIO_BALLOON_S_NR = 16
#: Statistics tags (index into BalloonInfo.stats).
BALLOON_STAT_NAMES = ["swap_in", "swap_out", "major_faults", "minor_faults", "free_memory",
                      "total_memory", "available_memory", "disk_caches", "hugetlb_allocations",
                      "hugetlb_failures"]


class BalloonInfo(Struct):
    _c_name_ = "hv_virtio_balloon_info"
    _fields_ = [
        ("size", u32),
        ("stats_valid", u32),
        ("target_bytes", u64),
        ("actual_bytes", u64),
        ("inflated_pages", u64),
        ("deflated_pages", u64),
        ("skipped_pages", u64),
        ("stats_updates", u64),
        ("stats_time_ns", u64),
        ("stats", u64 * HV_VIRTIO_BALLOON_S_NR),
    ]


#: Sizes computed by hand from the C headers (x86_64, LP64).  A mismatch
#: means this module and include/hvlib/ disagree: fail at import, loudly.
EXPECTED_SIZES: Dict[Type[C.Structure], int] = {
    MemRegionConfig: 56,
    MemRegionInfo: 80,
    VmConfig: 56,
    LedgerConfig: 32,
    LedgerUsage: 48,
    HvExit: 80,
    X86Regs: 144,
    X86Segment: 24,
    X86DTable: 16,
    X86Sregs: 312,
    X86Fpu: 416,
    X86Msr: 16,
    X86CpuidEntry: 40,
    X86LongMode: 40,
    E820Range: 24,
    LinuxBootConfig: 88,
    LoaderUsed: 24,
    LinuxBootResult: 248,
    MicrovmDisk: 24,
    MicrovmNet: 24,
    MicrovmConfig: 152,
    MicrovmStatus: 384,
    BalloonInfo: 192,
}

#: Every structure with a C name, for the layout test.
NAMED_STRUCTS: List[Type[C.Structure]] = [t for t in EXPECTED_SIZES if t._c_name_]


#: Spare bytes behind every structure the library fills (configs from
#: *_config_init(), results): configs only grow at the end, and a newer
#: library writes its whole, larger struct; the slack keeps that write inside
#: our buffer, and the new fields keep their defaults.
SLACK = 512

_S = TypeVar("_S", bound=C.Structure)


def alloc(cls: Type[_S]) -> _S:
    """A zeroed ``cls`` with :data:`SLACK` spare bytes behind it."""
    buf = C.create_string_buffer(C.sizeof(cls) + SLACK)
    return cls.from_buffer(buf)  # keeps buf alive through _b_base_


def _check_sizes() -> None:
    if C.sizeof(C.c_void_p) != 8:
        raise ImportError("hvlib's Python bindings support 64-bit hosts only")
    for struct, size in EXPECTED_SIZES.items():
        if C.sizeof(struct) != size:
            raise ImportError(
                f"hvlib bindings: struct {struct._c_name_} is {C.sizeof(struct)} bytes "
                f"in Python but {size} in the C headers"
            )


_check_sizes()
