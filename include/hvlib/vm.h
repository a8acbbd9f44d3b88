/* SPDX-License-Identifier: MIT */
/*
 * hvlib/vm.h - a KVM virtual machine.
 *
 * Call order: hv_vm_config_init() -> hv_vm_create() -> add memory through
 * hv_vm_mem() and devices through hv_vm_bus() -> hv_vcpu_create() ... ->
 * run vCPUs -> hv_vcpu_destroy() each -> hv_vm_destroy().
 *
 * Each VM opens its own /dev/kvm descriptor: VMs in one process share nothing
 * and may be created, run and destroyed concurrently from different threads.
 * Functions on one VM are thread-safe unless stated otherwise.
 */
#ifndef HVLIB_VM_H
#define HVLIB_VM_H

#include <stdint.h>

#include "bus.h"
#include "common.h"
#include "ledger.h"
#include "mem.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_vm;

/* What a vCPU does with an access no bus range claims. */
enum hv_unclaimed_policy {
	HV_UNCLAIMED_IGNORE = 0, /* writes dropped, reads return all-ones (like empty ISA/PCI space) */
	HV_UNCLAIMED_LOG = 1,    /* as IGNORE, and log at HV_LOG_DEBUG */
	HV_UNCLAIMED_FAIL = 2,   /* hv_vcpu_run() returns the exit with handled == 0 */
};

/* VM flags. */
#define HV_VM_F_IRQCHIP (1u << 0) /* in-kernel interrupt controllers (x86: PIC, IOAPIC, LAPIC, PIT) */
/* Confine the threads hvlib starts for this VM (managed vCPUs, device
 * threads) with per-thread seccomp filters: a call outside a thread's list
 * kills the process (SIGSYS).  Callbacks (exits, log, console) run on those
 * threads under their filters.  See README "Seccomp". */
#define HV_VM_F_SECCOMP (1u << 1)
#define HV_VM_F_ALL     0x3u

struct hv_vm_config {
	uint32_t size;          /* sizeof(struct hv_vm_config) */
	uint32_t flags;         /* HV_VM_F_*; unknown bits: -EINVAL */
	const char *kvm_path;   /* NULL: "/dev/kvm" */
	hv_log_fn log_fn;       /* NULL: diagnostics dropped */
	void *log_opaque;
	uint32_t log_level;     /* highest enum hv_log_level delivered */
	uint32_t unclaimed_io;  /* enum hv_unclaimed_policy */
	int32_t kick_signal;    /* signal hv_vcpu_kick() uses; 0: SIGRTMIN + 2 (see vcpu.h) */
	uint32_t reserved;
	/* Admission (hvlib/ledger.h), borrowed, must outlive the VM; NULL: none.
	 * Each memory region reserves its bytes at hv_mem_add_region() (which
	 * then fails with -ENOSPC) and each vCPU one CPU at hv_vcpu_create();
	 * both are returned at removal and destroy. */
	struct hv_ledger *ledger;
};

/* Fill *cfg with its size and defaults. */
HV_EXPORT void hv_vm_config_init(struct hv_vm_config *cfg);

/*
 * Open KVM, check its API version and every capability hvlib relies on, and
 * create a VM.  cfg NULL: defaults.  Caller owns *out until hv_vm_destroy().
 * -ENOENT: no /dev/kvm (module not loaded, or no KVM on this machine);
 * -EACCES: no permission (user not in group kvm); -ENOTSUP: API version or a
 * required capability missing (the message names it); -EINVAL: bad config.
 */
HV_EXPORT int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out);

/* Destroys the VM and its memory map and buses.  Destroy its vCPUs first;
 * for a vCPU still there it logs a warning (HV_LOG_WARN), stops and joins
 * the vCPU's managed thread and closes its descriptor and run area before
 * the memory goes; that vCPU handle then only accepts hv_vcpu_destroy()
 * (hv_vcpu_run() fails with -ENODEV, hv_vcpu_kick() does nothing), and the
 * last such destroy frees what is left of the VM.  No other thread may be
 * inside hv_vcpu_run() of its vCPUs, nor destroying them, meanwhile.
 * NULL: no-op. */
HV_EXPORT void hv_vm_destroy(struct hv_vm *vm);

