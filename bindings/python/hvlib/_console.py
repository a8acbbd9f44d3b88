"""The host side of a micro-VM's serial console: a pipe and a reader thread.

The UART writes the guest's bytes to the pipe from vCPU threads; a Python
thread reads them, keeps them (``capture``) and passes them on to a sink.
A pipe rather than a Python ``console_fn`` callback so that vCPU threads
never wait for the GIL: the guest runs at full speed however busy the
interpreter is, and several VMs do not serialize on it.
"""

from __future__ import annotations

import codecs
import fcntl
import io
import os
import threading
import time
from typing import Any, BinaryIO, Callable, Optional, TextIO, Union

from ._util import callback_failed
from .errors import Timeout

#: Where console output goes as it arrives: a callable taking bytes, or a
#: binary or text file (text is decoded as UTF-8, invalid bytes replaced).
ConsoleSink = Union[Callable[[bytes], Any], BinaryIO, TextIO, None]

_F_SETPIPE_SZ = 1031  # Linux; bigger pipe: more slack before the UART drops output
_PIPE_BYTES = 1 << 20


def _writer(sink: ConsoleSink) -> Optional[Callable[[bytes], Any]]:
    if sink is None:
        return None
    write = getattr(sink, "write", None)
    if write is None:
        if not callable(sink):
            raise TypeError(f"console: expected a callable or a file, not {type(sink).__name__}")
        return sink
    flush = getattr(sink, "flush", lambda: None)
    if isinstance(sink, io.TextIOBase):
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def text(data: bytes) -> None:
            write(decoder.decode(data))
            flush()
        return text

    def binary(data: bytes) -> None:
        write(data)
        flush()
    return binary


class Console:
    """A pipe whose write end is the guest's console fd, drained by a thread."""

    def __init__(self, sink: ConsoleSink = None, capture: bool = True, name: str = "") -> None:
        self._write = _writer(sink)
        self._capture = capture
        self._data = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self.read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            fcntl.fcntl(self.write_fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass  # above /proc/sys/fs/pipe-max-size: the default 64 KiB will do
        self._thread = threading.Thread(target=self._pump, name=f"hvlib-console{name}",
                                        daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 65536)
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if data and self._write is not None:
                try:
                    self._write(data)
                except BaseException as e:  # noqa: BLE001 - keep draining the guest
                    callback_failed(e, "console sink")
            with self._cond:
                if data and self._capture:
                    self._data += data
                if not data:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    @property
    def output(self) -> bytes:
        with self._cond:
            return bytes(self._data)

    def wait_for(self, needle: bytes, timeout: Optional[float], start: int = 0) -> int:
        """Index just past the first ``needle`` at or after ``start`` in the
        captured output, waiting up to ``timeout`` seconds for it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                i = self._data.find(needle, start)
                if i >= 0:
                    return i + len(needle)
                if self._eof:
                    raise EOFError(f"console closed without {needle!r}")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    # The tail of what did arrive says where the guest got to.
                    tail = bytes(self._data[-2000:]).decode(errors="replace")
                    raise Timeout(message=f"no {needle!r} on the console after {timeout} s;"
                                  f" its last output:\n{tail}", function="wait_for")
                self._cond.wait(left)

    def finish(self) -> None:
        """The guest can no longer write: close our write end and drain."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def close(self) -> None:
        self.finish()
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1
