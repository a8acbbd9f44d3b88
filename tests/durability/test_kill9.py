#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Durability across kill -9: hvrun boots Linux with a virtio-blk disk; the
guest (tests/durability/kill9-init.sh) writes 1 MiB of a known pattern to
/dev/vda, makes it durable (round 1: write + fsync, 2: O_DIRECT + fsync,
3: write + sync), and prints HVLIB-KILL9-SYNCED on the serial console once
that returned, then keeps writing elsewhere.  The moment the marker reaches
hvrun's stdout this harness kills hvrun with SIGKILL; the image must then
hold the pattern byte for byte.  Three rounds, one boot each.
HVLIB_KILL9_CONTROL=1 first runs a control round that does not sync at all
(its loss is reported, not failed on), to show the check can see a loss;
HVLIB_KILL9_CONTROL=only runs the control alone.

usage: test_kill9.py HVRUN GUEST_DIR
GUEST_DIR holds vmlinuz and kill9-initrd.cpio.gz; exit 77 (skip) without.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

ROUNDS = 3
PATTERN_BYTES = 1 << 20
DISK_BYTES = 4 << 20


def pattern(r):
    return b"".join(b"r%d-%012d\n" % (r, i) for i in range(PATTERN_BYTES // 16))


def one_round(hvrun, guest, work, r):
    disk = os.path.join(work, f"kill9-{r}.img")
    with open(disk, "wb") as f:
        f.write(b"\xee" * DISK_BYTES)  # not the pattern, not zeros
    cmd = [hvrun, "--kernel", os.path.join(guest, "vmlinuz"),
           "--initrd", os.path.join(guest, "kill9-initrd.cpio.gz"),
           "--cmdline", f"console=ttyS0 quiet panic=-1 hvlib.round={r}",
           "--memory", "128M", "--disk", disk, "--timeout", "500"]
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marker = None
    seen = []
    for raw in iter(p.stdout.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        seen.append(line)
        if "HVLIB-KILL9-SYNCED" in line:
            os.kill(p.pid, signal.SIGKILL)
            marker = line[line.find("HVLIB-"):]
            break
    killed_at = time.monotonic()
    rc = p.wait()
    err = p.stderr.read().decode("utf-8", "replace")
    if marker is None:
        print(f"FAIL: round {r}: no marker; hvrun exited {rc}\n" + "\n".join(seen[-40:]) +
              "\n" + err[-3000:], file=sys.stderr)
        return False
    with open(disk, "rb") as f:
        image = f.read()
    want = pattern(r)
    ok = True
    if not marker.endswith("rc=0"):
        print(f"FAIL: round {r}: the guest's write failed: {marker}", file=sys.stderr)
        ok = False
    if rc != -signal.SIGKILL:
        print(f"FAIL: round {r}: hvrun exited {rc}, not killed", file=sys.stderr)
        ok = False
    if len(image) != DISK_BYTES:
        print(f"FAIL: round {r}: the image is {len(image)} bytes", file=sys.stderr)
        ok = False
    if image[:PATTERN_BYTES] != want:
        bad = next(i for i in range(PATTERN_BYTES) if image[i] != want[i])
        print(f"FAIL: round {r}: the image differs from the synced pattern at byte "
              f"{bad:#x}: {image[bad:bad + 16]!r}", file=sys.stderr)
        ok = False
    print(f"round {r}: marker after {killed_at - start:.1f} s, SIGKILL, "
          f"{'1 MiB intact' if ok else 'FAILED'}", file=sys.stderr, flush=True)
    return ok


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    hvrun, guest = sys.argv[1], sys.argv[2]
    for f in ("vmlinuz", "kill9-initrd.cpio.gz"):
        if not os.path.exists(os.path.join(guest, f)):
            print(f"SKIP: {os.path.join(guest, f)} missing", file=sys.stderr)
            return 77
    with tempfile.TemporaryDirectory(prefix="hvlib-kill9-") as work:
        if os.environ.get("HVLIB_KILL9_CONTROL"):
            # Shows the check can fail: unsynced data is usually lost.
            lost = not one_round(hvrun, guest, work, 9)
            what = ("data lost, as expected" if lost else
                    "data intact: the guest wrote back before the kill, inconclusive")
            print(f"control (no sync): {what}", file=sys.stderr)
        if os.environ.get("HVLIB_KILL9_CONTROL") == "only":
            return 0
        results = [one_round(hvrun, guest, work, r) for r in range(1, ROUNDS + 1)]
    print(f"kill -9 durability: {sum(results)} of {ROUNDS} rounds intact", file=sys.stderr)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
