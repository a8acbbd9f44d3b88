/* SPDX-License-Identifier: MIT */
/* Kicking, pausing and stopping running vCPUs from other threads, for real. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

struct loop_thread {
	struct hv_vcpu *vcpu;
	struct hv_exit exit;
	int ret;
	atomic_int entered;
};

static void *own_loop(void *arg)
{
	struct loop_thread *t = arg;

	atomic_store(&t->entered, 1);
	t->ret = hv_vcpu_run(t->vcpu, &t->exit);
	return NULL;
}

/* The embedder runs its own loop on its own thread; another thread kicks. */
static void test_kick_own_loop(void **state)
{
	struct loop_thread t = { 0 };
	struct fixture f;
	pthread_t th;

	(void)state;
	fixture_setup(&f, NULL, &guest_spin);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	t.vcpu = f.vcpu;
	assert_int_equal(pthread_create(&th, NULL, own_loop, &t), 0);
	while (!atomic_load(&t.entered))
		sleep_ms(1);
	sleep_ms(50); /* let it get into the guest; the kick works either way */
	assert_int_equal(hv_vcpu_kick(f.vcpu), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.exit.reason, HV_EXIT_KICKED);
	fixture_teardown(&f);
}

/* A kick before the run starts is not lost. */
static void test_kick_before_run(void **state)
{
	struct hv_exit exit;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_spin);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_kick(f.vcpu), 0);
	assert_int_equal(hv_vcpu_run(f.vcpu, &exit), 0);
	assert_int_equal(exit.reason, HV_EXIT_KICKED);
	fixture_teardown(&f);
}

struct counter {
	atomic_int kicks;
	atomic_int others;
};

static int count_exits(void *opaque, struct hv_vcpu *vcpu, const struct hv_exit *exit)
{
	struct counter *c = opaque;

	(void)vcpu;
	if (exit->reason == HV_EXIT_KICKED)
		atomic_fetch_add(&c->kicks, 1);
	else
		atomic_fetch_add(&c->others, 1);
	return 0; /* keep running */
}

/* Managed thread: user kicks reach the callback, pause parks the vCPU so its
 * registers can be read, resume continues, stop ends it. */
static void test_managed_kick_pause_resume_stop(void **state)
{
	struct counter c = { 0 };
	struct hv_x86_regs regs;
	struct hv_exit last;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_spin);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_pause(f.vcpu), -EINVAL); /* not managed yet */
	assert_int_equal(hv_vcpu_start(f.vcpu, count_exits, &c), 0);
	assert_int_equal(hv_vcpu_start(f.vcpu, count_exits, &c), -EBUSY);
	sleep_ms(20);
	assert_int_equal(hv_vcpu_kick(f.vcpu), 0);
	for (int i = 0; i < 500 && atomic_load(&c.kicks) == 0; i++)
		sleep_ms(2);
	assert_int_equal(atomic_load(&c.kicks), 1);

	for (int round = 0; round < 5; round++) {
		assert_int_equal(hv_vcpu_pause(f.vcpu), 0);
		assert_int_equal(hv_vcpu_get_regs(f.vcpu, &regs), 0);
		/* Spinning on the two-byte "jmp $" at GUEST_CODE. */
		assert_int_equal(regs.rip, GUEST_CODE);
		assert_int_equal(hv_vcpu_resume(f.vcpu), 0);
		sleep_ms(5);
	}
	assert_int_equal(atomic_load(&c.kicks), 1); /* pauses are not reported */
	assert_int_equal(atomic_load(&c.others), 0);
	assert_int_equal(hv_vcpu_stop(f.vcpu), 0);
	assert_int_equal(hv_vcpu_join(f.vcpu, &last), 0);
	assert_int_equal(last.reason, HV_EXIT_STOP);
	assert_int_equal(hv_vcpu_join(f.vcpu, &last), -EINVAL);
	fixture_teardown(&f);
}

/* Without a callback the managed thread ends at the first exit it returns. */
static void test_managed_ends_on_hlt(void **state)
{
	struct io_log port = { 0 };
	struct hv_exit last;
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_real);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 2, io_log_fn, &port,
					 "out", NULL), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(f.vcpu, NULL, NULL), 0);
	assert_int_equal(hv_vcpu_join(f.vcpu, &last), 0);
	assert_int_equal(last.reason, HV_EXIT_HLT);
	assert_int_equal(port.writes, 2);
	assert_int_equal(hv_vcpu_pause(f.vcpu), -EINVAL); /* joined: not managed */
	fixture_teardown(&f);
}

