/* SPDX-License-Identifier: MIT */
/*
 * The convenience layer: a Linux micro-VM from a kernel, an initrd and a
 * command line.  Generic lifecycle here; the PC-like platform lives in
 * src/arch/<arch>/microvm_*.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hvlib/i8042.h"
#include "hvlib/serial.h"
#include "hvlib/virtio_console.h"
#include "microvm/microvm_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "vm/vm_internal.h"

#define DEFAULT_MEM (256ull << 20)
#define MEM_ALIGN (2ull << 20)

static const char *const stop_names[] = {
	[HV_STOP_RUNNING] = "running",   [HV_STOP_POWEROFF] = "poweroff",
	[HV_STOP_REBOOT] = "reboot",     [HV_STOP_CRASH] = "crash",
	[HV_STOP_ERROR] = "error",       [HV_STOP_REQUESTED] = "requested",
};
_Static_assert(HV_ARRAY_SIZE(stop_names) == HV_STOP_REASON_COUNT, "a stop reason lacks a name");

HV_EXPORT const char *hv_stop_reason_name(uint32_t reason)
{
	return reason < HV_STOP_REASON_COUNT ? stop_names[reason] : "invalid";
}

HV_EXPORT void hv_microvm_config_init(struct hv_microvm_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->console_out_fd = -1;
	cfg->log_level = HV_LOG_INFO;
}

static int validate_config(const struct hv_microvm_config *cfg)
{
	if (cfg->flags & ~HV_MICROVM_F_ALL)
		return hv_err(-EINVAL, "micro-VM config: unknown flags 0x%x",
			      cfg->flags & ~HV_MICROVM_F_ALL);
	if (!cfg->kernel || !cfg->kernel[0])
		return hv_err(-EINVAL, "micro-VM config: no kernel given");
	if (cfg->nr_vcpus > 255)
		return hv_err(-EINVAL, "micro-VM config: %u vCPUs, at most 255", cfg->nr_vcpus);
	if (cfg->nr_pin_cpus && (!cfg->pin_cpus ||
				 cfg->nr_pin_cpus != (cfg->nr_vcpus ? cfg->nr_vcpus : 1)))
		return hv_err(-EINVAL, "micro-VM config: %u pinned CPUs for %u vCPUs (give one "
				       "host CPU per vCPU)", cfg->nr_pin_cpus,
			      cfg->nr_vcpus ? cfg->nr_vcpus : 1);
	if (cfg->console_fn && cfg->console_out_fd >= 0)
		return hv_err(-EINVAL, "micro-VM config: console_fn and console_out_fd exclude "
				       "each other");
	if (cfg->mem_bytes && cfg->mem_bytes < (16ull << 20))
		return hv_err(-EINVAL, "micro-VM config: %llu bytes of RAM is too little (>= 16 "
				       "MiB)", (unsigned long long)cfg->mem_bytes);
	return hv_microvm_check_virtio(cfg);
}

static int load_kernel(struct hv_microvm *m)
{
	struct hv_linux_boot_config boot;
	int ret;

	hv_linux_boot_config_init(&boot);
	boot.flags = (m->cfg.flags & HV_MICROVM_F_PVH) ? HV_LINUX_F_PVH : 0;
	boot.cmdline = m->cfg.cmdline ? m->cfg.cmdline
		       : m->vcon ? HV_MICROVM_DEFAULT_CMDLINE_VIRTIO : HV_MICROVM_DEFAULT_CMDLINE;
	boot.mem_ranges = m->mem_ranges;
	boot.nr_mem_ranges = m->nr_mem_ranges;
	boot.acpi_rsdp_addr = m->acpi_rsdp;
	ret = hv_loader_load_linux_file(hv_vm_mem(m->vm), m->cfg.kernel, m->cfg.initrd, &boot,
					&m->boot);
	return ret;
}

static int create_vcpus(struct hv_microvm *m)
{
	int ret;

	m->vcpus = calloc(m->nr_vcpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return hv_err(-ENOMEM, "allocating %u vCPUs", m->nr_vcpus);
	for (uint32_t i = 0; i < m->nr_vcpus; i++) {
		ret = hv_vcpu_create(m->vm, i, &m->vcpus[i]);
		if (!ret)
			ret = hv_arch_microvm_setup_vcpu(m, m->vcpus[i]);
		if (!ret && m->cfg.nr_pin_cpus)
			ret = hv_vcpu_set_affinity(m->vcpus[i], &m->cfg.pin_cpus[i], 1);
		if (ret)
			return ret;
	}
	return 0;
}

HV_EXPORT int hv_microvm_create(const struct hv_microvm_config *ucfg, struct hv_microvm **out)
{
	struct hv_microvm_config c;
	const struct hv_microvm_config *cfg = &c;
	struct hv_vm_config vmcfg;
	struct hv_microvm *m;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_microvm_config_init, "micro-VM config");
	if (!ret)
		ret = validate_config(cfg);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return hv_err(-ENOMEM, "allocating a micro-VM");
	m->cfg = c;
	m->mem_bytes = cfg->mem_bytes ? cfg->mem_bytes : DEFAULT_MEM;
	m->mem_bytes = (m->mem_bytes + MEM_ALIGN - 1) / MEM_ALIGN * MEM_ALIGN;
	m->nr_vcpus = cfg->nr_vcpus ? cfg->nr_vcpus : 1;
	if (cfg->ledger) {
		ret = hv_ledger_reserve(cfg->ledger, m->mem_bytes, m->nr_vcpus);
		if (ret) {
			free(m);
			return ret;
		}
		m->charged = true;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->event_fd < 0) {
		ret = hv_err_sys(-errno, "creating the micro-VM's stop eventfd");
		goto err;
	}

	hv_vm_config_init(&vmcfg);
	vmcfg.flags = HV_VM_F_IRQCHIP |
		      ((cfg->flags & HV_MICROVM_F_SECCOMP) ? HV_VM_F_SECCOMP : 0);
	vmcfg.log_fn = cfg->log_fn;
	vmcfg.log_opaque = cfg->log_opaque;
	vmcfg.log_level = cfg->log_level;
	ret = hv_vm_create(&vmcfg, &m->vm);
	if (ret)
		goto err;
	ret = hv_microvm_create_virtio(m, cfg);
	if (ret)
		goto err;
	ret = hv_arch_microvm_setup(m);
	if (ret)
		goto err;
	ret = load_kernel(m);
	if (ret)
		goto err;
	ret = create_vcpus(m);
	if (ret)
		goto err;
	*out = m;
	return 0;

err:
	hv_microvm_destroy(m);
	return ret;
}

void hv_microvm_request_stop(struct hv_microvm *m, uint32_t reason, uint32_t vcpu, int error,
			     const struct hv_exit *exit, const char *message)
{
	uint64_t one = 1;

	pthread_mutex_lock(&m->lock);
	if (m->status.reason == HV_STOP_RUNNING) {
		m->status.reason = reason;
		m->status.vcpu = vcpu;
		m->status.error = error;
		if (exit)
			m->status.exit = *exit;
		snprintf(m->status.message, sizeof(m->status.message), "%s", message);
		if (write(m->event_fd, &one, sizeof(one)) < 0) {
			/* Cannot fail for a counter far from overflow. */
		}
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	for (uint32_t i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus && m->vcpus[i])
			hv_vcpu_stop(m->vcpus[i]);
}

