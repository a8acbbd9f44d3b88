/* SPDX-License-Identifier: MIT */
/* The run loop: enter the guest, decode the exit, dispatch I/O to the buses. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bus/bus_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "vcpu/vcpu_internal.h"

static const char *const exit_names[] = {
	[HV_EXIT_NONE] = "NONE",
	[HV_EXIT_IO] = "IO",
	[HV_EXIT_MMIO] = "MMIO",
	[HV_EXIT_HLT] = "HLT",
	[HV_EXIT_SHUTDOWN] = "SHUTDOWN",
	[HV_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[HV_EXIT_KICKED] = "KICKED",
	[HV_EXIT_DEBUG] = "DEBUG",
	[HV_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[HV_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[HV_EXIT_STOP] = "STOP",
	[HV_EXIT_UNKNOWN] = "UNKNOWN",
};
_Static_assert(HV_ARRAY_SIZE(exit_names) == HV_EXIT_REASON_COUNT, "an exit reason lacks a name");

HV_EXPORT const char *hv_exit_reason_name(uint32_t reason)
{
	return reason < HV_EXIT_REASON_COUNT ? exit_names[reason] : "INVALID";
}

static uint64_t load_le(const uint8_t *p, uint32_t width)
{
	uint64_t v = 0;

	memcpy(&v, p, width); /* x86 and arm64 hosts are little-endian */
	return v;
}

/* A line about one of the guest's accesses: rate-limited per vCPU, since
 * the guest can repeat the access as fast as it likes. */
static bool guest_log_ok(struct hv_vcpu *vcpu, enum hv_log_level level)
{
	uint64_t dropped;

	if (!hv_vm_log_enabled(vcpu->vm, level) ||
	    !hv_ratelimit_allow(&vcpu->log_rl, hv_ratelimit_now(), &dropped))
		return false;
	if (dropped)
		hv_vm_logf(vcpu->vm, HV_LOG_WARN, "vCPU %u: %llu messages suppressed", vcpu->index,
			   (unsigned long long)dropped);
	return true;
}

/* Deliver one access to a bus and apply the VM's policy if nobody claims it.
 * Returns whether a callback served it. */
static bool dispatch(struct hv_vcpu *vcpu, struct hv_bus *bus, const char *space, uint64_t addr,
		     uint32_t width, bool is_write, uint64_t *value)
{
	struct hv_vcpu *prev = hv_bus_enter_vcpu(vcpu); /* for hv_bus_current_vcpu() */
	int ret = hv_bus_dispatch(bus, addr, width, is_write, value);

	hv_bus_enter_vcpu(prev);
	if (ret == 0)
		return true;
	if (ret != -ENOENT && guest_log_ok(vcpu, HV_LOG_WARN))
		hv_vm_logf(vcpu->vm, HV_LOG_WARN, "vCPU %u: %s %s 0x%llx/%u failed: %s", vcpu->index,
			   space, is_write ? "write" : "read", (unsigned long long)addr, width,
			   hv_last_error()); /* names the device (hv_bus_dispatch()) */
	else if (ret == -ENOENT && vcpu->vm->cfg.unclaimed_io == HV_UNCLAIMED_LOG &&
		 guest_log_ok(vcpu, HV_LOG_DEBUG))
		hv_vm_logf(vcpu->vm, HV_LOG_DEBUG, "vCPU %u: unclaimed %s %s 0x%llx/%u = 0x%llx",
			   vcpu->index, space, is_write ? "write" : "read",
			   (unsigned long long)addr, width, (unsigned long long)*value);
	return false;
}

static void decode_pio(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	uint32_t width = run->io.size, count = run->io.count;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool handled = true;

	/* KVM places the data inside the run area it mapped for us; still check
	 * it, since a KVM bug here would be a host memory overwrite. */
	if (width == 0 || width > 8 || count == 0 ||
	    run->io.data_offset + (uint64_t)width * count > vcpu->run_size) {
		exit->reason = HV_EXIT_INTERNAL_ERROR;
		return;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t value = is_write ? load_le(data + i * width, width) : 0;

		handled &= dispatch(vcpu, vcpu->vm->pio, "port", run->io.port, width, is_write,
				    &value);
		if (!is_write)
			memcpy(data + i * width, &value, width);
		if (i == 0)
			exit->u.io.value = value;
	}
	exit->u.io.addr = run->io.port;
	exit->u.io.width = width;
	exit->u.io.is_write = is_write;
	exit->u.io.count = count;
	exit->handled = handled;
	if (!handled && !is_write)
		vcpu->pending_read = (struct hv_pending_read){ data, width, count };
}

static void decode_mmio(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	uint32_t width = run->mmio.len;
	bool is_write = run->mmio.is_write;
	uint64_t value;

	if (width == 0 || width > sizeof(run->mmio.data)) {
		exit->reason = HV_EXIT_INTERNAL_ERROR;
		return;
	}
	value = is_write ? load_le(run->mmio.data, width) : 0;
	exit->handled = dispatch(vcpu, vcpu->vm->mmio, "MMIO", run->mmio.phys_addr, width,
				 is_write, &value);
	if (!is_write)
		memcpy(run->mmio.data, &value, width);
	exit->u.io.addr = run->mmio.phys_addr;
	exit->u.io.value = value;
	exit->u.io.width = width;
	exit->u.io.is_write = is_write;
	exit->u.io.count = 1;
	if (!exit->handled && !is_write)
		vcpu->pending_read = (struct hv_pending_read){ run->mmio.data, width, 1 };
}

