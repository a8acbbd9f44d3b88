"""Standalone guest memory and I/O buses (no KVM needed)."""

import gc
import unittest

import helpers
import hvlib


class Memory(unittest.TestCase):
    def setUp(self):
        self.fds = helpers.open_fds()
        self.mem = hvlib.GuestMemory()

    def tearDown(self):
        self.mem.close()
        gc.collect()
        self.assertEqual(helpers.open_fds(), self.fds, "descriptors leaked")

    def test_buffer_is_guest_memory(self):
        r = self.mem.add_region(0x10000, "64K", name="ram")
        self.assertEqual((r.gpa, r.size, r.end, r.name), (0x10000, 65536, 0x20000, "ram"))
        view = r.buffer
        self.assertIsInstance(view, memoryview)
        self.assertFalse(view.readonly)
        view[0x10:0x13] = b"abc"
        self.assertEqual(self.mem.read(0x10010, 3), b"abc")
        self.mem.write(0x10020, bytearray(b"xyz"))
        self.assertEqual(bytes(view[0x20:0x23]), b"xyz")
        self.mem.write(0x10030, memoryview(b"0123456789")[::2])  # non-contiguous
        self.assertEqual(r.read(0x30, 5), b"02468")

    def test_memfd_region_aliases(self):
        r = self.mem.add_region(0, "8K", backing="memfd")
        self.assertGreaterEqual(r.fd, 0)
        r.buffer[:2] = b"hi"
        self.assertEqual(self.mem.read(0, 2), b"hi")

    def test_adjacent_regions_and_bounds(self):
        self.mem.add_region(0, 4096)
        self.mem.add_region(4096, 4096)
        self.mem.write(4090, b"0123456789AB")  # spans both
        self.assertEqual(self.mem.read(4090, 12), b"0123456789AB")
        with self.assertRaises(hvlib.BadAddress):
            self.mem.read(8190, 4)
        with self.assertRaises(hvlib.BadAddress):
            self.mem.write(2 ** 64 - 2, b"xxxx")
        with self.assertRaises(hvlib.AlreadyExists):
            self.mem.add_region(0, 4096)
        self.assertEqual([r.gpa for r in self.mem.regions], [0, 4096])

    def test_removed_region_views_stay_safe(self):
        r = self.mem.add_region(0, "16K")
        view = r.buffer[0:16]  # a slice keeps the mapping exported
        r.remove()
        view[0:4] = b"safe"  # detached from the guest, never a dangling pointer
        self.assertEqual(bytes(view[0:4]), b"safe")
        with self.assertRaises(hvlib.BadAddress):
            self.mem.read(0, 1)
        with self.assertRaises(hvlib.NotFound):
            self.mem.remove_region(r.id)
        del view

    def test_bad_region(self):
        with self.assertRaises(hvlib.InvalidArgument):
            self.mem.add_region(0, 100)
        with self.assertRaises(hvlib.InvalidArgument):
            self.mem.add_region(0, 4096, backing="tape")


class BusTests(unittest.TestCase):
    def test_dispatch_to_python(self):
        seen = []

        def dev(offset, width, is_write, value):
            seen.append((offset, width, is_write, value))
            return 0x1122334455 if not is_write else None

        with hvlib.Bus(hvlib.Space.PIO) as bus:
            h = bus.register(0x3F8, 8, dev, name="uart")
            self.assertEqual(bus.dispatch(0x3F9, 1, True, 0x41), 0x41)
            self.assertEqual(bus.dispatch(0x3F8, 2, False), 0x4455)  # truncated to width
            self.assertEqual(seen, [(1, 1, True, 0x41), (0, 2, False, 0)])
            with self.assertRaises(hvlib.AlreadyExists) as cm:
                bus.register(0x3FC, 8, dev)
            self.assertIn("uart", str(cm.exception))  # the C message names the other range
            with self.assertRaises(hvlib.NotFound):
                bus.dispatch(0x60, 1, False)
            h.remove()
            h.remove()  # idempotent
            with self.assertRaises(hvlib.NotFound):
                bus.dispatch(0x3F8, 1, False)

    def test_handler_exception_propagates(self):
        def broken(offset, width, is_write, value):
            raise RuntimeError("device bug")

        with hvlib.Bus(hvlib.Space.MMIO) as bus:
            bus.register(0xD0000, 0x1000, broken)
            with self.assertRaises(RuntimeError):
                bus.dispatch(0xD0000, 4, False)

    def test_pio_range_checked(self):
        with hvlib.Bus(hvlib.Space.PIO) as bus:
            with self.assertRaises(hvlib.InvalidArgument):
                bus.register(0xFFFF, 2, lambda *a: 0)


if __name__ == "__main__":
    unittest.main()
