/* SPDX-License-Identifier: MIT */
/*
 * VM lifecycle: open KVM, check what hvlib needs, create the VM, and mirror
 * the guest memory map into KVM memory slots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "mem/mem_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"
#include "vm/vm_internal.h"

#define HV_KVM_API_VERSION 12

/* Capabilities every architecture needs. */
static const struct hv_arch_cap generic_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT (Linux 4.11+)" },
	{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
	{ KVM_CAP_SYNC_MMU, "KVM_CAP_SYNC_MMU" },
	{ 0, NULL },
};

int hv_kvm_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

HV_EXPORT void hv_vm_config_init(struct hv_vm_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->log_level = HV_LOG_INFO;
	cfg->unclaimed_io = HV_UNCLAIMED_IGNORE;
}

void hv_vm_logf(struct hv_vm *vm, enum hv_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!vm->cfg.log_fn || (uint32_t)level > vm->cfg.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm->cfg.log_fn(vm->cfg.log_opaque, level, msg);
}

bool hv_vm_log_enabled(const struct hv_vm *vm, enum hv_log_level level)
{
	return vm->cfg.log_fn && (uint32_t)level <= vm->cfg.log_level;
}

HV_EXPORT void hv_vm_log(struct hv_vm *vm, enum hv_log_level level, const char *msg)
{
	HV_CHECK_ARG_RET(vm, );
	hv_vm_logf(vm, level, "%s", msg);
}

static int open_kvm(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
		return hv_err(-ENOENT, "%s: no such device; is KVM enabled in the BIOS and the "
				       "kvm_intel or kvm_amd module loaded? (without KVM, "
				       "run under scripts/with-kvm)", path);
	case EACCES:
	case EPERM:
		return hv_err(-EACCES, "%s: permission denied; is the user in group kvm?", path);
	default:
		return hv_err_sys(-errno, "opening %s", path);
	}
}

static int check_caps(int kvm_fd, const char *path, const struct hv_arch_cap *caps)
{
	for (; caps->name; caps++)
		if (hv_kvm_ioctl(kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)caps->cap) <= 0)
			return hv_err(-ENOTSUP, "%s: KVM lacks %s, which hvlib needs", path,
				      caps->name);
	return 0;
}

static int check_kvm(struct hv_vm *vm)
{
	int version = hv_kvm_ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL);
	int ret;

	if (version < 0)
		return hv_err(-ENOTSUP, "%s: not a KVM device (KVM_GET_API_VERSION: %s)",
			      vm->kvm_path, strerror(-version));
	if (version != HV_KVM_API_VERSION)
		return hv_err(-ENOTSUP, "%s: KVM API version %d, hvlib needs %d", vm->kvm_path,
			      version, HV_KVM_API_VERSION);
	ret = check_caps(vm->kvm_fd, vm->kvm_path, generic_caps);
	if (ret)
		return ret;
	ret = check_caps(vm->kvm_fd, vm->kvm_path, hv_arch_required_caps);
	if (ret)
		return ret;
	if ((vm->cfg.flags & HV_VM_F_IRQCHIP) &&
	    hv_kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)KVM_CAP_IRQCHIP) <= 0)
		return hv_err(-ENOTSUP, "%s: KVM lacks KVM_CAP_IRQCHIP (in-kernel irqchip)",
			      vm->kvm_path);
	ret = hv_kvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (ret <= 0)
		return hv_err(ret < 0 ? ret : -ENOTSUP, "%s: KVM_GET_VCPU_MMAP_SIZE failed",
			      vm->kvm_path);
	vm->vcpu_mmap_size = (size_t)ret;
	return 0;
}

static int validate_config(const struct hv_vm_config *cfg)
{
	if (cfg->flags & ~HV_VM_F_ALL)
		return hv_err(-EINVAL, "VM config: unknown flags 0x%x", cfg->flags & ~HV_VM_F_ALL);
	if (cfg->unclaimed_io > HV_UNCLAIMED_FAIL)
		return hv_err(-EINVAL, "VM config: unknown unclaimed-I/O policy %u",
			      cfg->unclaimed_io);
	if (cfg->kvm_path && strlen(cfg->kvm_path) >= 64)
		return hv_err(-EINVAL, "VM config: kvm_path longer than 63 bytes");
	if (cfg->reserved)
		return hv_err(-EINVAL, "VM config: reserved is 0x%x, must be 0", cfg->reserved);
	return 0;
}

/* Guest memory regions become KVM memory slots. */
static int set_slot(struct hv_vm *vm, const struct hv_mem_region *r, uint32_t flags,
		    uint64_t bytes)
{
	struct kvm_userspace_memory_region slot = {
		.slot = r->id,
		.guest_phys_addr = r->gpa,
		.memory_size = bytes,
		.userspace_addr = (uintptr_t)r->host,
	};

	if (flags & HV_MEM_F_READONLY)
		slot.flags |= KVM_MEM_READONLY;
	if (flags & HV_MEM_F_DIRTY_LOG)
		slot.flags |= KVM_MEM_LOG_DIRTY_PAGES;
	return hv_kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
}

