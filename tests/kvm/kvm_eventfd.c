/* SPDX-License-Identifier: MIT */
/*
 * irqfd and ioeventfd for real: tiny guests whose writes land in an eventfd
 * without the bus ever seeing them (PIO in real mode, MMIO in long mode,
 * with and without datamatch), and an eventfd that interrupts a real-mode
 * guest through the PIC.  Also the refusals KVM itself makes: a taken
 * address, deassigning what is not there, an fd routed twice, no irqchip.
 * And virtio-pci's notify ioeventfds following BAR 0 as the guest moves it
 * and toggles Memory Space Enable through configuration space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/virtio_pci.h"
#include "kvm/guest_util.h"
#include "pci/pci_internal.h"

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

/* The eventfd's counter, reset to 0 (0 if never signalled). */
static uint64_t drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		assert_int_equal(errno, EAGAIN);
	return n;
}

static void run_to_hlt(struct hv_vcpu *vcpu)
{
	struct hv_exit exit;

	assert_int_equal(hv_vcpu_run(vcpu, &exit), 0);
	if (exit.reason != HV_EXIT_HLT)
		fail_msg("expected HLT, got %s", hv_exit_reason_name(exit.reason));
}

static void setup_long(struct fixture *f, struct io_log *port, struct io_log *result,
		       struct io_log *mmio)
{
	struct hv_x86_long_mode lm = { .size = sizeof(lm), .entry = GUEST_CODE,
				       .stack = 0x8000, .scratch_gpa = 0x10000 };

	fixture_setup(f, NULL, &guest_long);
	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_PIO), 0x10, 1, io_log_fn, port,
					 "out", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_PIO), 0x11, 4, io_log_fn,
					 result, "result", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f->vm, HV_BUS_MMIO), GUEST_MMIO64, 0x1000,
					 io_log_fn, mmio, "mmio", NULL), 0);
	assert_int_equal(hv_x86_setup_long_mode(f->vcpu, &lm), 0);
}

/* The long-mode guest's dword write to 0xd0000000 goes to the eventfd; its
 * read of 0xd0000008 still reaches the bus. */
static void test_mmio_datamatch(void **state)
{
	struct io_log port = { 0 }, result = { 0 }, mmio = { .read_value = 0x5151 };
	struct fixture f;
	int fd = new_eventfd();

	(void)state;
	setup_long(&f, &port, &result, &mmio);
	assert_int_equal(hv_vm_ioeventfd(f.vm, fd, HV_BUS_MMIO, GUEST_MMIO64, 4, 0xdeadbeef,
					 HV_IOEVENTFD_F_DATAMATCH), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(drain(fd), 1);
	assert_int_equal(mmio.writes, 0);
	assert_int_equal(mmio.reads, 1);
	assert_int_equal(result.last_value, 0x5151);
	assert_int_equal(port.last_value, 'L');
	fixture_teardown(&f);
	close(fd);
}

/* Another value than the datamatch: the write exits to the bus as usual. */
static void test_mmio_datamatch_miss(void **state)
{
	struct io_log port = { 0 }, result = { 0 }, mmio = { 0 };
	struct fixture f;
	int fd = new_eventfd();

	(void)state;
	setup_long(&f, &port, &result, &mmio);
	assert_int_equal(hv_vm_ioeventfd(f.vm, fd, HV_BUS_MMIO, GUEST_MMIO64, 4, 0x1234,
					 HV_IOEVENTFD_F_DATAMATCH), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(drain(fd), 0);
	assert_int_equal(mmio.writes, 1);
	assert_int_equal(mmio.last_value, 0xdeadbeef);
	fixture_teardown(&f);
	close(fd);
}

/* Real mode: the byte out to port 0x10 signals, any value. */
static void test_pio(void **state)
{
	struct io_log port = { 0 }, result = { 0 }, mmio = { .read_value = 0x33 };
	struct fixture f;
	int fd = new_eventfd();

	(void)state;
	fixture_setup(&f, NULL, &guest_real);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 1, io_log_fn, &port,
					 "out", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x11, 1, io_log_fn,
					 &result, "result", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_MMIO), GUEST_MMIO, 0x1000,
					 io_log_fn, &mmio, "mmio", NULL), 0);
	assert_int_equal(hv_vm_ioeventfd(f.vm, fd, HV_BUS_PIO, 0x10, 1, 0, 0), 0);
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	run_to_hlt(f.vcpu);
	assert_int_equal(drain(fd), 1);
	assert_int_equal(port.writes, 0);
	assert_int_equal(mmio.writes, 1);
	assert_int_equal(result.last_value, 0x33);
	fixture_teardown(&f);
	close(fd);
}