static void copy_data(uint64_t *dst, uint32_t *ndata, const void *src, uint32_t n)
{
	*ndata = n < 4 ? n : 4;
	memcpy(dst, src, *ndata * sizeof(*dst));
}

void hv_vcpu_decode_exit(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	exit->kvm_reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit->reason = HV_EXIT_IO;
		decode_pio(vcpu, exit);
		break;
	case KVM_EXIT_MMIO:
		exit->reason = HV_EXIT_MMIO;
		decode_mmio(vcpu, exit);
		break;
	case KVM_EXIT_HLT:
		exit->reason = HV_EXIT_HLT;
		break;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = HV_EXIT_SHUTDOWN;
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		exit->reason = HV_EXIT_SYSTEM_EVENT;
		exit->u.system_event.type = run->system_event.type;
		copy_data(exit->u.system_event.data, &exit->u.system_event.ndata,
			  run->system_event.data, run->system_event.ndata);
		break;
	case KVM_EXIT_DEBUG:
		exit->reason = HV_EXIT_DEBUG;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->reason = HV_EXIT_INTERNAL_ERROR;
		exit->u.internal.suberror = run->internal.suberror;
		copy_data(exit->u.internal.data, &exit->u.internal.ndata, run->internal.data,
			  run->internal.ndata);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit->reason = HV_EXIT_FAIL_ENTRY;
		exit->u.fail_entry.hardware_reason = run->fail_entry.hardware_entry_failure_reason;
		break;
	case KVM_EXIT_INTR:
		exit->reason = HV_EXIT_KICKED;
		break;
	default:
		exit->reason = HV_EXIT_UNKNOWN;
		break;
	}
}

HV_EXPORT int hv_vcpu_run_once(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	bool kicked;
	int ret;

	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(exit);

	memset(exit, 0, sizeof(*exit));
	vcpu->pending_read.data = NULL;
	if (vcpu->fd < 0)
		return hv_err(-ENODEV, "vCPU %u: its VM was destroyed", vcpu->index);
	hv_kick_enter_run(vcpu);
	ret = ioctl(vcpu->fd, KVM_RUN, 0) < 0 ? -errno : 0;
	kicked = hv_kick_leave_run(vcpu);
	/* -EAGAIN: an application processor woke up from wait-for-SIPI inside
	 * KVM_RUN and must simply enter again; report it like a stray signal. */
	if (ret == -EINTR || ret == -EAGAIN || kicked) {
		/* A kick that raced with a real exit: report the kick, and let the
		 * exit (already complete in KVM's view for writes) be re-taken. */
		if (ret == 0 && vcpu->run->exit_reason != KVM_EXIT_INTR) {
			hv_vcpu_decode_exit(vcpu, exit);
			atomic_store(&vcpu->kick_pending, 1);
			return 0;
		}
		exit->reason = HV_EXIT_KICKED;
		exit->kvm_reason = KVM_EXIT_INTR;
		exit->u.raw[0] = kicked; /* 1: hv_vcpu_kick(), 0: another signal */
		return 0;
	}
	if (ret && hv_mem_regions(hv_vm_mem(vcpu->vm), NULL, 0) == 0)
		return hv_err_sys(ret, "KVM_RUN on vCPU %u: the VM has no guest RAM (add a region "
				       "to hv_vm_mem() first)", vcpu->index);
	if (ret)
		return hv_err_sys(ret, "KVM_RUN on vCPU %u", vcpu->index);
	hv_vcpu_decode_exit(vcpu, exit);
	return 0;
}

static bool needs_caller(const struct hv_vcpu *vcpu, const struct hv_exit *exit)
{
	if (exit->reason == HV_EXIT_KICKED)
		return exit->u.raw[0] != 0; /* stray signals just re-enter */
	if (exit->reason != HV_EXIT_IO && exit->reason != HV_EXIT_MMIO)
		return true;
	return !exit->handled && vcpu->vm->cfg.unclaimed_io == HV_UNCLAIMED_FAIL;
}

HV_EXPORT int hv_vcpu_run(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	HV_CHECK_ARG(vcpu);
	HV_CHECK_ARG(exit);
	for (;;) {
		int ret = hv_vcpu_run_once(vcpu, exit);

		if (ret)
			return ret;
		if (needs_caller(vcpu, exit))
			return 0;
	}
}

HV_EXPORT int hv_vcpu_set_io_result(struct hv_vcpu *vcpu, uint64_t value)
{
	HV_CHECK_ARG(vcpu);
	struct hv_pending_read *p = &vcpu->pending_read;

	if (!p->data)
		return hv_err(-EINVAL, "vCPU %u: the last exit was not an unclaimed read",
			      vcpu->index);
	for (uint32_t i = 0; i < p->count; i++)
		memcpy(p->data + i * p->width, &value, p->width);
	return 0;
}
