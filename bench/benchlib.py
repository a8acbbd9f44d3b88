"""What the benchmarks in bench/ share: the VMMs' command lines (the same
kernel, initramfs, memory, vCPUs and command line for each), running one
guest with its console read line by line, alternating the VMMs, medians."""

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


def require_kvm(wrapper):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: no usable /dev/kvm (run through %s)" % wrapper)


def hvrun_argv(hvrun, kernel, initrd, ram, cpus, extra=(), cmdline=CMDLINE):
    return [hvrun, "--kernel", kernel, "--initrd", initrd,
            "--memory", "%dM" % (ram // MiB), "--cpus", str(cpus),
            "--cmdline", cmdline, *extra]


def qemu_argv(qemu, kernel, initrd, ram, cpus, extra=(), cmdline=CMDLINE):
    """QEMU's -M microvm with KVM: no firmware, the serial console on stdio,
    ACPI on (QEMU 7.2's default), which is how both it and hvrun describe
    their virtio-mmio devices to the kernel."""
    return [qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host",
            "-smp", str(cpus), "-m", "%dM" % (ram // MiB),
            "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline, *extra]


def lkvm_argv(lkvm, kernel, initrd, ram, cpus, extra=(), cmdline=CMDLINE):
    return [lkvm, "run", "-k", kernel, "-i", initrd, "-m", str(ram // MiB),
            "-c", str(cpus), "-p", cmdline, *extra]


class Run:
    """One guest's life: rc (exit status, or "timeout"), its console lines
    (bytes), t0 (monotonic time just before the spawn) and t_exit."""

    def __init__(self):
        self.rc = None
        self.lines = []
        self.t0 = self.t_exit = None

    def tail(self, n=8):
        return b"".join(self.lines[-n:]).decode(errors="replace")


def run_guest(argv, timeout, on_line=None):
    """Spawn a VMM with a pipe on its console's stdin and stdout (stderr
    merged); on_line(line, proc) sees each line as it arrives.  Killed after
    timeout seconds."""
    r = Run()
    r.t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    deadline = r.t0 + timeout
    try:
        for line in p.stdout:
            r.lines.append(line)
            if time.monotonic() > deadline:
                raise TimeoutError
            if on_line:
                on_line(line, p)
        r.rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        p.kill()
        p.wait()
        r.rc = "timeout"
    r.t_exit = time.monotonic()
    return r


def report_failure(name, run, why=""):
    print("  %s failed (exit %s%s); its last output:\n%s"
          % (name, run.rc, ", " + why if why else "", run.tail()), flush=True)


def alternate(vmms, runs):
    """(run index, name, argv) for each run, the VMMs' order reversed every
    other run so neither always goes first (warm caches, a busy host)."""
    for i in range(runs):
        for name, argv in (vmms if i % 2 == 0 else vmms[::-1]):
            yield i, name, argv


def collect(vmms, runs, measure, show):
    """Each VMM runs times, alternately: measure(name, argv) gives a run's
    {metric: value} or None when it failed, show(i, name, result) prints it.
    Returns the results {vmm: [result]}, having said how many runs failed."""
    results = {name: [] for name, _ in vmms}
    failed = {}
    for i, name, argv in alternate(vmms, runs):
        r = measure(name, argv)
        if r is None:
            failed[name] = failed.get(name, 0) + 1
            continue
        results[name].append(r)
        show(i, name, r)
    for name, n in failed.items():
        print("%s: %d of %d runs failed (not in the medians)" % (name, n, runs))
    return results


def medians(results):
    """{vmm: [ {metric: value} ]} -> {vmm: {metric: median}} for the VMMs
    with at least one successful run."""
    return {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for name, rs in results.items() if rs}


def find_vmms():
    """Paths of qemu-system-x86_64 and lkvm, None where not installed."""
    return shutil.which("qemu-system-x86_64"), shutil.which("lkvm")
