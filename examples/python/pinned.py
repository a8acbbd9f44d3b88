#!/usr/bin/env python3
"""pinned: several micro-VMs at once, each with its own memory size and its
vCPUs pinned to host cores of its own.

    pinned.py                      # one VM per host core: 128M, 192M, ...
    pinned.py --vms 2 --cpus 2     # two VMs with two vCPUs each

Each guest reports the CPUs and memory it sees (the sandbox initramfs runs
`nproc` and reads /proc/meminfo) while the host checks, with the vCPU
threads' affinity, that each VM stays on its cores.
"""

import argparse
import base64
import os
import re
import sys
from pathlib import Path

import hvlib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _tree  # noqa: E402
import sandbox  # noqa: E402 - the guest kernel and initramfs

REPORT = "echo cpus=$(nproc) mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)"


def vcpu_threads_affinity():
    """{thread id: allowed host CPUs} of this process's threads."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            out[int(tid)] = frozenset(os.sched_getaffinity(int(tid)))
        except OSError:
            pass
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    host = sorted(os.sched_getaffinity(0))
    p.add_argument("--vms", type=int, default=len(host))
    p.add_argument("--cpus", type=int, default=1, help="vCPUs per VM")
    p.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()
    _tree.load_library()
    _tree.ensure_kvm()
    kernel, initrd = sandbox.kernel_path(), sandbox.initrd_path()
    cmdline = f"{sandbox.CMDLINE} hvsandbox={base64.b64encode(REPORT.encode()).decode()}"

    vms = []
    try:
        for i in range(args.vms):
            cores = [host[(i * args.cpus + j) % len(host)] for j in range(args.cpus)]
            memory = f"{128 + 64 * i}M"
            vm = hvlib.MicroVM(kernel, initrd, cmdline, memory=memory, cpus=args.cpus,
                               pin=cores)
            vms.append((vm, cores, memory))
        for vm, _, _ in vms:
            vm.start()
        # While they boot: the threads hvlib created for the vCPUs are pinned.
        pinned = sorted({tuple(sorted(c)) for c in vcpu_threads_affinity().values()
                         if len(c) < len(host)})
        print(f"host cores {host}; pinned thread affinities seen: {pinned}")
        failed = 0
        for i, (vm, cores, memory) in enumerate(vms):
            status = vm.wait(timeout=args.timeout)
            m = re.search(r"HVSANDBOX-STDOUT-BEGIN\n(\S+)", vm.text)
            report = base64.b64decode(m.group(1)).decode().strip() if m else "no report"
            print(f"vm{i}: memory={memory} pin={cores} -> {report} ({status.reason})")
            failed += not status.poweroff
        return 1 if failed else 0
    finally:
        for vm, _, _ in vms:
            vm.close()


if __name__ == "__main__":
    sys.exit(main())
