#!/usr/bin/env python3
"""toy_vmm: a VMM in a page of Python, like examples/hello in C.

It creates a VM with 512 KiB of RAM, puts a few bytes of guest code in it,
runs them in real mode and then in 64-bit long mode, and prints what the
guest writes to port 0x10 and to MMIO at 0xd0000, served by Python handlers.
Then it shows the run-one-exit loop with no handler at all: the guest's port
writes come back to Python as exits.

    HVLIB_LIBRARY=build/libhvlib.so python3 examples/python/toy_vmm.py
"""

import sys

import hvlib

import _tree

# mov $'H',%al; out %al,$0x10; mov $0xd000,%bx; mov %bx,%ds; movb $'i',(0); hlt
REAL_CODE = bytes([0xB0, ord("H"), 0xE6, 0x10, 0xBB, 0x00, 0xD0, 0x8E,
                   0xDB, 0xC6, 0x06, 0x00, 0x00, ord("i"), 0xF4])
# mov $'6',%al; out %al,$0x10; mov $0xd0000,%eax; movb $'4',(%rax); hlt
LONG_CODE = bytes([0xB0, ord("6"), 0xE6, 0x10, 0xB8, 0x00, 0x00, 0x0D,
                   0x00, 0xC6, 0x00, ord("4"), 0xF4])
# mov $3,%cx; l: mov %cl,%al; add $'0',%al; out %al,$0x20; loop l; hlt
COUNT_CODE = bytes([0xB9, 0x03, 0x00, 0x88, 0xC8, 0x04, 0x30, 0xE6, 0x20, 0xE2, 0xF8, 0xF4])

CODE_GPA = 0x1000


def printer(where):
    """An I/O handler: print the byte the guest writes."""
    def handler(offset, width, is_write, value):
        if is_write:
            print(f"{where}: guest wrote {chr(value)!r}")
        return 0  # what a read would see
    return handler


def run(vcpu, mode):
    exit = vcpu.run()
    if exit.reason != hvlib.ExitReason.HLT:
        raise SystemExit(f"{mode}: unexpected exit {exit}")
    print(f"{mode}: guest halted at rip={vcpu.regs.rip:#x}")


def main():
    _tree.load_library()
    _tree.ensure_kvm()
    with hvlib.Vm() as vm:
        ram = vm.memory.add_region(0, "512K", name="ram")  # ends below the MMIO address
        vm.pio.register(0x10, 1, printer("port 0x10"), name="hello-port")
        vm.mmio.register(0xD0000, 0x1000, printer("mmio 0xd0000"), name="hello-mmio")
        vcpu = vm.create_vcpu()

        ram.buffer[CODE_GPA:CODE_GPA + len(REAL_CODE)] = REAL_CODE  # guest RAM is a memoryview
        vcpu.setup_real_mode(0, CODE_GPA)
        run(vcpu, "real mode")

        vm.memory.write(CODE_GPA, LONG_CODE)
        vcpu.setup_long_mode(entry=CODE_GPA, stack=0x8000, scratch_gpa=0x10000)
        run(vcpu, "long mode")

        # Nobody claims port 0x20: under the "fail" policy each access would
        # return from run(); run_once() returns every exit, claimed or not.
        vm.memory.write(CODE_GPA, COUNT_CODE)
        vcpu.setup_real_mode(0, CODE_GPA)
        seen = []
        while True:
            exit = vcpu.run_once()
            if exit.reason == hvlib.ExitReason.IO and not exit.handled:
                seen.append(chr(exit.value))
            elif exit.reason == hvlib.ExitReason.HLT:
                break
        print(f"run-one-exit loop: port 0x20 got {''.join(seen)!r}, rcx={vcpu.regs.rcx}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
