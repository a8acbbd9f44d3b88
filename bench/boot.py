#!/usr/bin/env python3
"""Boot benchmark: hvrun against QEMU -M microvm (and kvmtool, if present).

Each VMM boots the same kernel and initramfs (bench/init.sh) with the same
memory, vCPUs and command line, alternately, in this one machine.  Measured
per run, from just before the VMM process is spawned:

  init   wall time until the guest's init prints BENCH-INIT on the console
  exit   wall time until the process has exited after power-off, not
         counting the pause in which the host samples memory (below)
  overhead  the VMM's resident memory minus the guest RAM it touched:
         total Rss of the process minus the Rss of the guest-RAM mapping,
         read from /proc/PID/smaps while init waits for the host

Run through bench/boot (it prepares the guest and picks native KVM or
scripts/with-kvm).  Under software emulation the absolute figures are slow;
the ratios are what compares.
"""

import argparse
import os
import sys
import time

from benchlib import (MiB, collect, find_vmms, hvrun_argv, lkvm_argv, medians, parse_size,
                      qemu_argv, report_failure, require_kvm, run_guest)


def smaps_rss(pid, ram_bytes):
    """(total Rss, Rss of guest RAM) in bytes.  Guest RAM is the anonymous
    or memfd mapping at least as large as the guest's memory and at most
    4 MiB larger (QEMU rounds its RAM block up for alignment)."""
    total = ram = 0
    size = 0
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            field = line.split()
            if not field:
                continue
            if field[0] == "Size:":
                size = int(field[1]) * 1024
            elif field[0] == "Rss:":
                rss = int(field[1]) * 1024
                total += rss
                if ram_bytes <= size <= ram_bytes + 4 * MiB:
                    ram += rss
    return total, ram


def run_once(name, argv, ram_bytes, timeout):
    seen = {}

    def on_line(line, p):
        if "init" not in seen and b"BENCH-INIT" in line:
            seen["init"] = time.monotonic()
            seen["mem"] = smaps_rss(p.pid, ram_bytes)
            p.stdin.write(b"go\n")
            p.stdin.flush()
            seen["pause"] = time.monotonic() - seen["init"]

    r = run_guest(argv, timeout, on_line)
    if "init" not in seen or r.rc != 0:
        report_failure(name, r, "%s init" % ("after" if seen else "before"))
        return None
    total, ram = seen["mem"]
    return {"init": seen["init"] - r.t0, "exit": r.t_exit - r.t0 - seen["pause"],
            "rss": total, "ram": ram, "overhead": total - ram}


def vmm_commands(a):
    args = (a.kernel, a.initrd, a.ram, a.cpus)
    vmms = [("hvrun", hvrun_argv(a.hvrun, *args))]
    qemu, lkvm = find_vmms()
    if qemu:
        vmms.append(("qemu", qemu_argv(qemu, *args)))
    if lkvm:
        vmms.append(("kvmtool", lkvm_argv(lkvm, *args)))
    return vmms, qemu, lkvm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hvrun", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=240, help="seconds per boot")
    a = ap.parse_args()
    a.ram = parse_size(a.memory)

    vmms, qemu, lkvm = vmm_commands(a)
    require_kvm("bench/boot")
    print("boot benchmark: %s, %d vCPUs, %d MiB, %d runs each, alternating"
          % (os.path.basename(a.kernel), a.cpus, a.ram // MiB, a.runs))
    if not qemu:
        print("  (no qemu-system-x86_64: apt-get install qemu-system-x86)")
    if not lkvm:
        print("  (kvmtool: no lkvm on PATH, Debian 12 does not package it; skipped)")

    def show(i, name, r):
        print("  run %d %-8s init %7.3f s  exit %7.3f s  rss %6.1f MiB  "
              "guest ram touched %6.1f MiB  overhead %6.2f MiB"
              % (i + 1, name, r["init"], r["exit"], r["rss"] / MiB,
                 r["ram"] / MiB, r["overhead"] / MiB), flush=True)

    med = medians(collect(vmms, a.runs,
                          lambda name, argv: run_once(name, argv, a.ram, a.timeout), show))
    if "hvrun" not in med:
        sys.exit("bench: every hvrun run failed")
    print("\nmedians:")
    for name, m in med.items():
        print("  %-8s to init %7.3f s   to exit %7.3f s   VMM overhead %6.2f MiB"
              % (name, m["init"], m["exit"], m["overhead"] / MiB))
    h = med["hvrun"]
    for other in (n for n in med if n != "hvrun"):
        o = med[other]
        print("ratio hvrun/%s: to init %.2fx, to exit %.2fx, VMM overhead %.2fx"
              % (other, h["init"] / o["init"], h["exit"] / o["exit"],
                 h["overhead"] / o["overhead"] if o["overhead"] else float("nan")))
    print("targets: hvrun <= 0.6x QEMU's wall time; overhead < 3 MiB (hvrun: %.2f MiB)"
          % (h["overhead"] / MiB))


if __name__ == "__main__":
    main()