static int slot_commit(struct hv_vm *vm, const struct hv_mem_region *r)
{
	int ret = set_slot(vm, r, r->flags, r->bytes);

	if (ret)
		return hv_err_sys(ret, "KVM_SET_USER_MEMORY_REGION for slot %u at 0x%llx+0x%llx",
				  r->id, (unsigned long long)r->gpa, (unsigned long long)r->bytes);
	return 0;
}

/* Checked against MMIO ranges and charged to the ledger first (vm_map.c). */
static int slot_add(void *opaque, const struct hv_mem_region *r)
{
	return hv_vm_map_add(opaque, r, slot_commit);
}

static void slot_remove(void *opaque, const struct hv_mem_region *r)
{
	/* A zero-sized slot deletes it; it cannot fail for a slot that exists. */
	(void)set_slot(opaque, r, 0, 0);
	hv_vm_map_remove(opaque, r);
}

static int slot_set_flags(void *opaque, const struct hv_mem_region *r, uint32_t flags)
{
	int ret = set_slot(opaque, r, flags, r->bytes);

	if (ret)
		return hv_err_sys(ret, "changing flags of memory slot %u", r->id);
	return 0;
}

static int slot_dirty_log(void *opaque, const struct hv_mem_region *r, uint64_t *bitmap)
{
	struct hv_vm *vm = opaque;
	struct kvm_dirty_log log = { .slot = r->id, .dirty_bitmap = bitmap };
	int ret = hv_kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log);

	if (ret)
		return hv_err_sys(ret, "KVM_GET_DIRTY_LOG for slot %u", r->id);
	return 0;
}

static const struct hv_mem_listener slot_listener = {
	.region_add = slot_add,
	.region_remove = slot_remove,
	.region_set_flags = slot_set_flags,
	.region_dirty_log = slot_dirty_log,
};

static int create_parts(struct hv_vm *vm)
{
	int ret, slots, vcpus;

	ret = hv_mem_create(&vm->mem);
	if (ret)
		return ret;
	slots = hv_kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)KVM_CAP_NR_MEMSLOTS);
	ret = hv_mem_attach(vm->mem, &slot_listener, vm, slots > 0 ? (uint32_t)slots : 32);
	if (ret)
		return ret;
	ret = hv_bus_create(HV_BUS_PIO, &vm->pio);
	if (ret)
		return ret;
	ret = hv_bus_create(HV_BUS_MMIO, &vm->mmio);
	if (ret)
		return ret;
	hv_vm_map_init(vm);
	vcpus = hv_kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)KVM_CAP_MAX_VCPUS);
	if (vcpus <= 0)
		vcpus = hv_kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)KVM_CAP_NR_VCPUS);
	vm->max_vcpus = vcpus > 0 ? (uint32_t)vcpus : 1;
	vm->vcpus = calloc(vm->max_vcpus, sizeof(*vm->vcpus));
	vm->vcpu_created = calloc(vm->max_vcpus, sizeof(*vm->vcpu_created));
	if (!vm->vcpus || !vm->vcpu_created)
		return hv_err(-ENOMEM, "allocating the vCPU table");
	return hv_kick_signal_install(vm->cfg.kick_signal);
}

HV_EXPORT int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out)
{
	struct hv_vm_config c;
	struct hv_vm *vm;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	hv_vm_config_init(&c); /* cfg NULL: the defaults, as documented */
	ret = cfg ? HV_CFG_LOAD(&c, cfg, hv_vm_config_init, "VM config") : 0;
	if (!ret)
		ret = validate_config(&c);
	if (ret)
		return ret;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return hv_err(-ENOMEM, "allocating a VM");
	vm->cfg = c;
	if (!vm->cfg.kick_signal)
		vm->cfg.kick_signal = SIGRTMIN + 2;
	snprintf(vm->kvm_path, sizeof(vm->kvm_path), "%s", c.kvm_path ? c.kvm_path : "/dev/kvm");
	vm->cfg.kvm_path = vm->kvm_path;
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);

	vm->kvm_fd = open_kvm(vm->kvm_path);
	if (vm->kvm_fd < 0) {
		ret = vm->kvm_fd;
		goto err;
	}
	ret = check_kvm(vm);
	if (ret)
		goto err;
	vm->vm_fd = hv_kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL);
	if (vm->vm_fd < 0) {
		ret = hv_err_sys(vm->vm_fd, "%s: KVM_CREATE_VM", vm->kvm_path);
		goto err;
	}
	ret = create_parts(vm);
	if (ret)
		goto err;
	ret = hv_arch_vm_init(vm);
	if (ret)
		goto err;
	*out = vm;
	return 0;