static void test_ioeventfd_refusals(void **state)
{
	struct fixture f;
	int a = new_eventfd(), b = new_eventfd();

	(void)state;
	fixture_setup(&f, NULL, NULL);
	assert_int_equal(hv_vm_ioeventfd(f.vm, a, HV_BUS_MMIO, 0xd0000050, 4, 1,
					 HV_IOEVENTFD_F_DATAMATCH), 0);
	/* Same address and datamatch, another fd: taken. */
	assert_int_equal(hv_vm_ioeventfd(f.vm, b, HV_BUS_MMIO, 0xd0000050, 4, 1,
					 HV_IOEVENTFD_F_DATAMATCH), -EEXIST);
	assert_non_null(strstr(hv_last_error(), "0xd0000050"));
	assert_non_null(strstr(hv_last_error(), "already taken"));
	/* Another datamatch at the same address is fine (one per queue). */
	assert_int_equal(hv_vm_ioeventfd(f.vm, b, HV_BUS_MMIO, 0xd0000050, 4, 2,
					 HV_IOEVENTFD_F_DATAMATCH), 0);
	assert_int_equal(hv_vm_ioeventfd(f.vm, a, HV_BUS_MMIO, 0xd0000050, 4, 1,
					 HV_IOEVENTFD_F_DATAMATCH | HV_IOEVENTFD_F_DEASSIGN), 0);
	assert_int_equal(hv_vm_ioeventfd(f.vm, a, HV_BUS_MMIO, 0xd0000050, 4, 1,
					 HV_IOEVENTFD_F_DATAMATCH | HV_IOEVENTFD_F_DEASSIGN), -ENOENT);
	assert_non_null(strstr(hv_last_error(), "no such ioeventfd"));
	assert_int_equal(hv_vm_ioeventfd(f.vm, b, HV_BUS_MMIO, 0xd0000050, 4, 2,
					 HV_IOEVENTFD_F_DATAMATCH | HV_IOEVENTFD_F_DEASSIGN), 0);
	assert_int_equal(hv_vm_ioeventfd(f.vm, a, HV_BUS_MMIO, 0xd0001000, 0, 0, 0), 0);
	assert_int_equal(hv_vm_ioeventfd(f.vm, a, HV_BUS_PIO, 0x10, 3, 0, 0), -EINVAL);
	assert_int_equal(hv_vm_irqfd(f.vm, a, 5, -1, 0), -ENXIO); /* no irqchip */
	assert_non_null(strstr(hv_last_error(), "irqchip"));
	fixture_teardown(&f);
	close(a);
	close(b);
}

