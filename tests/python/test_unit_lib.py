"""Finding and loading libhvlib.so, errors, sizes (no KVM needed)."""

import errno
import os
import pickle
import subprocess
import sys
import unittest

import helpers
import hvlib
from hvlib import errors


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter: the library loads once per process."""
    full = dict(helpers.child_env(), **env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=60)


class LibraryLookup(unittest.TestCase):
    def test_loads(self):
        lib = hvlib.load_library()
        self.assertEqual(lib.version_tuple[0], 0)
        self.assertRegex(hvlib.library_version(), r"^0\.\d+\.\d+$")
        self.assertIn("Invalid argument", hvlib.strerror(errno.EINVAL))

    def test_import_never_loads(self):
        # Importing works without any library; the first use says what is wrong.
        r = _python("import hvlib\n"
                    "try:\n    hvlib.GuestMemory()\n"
                    "except hvlib.LibraryNotFound as e:\n"
                    "    print('NOTFOUND', isinstance(e, ImportError), e.tried)\n",
                    HVLIB_LIBRARY="/nonexistent/libhvlib.so")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("NOTFOUND True", r.stdout)
        self.assertIn("/nonexistent/libhvlib.so", r.stdout)

    def test_env_var_is_exclusive_and_explained(self):
        r = _python("import hvlib; hvlib.load_library()", HVLIB_LIBRARY="/nonexistent.so")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("HVLIB_LIBRARY=/nonexistent.so", r.stderr)
        self.assertIn("Set HVLIB_LIBRARY=", r.stderr)

    def test_not_a_library(self):
        r = _python("import hvlib; hvlib.load_library()", HVLIB_LIBRARY=__file__)
        self.assertIn("LibraryNotFound", r.stderr)
        self.assertIn("invalid ELF header", r.stderr)

    def test_explicit_path_twice(self):
        lib = hvlib.load_library()
        self.assertIs(hvlib.load_library(lib.path), lib)
        with self.assertRaises(hvlib.HvError):
            hvlib.load_library("/some/other/libhvlib.so")


class OptionalFunctions(unittest.TestCase):
    def test_older_library_loads_without_newer_features(self):
        real = hvlib.load_library().cdll

        class Older:  # the library as a release before virtio disks
            def __getattr__(self, name):
                if name == "hv_microvm_disk_init":
                    raise AttributeError(name)
                return getattr(real, name)

        old = hvlib.Library(Older(), "libhvlib.so.0-old")
        self.assertFalse(old.has("hv_microvm_disk_init"))
        with self.assertRaises(hvlib.NotSupported) as cm:
            old.require("hv_microvm_disk_init", "virtio disks")
        self.assertIn("virtio disks", str(cm.exception))


class Errors(unittest.TestCase):
    def test_classes(self):
        self.assertTrue(issubclass(hvlib.InvalidArgument, ValueError))
        self.assertTrue(issubclass(hvlib.Timeout, TimeoutError))
        self.assertTrue(issubclass(hvlib.OutOfMemory, MemoryError))
        self.assertTrue(issubclass(hvlib.LibraryNotFound, ImportError))
        for name in ("KvmUnavailable", "LoadError", "BadAddress", "AlreadyExists", "NotFound",
                     "Busy", "NotSupported"):
            self.assertTrue(issubclass(getattr(hvlib, name), hvlib.HvError), name)

    def test_classify(self):
        c = errors.classify
        self.assertIs(c(-errno.ENOENT, "hv_vm_create", "/dev/kvm: x"), hvlib.KvmUnavailable)
        self.assertIs(c(-errno.EACCES, "hv_vm_create", ""), hvlib.KvmUnavailable)
        self.assertIs(c(-errno.ENOENT, "hv_microvm_create", "kernel 'x': No such file"),
                      hvlib.LoadError)
        self.assertIs(c(-errno.EINVAL, "hv_microvm_create", "micro-VM config: no kernel"),
                      hvlib.InvalidArgument)
        self.assertIs(c(-errno.EFAULT, "hv_mem_read", ""), hvlib.BadAddress)
        self.assertIs(c(-errno.EIO, "hv_vcpu_run", ""), hvlib.HvError)

    def test_message_and_pickle(self):
        e = errors.make_error(-errno.EEXIST, "hv_bus_register", "range overlaps 'uart'")
        self.assertIsInstance(e, hvlib.AlreadyExists)
        self.assertEqual((e.errno, e.function), (errno.EEXIST, "hv_bus_register"))
        self.assertEqual(str(e), "hv_bus_register: range overlaps 'uart'")
        e2 = pickle.loads(pickle.dumps(e))
        self.assertEqual((type(e2), str(e2), e2.errno), (type(e), str(e), e.errno))

    def test_c_message_reaches_python(self):
        with hvlib.GuestMemory() as mem:
            with self.assertRaises(hvlib.InvalidArgument) as cm:
                mem.add_region(0x1234, 4096)
            self.assertIn("0x1234", str(cm.exception))

    def test_kvm_unavailable(self):
        with self.assertRaises(hvlib.KvmUnavailable) as cm:
            hvlib.Vm(kvm_path="/nonexistent/kvm")
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertIn("/nonexistent/kvm", cm.exception.message)

    def test_microvm_config_checked_before_kvm(self):
        fds = helpers.open_fds()
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM("/boot/vmlinuz", memory="1M")
        self.assertIn("too little", str(cm.exception))
        with self.assertRaises(hvlib.InvalidArgument):
            hvlib.MicroVM("/boot/vmlinuz", cpus=0)
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM("/boot/vmlinuz", vsock_cid=2)
        self.assertIn("vsock CID 2", str(cm.exception))
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM("/boot/vmlinuz", transport="isa")
        self.assertIn("transport", str(cm.exception))
        self.assertEqual(helpers.open_fds(), fds, "a failed MicroVM() leaked descriptors")

    def test_microvm_console_and_nets_checked(self):
        fds = helpers.open_fds()
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM("/boot/vmlinuz", console_device="hvc")
        self.assertIn("console_device", str(cm.exception))
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM("/boot/vmlinuz", nets=[hvlib.Net("t0", mac="01:00:5e:00:00:01")])
        self.assertIn("t0", str(cm.exception))
        with self.assertRaises(hvlib.InvalidArgument) as cm:
            hvlib.MicroVM("/boot/vmlinuz", console_device="virtio",
                          nets=[f"t{i}" for i in range(8)])
        self.assertIn("9 virtio devices", str(cm.exception))
        self.assertEqual(helpers.open_fds(), fds, "a failed MicroVM() leaked descriptors")


class Sizes(unittest.TestCase):
    def test_parse(self):
        p = hvlib.parse_size
        self.assertEqual(p("256M"), 256 << 20)
        self.assertEqual(p("1G"), 1 << 30)
        self.assertEqual(p("1.5GiB"), 3 << 29)
        self.assertEqual(p(" 4096 "), 4096)
        self.assertEqual(p("64k"), 65536)
        self.assertEqual(p(12345), 12345)
        for bad in ("", "12Q", "-1M", "0.3", "M"):
            with self.assertRaises(hvlib.InvalidArgument, msg=bad):
                p(bad)
        for bad in (1.5, None, True):
            with self.assertRaises(TypeError):
                p(bad)

    def test_format(self):
        self.assertEqual(hvlib.format_size(256 << 20), "256M")
        self.assertEqual(hvlib.format_size(4097), "4097")
        self.assertEqual(hvlib.format_size(0), "0")


if __name__ == "__main__":
    unittest.main()
