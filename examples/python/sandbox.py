#!/usr/bin/env python3
"""sandbox: run shell commands, each in a fresh Linux micro-VM.

    sandbox.py 'uname -r'                  # prints the guest kernel's release
    sandbox.py -j 4 'nproc' 'date' 'id'    # four micro-VMs in parallel

Prints each command's stdout (and its stderr to stderr) and exits with its
status (several commands: the first non-zero one).  The guest is Debian's
stock kernel (scripts/fetch-kernel, or $HVLIB_KERNEL) and a busybox
initramfs whose /init is sandbox-init.sh, built once and cached under
${HVLIB_CACHE:-~/.cache/hvlib}/python.  `sandbox.py --prepare` only builds
that (no KVM needed), so a later run inside scripts/with-kvm, where the
cache is read-only, finds it.  Run from this source tree on a machine
without a usable /dev/kvm, it re-runs itself through scripts/with-kvm.

As a module: ``run("echo hi")`` returns a :class:`Result`.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import hvlib

import _tree

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parent.parent / "scripts"
INIT = HERE / "sandbox-init.sh"
CMDLINE = "console=ttyS0 quiet panic=-1"
MAX_CMDLINE = 2047  # x86 bzImage cmdline_size of Debian's kernels
_B64_LINE = re.compile(rb"^[A-Za-z0-9+/=]+$")


@dataclass
class Result:
    """What a command did in its micro-VM."""

    stdout: bytes
    stderr: bytes
    returncode: int
    console: str  # the whole serial console, for diagnosis


def _cache_dir() -> Path:
    base = os.environ.get("HVLIB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hvlib")
    return Path(base) / "python"


def kernel_path() -> str:
    """$HVLIB_KERNEL, else Debian's kernel that scripts/fetch-kernel caches."""
    if os.environ.get("HVLIB_KERNEL"):
        return os.environ["HVLIB_KERNEL"]
    out = subprocess.run([str(SCRIPTS / "fetch-kernel")], check=True, stdout=subprocess.PIPE,
                         text=True).stdout.strip()
    return os.path.join(out, "vmlinuz")


def initrd_path() -> str:
    """The cached initramfs for the current init script and busybox, built
    with scripts/make-initramfs if missing (into a temporary directory when
    the cache is read-only)."""
    key = hashlib.sha256(INIT.read_bytes() + Path("/bin/busybox").read_bytes()).hexdigest()[:16]
    path = _cache_dir() / f"sandbox-{key}.cpio.gz"
    if path.exists():
        return str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):
            raise PermissionError(path.parent)
    except OSError:
        path = Path(tempfile.mkdtemp(prefix="hvlib-sandbox-")) / path.name
    subprocess.run([str(SCRIPTS / "make-initramfs"), str(path), str(INIT)], check=True)
    return str(path)


def _decode_between(console: bytes, name: str) -> bytes:
    begin, end = f"HVSANDBOX-{name}-BEGIN".encode(), f"HVSANDBOX-{name}-END".encode()
    lines = console.replace(b"\r", b"").split(b"\n")
    try:
        first = lines.index(begin) + 1
        last = lines.index(end, first)
    except ValueError:
        return b""
    # Only base64 lines: a kernel message printed in between is skipped.
    return base64.b64decode(b"".join(l for l in lines[first:last] if _B64_LINE.match(l)))


def run(command: str, *, timeout: float = 300, memory: str = "128M", cpus: int = 1,
        files: Optional[Tuple[str, str]] = None) -> Result:
    """Run ``command`` (busybox sh) in a fresh micro-VM and return its result.
    Raises hvlib.Timeout if the guest did not finish in ``timeout`` seconds,
    RuntimeError if it stopped without reporting a status."""
    kernel, initrd = files or (kernel_path(), initrd_path())
    cmdline = f"{CMDLINE} hvsandbox={base64.b64encode(command.encode()).decode()}"
    if len(cmdline) > MAX_CMDLINE:
        raise ValueError(f"command too long for the kernel command line "
                         f"({len(command)} bytes)")
    with hvlib.MicroVM(kernel, initrd, cmdline, memory=memory, cpus=cpus) as vm:
        status = vm.run(timeout=timeout)
        console = vm.output
    m = re.search(rb"HVSANDBOX-STATUS (\d+)", console)
    if not m:
        tail = console.decode("utf-8", "replace")[-2000:]
        raise RuntimeError(f"the guest stopped ({status}) without a status; console:\n{tail}")
    return Result(_decode_between(console, "STDOUT"), _decode_between(console, "STDERR"),
                  int(m.group(1)), console.decode("utf-8", "replace"))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("commands", nargs="*", metavar="CMD", help="shell command (one VM each)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="micro-VMs at once (default: host CPUs)")
    p.add_argument("--timeout", type=float, default=300, help="seconds per command")
    p.add_argument("--memory", default="128M")
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--prepare", action="store_true",
                   help="only fetch the kernel and build the initramfs")
    args = p.parse_args(argv)
    _tree.load_library()
    files = (kernel_path(), initrd_path())
    if args.prepare:
        print(f"kernel {files[0]}\ninitrd {files[1]}")
        return 0
    if not args.commands:
        p.error("no command given")
    _tree.ensure_kvm()  # the guest files above are ready outside, read-only inside

    def one(cmd: str) -> Result:
        return run(cmd, timeout=args.timeout, memory=args.memory, cpus=args.cpus, files=files)

    status = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(one, c) for c in args.commands]
        for cmd, fut in zip(args.commands, futures):  # in the order given
            try:
                res = fut.result()
            except hvlib.Timeout:
                print(f"sandbox: {cmd!r}: timed out after {args.timeout} s", file=sys.stderr)
                status = status or 124
                continue
            except (hvlib.HvError, RuntimeError) as e:
                print(f"sandbox: {cmd!r}: {e}", file=sys.stderr)
                status = status or 1
                continue
            if len(args.commands) > 1:
                print(f"== {cmd} (exit {res.returncode})", flush=True)
            sys.stdout.buffer.write(res.stdout)
            sys.stdout.flush()
            sys.stderr.buffer.write(res.stderr)
            sys.stderr.flush()
            status = status or res.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
