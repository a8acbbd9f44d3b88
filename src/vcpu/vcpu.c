/* SPDX-License-Identifier: MIT */
/* vCPU creation and destruction. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

static int claim_index(struct hv_vm *vm, uint32_t index, struct hv_vcpu *vcpu)
{
	int ret = 0;

	if (index >= vm->max_vcpus)
		return hv_err(-EINVAL, "vCPU %u: KVM allows at most %u vCPUs", index,
			      vm->max_vcpus);
	pthread_mutex_lock(&vm->lock);
	if (vm->vcpus[index] || vm->vcpu_created[index])
		ret = -EEXIST;
	else
		vm->vcpus[index] = vcpu;
	pthread_mutex_unlock(&vm->lock);
	if (ret)
		return hv_err(ret, "vCPU %u already exists in this VM (KVM cannot re-create a "
				   "destroyed vCPU)", index);
	return 0;
}

static void release_index(struct hv_vm *vm, uint32_t index, struct hv_vcpu *vcpu)
{
	hv_vm_vcpu_gone(vm, index, vcpu);
}

HV_EXPORT int hv_vcpu_create(struct hv_vm *vm, uint32_t index, struct hv_vcpu **out)
{
	HV_CHECK_ARG(vm);
	HV_CHECK_ARG(out);
	*out = NULL;
	struct hv_vcpu *vcpu;
	void *run;
	int ret;

	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return hv_err(-ENOMEM, "allocating vCPU %u", index);
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = -1;
	pthread_mutex_init(&vcpu->lock, NULL);
	pthread_mutex_init(&vcpu->kick_lock, NULL);
	pthread_cond_init(&vcpu->cond, NULL);
	hv_ratelimit_init(&vcpu->log_rl, HV_RATELIMIT_BURST, HV_RATELIMIT_INTERVAL_NS);
	ret = claim_index(vm, index, vcpu);
	if (ret)
		goto err_free;
	if (vm->cfg.ledger) {
		ret = hv_ledger_reserve(vm->cfg.ledger, 0, 1);
		if (ret) {
			hv_err_context(ret, "vCPU %u", index);
			goto err_index;
		}
		vcpu->charged = true;
	}

	vcpu->fd = hv_kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)index);
	if (vcpu->fd < 0) {
		ret = hv_err_sys(vcpu->fd, "KVM_CREATE_VCPU %u", index);
		goto err_index;
	}
	pthread_mutex_lock(&vm->lock);
	vm->vcpu_created[index] = true;
	pthread_mutex_unlock(&vm->lock);
	run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		ret = hv_err_sys(-errno, "mapping the run area of vCPU %u", index);
		goto err_fd;
	}
	vcpu->run = run;
	vcpu->run_size = vm->vcpu_mmap_size;
	ret = hv_arch_vcpu_init(vcpu);
	if (ret) {
		hv_err_context(ret, "setting up vCPU %u", index);
		goto err_unmap;
	}
	*out = vcpu;
	return 0;

err_unmap:
	munmap(vcpu->run, vcpu->run_size);
err_fd:
	close(vcpu->fd);
err_index:
	if (vcpu->charged)
		hv_ledger_release(vm->cfg.ledger, 0, 1);
	release_index(vm, index, vcpu);
err_free:
	hv_ratelimit_fini(&vcpu->log_rl);
	pthread_cond_destroy(&vcpu->cond);
	pthread_mutex_destroy(&vcpu->kick_lock);
	pthread_mutex_destroy(&vcpu->lock);
	free(vcpu);
	return ret;
}

void hv_vcpu_release(struct hv_vcpu *vcpu)
{
	if (vcpu->fd < 0)
		return; /* released with its VM already */
	hv_vcpu_thread_shutdown(vcpu);
	hv_arch_vcpu_fini(vcpu);
	munmap(vcpu->run, vcpu->run_size);
	vcpu->run = NULL;
	close(vcpu->fd);
	vcpu->fd = -1;
	if (vcpu->charged)
		hv_ledger_release(vcpu->vm->cfg.ledger, 0, 1);
	vcpu->charged = false;
}

HV_EXPORT void hv_vcpu_destroy(struct hv_vcpu *vcpu)
{
	if (!vcpu)
		return;
	hv_vcpu_release(vcpu);
	release_index(vcpu->vm, vcpu->index, vcpu);
	hv_ratelimit_fini(&vcpu->log_rl);
	pthread_cond_destroy(&vcpu->cond);
	pthread_mutex_destroy(&vcpu->kick_lock);
	pthread_mutex_destroy(&vcpu->lock);
	free(vcpu);
}

HV_EXPORT uint32_t hv_vcpu_index(const struct hv_vcpu *vcpu)
{
	HV_CHECK_ARG_RET(vcpu, 0);
	return vcpu->index;
}

HV_EXPORT struct hv_vm *hv_vcpu_vm(const struct hv_vcpu *vcpu)
{
	HV_CHECK_ARG_RET(vcpu, NULL);
	return vcpu->vm;
}

HV_EXPORT int hv_vcpu_fd(const struct hv_vcpu *vcpu)
{
	HV_CHECK_ARG(vcpu);
	return vcpu->fd;
}
