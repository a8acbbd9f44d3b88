"""The ctypes structures in hvlib/_abi.py against the C compiler's view of
include/hvlib/*.h: the size of every structure and the offset and size of
every field (nested ones too), on this machine's ABI."""

import ctypes as C
import os
import shutil
import subprocess
import tempfile
import unittest

import helpers
from hvlib import _abi as A

INCLUDE = os.path.join(helpers.ROOT, "include")


def _fields(struct, prefix=""):
    """(C member designator, offset, size) of every field, recursively."""
    for name, ctype, *_ in struct._fields_:
        desc = getattr(struct, name)
        path = prefix + name
        yield path, desc.offset, desc.size
        if isinstance(ctype, type) and issubclass(ctype, (C.Structure, C.Union)):
            for sub, off, size in _fields(ctype, path + "."):
                yield sub, desc.offset + off, size


def _c_program():
    lines = ["#include <hvlib/hvlib.h>", "#include <stddef.h>", "#include <stdio.h>",
             "#define F(s, f) printf(\"%s.%s %zu %zu\\n\", #s, #f, offsetof(struct s, f), "
             "sizeof(((struct s *)0)->f))",
             "int main(void) {"]
    for struct in A.NAMED_STRUCTS:
        name = struct._c_name_
        lines.append(f'printf("{name} %zu\\n", sizeof(struct {name}));')
        lines += [f"F({name}, {path});" for path, _, _ in _fields(struct)]
    lines += ["return 0;", "}"]
    return "\n".join(lines) + "\n"


def _python_layout():
    out = []
    for struct in A.NAMED_STRUCTS:
        out.append(f"{struct._c_name_} {C.sizeof(struct)}")
        out += [f"{struct._c_name_}.{p} {o} {s}" for p, o, s in _fields(struct)]
    return out


class AbiLayout(unittest.TestCase):
    def test_every_field_matches_c(self):
        cc = os.environ.get("HVLIB_TEST_CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            if os.environ.get("HVLIB_TEST_CC") is not None:
                self.fail("HVLIB_TEST_CC is set but empty")
            self.skipTest("no C compiler (set HVLIB_TEST_CC)")
        with tempfile.TemporaryDirectory() as d:
            src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
            with open(src, "w") as f:
                f.write(_c_program())
            subprocess.run([cc, "-std=gnu11", "-I", INCLUDE, "-o", exe, src], check=True)
            c_lines = subprocess.run([exe], check=True, capture_output=True,
                                     text=True).stdout.splitlines()
        self.assertEqual(_python_layout(), c_lines)

    def test_every_struct_is_checked(self):
        self.assertGreaterEqual(len(A.NAMED_STRUCTS), 15)
        for struct, size in A.EXPECTED_SIZES.items():
            self.assertEqual(C.sizeof(struct), size, struct.__name__)


if __name__ == "__main__":
    unittest.main()
