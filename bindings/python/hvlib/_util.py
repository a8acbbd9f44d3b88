"""Small helpers shared by the modules: sizes, paths, callback bookkeeping and
the clean-up of live objects at interpreter exit."""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import weakref
from fractions import Fraction
from typing import Any, Optional, TypeVar, Union

from .errors import InvalidArgument

#: A file system path as the bindings accept it.
StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: A size in bytes: an int, or a string such as "256M", "1G", "4096", "1.5GiB".
Size = Union[int, str]

log = logging.getLogger("hvlib")

_UNITS = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgtpe]?)(?:(i?)b)?\s*$", re.IGNORECASE)


def parse_size(value: Size, what: str = "size") -> int:
    """Bytes in ``value``: a non-negative int, or a string of a number with an
    optional binary suffix K, M, G, T, P, E (powers of 1024, as in hvrun and
    QEMU; "KiB"/"KB"/"k" all mean 1024), e.g. "256M", "1G", "1.5G", "4096".

    Raises :class:`~hvlib.InvalidArgument` (a ``ValueError``) for malformed,
    negative or fractional byte counts and ``TypeError`` for other types.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{what}: expected an int or a string like '256M', "
                        f"not {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(message=f"{what}: {value} is negative", function="parse_size")
        return value
    m = _SIZE_RE.match(value)
    if not m:
        raise InvalidArgument(
            message=f"{what}: {value!r} is not a size (expected e.g. 4096, '256M', '1G')",
            function="parse_size")
    number = Fraction(m.group(1)) * (1 << _UNITS[m.group(2).lower()])
    if number.denominator != 1:
        raise InvalidArgument(message=f"{what}: {value!r} is not a whole number of bytes",
                              function="parse_size")
    return int(number)


def format_size(n: int) -> str:
    """The shortest exact binary-suffixed spelling of n bytes ("256M", "1G", "4097")."""
    for suffix, shift in (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift}{suffix}"
    return str(n)


# --- callbacks ----------------------------------------------------------------
# C callbacks run on threads hvlib created (vCPU threads) or on a Python thread
# inside a C call (vcpu.run()).  A callback must not destroy the object whose
# thread it runs on (that would join itself); `callback_depth` lets close()
# notice and refuse with Busy instead of hanging.

_tls = threading.local()


class in_callback:
    """Context manager marking the current thread as inside an hvlib callback."""

    def __enter__(self) -> None:
        _tls.depth = getattr(_tls, "depth", 0) + 1

    def __exit__(self, *exc: Any) -> None:
        _tls.depth -= 1


def callback_depth() -> int:
    return getattr(_tls, "depth", 0)


def thread_state() -> threading.local:
    """Per-thread state shared by the modules."""
    return _tls


class CallbackErrors:
    """Collects the first exception a Python callback raises while this
    thread is inside a C call made from Python (``vcpu.run()``,
    ``bus.dispatch()``), so that the call can re-raise it afterwards::

        with CallbackErrors(vcpu) as errors:
            ret = lib.hv_vcpu_run(...)
        errors.reraise()

    With a vCPU, the first error also kicks it so that the run returns soon.
    Callbacks on threads without one (vCPU threads hvlib manages) are logged.
    """

    def __init__(self, vcpu: Any = None) -> None:
        self.vcpu = vcpu
        self.exc: "BaseException | None" = None

    def __enter__(self) -> "CallbackErrors":
        stack = getattr(_tls, "catchers", None)
        if stack is None:
            stack = _tls.catchers = []
        stack.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _tls.catchers.pop()

    def reraise(self) -> None:
        exc, self.exc = self.exc, None
        if exc is not None:
            try:
                raise exc
            finally:
                exc = None  # no reference cycle through the traceback


def callback_failed(exc: BaseException, what: str) -> None:
    """Report an exception raised by a Python callback invoked from C."""
    stack = getattr(_tls, "catchers", None)
    if stack:
        catcher = stack[-1]
        if catcher.exc is None:
            catcher.exc = exc
            if catcher.vcpu is not None:
                catcher.vcpu._kick_quietly()
        return
    log.error("%s raised", what, exc_info=exc)


# --- clean-up at exit -----------------------------------------------------------
# vCPU threads call back into Python; they must be stopped and joined before
# the interpreter finalizes, or they would block forever on the GIL.

_live: "weakref.WeakSet[Any]" = weakref.WeakSet()
_live_lock = threading.Lock()


def track(obj: Any) -> None:
    """Close obj (its ``close()``) at interpreter exit if still open."""
    with _live_lock:
        _live.add(obj)


def untrack(obj: Any) -> None:
    with _live_lock:
        _live.discard(obj)


@atexit.register
def _close_all() -> None:
    with _live_lock:
        objs = list(_live)
    for obj in objs:
        try:
            obj.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            log.exception("closing %r at exit", obj)


_H = TypeVar("_H", bound="Handle")


class Handle:
    """The life cycle the handle wrappers share.  ``with`` closes; a
    standalone handle (``_owner`` None) is closed when garbage-collected; a
    borrowed one (a VM's memory map or bus) lives and dies with its owner.
    Subclasses set ``_handle`` and ``_owner`` and define ``close()``."""

    _handle: Optional[int]
    _owner: Any

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_owner", True) is None and getattr(self, "_handle", None):
            self.close()

    def close(self) -> None:
        raise NotImplementedError
