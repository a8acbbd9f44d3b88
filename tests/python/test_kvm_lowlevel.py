"""The low-level API on a real /dev/kvm: tiny real- and long-mode guests."""

import gc
import os
import subprocess
import sys
import unittest

import helpers
import hvlib

# mov $0x42,%al; out %al,$0x10; in $0x11,%al; mov %al,%bl; hlt
PORT_CODE = bytes([0xB0, 0x42, 0xE6, 0x10, 0xE4, 0x11, 0x88, 0xC3, 0xF4])
# mov $0xd000,%bx; mov %bx,%ds; mov (0),%al; hlt
MMIO_READ = bytes([0xBB, 0x00, 0xD0, 0x8E, 0xDB, 0xA0, 0x00, 0x00, 0xF4])


class LowLevel(unittest.TestCase):
    def setUp(self):
        self.fds = helpers.open_fds()
        self.vm = hvlib.Vm(unclaimed="fail")
        self.ram = self.vm.memory.add_region(0, "512K", name="ram")
        self.vcpu = self.vm.create_vcpu()

    def tearDown(self):
        self.vm.close()
        gc.collect()
        self.assertEqual(helpers.open_fds(), self.fds, "descriptors leaked")

    def load(self, code):
        self.ram.buffer[0x1000:0x1000 + len(code)] = code
        self.vcpu.setup_real_mode(0, 0x1000)

    def test_toy_vmm_example(self):
        r = subprocess.run([sys.executable, os.path.join(helpers.EXAMPLES, "toy_vmm.py")],
                           capture_output=True, text=True, timeout=120,
                           env=helpers.child_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ("port 0x10: guest wrote 'H'", "mmio 0xd0000: guest wrote 'i'",
                     "real mode: guest halted", "port 0x10: guest wrote '6'",
                     "mmio 0xd0000: guest wrote '4'", "long mode: guest halted",
                     "port 0x20 got '321'"):
            self.assertIn(line, r.stdout)

    def test_handlers_and_registers(self):
        writes = []
        self.vm.pio.register(0x10, 2, lambda o, w, wr, v: writes.append((o, v)) if wr else 0x77)
        self.load(PORT_CODE)
        exit = self.vcpu.run()
        self.assertEqual(exit.reason, hvlib.ExitReason.HLT, str(exit))
        self.assertEqual(writes, [(0, 0x42)])
        regs = self.vcpu.regs
        self.assertEqual(regs.rbx & 0xFF, 0x77)
        self.assertEqual(regs.rip, 0x1009)
        self.vcpu.set_regs(rip=0x1000, rbx=0)
        self.assertEqual((self.vcpu.regs.rip, self.vcpu.regs.rbx), (0x1000, 0))
        self.assertEqual(self.vcpu.sregs.cs.base, 0)

    def test_unclaimed_io_returns_to_caller(self):
        self.load(PORT_CODE)
        exit = self.vcpu.run()  # out to 0x10: nobody claims it, policy "fail"
        self.assertEqual((exit.reason, exit.addr, exit.value, exit.is_write, exit.handled),
                         (hvlib.ExitReason.IO, 0x10, 0x42, True, False))
        exit = self.vcpu.run()
        self.assertEqual((exit.reason, exit.addr, exit.is_write), (hvlib.ExitReason.IO, 0x11, False))
        self.vcpu.set_io_result(0x99)
        self.assertEqual(self.vcpu.run().reason, hvlib.ExitReason.HLT)
        self.assertEqual(self.vcpu.regs.rbx & 0xFF, 0x99)

    def test_mmio_handler_exception_is_raised_from_run(self):
        def broken(offset, width, is_write, value):
            raise KeyError("device bug")

        self.vm.mmio.register(0xD0000, 0x1000, broken, name="broken")
        self.load(MMIO_READ)
        with self.assertRaises(KeyError):
            self.vcpu.run()

    def test_mmio_handler_sees_vcpu(self):
        seen = []

        def who(offset, width, is_write, value):
            seen.append(hvlib.current_vcpu_index())
            return 0x40

        self.vm.mmio.register(0xD0000, 0x1000, who, name="who")
        self.load(MMIO_READ)
        other = self.vm.create_vcpu()
        other.setup_real_mode(0, 0x1000)
        other.run()
        self.vcpu.run()
        self.assertEqual(seen, [other.index, 0])
        self.assertEqual(other.regs.rax & 0xFF, 0x40)
        self.assertIsNone(hvlib.current_vcpu_index())

    def test_close_from_handler_refused(self):
        errors = []

        def closer(offset, width, is_write, value):
            try:
                self.vm.close()
            except hvlib.Busy as e:
                errors.append(e)

        self.vm.pio.register(0x10, 1, closer)
        self.load(PORT_CODE)
        self.vcpu.run()
        self.assertEqual(len(errors), 1)
        self.assertFalse(self.vm.closed)

    def test_managed_thread(self):
        seen = []
        self.vm.pio.register(0x10, 2, lambda o, w, wr, v: 0)
        self.load(PORT_CODE)
        self.vcpu.start(lambda exit: seen.append(exit.reason) or False)
        last = self.vcpu.join()
        self.assertEqual(seen, [hvlib.ExitReason.HLT])
        self.assertEqual(last.reason, hvlib.ExitReason.HLT)
        with self.assertRaises(hvlib.AlreadyExists):
            self.vm.create_vcpu(0)


class Admission(unittest.TestCase):
    """Vm objects against one shared Ledger: refused when full, room again
    after one is closed."""

    def test_until_refused(self):
        ledger = hvlib.Ledger(memory="2M", cpus=2, memory_overcommit=1.5, cpu_overcommit=1.5)
        vms = []
        for _ in range(3):
            vm = hvlib.Vm(ledger=ledger)
            vm.memory.add_region(0, "1M", name="ram")
            vm.create_vcpu()
            vms.append(vm)
        extra = hvlib.Vm(ledger=ledger)
        with self.assertRaises(hvlib.AdmissionRefused) as cm:
            extra.memory.add_region(0, "1M", name="ram")
        self.assertIn("1 MiB of guest memory asked, 0 bytes left of 2 MiB x1.50",
                      cm.exception.message)
        vms.pop().close()
        extra.memory.add_region(0, "1M", name="ram")
        extra.create_vcpu()
        self.assertEqual(ledger.usage().cpu_used, 3)
        for vm in vms + [extra]:
            vm.close()
        self.assertEqual(ledger.usage().memory_used, 0)
        ledger.close()


if __name__ == "__main__":
    unittest.main()