struct watchdog {
	struct hv_vcpu *vcpu;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

/* Kick the vCPU out of a hlt that no interrupt ends, so the test fails
 * instead of hanging. */
static void *watchdog_fn(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
			break;
	if (!w->done)
		hv_vcpu_kick(w->vcpu);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Run until a write to `port`; the interrupt path is all in KVM. */
static void run_to_port(struct hv_vcpu *vcpu, uint64_t port)
{
	struct hv_exit exit;

	for (;;) {
		assert_int_equal(hv_vcpu_run_once(vcpu, &exit), 0);
		if (exit.reason == HV_EXIT_IO && exit.u.io.addr == port)
			return;
		if (exit.reason != HV_EXIT_IO)
			fail_msg("waiting for port 0x%llx: %s exit (no interrupt?)",
				 (unsigned long long)port, hv_exit_reason_name(exit.reason));
	}
}

/* A signalled irqfd interrupts a halted real-mode guest through the PIC. */
static void test_irqfd_delivers(void **state)
{
	struct io_log irq = { 0 }, done = { 0 }, ready = { 0 };
	struct watchdog w = { .lock = PTHREAD_MUTEX_INITIALIZER,
			      .cond = PTHREAD_COND_INITIALIZER };
	struct hv_vm_config cfg;
	struct fixture f;
	pthread_t t;
	uint64_t one = 1;
	int fd = new_eventfd(), other = new_eventfd(), resample = new_eventfd();

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.flags = HV_VM_F_IRQCHIP;
	fixture_setup(&f, &cfg, &guest_irq);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x12, 1, io_log_fn, &irq,
					 "irq", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x13, 1, io_log_fn, &done,
					 "done", NULL), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x14, 1, io_log_fn, &ready,
					 "ready", NULL), 0);
	assert_int_equal(hv_vm_irqfd(f.vm, fd, 5, -1, 0), 0);
	assert_int_equal(hv_vm_irqfd(f.vm, fd, 6, -1, 0), -EBUSY);
	assert_non_null(strstr(hv_last_error(), "already"));
	assert_int_equal(hv_x86_setup_real_mode(f.vcpu, 0, GUEST_CODE), 0);
	w.vcpu = f.vcpu;
	assert_int_equal(pthread_create(&t, NULL, watchdog_fn, &w), 0);
	run_to_port(f.vcpu, 0x14); /* PIC ready */
	assert_int_equal(irq.writes, 0);
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	run_to_port(f.vcpu, 0x12); /* the handler */
	run_to_port(f.vcpu, 0x13); /* back from hlt */
	pthread_mutex_lock(&w.lock);
	w.done = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(t, NULL);
	assert_int_equal(irq.last_value, 'I');
	assert_int_equal(done.last_value, 'D');
	assert_int_equal(hv_vm_irqfd(f.vm, fd, 5, -1, HV_IRQFD_F_DEASSIGN), 0);
	/* Level-triggered, with a resample fd; then gone again. */
	assert_int_equal(hv_vm_irqfd(f.vm, other, 10, resample, 0), 0);
	assert_int_equal(hv_vm_irqfd(f.vm, other, 10, -1, HV_IRQFD_F_DEASSIGN), 0);
	assert_int_equal(hv_vm_irqfd(f.vm, other, 10, other, 0), -EINVAL);
	fixture_teardown(&f);
	close(fd);
	close(other);
	close(resample);
}

#define APERTURE 0xc0000000ull
#define NOTIFY(bar, q) ((bar) + 0x3000 + 4 * (q)) /* hvlib/virtio_pci.h's layout */

/* Whether an ioeventfd takes 2-byte writes at addr: KVM refuses a second
 * one there (-EEXIST); if it took ours, nothing was there. */
static bool notify_taken(struct hv_vm *vm, uint64_t addr)
{
	int probe = new_eventfd(), ret;

	ret = hv_vm_ioeventfd(vm, probe, HV_BUS_MMIO, addr, 2, 0, 0);
	if (!ret)
		assert_int_equal(hv_vm_ioeventfd(vm, probe, HV_BUS_MMIO, addr, 2, 0,
						 HV_IOEVENTFD_F_DEASSIGN), 0);
	else
		assert_int_equal(ret, -EEXIST);
	close(probe);
	return ret == -EEXIST;
}

/* A guest configuration write to slot 1 through port 0xcf8/0xcfc. */
static void cfg_write(struct hv_pci_host *h, uint32_t reg, uint32_t width, uint32_t val)
{
	uint64_t a = 0x80000000u | 1u << 11 | (reg & 0xfc), v = val;

	assert_int_equal(hv_pci_host_conf1_io(h, 0, 4, true, &a), 0);
	assert_int_equal(hv_pci_host_conf1_io(h, 4 + (reg & 3), width, true, &v), 0);
}

static void nop_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	(void)opaque, (void)dev, (void)queue;
}

