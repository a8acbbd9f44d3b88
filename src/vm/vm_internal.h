/* SPDX-License-Identifier: MIT */
/* The VM handle, shared by the vm, vcpu and arch code. */
#ifndef HV_VM_INTERNAL_H
#define HV_VM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "arch_vm.h" /* from src/arch/<arch>/: struct hv_arch_vm */
#include "hvlib/vm.h"

struct hv_vcpu;

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
	pthread_mutex_t lock;     /* guards vcpus[] */
	struct hv_vcpu **vcpus;   /* indexed by vCPU index, max_vcpus entries */
	bool *vcpu_created;       /* KVM never frees a vCPU index within a VM */
	struct hv_arch_vm arch;
};

/* The embedder asked for seccomp filters on the library's threads. */
static inline bool hv_vm_seccomp(const struct hv_vm *vm)
{
	return vm && (vm->cfg.flags & HV_VM_F_SECCOMP);
}

/* printf-style logging through the VM's callback. */
void hv_vm_logf(struct hv_vm *vm, enum hv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ioctl on a KVM descriptor, retried on EINTR; returns the result or -errno. */
int hv_kvm_ioctl(int fd, unsigned long request, void *arg);

#endif /* HV_VM_INTERNAL_H */
