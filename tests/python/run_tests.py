#!/usr/bin/env python3
"""Run the Python bindings' tests with unittest (standard library: works with
any python3, pytest not needed; pytest can also collect these files).

    run_tests.py unit   # test_unit_*.py: no KVM needed
    run_tests.py kvm    # test_kvm_*.py: real guests, under scripts/with-kvm
    run_tests.py kvm_lowlevel  # test_kvm_lowlevel.py: tiny guests only

Environment: HVLIB_LIBRARY (the libhvlib.so to test), HVLIB_GUEST_DIR (the
kernel and test initramfs of tests/linux), HVLIB_TEST_CC (C compiler for the
ABI layout check).  Exit status: 0 passed, 1 failed, 77 (kvm) KVM is not
usable, so that ctest reports SKIPPED rather than a silent pass.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import helpers  # noqa: E402


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else "unit"
    if kind.startswith("kvm"):
        why = helpers.kvm_unusable()
        if why:
            print(f"\n*** SKIP: python.kvm: {why} ***\n", file=sys.stderr)
            return 77
    suite = unittest.defaultTestLoader.discover(HERE, pattern=f"test_{kind}*.py",
                                                top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if result.skipped:
        print(f"\n*** {len(result.skipped)} test(s) SKIPPED (see above) ***", file=sys.stderr)
    if not result.wasSuccessful():
        return 1
    if result.testsRun == len(result.skipped):
        print("*** SKIP: every test was skipped ***", file=sys.stderr)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
