"""Finding, loading and describing libhvlib.so.

Lookup order (the first that loads wins):

1. ``$HVLIB_LIBRARY``, the path of a libhvlib.so.  When set, it is the only
   candidate: an explicit choice that fails is an error, never silently
   replaced by another copy of the library.
2. ``pkg-config --variable=libdir hvlib`` + ``libhvlib.so.0``.
3. ``ctypes.util.find_library("hvlib")`` and then plain ``libhvlib.so.0``
   through the dynamic loader (``LD_LIBRARY_PATH``, ``ld.so.cache``, system
   directories).

The library is loaded on first use, not at ``import hvlib``, so that importing
the package never fails; :func:`load_library` loads it explicitly (with an
optional path) and reports :class:`~hvlib.errors.LibraryNotFound` listing
everything tried.
"""

from __future__ import annotations

import ctypes as C
import ctypes.util
import errno
import os
import shutil
import subprocess
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _abi as A
from ._util import StrPath
from .errors import HvError, LibraryNotFound, LibraryVersionError, NotSupported, make_error

ENV_VAR = "HVLIB_LIBRARY"
SONAME = "libhvlib.so.0"
#: Major version of the C library these bindings speak (its SONAME number).
SUPPORTED_MAJOR = 0
#: Oldest minor version with every function declared below.
MIN_MINOR = 1

_p = C.c_void_p
_int = C.c_int
_P = C.POINTER

#: name -> (restype, argtypes) of every C function the bindings call.
PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    # common.h
    "hv_version": (A.u32, []),
    "hv_strerror": (C.c_char_p, [_int]),
    "hv_last_error": (C.c_char_p, []),
    # mem.h
    "hv_mem_region_config_init": (None, [_p]),
    "hv_mem_create": (_int, [_P(_p)]),
    "hv_mem_destroy": (None, [_p]),
    "hv_mem_add_region": (_int, [_p, _P(A.MemRegionConfig), _P(A.u32)]),
    "hv_mem_remove_region": (_int, [_p, A.u32]),
    "hv_mem_region_info": (_int, [_p, A.u32, _P(A.MemRegionInfo)]),
    "hv_mem_regions": (_int, [_p, _P(A.u32), A.u32]),
    "hv_mem_read": (_int, [_p, A.u64, _p, C.c_size_t]),
    "hv_mem_write": (_int, [_p, A.u64, _p, C.c_size_t]),
    "hv_mem_set_dirty_log": (_int, [_p, A.u32, C.c_bool]),
    "hv_mem_get_dirty_log": (_int, [_p, A.u32, _p, C.c_size_t]),
    "hv_mem_dirty_bitmap_bytes": (C.c_size_t, [A.u64]),
    # bus.h
    "hv_bus_create": (_int, [_int, _P(_p)]),
    "hv_bus_destroy": (None, [_p]),
    "hv_bus_register": (_int, [_p, A.u64, A.u64, A.IO_FN, _p, C.c_char_p, _P(A.u32)]),
    "hv_bus_unregister": (_int, [_p, A.u32]),
    "hv_bus_dispatch": (_int, [_p, A.u64, A.u32, C.c_bool, _P(A.u64)]),
    "hv_bus_current_vcpu": (_p, []),
    # vm.h
    "hv_vm_config_init": (None, [_p]),
    "hv_vm_create": (_int, [_P(A.VmConfig), _P(_p)]),
    "hv_vm_destroy": (None, [_p]),
    "hv_vm_mem": (_p, [_p]),
    "hv_vm_bus": (_p, [_p, _int]),
    "hv_vm_check_extension": (_int, [_p, A.u32]),
    "hv_vm_fd": (_int, [_p]),
    "hv_vm_irq_line": (_int, [_p, A.u32, _int]),
    # vcpu.h
    "hv_exit_reason_name": (C.c_char_p, [A.u32]),
    "hv_vcpu_create": (_int, [_p, A.u32, _P(_p)]),
    "hv_vcpu_destroy": (None, [_p]),
    "hv_vcpu_index": (A.u32, [_p]),
    "hv_vcpu_fd": (_int, [_p]),
    "hv_vcpu_run_once": (_int, [_p, _P(A.HvExit)]),
    "hv_vcpu_run": (_int, [_p, _P(A.HvExit)]),
    "hv_vcpu_set_io_result": (_int, [_p, A.u64]),
    "hv_vcpu_kick": (_int, [_p]),
    "hv_vcpu_start": (_int, [_p, A.EXIT_FN, _p]),
    "hv_vcpu_stop": (_int, [_p]),
    "hv_vcpu_join": (_int, [_p, _P(A.HvExit)]),
    "hv_vcpu_pause": (_int, [_p]),
    "hv_vcpu_resume": (_int, [_p]),
    "hv_vcpu_set_affinity": (_int, [_p, _P(A.u32), A.u32]),
    # x86.h
    "hv_vcpu_get_regs": (_int, [_p, _P(A.X86Regs)]),
    "hv_vcpu_set_regs": (_int, [_p, _P(A.X86Regs)]),
    "hv_vcpu_get_sregs": (_int, [_p, _P(A.X86Sregs)]),
    "hv_vcpu_set_sregs": (_int, [_p, _P(A.X86Sregs)]),
    "hv_vcpu_get_fpu": (_int, [_p, _P(A.X86Fpu)]),
    "hv_vcpu_set_fpu": (_int, [_p, _P(A.X86Fpu)]),
    "hv_vcpu_get_msrs": (_int, [_p, _P(A.X86Msr), A.u32]),
    "hv_vcpu_set_msrs": (_int, [_p, _P(A.X86Msr), A.u32]),
    "hv_vm_get_supported_cpuid": (_int, [_p, _P(A.X86CpuidEntry), _P(A.u32)]),
    "hv_vcpu_set_cpuid": (_int, [_p, _P(A.X86CpuidEntry), A.u32]),
    "hv_x86_setup_real_mode": (_int, [_p, A.u16, A.u16]),
    "hv_x86_setup_protected_mode": (_int, [_p, A.u32]),
    "hv_x86_setup_long_mode": (_int, [_p, _P(A.X86LongMode)]),
    "hv_x86_long_mode_scratch_bytes": (A.u64, [A.u64]),
    "hv_x86_setup_linux64": (_int, [_p, A.u64, A.u64, A.u64]),
    "hv_x86_setup_platform_vcpu": (_int, [_p, A.u32]),
    # loader.h
    "hv_linux_boot_config_init": (None, [_p]),
    "hv_loader_load_linux_file": (_int, [_p, C.c_char_p, C.c_char_p,
                                         _P(A.LinuxBootConfig), _P(A.LinuxBootResult)]),
    "hv_loader_load_raw": (_int, [_p, _p, C.c_size_t, A.u64]),
    # ledger.h
    "hv_ledger_config_init": (None, [_p]),
    "hv_ledger_create": (_int, [_P(A.LedgerConfig), _P(_p)]),
    "hv_ledger_destroy": (_int, [_p]),
    "hv_ledger_reserve": (_int, [_p, A.u64, A.u32]),
    "hv_ledger_release": (_int, [_p, A.u64, A.u32]),
    "hv_ledger_usage": (_int, [_p, _P(A.LedgerUsage)]),
    # microvm.h
    "hv_microvm_config_init": (None, [_p]),
    "hv_microvm_create": (_int, [_P(A.MicrovmConfig), _P(_p)]),
    "hv_microvm_start": (_int, [_p]),
    "hv_microvm_wait": (_int, [_p, _int, _P(A.MicrovmStatus)]),
    "hv_microvm_poll_fd": (_int, [_p]),
    "hv_microvm_stop": (_int, [_p]),
    "hv_microvm_console_input": (C.c_size_t, [_p, _p, C.c_size_t]),
    "hv_microvm_vm": (_p, [_p]),
    "hv_microvm_vcpu": (_p, [_p, A.u32]),
    "hv_microvm_destroy": (None, [_p]),
    "hv_stop_reason_name": (C.c_char_p, [A.u32]),
    "hv_microvm_disk_init": (None, [_p]),
    "hv_microvm_balloon": (_p, [_p]),
    # virtio_balloon.h
    "hv_virtio_balloon_set_target": (_int, [_p, A.u64]),
    "hv_virtio_balloon_get": (_int, [_p, _P(A.BalloonInfo)]),
    "hv_virtio_balloon_request_stats": (_int, [_p]),
    "hv_microvm_net_init": (None, [_p]),
}


