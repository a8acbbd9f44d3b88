/* SPDX-License-Identifier: MIT */
/* The VM handle, shared by the vm, vcpu and arch code. */
#ifndef HV_VM_INTERNAL_H
#define HV_VM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "arch_vm.h" /* from src/arch/<arch>/: struct hv_arch_vm */
#include "hvlib/vm.h"

struct hv_vcpu;
struct hv_mem_region;
struct hv_vm_ram;

struct hv_vm {
	int kvm_fd;
	int vm_fd;
	struct hv_vm_config cfg;
	char kvm_path[64];
	struct hv_mem *mem;
	struct hv_bus *pio;
	struct hv_bus *mmio;
	size_t vcpu_mmap_size;
	uint32_t max_vcpus;
	bool has_irqchip;
	pthread_mutex_t lock;     /* guards vcpus[] and destroyed */
	struct hv_vcpu **vcpus;   /* indexed by vCPU index, max_vcpus entries */
	/* hv_vm_destroy() ran while vCPU handles still existed: the struct
	 * (cfg, lock, vcpus[]) lives on until the last one is destroyed. */
	bool destroyed;
	bool *vcpu_created;       /* KVM never frees a vCPU index within a VM */
	struct hv_arch_vm arch;
	/* vm_map.c: RAM beside the MMIO bus, and what the ledger holds for it. */
	pthread_mutex_t map_lock;  /* guards ram[] (and MMIO bus changes: bus_internal.h) */
	struct hv_vm_ram *ram;     /* one per memory region, unsorted */
	uint32_t nr_ram, ram_cap;
};

/* vm_map.c: the memory listener's checks.  Guest memory may not overlap an
 * MMIO range (-EEXIST), and is reserved from the VM's ledger (-ENOSPC);
 * commit() runs under the same lock (it makes the KVM slot). */
void hv_vm_map_init(struct hv_vm *vm);
void hv_vm_map_fini(struct hv_vm *vm);
int hv_vm_map_add(struct hv_vm *vm, const struct hv_mem_region *r,
		  int (*commit)(struct hv_vm *vm, const struct hv_mem_region *r));
void hv_vm_map_remove(struct hv_vm *vm, const struct hv_mem_region *r);

/* The embedder asked for seccomp filters on the library's threads. */
static inline bool hv_vm_seccomp(const struct hv_vm *vm)
{
	return vm && (vm->cfg.flags & HV_VM_F_SECCOMP);
}

/* printf-style logging through the VM's callback. */
void hv_vm_logf(struct hv_vm *vm, enum hv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether a line at this level would reach the callback (for rate limits:
 * lines nobody sees must not use up the budget of those they would). */
bool hv_vm_log_enabled(const struct hv_vm *vm, enum hv_log_level level);

/* vCPU index's handle is gone (vcpu.c): forget it, and free the VM's
 * struct if hv_vm_destroy() ran before and this was the last vCPU. */
void hv_vm_vcpu_gone(struct hv_vm *vm, uint32_t index, struct hv_vcpu *vcpu);

/* ioctl on a KVM descriptor, retried on EINTR; returns the result or -errno. */
int hv_kvm_ioctl(int fd, unsigned long request, void *arg);

#endif /* HV_VM_INTERNAL_H */
