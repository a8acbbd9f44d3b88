"""Shared helpers of the Python tests."""

import os
import sys
import unittest
from typing import Dict, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(ROOT, "bindings", "python")
EXAMPLES = os.path.join(ROOT, "examples", "python")

# Test this tree's bindings, whatever else is installed (each test module
# imports helpers first: works under run_tests.py, unittest and pytest).
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)


def child_env() -> Dict[str, str]:
    """Environment for a Python subprocess that must import these bindings."""
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=PYTHON_DIR + (os.pathsep + path if path else ""))


def open_fds() -> set:
    """This process's open descriptors (for leak checks)."""
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def kvm_unusable() -> Optional[str]:
    """Why real guests cannot run here, or None."""
    import hvlib
    try:
        hvlib.Vm().close()
    except hvlib.KvmUnavailable as e:
        return str(e)
    return None


def guest_file(name: str) -> str:
    """A file of tests/linux's guest material (kernel, test initramfs)."""
    d = os.environ.get("HVLIB_GUEST_DIR")
    if not d:
        raise unittest.SkipTest("HVLIB_GUEST_DIR is not set (run through ctest)")
    path = os.path.join(d, name)
    if not os.path.exists(path):
        raise AssertionError(f"{path} missing: the linux.guest_material fixture did not run")
    return path
