/* SPDX-License-Identifier: MIT */
/*
 * Teardown in the wrong order must be safe (run under ASan): a PCI host
 * destroyed before its devices, a device destroyed before its transport
 * (virtio-pci and virtio-mmio), an I/O loop destroyed before the
 * registrations on it.  The VM before its vCPUs is in kvm_thread.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/virtio_pci.h"
#include "unit/test_pci_util.h"
#include "unit/test_virtq_driver.h"

#define MMIO_BASE 0xd0000000ull

static void no_irq(void *opaque, uint32_t irq, int level)
{
	(void)opaque, (void)irq, (void)level;
}

static void never_ready(void *opaque, int fd, uint32_t events)
{
	(void)opaque, (void)fd, (void)events;
	fail_msg("an idle eventfd was reported ready");
}

static const struct hv_virtio_dev_ops no_ops = {
	.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42,
};

static struct hv_virtio_dev *new_dev(struct drv *d, struct hv_ioloop *loop)
{
	struct hv_virtio_dev_config dc;
	struct hv_virtio_dev *dev;

	drv_create_mem(d);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &no_ops;
	dc.mem = d->mem;
	dc.queue_max_size = 16;
	dc.ioloop = loop;
	expect_ret(hv_virtio_dev_create(&dc, &dev), 0);
	return dev;
}

static struct hv_virtio_pci *on_pci(struct pci_fix *p, struct hv_virtio_dev *dev)
{
	struct hv_virtio_pci_config vc;
	struct hv_virtio_pci *vp;

	hv_virtio_pci_config_init(&vc);
	vc.host = p->host;
	vc.slot = 2;
	expect_ret(hv_virtio_pci_create(dev, &vc, &vp), 0);
	return vp;
}

static void test_pci_host_before_devices(void **state)
{
	struct pci_fix p;
	struct drv a, b;
	struct hv_virtio_dev *da = new_dev(&a, NULL), *db = new_dev(&b, NULL);
	struct hv_virtio_pci *va, *vb;
	struct hv_virtio_pci_config vc;

	(void)state;
	pci_fix_init(&p);
	va = on_pci(&p, da);
	hv_virtio_pci_config_init(&vc);
	vc.host = p.host;
	vc.slot = 6; /* shares slot 2's INTx line */
	expect_ret(hv_virtio_pci_create(db, &vc, &vb), 0);
	assert_int_equal(cfg_rd(&p, 2, 0, 2), HV_PCI_VENDOR_REDHAT_QUMRANET);
	hv_pci_host_destroy(p.host);
	/* The host left the buses at once... */
	{
		uint64_t v = 0x80000000u | 2u << 11;

		assert_int_equal(hv_bus_dispatch(p.pio, 0xcf8, 4, true, &v), -ENOENT);
	}
	/* ...and lives until its last device goes. */
	hv_virtio_pci_destroy(va);
	hv_virtio_pci_destroy(vb);
	hv_virtio_dev_destroy(da);
	hv_virtio_dev_destroy(db);
	hv_mem_destroy(a.mem);
	hv_mem_destroy(b.mem);
	hv_bus_destroy(p.mmio);
	hv_bus_destroy(p.pio);
}

static void test_device_before_pci_transport(void **state)
{
	struct pci_fix p;
	struct drv d;
	struct hv_virtio_dev *dev = new_dev(&d, NULL);
	struct hv_virtio_pci *vp;

	(void)state;
	pci_fix_init(&p);
	vp = on_pci(&p, dev);
	hv_virtio_dev_destroy(dev); /* detaches the transport first */
	assert_int_equal(cfg_rd(&p, 2, 0, 4), 0xffffffffu); /* the slot is empty */
	hv_virtio_pci_destroy(vp);
	hv_mem_destroy(d.mem);
	pci_fix_fini(&p);
}

static void test_device_before_mmio_transport(void **state)
{
	struct hv_virtio_mmio_config mc;
	struct hv_virtio_mmio *m;
	struct hv_virtio_dev *dev;
	struct hv_bus *bus;
	struct drv d;
	uint64_t v = 0;

	(void)state;
	dev = new_dev(&d, NULL);
	expect_ret(hv_bus_create(HV_BUS_MMIO, &bus), 0);
	hv_virtio_mmio_config_init(&mc);
	mc.base = MMIO_BASE;
	mc.irq = 5;
	mc.bus = bus;
	mc.set_irq = no_irq;
	expect_ret(hv_virtio_mmio_create(dev, &mc, &m), 0);
	expect_ret(hv_bus_dispatch(bus, MMIO_BASE, 4, false, &v), 0);
	assert_int_equal(v, 0x74726976); /* "virt" */
	hv_virtio_dev_destroy(dev);
	assert_int_equal(hv_bus_dispatch(bus, MMIO_BASE, 4, false, &v), -ENOENT);
	v = 1;
	expect_ret(hv_virtio_mmio_io(m, 0, 4, false, &v), 0); /* detached: reads 0 */
	assert_int_equal(v, 0);
	hv_virtio_mmio_destroy(m);
	hv_bus_destroy(bus);
	hv_mem_destroy(d.mem);
}

static void test_ioloop_before_registrations(void **state)
{
	struct hv_ioloop *loop;
	struct hv_virtio_dev *dev;
	struct drv d;
	int fd = eventfd(0, EFD_CLOEXEC), other = eventfd(0, EFD_CLOEXEC);

	(void)state;
	/* A plain registration. */
	expect_ret(hv_ioloop_create(&loop), 0);
	expect_ret(hv_ioloop_add(loop, fd, HV_IOLOOP_IN, never_ready,
				 NULL), 0);
	hv_ioloop_destroy(loop);
	expect_err(hv_ioloop_add(loop, other, HV_IOLOOP_IN, never_ready,
				 NULL), -ESHUTDOWN, "destroyed");
	expect_ret(hv_ioloop_remove(loop, fd), 0); /* the last one frees the loop */
	/* A device serving its queues on a loop destroyed first. */
	expect_ret(hv_ioloop_create(&loop), 0);
	dev = new_dev(&d, loop);
	drv_attach(&d, dev, 16);
	drv_start(&d, 0);
	hv_ioloop_destroy(loop);
	drv_destroy(&d);
	close(fd);
	close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_host_before_devices),
		cmocka_unit_test(test_device_before_pci_transport),
		cmocka_unit_test(test_device_before_mmio_transport),
		cmocka_unit_test(test_ioloop_before_registrations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
