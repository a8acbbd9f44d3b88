/* SPDX-License-Identifier: MIT */
/*
 * Managed vCPU threads under their seccomp filter (HV_VM_F_SECCOMP), for
 * real: tiny guests run, exit callbacks read registers, kicks, pauses and
 * stops work; a forbidden call from a vCPU thread kills the process by
 * SIGSYS (seen from a forked child); without the flag nothing is stopped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct hv_vm_config confined(void)
{
	struct hv_vm_config cfg;

	hv_vm_config_init(&cfg);
	cfg.flags = HV_VM_F_SECCOMP;
	return cfg;
}

struct seen {
	atomic_int exits, kicks, regs_ok;
	uint64_t last_rip;
};

/* Runs on the confined vCPU thread: reads registers (KVM_GET_REGS). */
static int note_exit(void *opaque, struct hv_vcpu *vcpu, const struct hv_exit *exit)
{
	struct seen *s = opaque;
	struct hv_x86_regs regs;

	atomic_fetch_add(&s->exits, 1);
	if (exit->reason == HV_EXIT_KICKED) {
		atomic_fetch_add(&s->kicks, 1);
		return 0;
	}
	if (!hv_vcpu_get_regs(vcpu, &regs)) {
		s->last_rip = regs.rip;
		atomic_fetch_add(&s->regs_ok, 1);
	}
	return exit->reason == HV_EXIT_HLT; /* end at hlt */
}

/* PIO and MMIO exits handled on the confined thread, to the guest's hlt. */
static void test_confined_guest_runs(void **state)
{
	struct hv_vm_config cfg = confined();
	struct io_log port = { 0 }, mmio = { .read_value = 0x42 };
	struct seen s = { 0 };
	struct hv_exit last;
	struct fixture f;

	(void)state;
	fixture_setup(&f, &cfg, &guest_real);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 2, io_log_fn, &port,
					 "out", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_MMIO), GUEST_MMIO, 0x10,
					 io_log_fn, &mmio, "mmio", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(f.vcpu, note_exit, &s), 0);
	assert_int_equal(hv_vcpu_join(f.vcpu, &last), 0);
	assert_int_equal(last.reason, HV_EXIT_HLT);
	assert_int_equal(port.writes, 2);
	assert_int_equal(port.last_value, 0x42);
	assert_int_equal(mmio.writes, 1);
	assert_int_equal(atomic_load(&s.regs_ok), 1);
	assert_true(s.last_rip > GUEST_CODE);
	fixture_teardown(&f);
}

/* Kick (the signal and its handler), pause, resume and stop under the filter. */
static void test_confined_kick_pause_stop(void **state)
{
	struct hv_vm_config cfg = confined();
	struct seen s = { 0 };
	struct hv_x86_regs regs;
	struct hv_exit last;
	struct fixture f;

	(void)state;
	fixture_setup(&f, &cfg, &guest_spin);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(f.vcpu, note_exit, &s), 0);
	sleep_ms(20);
	assert_int_equal(hv_vcpu_kick(f.vcpu), 0);
	for (int i = 0; i < 500 && atomic_load(&s.kicks) == 0; i++)
		sleep_ms(2);
	assert_int_equal(atomic_load(&s.kicks), 1);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(hv_vcpu_pause(f.vcpu), 0);
		assert_int_equal(hv_vcpu_get_regs(f.vcpu, &regs), 0);
		assert_int_equal(regs.rip, GUEST_CODE);
		assert_int_equal(hv_vcpu_resume(f.vcpu), 0);
		sleep_ms(5);
	}
	assert_int_equal(hv_vcpu_stop(f.vcpu), 0);
	assert_int_equal(hv_vcpu_join(f.vcpu, &last), 0);
	assert_int_equal(last.reason, HV_EXIT_STOP);
	fixture_teardown(&f);
}

/* An exit callback that opens a socket: nothing a vCPU does. */
static int open_socket(void *opaque, struct hv_vcpu *vcpu, const struct hv_exit *exit)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)vcpu;
	(void)exit;
	*(int *)opaque = fd >= 0 ? 1 : -1;
	if (fd >= 0)
		close(fd);
	return 1;
}

/* In a child: a VM with flags runs guest_real, whose first exit opens a
 * socket.  Exit 0 if it did, 1 if socket() failed, 2 on set-up failure. */
static int child_socket_exit(uint32_t flags)
{
	struct rlimit no_core = { 0, 0 };
	struct hv_mem_region_config region;
	struct hv_mem_region_info info;
	struct hv_vm_config cfg;
	struct hv_vcpu *vcpu;
	struct hv_vm *vm;
	int opened = 0;
	uint32_t id;

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0); /* no core for the SIGSYS to come */
	hv_vm_config_init(&cfg);
	cfg.flags = flags;
	if (hv_vm_create(&cfg, &vm))
		return 2;
	hv_mem_region_config_init(&region);
	region.bytes = GUEST_RAM;
	region.name = "ram";
	if (hv_mem_add_region(hv_vm_mem(vm), &region, &id) ||
	    hv_mem_region_info(hv_vm_mem(vm), id, &info) || hv_vcpu_create(vm, 0, &vcpu))
		return 2;
	memcpy((uint8_t *)info.host_addr + GUEST_CODE, guest_real.start, (size_t)*guest_real.size);
	if (hv_x86_setup_real_mode(vcpu, 0, GUEST_CODE) || hv_vcpu_start(vcpu, open_socket, &opened))
		return 2;
	hv_vcpu_join(vcpu, NULL);
	return opened == 1 ? 0 : 1;
}

static int run_child(uint32_t flags)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_socket_exit(flags));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_forbidden_call_kills(void **state)
{
	int status;

	(void)state;
	status = run_child(HV_VM_F_SECCOMP);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	status = run_child(0); /* off by default: the same callback works */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_guest_runs),
		cmocka_unit_test(test_confined_kick_pause_stop),
		cmocka_unit_test(test_forbidden_call_kills),
	};
	return cmocka_run_group_tests_name("kvm_seccomp", tests, keep_one_vm_open, close_kept_vm);
}
