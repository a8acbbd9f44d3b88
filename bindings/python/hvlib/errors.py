"""Exceptions raised by the hvlib bindings.

Every failure of a C call becomes an :class:`HvError` (or a subclass chosen by
the error code and the call) carrying the positive ``errno``, the C function's
name and the library's own message from ``hv_last_error()``, read on the same
thread right after the call failed::

    try:
        vm = hvlib.MicroVM(kernel="vmlinuz")
    except hvlib.KvmUnavailable as e:
        print("no KVM here:", e.message)
    except hvlib.HvError as e:
        print(e.function, e.errno, e)

Several classes also derive from the matching built-in exception
(``InvalidArgument`` is a ``ValueError``, ``Timeout`` a ``TimeoutError``), so
generic handlers keep working.
"""

from __future__ import annotations

import errno as _errno
import os
from typing import Dict, Optional, Sequence, Type


class HvError(Exception):
    """A failed hvlib call.

    Attributes:
        errno: the positive error code (``errno.ENOENT``, ...), 0 if none.
        message: the C library's description of this failure (``hv_last_error()``),
            or the bindings' own when the failure was detected in Python.
        function: the C function (or Python operation) that failed.
    """

    def __init__(self, errno: int = 0, message: str = "", function: str = "") -> None:
        super().__init__(message or (os.strerror(errno) if errno else "hvlib error"))
        self.errno = errno
        self.message = message
        self.function = function

    @property
    def strerror(self) -> str:
        """The generic description of :attr:`errno` (``strerror``)."""
        return os.strerror(self.errno) if self.errno else ""

    def __str__(self) -> str:
        text = self.message or self.strerror or "hvlib error"
        return f"{self.function}: {text}" if self.function else text

    def __reduce__(self):  # picklable across processes (multiprocessing)
        return (type(self), (self.errno, self.message, self.function))


class LibraryNotFound(HvError, ImportError):
    """libhvlib.so could not be found or loaded; :attr:`tried` lists every
    place looked at, with the reason each failed."""

    def __init__(self, errno: int = _errno.ENOENT, message: str = "", function: str = "",
                 tried: Sequence[str] = ()) -> None:
        super().__init__(errno, message, function)
        self.tried = list(tried)

    def __reduce__(self):
        return (type(self), (self.errno, self.message, self.function, self.tried))


class LibraryVersionError(LibraryNotFound):
    """The libhvlib.so found is not a version these bindings support."""


class KvmUnavailable(HvError):
    """KVM cannot be used: no ``/dev/kvm`` (``ENOENT``), no permission
    (``EACCES``), or a KVM lacking what hvlib needs (``ENOTSUP``)."""


class InvalidArgument(HvError, ValueError):
    """A bad argument or configuration (``EINVAL``)."""


class LoadError(HvError):
    """A kernel, initrd or image could not be loaded: missing or unreadable
    file, not a supported format, too big for guest memory, ... The message
    names the file and the problem."""


class Timeout(HvError, TimeoutError):
    """The guest was still running when the timeout expired.

    ``status`` is set when the operation stopped the guest after the timeout
    (:meth:`hvlib.MicroVM.run`), else None (the guest is still running)."""

    def __init__(self, errno: int = _errno.ETIMEDOUT, message: str = "", function: str = "",
                 status: object = None) -> None:
        super().__init__(errno, message, function)
        self.status = status

    def __reduce__(self):
        return (type(self), (self.errno, self.message, self.function, self.status))


class BadAddress(HvError):
    """A guest-physical range not (entirely) backed by guest memory (``EFAULT``)."""


class AlreadyExists(HvError):
    """Overlaps something registered before (``EEXIST``): a memory region, an
    I/O range, a vCPU index, a vsock CID (``EADDRINUSE``)."""


class NotFound(HvError):
    """No such object (``ENOENT``): region id, handler, ..."""


class Busy(HvError):
    """The object is in a state that forbids the call (``EBUSY``): already
    started, running, ..."""


class NotSupported(HvError):
    """Not supported by this KVM, this build of hvlib or these bindings
    (``ENOTSUP``)."""


class OutOfMemory(HvError, MemoryError):
    """Host memory (or the hugepage pool) ran out (``ENOMEM``)."""


class AdmissionRefused(HvError):
    """A :class:`~hvlib.Ledger` refused a VM (``ENOSPC``): the message says
    what is short ("admission: 512 MiB of guest memory asked, 300 MiB left of
    4096 MiB x1.50 overcommit")."""


_BY_ERRNO: Dict[int, Type[HvError]] = {
    _errno.EINVAL: InvalidArgument,
    _errno.ETIMEDOUT: Timeout,
    _errno.EFAULT: BadAddress,
    _errno.EEXIST: AlreadyExists,
    _errno.EADDRINUSE: AlreadyExists,  # a vsock CID another VM holds
    _errno.ENOENT: NotFound,
    _errno.EBUSY: Busy,
    _errno.ENOTSUP: NotSupported,
    _errno.ENOMEM: OutOfMemory,
}

#: Codes with which VM creation says KVM itself is unusable (see vm.h).
_KVM_ERRNOS = {_errno.ENOENT, _errno.EACCES, _errno.EPERM, _errno.ENOTSUP, _errno.ENODEV,
               _errno.ENXIO}
#: Codes only the loaders use for a bad image (see loader.h).
_LOADER_ERRNOS = {_errno.ENOEXEC, _errno.E2BIG, _errno.EFBIG, _errno.EISDIR}
#: Words in a micro-VM creation message that place the failure in loading.
_LOADER_WORDS = ("kernel", "initrd", "bzimage", "elf", "linux", "pvh", "vmlinux",
                 "command line", "payload")


def classify(ret: int, function: str, message: str) -> Type[HvError]:
    """The exception class for -``ret`` from C function ``function``."""
    err = -ret
    lower = message.lower()
    if err in _KVM_ERRNOS and (function == "hv_vm_create" or
                               (function == "hv_microvm_create" and "/dev/kvm" in message)):
        return KvmUnavailable
    if function.startswith("hv_loader_"):
        return LoadError
    if err == _errno.ENOSPC and "admission:" in message:
        return AdmissionRefused
    if function == "hv_microvm_create":
        if lower.startswith("micro-vm config"):
            return InvalidArgument
        if err in _LOADER_ERRNOS or any(w in lower for w in _LOADER_WORDS):
            return LoadError
    return _BY_ERRNO.get(err, HvError)


def make_error(ret: int, function: str, message: str,
               cls: Optional[Type[HvError]] = None) -> HvError:
    """Build the exception for a negative return ``ret`` of ``function``."""
    if cls is None:
        cls = classify(ret, function, message)
    return cls(-ret, message, function)