err:
	hv_vm_destroy(vm);
	return ret;
}

/* The first vCPU handle at or after *from, or NULL (vm->lock held); *from
 * moves past it. */
static struct hv_vcpu *live_vcpu_locked(struct hv_vm *vm, uint32_t *from)
{
	struct hv_vcpu *vcpu = NULL;

	for (; vm->vcpus && *from < vm->max_vcpus && !vcpu; ++*from)
		vcpu = vm->vcpus[*from];
	return vcpu;
}

static struct hv_vcpu *live_vcpu(struct hv_vm *vm, uint32_t *from)
{
	struct hv_vcpu *vcpu;

	pthread_mutex_lock(&vm->lock);
	vcpu = live_vcpu_locked(vm, from);
	pthread_mutex_unlock(&vm->lock);
	return vcpu;
}

static void free_struct(struct hv_vm *vm)
{
	free(vm->vcpus);
	free(vm->vcpu_created);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

void hv_vm_vcpu_gone(struct hv_vm *vm, uint32_t index, struct hv_vcpu *vcpu)
{
	uint32_t i = 0;
	bool last;

	pthread_mutex_lock(&vm->lock);
	if (vm->vcpus[index] == vcpu)
		vm->vcpus[index] = NULL;
	last = vm->destroyed && !live_vcpu_locked(vm, &i);
	pthread_mutex_unlock(&vm->lock);
	if (last)
		free_struct(vm);
}

HV_EXPORT void hv_vm_destroy(struct hv_vm *vm)
{
	struct hv_vcpu *vcpu;
	uint32_t i = 0;
	bool keep;

	if (!vm)
		return;
	/* vCPUs first: their threads stop before memory and buses go, and
	 * their descriptors close; the handles stay for hv_vcpu_destroy(). */
	while ((vcpu = live_vcpu(vm, &i))) {
		hv_vm_logf(vm, HV_LOG_WARN, "hv_vm_destroy: vCPU %u still exists: stopping it "
			   "and closing its descriptor (its handle is only good for "
			   "hv_vcpu_destroy() now)", hv_vcpu_index(vcpu));
		hv_vcpu_release(vcpu);
	}
	hv_arch_vm_fini(vm);
	hv_mem_destroy(vm->mem);
	hv_bus_destroy(vm->pio);
	hv_bus_destroy(vm->mmio);
	if (vm->mmio)
		hv_vm_map_fini(vm);
	vm->mem = NULL;
	vm->pio = vm->mmio = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	pthread_mutex_lock(&vm->lock);
	vm->destroyed = true;
	i = 0;
	keep = live_vcpu_locked(vm, &i) != NULL;
	pthread_mutex_unlock(&vm->lock);
	if (!keep)
		free_struct(vm);
}

HV_EXPORT struct hv_mem *hv_vm_mem(struct hv_vm *vm)
{
	HV_CHECK_ARG_RET(vm, NULL);
	return vm->mem;
}

HV_EXPORT struct hv_bus *hv_vm_bus(struct hv_vm *vm, enum hv_bus_space space)
{
	HV_CHECK_ARG_RET(vm, NULL);
	return space == HV_BUS_PIO ? vm->pio : space == HV_BUS_MMIO ? vm->mmio : NULL;
}

HV_EXPORT int hv_vm_check_extension(struct hv_vm *vm, uint32_t cap)
{
	HV_CHECK_ARG(vm);
	int ret = hv_kvm_ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)cap);

	return ret < 0 ? 0 : ret;
}

HV_EXPORT int hv_vm_fd(const struct hv_vm *vm)
{
	HV_CHECK_ARG(vm);
	return vm->vm_fd;
}

HV_EXPORT int hv_vm_irq_line(struct hv_vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level ? 1 : 0 };
	int ret;

	HV_CHECK_ARG(vm);

	if (!vm->has_irqchip)
		return hv_err(-ENXIO, "interrupt line %u: the VM has no in-kernel irqchip "
				      "(HV_VM_F_IRQCHIP)", irq);
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_IRQ_LINE, &line);
	if (ret)
		return hv_err_sys(ret, "KVM_IRQ_LINE %u", irq);
	return 0;
}

HV_EXPORT int hv_vm_signal_msi(struct hv_vm *vm, uint64_t address, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
		.data = data,
	};
	int ret;

	HV_CHECK_ARG(vm);

	if (!vm->has_irqchip)
		return hv_err(-ENXIO, "MSI to 0x%llx: the VM has no in-kernel irqchip "
				      "(HV_VM_F_IRQCHIP)", (unsigned long long)address);
	ret = hv_kvm_ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
	if (ret < 0)
		return hv_err_sys(ret, "KVM_SIGNAL_MSI 0x%llx/0x%x", (unsigned long long)address,
				  data);
	return ret;
}
