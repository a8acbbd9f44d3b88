"""hvlib.Ledger: capacity, ratios, refusals and their messages, threads, and
a MicroVM refused before it touches KVM (no KVM needed)."""

import os
import threading
import unittest

import helpers  # noqa: F401 - sets up the import path
import hvlib

MiB = 1 << 20


class LedgerTest(unittest.TestCase):
    def test_limits(self):
        with hvlib.Ledger(memory="4G", cpus=2, memory_overcommit=1.5,
                          cpu_overcommit=4) as ledger:
            u = ledger.usage()
            self.assertEqual(u.memory_capacity, 4096 * MiB)
            self.assertEqual(u.memory_limit, 6144 * MiB)
            self.assertEqual((u.cpu_capacity, u.cpu_limit), (2, 8))
            self.assertEqual((u.memory_overcommit, u.cpu_overcommit), (1.5, 4.0))
            ledger.reserve("6G", 8)
            with self.assertRaises(hvlib.AdmissionRefused):
                ledger.reserve(1)
            ledger.release("6G", 8)
            self.assertEqual(ledger.usage().memory_used, 0)

    def test_refusal_message(self):
        ledger = hvlib.Ledger(memory="4G", cpus=2, memory_overcommit=1.5)
        ledger.reserve(5844 * MiB, 1)
        with self.assertRaises(hvlib.AdmissionRefused) as cm:
            ledger.reserve("512M", 1)
        self.assertEqual(cm.exception.message, "admission: 512 MiB of guest memory asked, "
                         "300 MiB left of 4096 MiB x1.50 overcommit")
        self.assertEqual(cm.exception.function, "hv_ledger_reserve")
        with self.assertRaises(hvlib.Busy):
            ledger.close()  # still held: the ledger stays usable
        ledger.release(5844 * MiB, 1)
        ledger.close()
        ledger.close()

    def test_bad_arguments(self):
        with self.assertRaises(hvlib.InvalidArgument):
            hvlib.Ledger(memory_overcommit=0)
        with self.assertRaises(hvlib.InvalidArgument):
            hvlib.Ledger(cpus=0)
        with hvlib.Ledger(memory="1M", cpus=1) as ledger:
            with self.assertRaises(hvlib.InvalidArgument):
                ledger.release(1)

    def test_host_capacity(self):
        with hvlib.Ledger() as ledger:
            u = ledger.usage()
            self.assertGreaterEqual(u.cpu_capacity, 1)
            self.assertLessEqual(u.cpu_capacity, len(os.sched_getaffinity(0)))
            self.assertGreater(u.memory_capacity, 16 * MiB)

    def test_threads(self):
        ledger = hvlib.Ledger(memory="64M", cpus=4)
        errors = []

        def work():
            for _ in range(500):
                try:
                    ledger.reserve("16M", 1)
                except hvlib.AdmissionRefused as e:
                    if "admission:" not in e.message:
                        errors.append(e)
                    continue
                u = ledger.usage()
                if u.memory_used > u.memory_limit or u.cpu_used > u.cpu_limit:
                    errors.append(u)
                ledger.release("16M", 1)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(ledger.usage().memory_used, 0)
        ledger.close()

    def test_microvm_refused(self):
        # The reservation comes before anything else: no kernel, no KVM needed.
        with hvlib.Ledger(memory="256M", cpus=1) as ledger:
            with self.assertRaises(hvlib.AdmissionRefused) as cm:
                hvlib.MicroVM(kernel="/nonexistent", memory="512M", ledger=ledger)
            self.assertIn("512 MiB of guest memory asked, 256 MiB left of 256 MiB",
                          cm.exception.message)
            with self.assertRaises(hvlib.AdmissionRefused) as cm:
                hvlib.MicroVM(kernel="/nonexistent", memory="128M", cpus=2, ledger=ledger)
            self.assertIn("2 vCPUs asked, 1 left of 1 CPU x1.00", cm.exception.message)
            # Admitted, then failing to load: the reservation comes back.
            with self.assertRaises(hvlib.HvError) as cm:
                hvlib.MicroVM(kernel="/nonexistent", memory="128M", ledger=ledger)
            self.assertNotIsInstance(cm.exception, hvlib.AdmissionRefused)
            self.assertEqual(ledger.usage().memory_used, 0)


if __name__ == "__main__":
    unittest.main()