/* Destroying a vCPU whose managed thread still spins stops it first. */
static void test_destroy_running_managed(void **state)
{
	struct fixture f;

	(void)state;
	fixture_setup(&f, NULL, &guest_spin);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(f.vcpu, count_exits, &(struct counter){ 0 }), 0);
	sleep_ms(10);
	fixture_teardown(&f);
}

struct kicker {
	struct hv_vcpu *vcpu;
	atomic_int stop;
	int errors;
};

static void *kick_forever(void *arg)
{
	struct kicker *k = arg;

	while (!atomic_load(&k->stop))
		if (hv_vcpu_kick(k->vcpu))
			k->errors++;
	return NULL;
}

/* Kicks keep coming while the threads that run the vCPU come and go: a
 * kick never signals a thread that has left hv_vcpu_run() (or exited),
 * and each short-lived runner still sees one. */
static void test_kick_while_runners_exit(void **state)
{
	struct kicker k = { 0 };
	struct fixture f;
	pthread_t kt;

	(void)state;
	fixture_setup(&f, NULL, &guest_spin);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	k.vcpu = f.vcpu;
	assert_int_equal(pthread_create(&kt, NULL, kick_forever, &k), 0);
	for (int i = 0; i < 200; i++) {
		struct loop_thread t = { .vcpu = f.vcpu };
		pthread_t th;

		assert_int_equal(pthread_create(&th, NULL, own_loop, &t), 0);
		pthread_join(th, NULL);
		assert_int_equal(t.ret, 0);
		assert_int_equal(t.exit.reason, HV_EXIT_KICKED);
	}
	atomic_store(&k.stop, 1);
	pthread_join(kt, NULL);
	assert_int_equal(k.errors, 0);
	fixture_teardown(&f);
}

struct warnings {
	atomic_int n;
};

static void count_warnings(void *opaque, enum hv_log_level level, const char *msg)
{
	struct warnings *w = opaque;

	if (level == HV_LOG_WARN && strstr(msg, "still exists"))
		atomic_fetch_add(&w->n, 1);
}

/* The VM destroyed before its vCPUs (one spinning on its managed thread,
 * one idle): the threads stop, every descriptor closes, a warning names
 * each vCPU, and the handles can still be destroyed afterwards. */
static void test_destroy_vm_before_vcpus(void **state)
{
	struct warnings w = { 0 };
	struct hv_vm_config cfg;
	struct hv_vcpu *second;
	struct hv_exit exit;
	struct fixture f;
	int fds;

	(void)state;
	fds = count_open_fds();
	hv_vm_config_init(&cfg);
	cfg.log_fn = count_warnings;
	cfg.log_opaque = &w;
	cfg.log_level = HV_LOG_WARN;
	fixture_setup(&f, &cfg, &guest_spin);
	assert_int_equal(hv_vcpu_create(f.vm, 1, &second), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	assert_int_equal(hv_vcpu_start(f.vcpu, count_exits, &(struct counter){ 0 }), 0);
	sleep_ms(10);
	hv_vm_destroy(f.vm);
	assert_int_equal(atomic_load(&w.n), 2);
	assert_int_equal(count_open_fds(), fds); /* vCPU fds closed with the VM */
	/* What is left of a vCPU refuses to run, then goes. */
	assert_int_equal(hv_vcpu_run(second, &exit), -ENODEV);
	assert_int_equal(hv_vcpu_kick(second), 0);
	hv_vcpu_destroy(second);
	hv_vcpu_destroy(f.vcpu); /* the last one frees the VM's struct */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kick_own_loop),
		cmocka_unit_test(test_kick_before_run),
		cmocka_unit_test(test_managed_kick_pause_resume_stop),
		cmocka_unit_test(test_managed_ends_on_hlt),
		cmocka_unit_test(test_destroy_running_managed),
		cmocka_unit_test(test_destroy_vm_before_vcpus),
		cmocka_unit_test(test_kick_while_runners_exit),
	};
	return cmocka_run_group_tests_name("kvm_thread", tests, keep_one_vm_open, close_kept_vm);
}
