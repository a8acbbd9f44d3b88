#!/usr/bin/env python3
"""Stress the emulated KVM machine of scripts/with-kvm and count, per
emulation stack and workload, how runs end: passed, a guest failure (the
command failed by itself), an environment failure (the emulated machine
wedged, panicked or died under the command) or a timeout.

    tests/stress/stress.py [--runs N] [--stack NAME]... [--build DIR] WORKLOAD...

Workloads: suite (ctest's KVM tests but the virtio boots, each its own
with-kvm machine), reboot (the default-reboot boot test), and those of
tests/stress/inner.sh, each run in one with-kvm machine: three-procs,
three-qemu, mixed, three-inproc, churn.  Stacks are named sets of
scripts/with-kvm's variables (--list shows them; NAME:VAR=V,VAR=V defines
one).  with-kvm's own retry is off here (HVLIB_WITH_KVM_RETRIES=0), so
every environment failure counts; boot hangs, which with-kvm always boots
again, are counted apart.  Logs: BUILD/stress/STACK/WORKLOAD-N.log.  The
table at the end is markdown, for the README.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WITH_KVM = os.path.join(ROOT, "scripts", "with-kvm")

STACKS = {
    "qemu7.2-linux6.1-max": {"HVLIB_WITH_KVM_QEMU_SUITE": "system"},
    "qemu10-linux6.1-max": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports"},
    "qemu10-linux6.12-max": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                             "HVLIB_WITH_KVM_KERNEL_SUITE": "bookworm-backports"},
    "qemu10-linux6.1-epyc": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                             "HVLIB_WITH_KVM_CPU": "EPYC-v4,+svm,+npt,+nrip-save"},
    "qemu10-linux6.1-max-hold": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                                 "HVLIB_WITH_KVM_HOLD_VM": "1"},
    "qemu10-linux6.1-max-l2nopmu": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                                    "HVLIB_STRESS_QEMU_CPU": "host,pmu=off"},
    "qemu10-linux6.1-max-l2nopv": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                                   "HVLIB_STRESS_QEMU_CPU": "host,kvm=off"},
    "qemu10-linux6.1-max-l2nosmm": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                                    "HVLIB_STRESS_QEMU_MACHINE": "microvm,smm=off"},
    "qemu10-linux6.1-max-l2irqchip": {"HVLIB_WITH_KVM_QEMU_SUITE": "bookworm-backports",
                                      "HVLIB_STRESS_QEMU_ACCEL": "kvm,kernel-irqchip=on"},
    "qemu7.2-linux6.1-max-hold": {"HVLIB_WITH_KVM_QEMU_SUITE": "system",
                                  "HVLIB_WITH_KVM_HOLD_VM": "1"},
    "default": {},
}
INNER = ("three-procs", "three-qemu", "mixed", "three-inproc", "churn")
WORKLOADS = ("suite", "reboot") + INNER


def parse_stack(spec):
    if ":" not in spec:
        if spec not in STACKS:
            sys.exit(f"stress: unknown stack {spec} (--list)")
        return spec, STACKS[spec]
    name, assigns = spec.split(":", 1)
    env = {}
    for a in filter(None, assigns.split(",")):
        k, _, v = a.partition("=")
        env[k] = v
    return name, env


def command(workload, build):
    if workload == "suite":
        return ["ctest", "--test-dir", build, "--output-on-failure", "-j1",
                "-L", "kvm", "-LE", "virtio|with-kvm|native"]
    if workload == "reboot":
        return [WITH_KVM, os.path.join(build, "tests", "kvm_linux")]
    return [WITH_KVM, os.path.join(HERE, "inner.sh"), workload, build]


def classify(rc, events, log):
    """passed, guest, env, timeout; and a short reason."""
    env = [e for e in events if e.startswith("env-failure")]
    if env:
        return "env", env[0].split(": ", 1)[-1][:90]
    if rc == 0:
        return "passed", ""
    if rc == 124 or re.search(r"Timeout|TIMEOUT", log):
        return "timeout", ""
    m = re.search(r"(triple-fault[^\n]*|stress: [^\n]*failed[^\n]*|FAIL[^\n]*|Error[^\n]*)", log)
    return "guest", (m.group(1) if m else f"exit status {rc}")[:90]


def run_once(workload, build, stack_env, logpath, timeout):
    with tempfile.NamedTemporaryFile("r", prefix="events.", dir=os.path.dirname(logpath)) as ev:
        env = dict(os.environ, HVLIB_WITH_KVM_RETRIES="0", HVLIB_WITH_KVM_EVENTS=ev.name,
                   HVLIB_WITH_KVM_CONSOLE=logpath + ".console",
                   HVLIB_GUEST_DIR=os.path.join(build, "guest"), **stack_env)
        if workload == "reboot":
            env["HVLIB_TEST_FILTER"] = "test_boot_reboot"
        t0 = time.monotonic()
        with open(logpath, "w") as log:
            try:
                rc = subprocess.call(command(workload, build), stdout=log,
                                     stderr=subprocess.STDOUT, env=env, timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = 124
        elapsed = time.monotonic() - t0
        events = [line.strip() for line in open(ev.name)]
    with open(logpath) as f:
        text = f.read()
    kind, why = classify(rc, events, text)
    return kind, why, elapsed, sum(e == "boot-hang" for e in events)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=" ".join(WORKLOADS))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stack", action="append", default=[])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--timeout", type=int, default=1500, help="seconds per run")
    ap.add_argument("--list", action="store_true", help="the predefined stacks")
    a = ap.parse_args()
    if a.list:
        for name, env in STACKS.items():
            print(name, " ".join(f"{k}={v}" for k, v in env.items()))
        return 0
    if not a.workloads or set(a.workloads) - set(WORKLOADS):
        ap.error("name workloads among: " + " ".join(WORKLOADS))
    stacks = [parse_stack(s) for s in (a.stack or ["default"])]
    rows = []
    for name, stack_env in stacks:
        logdir = os.path.join(a.build, "stress", name)
        os.makedirs(logdir, exist_ok=True)
        for w in a.workloads:
            counts = {"passed": 0, "guest": 0, "env": 0, "timeout": 0}
            times, reasons, hangs = [], [], 0
            for n in range(1, a.runs + 1):
                log = os.path.join(logdir, f"{w}-{n}.log")
                kind, why, elapsed, h = run_once(w, a.build, stack_env, log, a.timeout)
                counts[kind] += 1
                hangs += h
                times.append(elapsed)
                if why:
                    reasons.append(f"{kind}: {why}")
                print(f"stress: {name} {w} run {n}/{a.runs}: {kind} in {elapsed:.0f} s"
                      + (f" ({why})" if why else "") + f"  [{log}]", flush=True)
            rows.append((name, w, a.runs, counts, hangs, statistics.median(times), reasons))
    print("\n| stack | workload | runs | passed | guest failures | environment failures "
          "| timeouts | boot hangs | median s | first failure |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, w, runs, c, hangs, med, reasons in rows:
        print(f"| {name} | {w} | {runs} | {c['passed']} | {c['guest']} | {c['env']} "
              f"| {c['timeout']} | {hangs} | {med:.0f} | {reasons[0] if reasons else ''} |")
    return 0 if all(c["passed"] == runs for _, _, runs, c, _, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
