/* SPDX-License-Identifier: MIT */
/*
 * Kernel-less micro-VM guests: a few bytes of 32-bit code wrapped in an ELF
 * "vmlinux" with a PVH entry note, so hv_microvm_create() loads them like a
 * kernel and they run natively on any /dev/kvm (kvm_pvm included).
 */
#ifndef HV_TEST_PVH_GUEST_H
#define HV_TEST_PVH_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* Where the code is loaded and entered (flat 32-bit protected mode). */
#define PVH_GUEST_ENTRY 0x100000u
/* The guest's parameters: a byte count at PARAM, the bytes at DATA. */
#define PVH_GUEST_PARAM 0x100ff0u
#define PVH_GUEST_DATA  0x101000u
#define PVH_GUEST_DATA_MAX 0x1000u

/*
 * Write an ELF with the UART guest to `path`: it sends the len bytes of
 * `data` (at most PVH_GUEST_DATA_MAX) to COM1 the way Linux's 8250 console
 * does (an LSR read, then THR), then pulses the i8042 reset line, so the
 * micro-VM stops with HV_STOP_REBOOT.  Returns 0 or -errno.
 */
int pvh_guest_write_uart(const char *path, const void *data, size_t len);

#endif