#: Functions newer than MIN_MINOR: a library without them still loads, and
#: only the feature that needs one raises NotSupported (see :meth:`Library.has`).
OPTIONAL = {"hv_microvm_disk_init", "hv_microvm_net_init", "hv_microvm_balloon",
            "hv_virtio_balloon_set_target", "hv_virtio_balloon_get",
            "hv_virtio_balloon_request_stats"}


class Library:
    """A loaded libhvlib.so with every prototype declared."""

    def __init__(self, cdll: C.CDLL, path: str) -> None:
        self.cdll = cdll
        self.path = path
        self.absent = {n for n in OPTIONAL if not hasattr(cdll, n)}
        missing = [n for n in PROTOTYPES if n not in OPTIONAL and not hasattr(cdll, n)]
        if missing:
            raise LibraryVersionError(
                message=f"{path} lacks {', '.join(missing[:5])}"
                        f"{' ...' if len(missing) > 5 else ''}: too old for these bindings",
                function="load_library")
        for name, (restype, argtypes) in PROTOTYPES.items():
            if name in self.absent:
                continue
            fn = getattr(cdll, name)
            fn.restype = restype
            fn.argtypes = argtypes
        self.version = int(cdll.hv_version())

    @property
    def version_tuple(self) -> Tuple[int, int, int]:
        v = self.version
        return (v >> 16, (v >> 8) & 0xFF, v & 0xFF)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # Only reached for names not set in __init__: the C functions.
        return getattr(self.cdll, name)

    def has(self, name: str) -> bool:
        """Whether this library has C function ``name`` (optional ones may lack)."""
        return name not in self.absent and hasattr(self.cdll, name)

    def require(self, name: str, feature: str) -> None:
        """Raise NotSupported naming ``feature`` if ``name`` is absent."""
        if not self.has(name):
            raise NotSupported(errno.ENOTSUP, f"{feature}: {self.path} is too old "
                                              f"(no {name})", name)

    def last_error(self) -> str:
        """hv_last_error() of this thread, decoded."""
        msg = self.cdll.hv_last_error()
        return msg.decode("utf-8", "replace") if msg else ""

    def check(self, name: str, ret: int) -> int:
        """Raise the HvError for a negative ``ret`` of C function ``name``
        (call it right after the failed call, on the same thread)."""
        if ret < 0:
            raise make_error(ret, name, self.last_error())
        return ret

    def call(self, name: str, *args: Any) -> int:
        """Call C function ``name``; raise an HvError if it returns -errno."""
        ret = getattr(self.cdll, name)(*args)
        if ret < 0:
            raise make_error(ret, name, self.last_error())
        return ret