/* The VM's guest memory map and I/O buses; owned by the VM. */
HV_EXPORT struct hv_mem *hv_vm_mem(struct hv_vm *vm);
HV_EXPORT struct hv_bus *hv_vm_bus(struct hv_vm *vm, enum hv_bus_space space);

/* KVM_CHECK_EXTENSION on the VM: the capability's value (0: absent). */
HV_EXPORT int hv_vm_check_extension(struct hv_vm *vm, uint32_t cap);

/* The raw KVM VM descriptor, for ioctls hvlib does not wrap.  Owned by the VM. */
HV_EXPORT int hv_vm_fd(const struct hv_vm *vm);

/* Log through the VM's callback (for embedder devices that want one sink). */
HV_EXPORT void hv_vm_log(struct hv_vm *vm, enum hv_log_level level, const char *msg);

/* Drive an interrupt line of the in-kernel irqchip (HV_VM_F_IRQCHIP):
 * level 1 asserts, 0 deasserts.  -ENXIO: no irqchip. */
HV_EXPORT int hv_vm_irq_line(struct hv_vm *vm, uint32_t irq, int level);

/*
 * Eventfds: let KVM turn a guest access into an eventfd signal, and an
 * eventfd signal into a guest interrupt, without a vCPU exit reaching hvlib.
 * Both work on any descriptor that is an eventfd (eventfd(2)); KVM takes its
 * own reference, so the caller may close its fd after deassigning (closing
 * it while assigned is also safe: KVM drops the route when the VM dies).
 * Thread-safe, like the other VM calls.
 */

/* hv_vm_irqfd() flags. */
#define HV_IRQFD_F_DEASSIGN (1u << 0) /* remove the route of fd to gsi */
#define HV_IRQFD_F_ALL      0x1u

/*
 * Route eventfd fd to interrupt line gsi of the in-kernel irqchip: every
 * write to fd pulses the line (edge).  resample_fd >= 0 makes it a
 * level-triggered line instead: asserted by fd, deasserted when the guest
 * acknowledges (EOI), at which point KVM signals resample_fd so the device
 * can re-check and assert again; -1 for none.
 * -EINVAL: bad fd or flags; -ENXIO: the VM has no in-kernel irqchip;
 * -ENOTSUP: KVM lacks KVM_CAP_IRQFD (or KVM_CAP_IRQFD_RESAMPLE, named in the
 * message); -EBUSY: fd is already routed; other KVM errors with context.
 */
HV_EXPORT int hv_vm_irqfd(struct hv_vm *vm, int fd, uint32_t gsi, int resample_fd,
			  uint32_t flags);

/* hv_vm_ioeventfd() flags. */
#define HV_IOEVENTFD_F_DATAMATCH (1u << 0) /* only writes of exactly `datamatch` signal */
#define HV_IOEVENTFD_F_DEASSIGN  (1u << 1) /* remove (same space/addr/width/datamatch/fd) */
#define HV_IOEVENTFD_F_ALL       0x3u

/*
 * Guest writes of `width` bytes (1, 2, 4 or 8) to addr in space (HV_BUS_PIO
 * or HV_BUS_MMIO) signal eventfd fd instead of exiting to the bus; with
 * HV_IOEVENTFD_F_DATAMATCH only writes of that value do, others still reach
 * the bus.  Reads are never captured.  width 0 (MMIO only, no datamatch,
 * KVM_CAP_IOEVENTFD_ANY_LENGTH) matches writes of any width.
 * -EINVAL: bad fd, flags, space, width or range; -ENOTSUP: KVM lacks
 * KVM_CAP_IOEVENTFD (or _ANY_LENGTH); -EEXIST: that address (and datamatch)
 * already has an eventfd; -ENOENT: deassigning one that is not there.
 */
HV_EXPORT int hv_vm_ioeventfd(struct hv_vm *vm, int fd, enum hv_bus_space space, uint64_t addr,
			      uint32_t width, uint64_t datamatch, uint32_t flags);
/* Send a message-signalled interrupt (PCI MSI/MSI-X) through the in-kernel
 * irqchip: the address and data a device would write (x86: 0xfeeXXXXX and
 * the vector).  Returns 1 if delivered, 0 if the guest blocked it (e.g. the
 * target APIC is disabled); -ENXIO: no irqchip; other -errno from KVM. */
HV_EXPORT int hv_vm_signal_msi(struct hv_vm *vm, uint64_t address, uint32_t data);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_VM_H */
