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
import shutil
import statistics
import subprocess
import sys
import time

CMDLINE = "console=ttyS0 quiet panic=-1"
MiB = 1 << 20


def parse_size(s):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s[-1:].upper() in units:
        return int(s[:-1]) * units[s[-1:].upper()]
    return int(s)


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
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    out = []
    t_init = pause = None
    mem = None
    deadline = t0 + timeout
    try:
        for line in p.stdout:
            out.append(line)
            if time.monotonic() > deadline:
                raise TimeoutError
            if t_init is None and b"BENCH-INIT" in line:
                t_init = time.monotonic()
                mem = smaps_rss(p.pid, ram_bytes)
                p.stdin.write(b"go\n")
                p.stdin.flush()
                pause = time.monotonic() - t_init
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        p.kill()
        p.wait()
        rc = "timeout"
    t_exit = time.monotonic()
    if t_init is None or rc != 0:
        tail = b"".join(out[-8:]).decode(errors="replace")
        print("  %s failed (exit %s, %s init); its last output:\n%s"
              % (name, rc, "after" if t_init else "before", tail), flush=True)
        return None
    total, ram = mem
    return {"init": t_init - t0, "exit": t_exit - t0 - pause,
            "rss": total, "ram": ram, "overhead": total - ram}


def vmm_commands(a):
    mem_mib = a.ram // MiB
    vmms = [("hvrun", [a.hvrun, "--kernel", a.kernel, "--initrd", a.initrd,
                       "--memory", "%dM" % mem_mib, "--cpus", str(a.cpus),
                       "--cmdline", CMDLINE])]
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        vmms.append(("qemu", [qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host",
                              "-smp", str(a.cpus), "-m", "%dM" % mem_mib,
                              "-nodefaults", "-no-user-config", "-display", "none",
                              "-serial", "stdio", "-no-reboot",
                              "-kernel", a.kernel, "-initrd", a.initrd,
                              "-append", CMDLINE]))
    lkvm = shutil.which("lkvm")
    if lkvm:
        vmms.append(("kvmtool", [lkvm, "run", "-k", a.kernel, "-i", a.initrd,
                                 "-m", str(mem_mib), "-c", str(a.cpus),
                                 "-p", CMDLINE]))
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
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: no usable /dev/kvm (run through bench/boot)")
    print("boot benchmark: %s, %d vCPUs, %d MiB, %d runs each, alternating"
          % (os.path.basename(a.kernel), a.cpus, a.ram // MiB, a.runs))
    if not qemu:
        print("  (no qemu-system-x86_64: apt-get install qemu-system-x86)")
    if not lkvm:
        print("  (kvmtool: no lkvm on PATH, Debian 12 does not package it; skipped)")

    results = {name: [] for name, _ in vmms}
    failed = {}
    for i in range(a.runs):
        order = vmms if i % 2 == 0 else vmms[::-1]
        for name, argv in order:
            r = run_once(name, argv, a.ram, a.timeout)
            if r is None:
                failed[name] = failed.get(name, 0) + 1
                continue
            results[name].append(r)
            print("  run %d %-8s init %7.3f s  exit %7.3f s  rss %6.1f MiB  "
                  "guest ram touched %6.1f MiB  overhead %6.2f MiB"
                  % (i + 1, name, r["init"], r["exit"], r["rss"] / MiB,
                     r["ram"] / MiB, r["overhead"] / MiB), flush=True)

    for name, n in failed.items():
        print("%s: %d of %d runs failed (not in the medians)" % (name, n, a.runs))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
           for name, rs in results.items() if rs}
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
