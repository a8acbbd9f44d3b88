#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The issue's "done when", literally: the hvrun binary boots Debian's stock
kernel with

    hvrun --disk d.img --net tap=hvt0 --vsock 3 --rng --balloon=64M --console virtio

over each transport (--transport mmio, then pci: one boot each), and every
device works inside the guest (tests/hvrun/hvrun-init.sh prints the
markers):
  disk     the host's pattern reads back; the guest's writes are in the
           image after hvrun exits, byte for byte
  net      eth0 (10.0.2.15) pings the host's end of the tap (10.0.2.1), in
           a network namespace of this test's own
  vsock    this process connects to CID 3 with AF_VSOCK and gets its bytes
           echoed, then takes 300000 pattern bytes from the guest; vhost's
           queues are notified through ioeventfds, never a vCPU exit
  rng      64 bytes from /dev/hwrng, served by virtio_rng
  balloon  the driver binds and MemFree drops as the balloon inflates
  console  a line out on hvc0 reaches hvrun's stdout; one from hvrun's stdin
           reaches the guest's hvc0
  pci      every virtio function uses MSI-X, and the vectors fire
and hvrun exits 0 (the guest powered off).  Each failure names its device.

usage: test_hvrun_devices.py HVRUN GUEST_DIR [TRANSPORT...]
GUEST_DIR holds vmlinuz and hvrun-initrd.cpio.gz; exit 77 (skip) without.
"""
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

TAP = "hvt0"
CID = 3
ECHO_PORT, HOST_PORT, GUEST_BYTES = 1234, 1235, 300000  # as hvrun-init.sh
DISK_BYTES = 4 << 20
DRIVERS = {"virtio_blk", "virtio_net", "vmw_vsock_virtio_transport", "virtio_rng",
           "virtio_balloon", "virtio_console"}


def host_pattern(n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"hvlib-disk-%d" % i).digest()
        i += 1
    return bytes(out[:n])


def guest_byte(i):  # tests/vsock/vsock_echo.c's pattern()
    return (i * 31 + (i >> 9) + 7) & 0xff


class Console:
    """hvrun's stdout, line by line, with waits for markers."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def find(self, prefix):
        with self.cond:
            for line in self.lines:
                at = line.find(prefix)
                if at >= 0:
                    return line[at + len(prefix):].strip()
        return None

    def find_all(self, prefix):
        with self.cond:
            return [l[l.find(prefix) + len(prefix):].strip() for l in self.lines if prefix in l]

    def wait(self, prefix, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                v = self.find(prefix)
                if v is not None or self.closed:
                    return v
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def text(self):
        with self.cond:
            return "\n".join(self.lines)


def sh(cmd):
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


def configure_tap(fail):
    end = time.monotonic() + 60
    while sh(f"ip link show {TAP}").returncode:
        if time.monotonic() > end:
            fail("net: hvrun never created tap " + TAP)
            return
        time.sleep(0.05)
    r = sh(f"ip addr add 10.0.2.1/24 dev {TAP} && ip link set {TAP} up")
    if r.returncode:
        fail("net: configuring the host end of the tap: " + r.stdout)


def read_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(65536, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def vsock_exchange(con, listener, fail):
    if con.wait("HVLIB-VSOCK-LISTENING", 180) is None:
        fail("vsock: the guest never listened (HVLIB-VSOCK-LISTENING)")
        return
    payload = host_pattern(100000)
    try:
        s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect((CID, ECHO_PORT))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        echoed = read_exact(s, len(payload) + 1)
        s.close()
        if echoed != payload:
            fail(f"vsock: echo returned {len(echoed)} bytes, not the {len(payload)} sent")
        listener.settimeout(60)
        c, _ = listener.accept()
        c.settimeout(60)
        got = read_exact(c, GUEST_BYTES + 1)
        c.close()
        want = bytes(guest_byte(i) for i in range(GUEST_BYTES))
        if got != want:
            fail(f"vsock: {len(got)} bytes from the guest, not its {GUEST_BYTES}-byte pattern")
    except OSError as e:
        fail(f"vsock: {e}")


def expected_image(original):
    img = bytearray(original)
    img[2 << 20:(2 << 20) + 65536] = original[:65536]
    line = b"HVLIB-DISK-GUEST-WROTE-THIS\n"
    img[3 << 20:(3 << 20) + 4096] = line + bytes(4096 - len(line))
    return bytes(img)


def check_markers(con, transport, stderr_text, fail):
    devices = con.find_all("HVLIB-VIRTIO-DEVICE ")
    drivers = {d.split()[0] for d in devices}
    for drv in sorted(DRIVERS - drivers):
        fail(f"{drv}: no virtio device bound to it (devices: {devices})")
    for d in devices:
        if d.split()[-1] != transport:
            fail(f"{d.split()[0]}: on {d.split()[-1]}, not {transport}")
    for m in con.find_all("HVLIB-MODPROBE-FAILED "):
        fail(f"modprobe {m} failed")
    want = hashlib.sha256(host_pattern(1 << 20)).hexdigest()
    if con.find("HVLIB-DISK-SHA ") != want:
        fail(f"disk: the guest read {con.find('HVLIB-DISK-SHA ')}, not the host's {want}")
    if con.find("HVLIB-DISK-WRITE ") != "0":
        fail(f"disk: the guest's write failed ({con.find('HVLIB-DISK-WRITE ')})")
    if con.find("HVLIB-RNG-CURRENT ") not in ("virtio_rng.0", "virtio_rng"):
        fail(f"rng: /dev/hwrng is served by {con.find('HVLIB-RNG-CURRENT ')!r}")
    if con.find("HVLIB-RNG-BYTES ") != "64":
        fail(f"rng: read {con.find('HVLIB-RNG-BYTES ')} of 64 bytes")
    drop = con.find("HVLIB-BALLOON-DROP-MIB ")
    if drop is None or int(drop) < 48:
        fail(f"balloon: MemFree dropped by {drop} MiB, not ~64")
    if con.find("HVLIB-NET-PING ") != "0":
        fail("net: eth0 could not ping 10.0.2.1")
    if con.find("HVLIB-HVC0-OUT ") != "written-to-hvc0":
        fail("console: the guest's hvc0 line never reached hvrun's stdout")
    if con.find("HVLIB-HVC0-IN ") != "typed-into-hvrun":
        fail(f"console: hvc0 read {con.find('HVLIB-HVC0-IN ')!r}, not the line from stdin")
    if con.find("HVLIB-VSOCK-CID ") != str(CID):
        fail(f"vsock: guest CID {con.find('HVLIB-VSOCK-CID ')}")
    if con.find("HVLIB-VSOCK-ECHOED ") != "100000" or \
            con.find("HVLIB-VSOCK-SENT ") != str(GUEST_BYTES):
        fail("vsock: the guest did not echo 100000 bytes and send 300000")
    # Audit builds (-DHVLIB_SECCOMP_AUDIT=ON) name each call a filter lacks.
    for line in stderr_text.splitlines():
        if "hvlib seccomp audit" in line:
            fail(f"seccomp: {line}")
    if "notified through a vCPU exit" in stderr_text:
        fail("vsock: a notification took the vCPU exit instead of the ioeventfd")
    wired = "notifications at 0x" if transport == "pci" else "notifications go to eventfd"
    if sum(f"virtio-vsock: queue {q} {wired}" in stderr_text for q in (0, 1)) != 2:
        fail(f"vsock: vhost's queues were not given ioeventfds ('{wired}' in the log)")
    fired = int(con.find("HVLIB-IRQ-FIRED ") or 0)
    if fired < 6:
        fail(f"interrupts: only {fired} virtio interrupt lines fired")
    msix = con.find_all("HVLIB-MSIX ")
    if transport == "pci":
        if len(msix) != len(DRIVERS):
            fail(f"pci: {len(msix)} virtio functions, not {len(DRIVERS)}: {msix}")
        for m in msix:
            if int(m.split()[1]) < 2:
                fail(f"pci: function {m.split()[0]} has {m.split()[1]} MSI-X vectors")
    elif msix:
        fail(f"mmio: virtio PCI functions appeared: {msix}")
    if con.find("HVLIB-DONE") is None:
        fail("the guest never finished its checks (no HVLIB-DONE)")


def boot(hvrun, guest, transport, work):
    failures = []

    def fail(msg):
        failures.append(f"[{transport}] {msg}")
        print(f"FAIL: [{transport}] {msg}", file=sys.stderr, flush=True)

    disk = os.path.join(work, f"d-{transport}.img")
    original = host_pattern(1 << 20) + bytes(DISK_BYTES - (1 << 20))
    with open(disk, "wb") as f:
        f.write(original)
    listener = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    listener.bind((socket.VMADDR_CID_ANY, HOST_PORT))
    listener.listen(1)
    errlog = open(os.path.join(work, f"hvrun-{transport}.err"), "w+")
    cmd = [hvrun, "--kernel", os.path.join(guest, "vmlinuz"),
           "--initrd", os.path.join(guest, "hvrun-initrd.cpio.gz"),
           "--cmdline", "console=ttyS0 quiet panic=-1", "--memory", "256M",
           "--disk", disk, "--net", "tap=" + TAP, "--vsock", str(CID), "--rng",
           "--balloon=64M", "--console", "virtio", "--transport", transport,
           "--timeout", "400", "--verbose"]
    print("running: " + " ".join(cmd), file=sys.stderr, flush=True)
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog)
    con = Console(p.stdout)
    configure_tap(fail)
    if con.wait("HVLIB-HVC0-READY", 300) is None:
        fail("console: the guest never got to reading hvc0 (HVLIB-HVC0-READY)")
    else:
        p.stdin.write(b"typed-into-hvrun\n")
        p.stdin.flush()
    vsock_exchange(con, listener, fail)
    try:
        rc = p.wait(timeout=420)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    con.thread.join(10)
    listener.close()
    errlog.seek(0)
    stderr_text = errlog.read()
    errlog.close()
    if rc != 0:
        fail(f"hvrun exited {rc}, not 0 (guest powered off)")
    check_markers(con, transport, stderr_text, fail)
    with open(disk, "rb") as f:
        image = f.read()
    want = expected_image(original)
    if image != want:
        bad = next((i for i in range(len(want)) if i >= len(image) or image[i] != want[i]),
                   len(want))
        fail(f"disk: the image differs from what the guest wrote at byte {bad:#x} "
             f"(size {len(image)})")
    print(f"[{transport}] boot took {time.monotonic() - start:.1f} s; the guest said:\n  " +
          "\n  ".join(l[l.find("HVLIB-"):] for l in con.lines if "HVLIB-" in l),
          file=sys.stderr)
    if failures:
        print(f"--- [{transport}] guest console ---\n{con.text()}\n"
              f"--- [{transport}] hvrun stderr (tail) ---\n{stderr_text[-6000:]}",
              file=sys.stderr)
    else:
        print(f"[{transport}] all devices work", file=sys.stderr)
    return failures


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    hvrun, guest = sys.argv[1], sys.argv[2]
    transports = sys.argv[3:] or ["mmio", "pci"]
    for f in ("vmlinuz", "hvrun-initrd.cpio.gz"):
        if not os.path.exists(os.path.join(guest, f)):
            print(f"SKIP: no {f} in {guest} (build the tests; the kernel comes from "
                  "scripts/fetch-kernel)", file=sys.stderr)
            return 77
    # A network namespace of our own: the tap and its addresses stay here.
    if not os.environ.get("HVLIB_HVRUN_TEST_NETNS"):
        os.environ["HVLIB_HVRUN_TEST_NETNS"] = "1"
        flags = "-n" if os.geteuid() == 0 else "-rn"
        os.execvp("unshare", ["unshare", flags, sys.executable] + sys.argv)
    failures = []
    with tempfile.TemporaryDirectory() as work:
        for t in transports:
            failures += boot(hvrun, guest, t, work)
    for f in failures:
        print("FAILED: " + f, file=sys.stderr)
    print("PASSED" if not failures else f"{len(failures)} failure(s)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
