/* SPDX-License-Identifier: MIT */
/*
 * hvlib/i8042.h - the PC keyboard controller (8042), reduced to what an OS
 * needs from it when no keyboard or mouse is attached: probing that finishes,
 * and the CPU reset line for rebooting.
 *
 * Ports: 0x60 (data) and 0x64 (status on read, command on write).  The
 * controller answers the commands firmware and Linux's i8042 driver use:
 * read/write of the command byte and internal RAM (0x20-0x3f, 0x60-0x7f),
 * self-test (0xaa -> 0x55), interface tests (0xab, 0xa9 -> 0x00), port
 * disable/enable (0xad/0xae, 0xa7/0xa8), output port read/write (0xd0/0xd1),
 * output buffer writes (0xd2, and 0xd3, the AUX loopback), and the pulse
 * commands (0xf0-0xff).  Unknown commands are ignored.  Input is always
 * accepted at once, so the status register never shows the input buffer full.
 *
 * Nothing is attached: bytes sent to the keyboard (data port writes) or the
 * mouse (0xd4) go nowhere and get no answer, and the controller drives no
 * interrupt lines.  Linux then times out talking to the keyboard in its
 * background probe, and rejects the AUX port after its 250 ms AUX interrupt
 * test (boot with i8042.noaux to skip that).
 *
 * Reset: when the guest pulses the reset line (command 0xfe, the other even
 * commands 0xf0-0xfe, or an output port write with bit 0 clear), the reset
 * callback runs on the vCPU thread, inside the bus dispatch and with no
 * device lock held.  It should only make the VMM reset or stop the VM (set a
 * flag, kick the vCPUs); destroying devices or buses from it deadlocks.  The
 * vCPU carries on until stopped, so expect repeats: Linux pulses ten times
 * (after trying the ACPI reset register, when the firmware offers one), and
 * falls back to a triple fault (KVM_EXIT_SHUTDOWN) if nothing happens.
 *
 * Port 0x61 (system control port B: PIT channel 2 gate and output, speaker)
 * is not here: with an in-kernel PIT (HV_VM_F_IRQCHIP) KVM serves it itself.
 *
 * Threading: hv_i8042_io() and hv_i8042_reset() may run concurrently from
 * any threads; create, attach and destroy are not thread-safe against other
 * calls on the same controller.
 */
#ifndef HVLIB_I8042_H
#define HVLIB_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_i8042;

#define HV_I8042_DATA_PORT    0x60u
#define HV_I8042_COMMAND_PORT 0x64u /* status register on reads */

/* The guest asked for a CPU reset. */
typedef void (*hv_i8042_reset_fn)(void *opaque);

struct hv_i8042_config {
	uint32_t size;            /* sizeof(struct hv_i8042_config) */
	uint32_t flags;           /* none defined yet: must be 0 */
	hv_i8042_reset_fn reset;  /* NULL: reset requests are ignored */
	void *opaque;
};

/* Fill *cfg with its size and defaults. */
HV_EXPORT void hv_i8042_config_init(struct hv_i8042_config *cfg);

/* A controller as firmware leaves it after a successful self-test.
 * Caller owns *out until hv_i8042_destroy().  -EINVAL: cfg NULL, size too
 * small (call hv_i8042_config_init()), unknown flags; -ENOMEM. */
HV_EXPORT int hv_i8042_create(const struct hv_i8042_config *cfg, struct hv_i8042 **out);

/* Detaches from the bus (waiting for accesses in flight) and frees.  The bus
 * must still exist.  NULL: no-op. */
HV_EXPORT void hv_i8042_destroy(struct hv_i8042 *kbc);

/* Claim ports 0x60 and 0x64 on a port-I/O bus until hv_i8042_destroy().
 * -EBUSY: already attached; -EINVAL: NULL bus; -EEXIST: a port is taken. */
HV_EXPORT int hv_i8042_attach(struct hv_i8042 *kbc, struct hv_bus *pio_bus);

/* One guest access to `port` (0x60 or 0x64), semantics of hv_io_fn.
 * -EINVAL: another port, or width not 1. */
HV_EXPORT int hv_i8042_io(struct hv_i8042 *kbc, uint16_t port, uint32_t width, bool is_write,
			  uint64_t *value);

/* Back to the state hv_i8042_create() gives (for a VM reset). */
HV_EXPORT void hv_i8042_reset(struct hv_i8042 *kbc);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_I8042_H */
