/* SPDX-License-Identifier: MIT */
/*
 * hvlib - an embeddable VMM SDK over the Linux KVM API.
 *
 * API conventions (kept stable across releases):
 *
 *  Names    Every public symbol starts with hv_, with a sub-prefix per module:
 *           hv_vm_, hv_vcpu_, hv_mem_, hv_bus_, hv_x86_, hv_ledger_,
 *           hv_virtio_, hv_virtq_.  Only these symbols
 *           are exported from libhvlib.so.
 *  Handles  Objects are opaque and come in create/destroy pairs; destroy(NULL)
 *           is a no-op.  The caller owns what create returns; an object handed
 *           out by another (hv_vm_mem(), hv_vm_bus()) is borrowed and lives as
 *           long as its owner.  There is no hidden global state: VMs in one
 *           process are independent.
 *  Errors   Functions return 0 (or a non-negative count) on success and a
 *           negative errno on failure, never a bare -1.  hv_last_error() gives
 *           the detail of the last failure on the calling thread, with context
 *           ("/dev/kvm: permission denied; is the user in group kvm?");
 *           hv_strerror() describes a code.  A NULL handle or out-pointer
 *           is -EINVAL ("<function>: <argument> is NULL"), never a crash;
 *           every create sets *out = NULL when it fails.
 *  Output   The library never exits, aborts or prints.  Diagnostics go to the
 *           log callback of the VM (struct hv_vm_config.log_fn).
 *  Configs  Config structs begin with uint32_t size = sizeof(the struct) and
 *           are filled with defaults by their *_init(); fields are only ever
 *           appended.  A shorter (older) size gets the defaults for what it
 *           lacks, a longer one needs its unknown bytes 0 (see common.h).
 *           Unknown flag bits and non-zero reserved fields are -EINVAL.
 *  Threads  Each header states which calls may run on which thread.  In short:
 *           a VM's functions are thread-safe; a vCPU runs on one thread at a
 *           time; callbacks run on vCPU (or device) threads and carry the
 *           void *opaque given at registration.
 *  Guests   Every guest-controlled value is untrusted: guest addresses go
 *           through bounds- and overflow-checked translation.
 *
 * Each header compiles alone, as C99 and as C++.
 */
#ifndef HVLIB_HVLIB_H
#define HVLIB_HVLIB_H

#include "common.h"
#include "mem.h"
#include "bus.h"
#include "vm.h"
#include "vcpu.h"
#include "serial.h"
#include "loader.h"
#include "ioloop.h"
#include "virtio.h"
#include "virtio_vsock.h"
#include "pci.h"
#include "virtio_pci.h"
#include "virtio_balloon.h"
#include "virtio_console.h"
#include "virtio_net.h"
#include "ledger.h"
#include "microvm.h"
#if defined(__x86_64__) || defined(_M_X64)
#include "x86.h"
#include "i8042.h"
#include "acpi.h"
#endif

#endif /* HVLIB_HVLIB_H */
