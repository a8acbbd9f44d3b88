#!/usr/bin/env python3
"""virtio-blk benchmark: hvrun against QEMU -M microvm, same raw image.

Each VMM boots the same kernel and initramfs (bench/blk-init.sh) with the
same memory, vCPUs and command line and one virtio-blk device on
virtio-mmio over the same raw image, alternately, in this one machine.  The
guest runs bench/blkio on /dev/vda with O_DIRECT, each phase for a fixed
time, and prints BENCH-RESULT lines:

  seq read / seq write   MB/s (10^6 bytes) in 1 MiB requests, the write
                         phase ending with fsync (a FLUSH to the device)
  rand read / rand write 4 KiB requests at random aligned offsets, IOPS,
                         one request in flight
  rand read xJ           the same with J processes: J requests in flight

Host-side caching is the same for both: hvrun's virtio-blk does buffered
preadv/pwritev on the image (the host page cache) and fdatasync on FLUSH;
QEMU gets cache=writeback (its default: page cache, FLUSH -> fdatasync)
with aio=threads (its default too), and the modern (version 2) virtio-mmio
interface that hvrun has (QEMU defaults to the legacy one).  The image is written with data first,
so reads come from real pages, not holes.

Run through bench/blk (it builds blkio and the initramfs and picks native
KVM or scripts/with-kvm).  Under software emulation the absolute figures
mean little; the ratios are what compares.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

from benchlib import (CMDLINE, MiB, collect, find_vmms, hvrun_argv, medians, parse_size,
                      qemu_argv, report_failure, require_kvm, run_guest)

# (metric key, label, unit): the key is blkio's mode plus its job count.
METRICS = [("read1", "seq read", "MB/s"), ("write1", "seq write", "MB/s"),
           ("randread1", "rand read", "IOPS"), ("randwrite1", "rand write", "IOPS"),
           ("randreadN", "rand read xJ", "IOPS")]
RESULT = re.compile(rb"BENCH-RESULT (\w+) block=(\d+) jobs=(\d+) .*MBps=([\d.]+) IOPS=([\d.]+)")


def make_image(path, size):
    """size bytes of data (a random MiB, varied per MiB) on the host's disk
    or tmpfs, so that nothing in the image is a hole."""
    chunk = bytearray(os.urandom(MiB))
    with open(path, "wb") as f:
        for i in range(size // MiB):
            chunk[:8] = i.to_bytes(8, "little")
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def parse(lines, sectors):
    """{metric: value} from the guest's marker lines, or (None, why)."""
    r = {}
    vda = None
    for line in lines:
        if line.startswith(b"BENCH-VDA "):
            vda = dict(w.split(b"=", 1) for w in line.split()[1:])
        m = RESULT.search(line)
        if m:
            mode, jobs = m.group(1).decode(), int(m.group(3))
            key = mode + ("1" if jobs == 1 else "N")
            r[key] = float(m.group(4) if mode in ("read", "write") else m.group(5))
    if vda is None:
        return None, "the guest saw no /dev/vda"
    if int(vda[b"sectors"]) != sectors:
        return None, "/dev/vda has %s sectors, the image %d" % (vda[b"sectors"].decode(), sectors)
    return r, vda


def run_once(name, argv, a):
    run = run_guest(argv, a.timeout)
    r, vda = parse(run.lines, a.disk_size // 512)
    want = [k for k, _, _ in METRICS if k != "randreadN" or a.jobs > 1]
    if run.rc != 0 or r is None or any(k not in r for k in want):
        report_failure(name, run, vda if r is None else "results missing")
        return None
    for line in run.lines:  # the VMM's own messages (its stderr)
        if re.match(rb"(hvrun|qemu-system-x86_64): ", line):
            print("  %s said: %s" % (name, line.decode(errors="replace").rstrip()))
    if name not in a.seen_vda:
        a.seen_vda[name] = vda
        print("  %s: /dev/vda %s" % (name, b" ".join(b"%s=%s" % kv for kv in vda.items())
                                     .decode()), flush=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hvrun", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5, help="per phase (5 phases)")
    ap.add_argument("--jobs", type=int, default=4,
                    help="requests in flight in the last random-read phase (<2: skip it)")
    ap.add_argument("--disk-size", default="256M")
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--image-dir", default=None, help="where the image goes (default $TMPDIR)")
    ap.add_argument("--timeout", type=int, default=None, help="seconds per guest")
    a = ap.parse_args()
    a.ram = parse_size(a.memory)
    a.disk_size = parse_size(a.disk_size) // MiB * MiB
    if a.timeout is None:
        a.timeout = int(180 + 5 * a.seconds * 3)
    a.seen_vda = {}
    require_kvm("bench/blk")
    qemu, _ = find_vmms()
    if not qemu:
        sys.exit("bench: no qemu-system-x86_64 to compare with (apt-get install qemu-system-x86)")

    tmp = tempfile.mkdtemp(prefix="hvlib-blk-", dir=a.image_dir)
    try:
        image = os.path.join(tmp, "disk.raw")
        make_image(image, a.disk_size)
        cmdline = "%s BENCH_SECONDS=%g BENCH_JOBS=%d" % (CMDLINE, a.seconds, a.jobs)
        args = (a.kernel, a.initrd, a.ram, a.cpus)
        vmms = [("hvrun", hvrun_argv(a.hvrun, *args, extra=["--disk", image],
                                     cmdline=cmdline)),
                ("qemu", qemu_argv(qemu, *args, cmdline=cmdline, extra=[
                    "-drive", "id=vda,file=%s,format=raw,if=none,cache=writeback,aio=threads"
                    % image, "-device", "virtio-blk-device,drive=vda",
                    "-global", "virtio-mmio.force-legacy=false"]))]
        print("virtio-blk benchmark: %s, %d vCPUs, %d MiB RAM, %d MiB raw image in %s, "
              "%g s per phase, %d runs each, alternating"
              % (os.path.basename(a.kernel), a.cpus, a.ram // MiB, a.disk_size // MiB,
                 tmp, a.seconds, a.runs))
        print("  guest: O_DIRECT on /dev/vda; host cache: hvrun buffered preadv/pwritev, "
              "QEMU cache=writeback,aio=threads; FLUSH -> fdatasync on both", flush=True)

        def show(i, name, r):
            print("  run %d %-6s %s" % (i + 1, name, "  ".join(
                "%s %.1f %s" % (label.replace("J", str(a.jobs)), r[k], unit)
                for k, label, unit in METRICS if k in r)), flush=True)

        med = medians(collect(vmms, a.runs, lambda name, argv: run_once(name, argv, a), show))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if "hvrun" not in med or "qemu" not in med:
        sys.exit("bench: no successful run of %s"
                 % " and ".join(n for n in ("hvrun", "qemu") if n not in med))
    print("\nmedians:")
    h, q = med["hvrun"], med["qemu"]
    for k, label, unit in METRICS:
        if k in h and k in q:
            print("  %-13s hvrun %10.1f  qemu %10.1f %-5s  ratio hvrun/qemu %.2fx"
                  % (label.replace("J", str(a.jobs)), h[k], q[k], unit,
                     h[k] / q[k] if q[k] else float("nan")))
    print("target: hvrun >= 1.0x QEMU on each (higher is better)")


if __name__ == "__main__":
    main()
