"""Let the examples run from a source checkout: if libhvlib.so is not found
the usual way ($HVLIB_LIBRARY, pkg-config, the loader's path), use the one
`scripts/setup` built in build/.  Installed applications do not need this."""

import os
import subprocess
import sys
from pathlib import Path

import hvlib

BUILT = Path(__file__).resolve().parent.parent.parent / "build" / "libhvlib.so.0"


def load_library() -> None:
    """Load the library or exit with the bindings' explanation."""
    try:
        try:
            hvlib.load_library()
        except hvlib.LibraryNotFound:
            if not BUILT.exists():
                raise
            hvlib.load_library(str(BUILT))
    except hvlib.LibraryNotFound as e:
        raise SystemExit(f"{Path(sys.argv[0]).name}: {e}") from None


def ensure_kvm() -> None:
    """Without a usable /dev/kvm here, run this same program again inside
    scripts/with-kvm's emulated machine (which has one) and exit with its
    status.  Inside that machine /dev/kvm is usable, so this happens once."""
    with_kvm = Path(__file__).resolve().parent.parent.parent / "scripts" / "with-kvm"
    if not with_kvm.exists():
        return
    mode = subprocess.run([str(with_kvm), "--mode"], stdout=subprocess.PIPE, text=True).stdout
    if mode.strip() != "emulated":
        return
    sys.stdout.flush()
    os.execv(str(with_kvm), [str(with_kvm), sys.executable, *sys.argv])