static const struct hv_virtio_dev_ops nop_ops = {
	.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42, .notify = nop_notify,
};

/* virtio-pci: a queue's notify eventfd is an ioeventfd at its notify
 * address only while BAR 0 decodes there, inside the aperture. */
static void test_virtio_pci_notify_follows_bar(void **state)
{
	struct hv_pci_host_config hc;
	struct hv_virtio_dev_config dc;
	struct hv_virtio_pci_config vc;
	struct hv_pci_host *host;
	struct hv_virtio_dev *dev;
	struct hv_virtio_pci *vp;
	struct fixture f;
	uint64_t bar = APERTURE, moved = APERTURE + 0x100000;
	int fd = new_eventfd();

	(void)state;
	fixture_setup(&f, NULL, NULL);
	hv_pci_host_config_init(&hc);
	hc.vm = f.vm;
	hc.mmio_base = APERTURE;
	hc.mmio_len = 0x10000000;
	assert_int_equal(hv_pci_host_create(&hc, &host), 0);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &nop_ops;
	dc.vm = f.vm;
	dc.nr_queues = 2;
	assert_int_equal(hv_virtio_dev_create(&dc, &dev), 0);
	hv_virtio_pci_config_init(&vc);
	vc.host = host;
	vc.slot = 1;
	assert_int_equal(hv_virtio_pci_create(dev, &vc, &vp), 0);
	/* Not decoding yet: recorded, not assigned. */
	assert_int_equal(hv_virtio_dev_set_queue_notify_fd(dev, 1, fd), 0);
	assert_false(notify_taken(f.vm, NOTIFY(bar, 1)));
	cfg_write(host, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(notify_taken(f.vm, NOTIFY(bar, 1)));
	assert_false(notify_taken(f.vm, NOTIFY(bar, 0))); /* no fd for queue 0 */
	/* Moved: gone from the old address, at the new one. */
	cfg_write(host, PCI_BAR0, 4, (uint32_t)moved);
	assert_false(notify_taken(f.vm, NOTIFY(bar, 1)));
	assert_true(notify_taken(f.vm, NOTIFY(moved, 1)));
	/* Decoding off, then on again. */
	cfg_write(host, PCI_COMMAND, 2, 0);
	assert_false(notify_taken(f.vm, NOTIFY(moved, 1)));
	cfg_write(host, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(notify_taken(f.vm, NOTIFY(moved, 1)));
	/* Outside the aperture the host routes nothing: no ioeventfd either. */
	cfg_write(host, PCI_BAR0, 4, 0x80000000u);
	assert_false(notify_taken(f.vm, NOTIFY(0x80000000ull, 1)));
	assert_false(notify_taken(f.vm, NOTIFY(moved, 1)));
	cfg_write(host, PCI_BAR0, 4, (uint32_t)bar);
	assert_true(notify_taken(f.vm, NOTIFY(bar, 1)));
	/* The device takes it back, and gives it again while decoding. */
	assert_int_equal(hv_virtio_dev_set_queue_notify_fd(dev, 1, -1), 0);
	assert_false(notify_taken(f.vm, NOTIFY(bar, 1)));
	assert_int_equal(hv_virtio_dev_set_queue_notify_fd(dev, 1, fd), 0);
	assert_true(notify_taken(f.vm, NOTIFY(bar, 1)));
	/* Destroying the transport removes it. */
	hv_virtio_pci_destroy(vp);
	assert_false(notify_taken(f.vm, NOTIFY(bar, 1)));
	hv_virtio_dev_destroy(dev);
	hv_pci_host_destroy(host);
	fixture_teardown(&f);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmio_datamatch),
		cmocka_unit_test(test_mmio_datamatch_miss),
		cmocka_unit_test(test_pio),
		cmocka_unit_test(test_ioeventfd_refusals),
		cmocka_unit_test(test_irqfd_delivers),
		cmocka_unit_test(test_virtio_pci_notify_follows_bar),
	};
	return cmocka_run_group_tests_name("kvm_eventfd", tests, keep_one_vm_open, close_kept_vm);
}