/* What a vCPU exit means for the whole VM; 0 to keep running. */
static int handle_vcpu_exit(void *opaque, struct hv_vcpu *vcpu, const struct hv_exit *exit)
{
	struct hv_microvm *m = opaque;
	uint32_t index = hv_vcpu_index(vcpu);
	char msg[160];

	switch (exit->reason) {
	case HV_EXIT_KICKED:
	case HV_EXIT_DEBUG:
		return 0;
	case HV_EXIT_SHUTDOWN:
		hv_microvm_request_stop(m, HV_STOP_CRASH, index, 0, exit,
					"the guest triple-faulted (x86 shutdown)");
		return 1;
	case HV_EXIT_SYSTEM_EVENT:
		if (exit->u.system_event.type == HV_SYSTEM_EVENT_SHUTDOWN)
			hv_microvm_request_stop(m, HV_STOP_POWEROFF, index, 0, exit,
						"the guest powered off");
		else if (exit->u.system_event.type == HV_SYSTEM_EVENT_RESET)
			hv_microvm_request_stop(m, HV_STOP_REBOOT, index, 0, exit,
						"the guest rebooted");
		else
			hv_microvm_request_stop(m, HV_STOP_CRASH, index, 0, exit,
						"KVM reported a guest crash");
		return 1;
	default:
		snprintf(msg, sizeof(msg), "vCPU %u stopped on a %s exit (KVM exit %u)", index,
			 hv_exit_reason_name(exit->reason), exit->kvm_reason);
		hv_microvm_request_stop(m, HV_STOP_ERROR, index,
					exit->reason == HV_EXIT_INTERNAL_ERROR && !exit->kvm_reason
						? (int)exit->u.internal.data[0] : 0,
					exit, msg);
		return 1;
	}
}