_library: Optional[Library] = None
_load_lock = threading.Lock()


def _pkg_config_libdir() -> Tuple[Optional[str], str]:
    exe = shutil.which("pkg-config")
    if not exe:
        return None, "pkg-config: not installed"
    try:
        out = subprocess.run([exe, "--variable=libdir", "hvlib"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"pkg-config --variable=libdir hvlib: {e}"
    libdir = out.stdout.strip()
    if out.returncode != 0 or not libdir:
        why = out.stderr.strip().splitlines()[0] if out.stderr.strip() else "no hvlib.pc"
        return None, f"pkg-config --variable=libdir hvlib: {why}"
    return libdir, ""


def candidates() -> Tuple[List[str], List[str]]:
    """What :func:`load_library` would try, in order: (paths or names,
    notes on lookups that yielded nothing)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return [env], []
    found: List[str] = []
    notes: List[str] = []
    libdir, why = _pkg_config_libdir()
    if libdir:
        found += [os.path.join(libdir, SONAME), os.path.join(libdir, "libhvlib.so")]
    else:
        notes.append(why)
    name = ctypes.util.find_library("hvlib")
    if name:
        found.append(name)
    else:
        notes.append('ctypes.util.find_library("hvlib"): nothing')
    if SONAME not in found:
        found.append(SONAME)
    return found, notes


def _open(path: str) -> Library:
    cdll = C.CDLL(path)
    lib = Library(cdll, path)
    major, minor, _ = lib.version_tuple
    if major != SUPPORTED_MAJOR or minor < MIN_MINOR:
        raise LibraryVersionError(
            message=f"{path} is hvlib {'.'.join(map(str, lib.version_tuple))}; these bindings "
                    f"need {SUPPORTED_MAJOR}.x with x >= {MIN_MINOR}",
            function="load_library")
    return lib


def load_library(path: Optional[str] = None) -> Library:
    """Load libhvlib.so (once per process) and return it.

    ``path``: load exactly this file instead of looking it up.  Calling again
    with a different path after a successful load raises ``HvError``: one
    process uses one copy of the library.
    Raises :class:`LibraryNotFound` (or :class:`LibraryVersionError`) naming
    every candidate tried and why it failed.
    """
    global _library
    with _load_lock:
        if _library is not None:
            if path and os.path.realpath(path) != os.path.realpath(_library.path):
                raise HvError(message=f"hvlib is already loaded from {_library.path}",
                              function="load_library")
            return _library
        if path:
            paths, notes = [path], []
        else:
            paths, notes = candidates()
        tried: List[str] = []
        version_error: Optional[LibraryVersionError] = None
        for p in paths:
            try:
                _library = _open(p)
                return _library
            except LibraryVersionError as e:
                version_error = version_error or e
                tried.append(f"{p}: {e.message}")
            except OSError as e:
                tried.append(f"{p}: {e}")
        tried += notes
        source = (f"{ENV_VAR}={paths[0]}" if not path and os.environ.get(ENV_VAR) else
                  "explicit path" if path else "lookup")
        text = ("libhvlib.so not found or not loadable (" + source + "); tried:\n  " +
                "\n  ".join(tried) +
                f"\nSet {ENV_VAR}=/path/to/libhvlib.so (e.g. build/libhvlib.so), or install "
                "hvlib where pkg-config or the dynamic loader finds it.")
        cls = LibraryVersionError if version_error and len(paths) == 1 else LibraryNotFound
        raise cls(message=text, function="load_library", tried=tried)


def lib() -> Library:
    """The loaded library, loading it on first use."""
    return _library if _library is not None else load_library()


def strerror(err: int) -> str:
    """hv_strerror() for a positive or negative errno."""
    msg = lib().cdll.hv_strerror(-abs(err))
    return msg.decode("utf-8", "replace") if msg else ""


def bytes_or_none(s: "Optional[StrPath]") -> Optional[bytes]:
    """A str/bytes/PathLike as a C string (bytes), or None."""
    return None if s is None else os.fsencode(s)
