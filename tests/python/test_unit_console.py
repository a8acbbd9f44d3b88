"""The console pipe, the sandbox example's parsing and the package build."""

import base64
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import zipfile

import helpers
import hvlib
from hvlib._console import Console

sys.path.insert(0, helpers.EXAMPLES)
import sandbox  # noqa: E402


class ConsoleTests(unittest.TestCase):
    def test_capture_stream_wait(self):
        fds = helpers.open_fds()
        chunks = []
        text = io.StringIO()
        for sink in (chunks.append, text):
            c = Console(sink)
            threading.Timer(0.05, os.write, (c.write_fd, b"boot\r\nREADY\xe2\x82")).start()
            self.assertEqual(c.wait_for(b"READY", timeout=10), 11)
            with self.assertRaises(hvlib.Timeout):
                c.wait_for(b"never", timeout=0.05)
            os.write(c.write_fd, b"\xac\n")
            c.finish()
            self.assertEqual(c.output, b"boot\r\nREADY\xe2\x82\xac\n")
            with self.assertRaises(EOFError):
                c.wait_for(b"never", timeout=10)
            c.close()
        self.assertEqual(b"".join(chunks), b"boot\r\nREADY\xe2\x82\xac\n")
        self.assertEqual(text.getvalue(), "boot\r\nREADY\u20ac\n")
        self.assertEqual(helpers.open_fds(), fds)

    def test_no_capture(self):
        c = Console(capture=False)
        os.write(c.write_fd, b"x")
        c.close()
        self.assertEqual(c.output, b"")


class SandboxParsing(unittest.TestCase):
    def test_markers(self):
        out = base64.b64encode(b"6.1.0-1-amd64\n" * 100)
        wrapped = b"\r\n".join(out[i:i + 76] for i in range(0, len(out), 76))
        console = (b"[    0.1] Command line: hvsandbox=abc\r\nHVSANDBOX-STDOUT-BEGIN\r\n" +
                   wrapped[:80] + b"\r\n[   3.2] random: crng init done\r\n" + wrapped[80:] +
                   b"\r\nHVSANDBOX-STDOUT-END\r\nHVSANDBOX-STDERR-BEGIN\r\n"
                   b"HVSANDBOX-STDERR-END\r\nHVSANDBOX-STATUS 3\r\n")
        self.assertEqual(sandbox._decode_between(console, "STDOUT"), b"6.1.0-1-amd64\n" * 100)
        self.assertEqual(sandbox._decode_between(console, "STDERR"), b"")
        self.assertEqual(sandbox._decode_between(b"garbage", "STDOUT"), b"")


class Packaging(unittest.TestCase):
    def test_wheel_and_sdist(self):
        sys.path.insert(0, os.path.join(helpers.PYTHON_DIR, "_backend"))
        import hvlib_build
        with tempfile.TemporaryDirectory() as d:
            whl = os.path.join(d, hvlib_build.build_wheel(d))
            with zipfile.ZipFile(whl) as z:
                names = z.namelist()
                record = z.read("hvlib-0.1.0.dist-info/RECORD").decode()
            for f in ("hvlib/__init__.py", "hvlib/py.typed", "hvlib/microvm.py",
                      "hvlib-0.1.0.dist-info/METADATA", "hvlib-0.1.0.dist-info/WHEEL"):
                self.assertIn(f, names)
                self.assertIn(f + ",", record)
            self.assertFalse([n for n in names if "__pycache__" in n])
            sdist = hvlib_build.build_sdist(d)
            self.assertEqual(sdist, "hvlib-0.1.0.tar.gz")

    def test_pip_install_offline(self):
        pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
        if pip.returncode != 0:
            self.skipTest(f"{sys.executable} has no pip")
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index",
                                "--no-cache-dir", "--disable-pip-version-check", "-q",
                                "--target", d, helpers.PYTHON_DIR],
                               capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, PIP_NO_INPUT="1"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.exists(os.path.join(d, "hvlib", "py.typed")))
            r = subprocess.run([sys.executable, "-c", "import hvlib; print(hvlib.__file__)"],
                               env=dict(os.environ, PYTHONPATH=d), capture_output=True,
                               text=True, cwd=d)
            self.assertEqual(r.stdout.strip(), os.path.join(d, "hvlib", "__init__.py"))
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