HV_EXPORT int hv_microvm_start(struct hv_microvm *m)
{
	int ret = 0;

	HV_CHECK_ARG(m);

	pthread_mutex_lock(&m->lock);
	if (m->started)
		ret = -EBUSY;
	m->started = true;
	pthread_mutex_unlock(&m->lock);
	if (ret)
		return hv_err(ret, "micro-VM already started");
	for (uint32_t i = 0; i < m->nr_vcpus; i++) {
		ret = hv_vcpu_start(m->vcpus[i], handle_vcpu_exit, m);
		if (ret) {
			hv_microvm_request_stop(m, HV_STOP_ERROR, i, ret, NULL, hv_last_error());
			return ret;
		}
	}
	return 0;
}

static void join_all(struct hv_microvm *m)
{
	if (m->joined || !m->started)
		return;
	for (uint32_t i = 0; i < m->nr_vcpus; i++)
		hv_vcpu_stop(m->vcpus[i]);
	for (uint32_t i = 0; i < m->nr_vcpus; i++) {
		struct hv_exit last;
		int ret = hv_vcpu_join(m->vcpus[i], &last);

		/* A thread that never started (start failed midway) has nothing to join. */
		if (ret && ret != -EINVAL)
			hv_vm_logf(m->vm, HV_LOG_WARN, "vCPU %u ended with %s", i, hv_strerror(ret));
	}
	m->joined = true;
}

static void deadline_after(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait on the eventfd: the condvar would need a monotonic-clock attribute
 * dance, and poll() gives the same timeout semantics directly. */
static int wait_stopped(struct hv_microvm *m, int timeout_ms)
{
	struct pollfd pfd = { .fd = m->event_fd, .events = POLLIN };
	struct timespec deadline, now;

	if (timeout_ms >= 0)
		deadline_after(&deadline, timeout_ms);
	for (;;) {
		int left = -1, ret;

		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = (int)((deadline.tv_sec - now.tv_sec) * 1000 +
				     (deadline.tv_nsec - now.tv_nsec) / 1000000L);
			if (left < 0)
				left = 0;
		}
		ret = poll(&pfd, 1, left);
		if (ret > 0)
			return 0;
		if (ret == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

HV_EXPORT int hv_microvm_wait(struct hv_microvm *m, int timeout_ms,
			      struct hv_microvm_status *status)
{
	int ret;

	HV_CHECK_ARG(m);
	HV_CHECK_ARG(status);

	if (!m->started)
		return hv_err(-EINVAL, "micro-VM: wait before start");
	ret = wait_stopped(m, timeout_ms);
	if (ret == -ETIMEDOUT)
		return hv_err(ret, "micro-VM still running after %d ms", timeout_ms);
	if (ret)
		return hv_err_sys(ret, "waiting for the micro-VM");
	join_all(m);
	if (status) {
		pthread_mutex_lock(&m->lock);
		*status = m->status;
		pthread_mutex_unlock(&m->lock);
	}
	return 0;
}

HV_EXPORT int hv_microvm_poll_fd(const struct hv_microvm *m)
{
	HV_CHECK_ARG(m);
	return m->event_fd;
}

HV_EXPORT int hv_microvm_stop(struct hv_microvm *m)
{
	HV_CHECK_ARG(m);
	hv_microvm_request_stop(m, HV_STOP_REQUESTED, 0, 0, NULL, "stopped by the host");
	return 0;
}

HV_EXPORT size_t hv_microvm_console_input(struct hv_microvm *m, const uint8_t *data, size_t len)
{
	HV_CHECK_ARG_RET(m, 0);
	if (m->vcon)
		return hv_virtio_console_input(m->vcon, data, len);
	return m->serial ? hv_serial_input(m->serial, data, len) : 0;
}

HV_EXPORT struct hv_vm *hv_microvm_vm(struct hv_microvm *m)
{
	HV_CHECK_ARG_RET(m, NULL);
	return m->vm;
}

HV_EXPORT struct hv_vcpu *hv_microvm_vcpu(struct hv_microvm *m, uint32_t index)
{
	HV_CHECK_ARG_RET(m, NULL);
	return index < m->nr_vcpus && m->vcpus ? m->vcpus[index] : NULL;
}

HV_EXPORT void hv_microvm_destroy(struct hv_microvm *m)
{
	if (!m)
		return;
	if (m->started && !m->joined) {
		hv_microvm_request_stop(m, HV_STOP_REQUESTED, 0, 0, NULL, "destroyed by the host");
		join_all(m);
	}
	for (uint32_t i = 0; m->vcpus && i < m->nr_vcpus; i++)
		hv_vcpu_destroy(m->vcpus[i]);
	free(m->vcpus);
	/* Devices are on the VM's buses: unregister (destroy) them before the VM. */
	hv_serial_destroy(m->serial);
	hv_i8042_destroy(m->kbc);
	hv_microvm_destroy_virtio(m);
	hv_vm_destroy(m->vm);
	if (m->charged)
		hv_ledger_release(m->cfg.ledger, m->mem_bytes, m->nr_vcpus);
	if (m->event_fd >= 0)
		close(m->event_fd);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
