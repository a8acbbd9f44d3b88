"""Linux micro-VMs (Debian's kernel, tests/linux's busybox initramfs): few
boots, each checking several things, since a boot takes tens of seconds
under emulation."""

import contextlib
import gc
import os
import re
import sys
import tempfile
import time
import unittest

import helpers
import hvlib

sys.path.insert(0, helpers.EXAMPLES)
import sandbox  # noqa: E402

CMDLINE = "console=ttyS0 quiet panic=-1"
TIMEOUT = 300  # a guest boot takes 10-40 s under nested emulation


class MicroVMs(unittest.TestCase):
    def setUp(self):
        self.kernel = helpers.guest_file("vmlinuz")
        self.initrd = helpers.guest_file("test-initrd.cpio.gz")
        self.fds = helpers.open_fds()

    def tearDown(self):
        gc.collect()
        self.assertEqual(helpers.open_fds(), self.fds, "descriptors leaked")

    def test_load_errors(self):
        with self.assertRaises(hvlib.LoadError) as cm:
            hvlib.MicroVM("/nonexistent/vmlinuz")
        self.assertIn("/nonexistent/vmlinuz", str(cm.exception))
        with self.assertRaises(hvlib.LoadError) as cm:
            hvlib.MicroVM(self.initrd)  # not a kernel
        self.assertTrue(cm.exception.message)

    def test_disks_config(self):
        """virtio devices are set up at creation: no boot needed to check them."""
        with tempfile.NamedTemporaryFile(suffix=".img") as img:
            img.truncate(1 << 20)
            with hvlib.MicroVM(self.kernel, self.initrd, disks=[
                    img.name, hvlib.Disk(img.name, readonly=True, serial="hvlib-test")],
                    rng=True) as vm:
                self.assertIsNone(vm.status)
        with self.assertRaises(hvlib.HvError) as cm:
            hvlib.MicroVM(self.kernel, self.initrd, disks=["/nonexistent/disk.img"])
        self.assertIn("/nonexistent/disk.img", str(cm.exception))

    def test_balloon_config(self):
        """The balloon's host side works before any driver: target, info, errors."""
        with hvlib.MicroVM(self.kernel, self.initrd, memory="128M", balloon=True) as vm:
            vm.balloon_set_target("32M")
            info = vm.balloon_info(refresh_stats=True)
            self.assertEqual(info["target_bytes"], 32 << 20)
            self.assertEqual(info["actual_bytes"], 0)
            self.assertEqual(info["stats_updates"], 0)
            self.assertEqual(info["stats"], {})
            with self.assertRaises(hvlib.InvalidArgument):
                vm.balloon_set_target("1G")
            vm.balloon_set_target(0)
            self.assertEqual(vm.balloon_info()["target_bytes"], 0)
        with hvlib.MicroVM(self.kernel, self.initrd) as vm:
            with self.assertRaises(hvlib.InvalidArgument):
                vm.balloon_info()

    def test_console_and_nets_config(self):
        """The console choice and network interfaces reach the C library (no
        boot, no tap created: the name is refused first)."""
        with hvlib.MicroVM(self.kernel, self.initrd, console_device="virtio") as vm:
            self.assertEqual(vm.send("input before any driver\n"), None)
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM(self.kernel, self.initrd, nets=[hvlib.Net("hv-name-too-long-0")])
        self.assertIn("hv-name-too-long-0", str(cm.exception))

    def test_three_at_once(self):
        """check (2 vCPUs, pinned, streamed console), echo (console input),
        and one stopped from outside, all running at the same time."""
        streamed = []
        # Each vCPU on its own host CPU where there are two: under nested
        # emulation (TCG), two vCPUs of one guest pinned to one CPU now and
        # then crashed the other guests (1 run in 4; 10 of 10 fine unpinned).
        cores = sorted(os.sched_getaffinity(0))[-2:]
        with contextlib.ExitStack() as stack:
            check = stack.enter_context(hvlib.MicroVM(
                self.kernel, self.initrd, CMDLINE + " hvtest=check", memory="192M", cpus=2,
                pin=cores, console=streamed.append))
            echo = stack.enter_context(hvlib.MicroVM(
                self.kernel, self.initrd, CMDLINE + " hvtest=echo", memory="128M"))
            idle = stack.enter_context(hvlib.MicroVM(
                self.kernel, self.initrd, CMDLINE + " hvtest=echo", memory="128M"))
            for vm in (check, echo, idle):
                vm.start()
            self.assertTrue(idle.running)
            time.sleep(1)
            idle.stop()
            st = idle.wait(timeout=TIMEOUT)
            self.assertEqual(st.reason, hvlib.StopReason.REQUESTED, st)
            self.assertFalse(idle.running)

            echo.wait_for("HVLIB-READY", timeout=TIMEOUT)
            echo.send("hello from python\n")
            st = echo.wait(timeout=TIMEOUT)
            self.assertEqual(st.reason, hvlib.StopReason.POWEROFF, st)
            self.assertIn("HVLIB-GOT:hello from python", echo.text)

            st = check.wait(timeout=TIMEOUT)
            self.assertTrue(st.poweroff, st)
            m = re.search(r"HVLIB-CHECK cpus=(\d+) mem_kb=(\d+)", check.text)
            self.assertTrue(m, check.text[-2000:])
            self.assertEqual(m.group(1), "2")
            self.assertLess(int(m.group(2)), 192 * 1024)
            self.assertEqual(b"".join(streamed), check.output)
        self.assertIsNone(check._handle)

    def test_sandbox_example(self):
        res = sandbox.run("uname -r; echo oops >&2; exit 7", timeout=TIMEOUT,
                          files=(self.kernel, sandbox.initrd_path()))
        self.assertRegex(res.stdout.decode(), r"^\d+\.\d+\.\d+-\S+-amd64\n$")
        self.assertEqual(res.stderr, b"oops\n")
        self.assertEqual(res.returncode, 7)

    def test_wait_for_a_guest_that_stopped(self):
        """wait_for() reports a guest that stops without the pattern at once,
        with its stop reason, rather than at the timeout."""
        with hvlib.MicroVM(self.kernel, self.initrd, CMDLINE + " hvtest=check",
                           memory="128M") as vm:
            vm.start()
            with self.assertRaises(EOFError) as cm:
                vm.wait_for("NEVER-PRINTED", timeout=TIMEOUT)
            self.assertIn("powered off", str(cm.exception))
            self.assertEqual(vm.status.reason, hvlib.StopReason.POWEROFF)
            self.assertIn("HVLIB-CHECK", vm.text)

    def test_timeout_stops_the_guest(self):
        vm = hvlib.MicroVM(self.kernel, self.initrd, CMDLINE + " hvtest=echo", memory="128M")
        with vm:
            with self.assertRaises(hvlib.Timeout) as cm:
                vm.run(timeout=0.5)
            self.assertEqual(cm.exception.status.reason, hvlib.StopReason.REQUESTED)
            self.assertIs(vm.wait(), vm.status)
        with self.assertRaises(ValueError):
            vm.start()


if __name__ == "__main__":
    unittest.main()
