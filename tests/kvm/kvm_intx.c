/* SPDX-License-Identifier: MIT */
/*
 * INTx sharing through KVM's own IOAPIC: two virtio-pci devices on slots 1
 * and 5 drive GSI 17.  The pin's redirection entry stays masked (reset
 * state), so KVM keeps its IRR bit equal to the line's level, which
 * KVM_GET_IRQCHIP shows: the line must stay up until both ISRs are read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cmocka.h>

#include "hvlib/virtio_pci.h"
#include "kvm/guest_util.h"
#include "pci/pci_internal.h"
#include "virtio/pci_internal.h"

#define APERTURE 0xc0000000ull
#define GSI 17u /* intx_gsi_base 16 + slot % 4 */

static const struct hv_virtio_dev_ops ops = {
	.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42,
};

/* Whether KVM's IOAPIC sees GSI's line asserted. */
static bool line_up(struct hv_vm *vm)
{
	struct kvm_irqchip chip;

	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	assert_int_equal(ioctl(hv_vm_fd(vm), KVM_GET_IRQCHIP, &chip), 0);
	assert_true(chip.chip.ioapic.redirtbl[GSI].fields.mask); /* so IRR = level */
	return chip.chip.ioapic.irr & (1u << GSI);
}

static struct hv_virtio_pci *add(struct hv_pci_host *host, struct hv_vm *vm, uint32_t slot,
				 struct hv_virtio_dev **dev)
{
	struct hv_virtio_dev_config dc;
	struct hv_virtio_pci_config vc;
	struct hv_virtio_pci *vp;

	hv_virtio_dev_config_init(&dc);
	dc.ops = &ops;
	dc.vm = vm;
	assert_int_equal(hv_virtio_dev_create(&dc, dev), 0);
	hv_virtio_pci_config_init(&vc);
	vc.host = host;
	vc.slot = slot;
	assert_int_equal(hv_virtio_pci_create(*dev, &vc, &vp), 0);
	return vp;
}

static void test_shared_line_in_kvm(void **state)
{
	struct hv_virtio_dev *da, *db;
	struct hv_virtio_pci *a, *b;
	struct hv_pci_host_config hc;
	struct hv_vm_config cfg;
	struct hv_pci_host *host;
	struct fixture f;

	(void)state;
	hv_vm_config_init(&cfg);
	cfg.flags = HV_VM_F_IRQCHIP;
	fixture_setup(&f, &cfg, NULL);
	hv_pci_host_config_init(&hc);
	hc.vm = f.vm;
	hc.mmio_base = APERTURE;
	hc.mmio_len = 0x10000000;
	assert_int_equal(hv_pci_host_create(&hc, &host), 0);
	a = add(host, f.vm, 1, &da);
	b = add(host, f.vm, 5, &db);
	assert_false(line_up(f.vm));
	hv_virtio_dev_interrupt(da, HV_VIRTIO_ISR_QUEUE);
	hv_virtio_dev_interrupt(db, HV_VIRTIO_ISR_QUEUE);
	assert_true(line_up(f.vm));
	/* The guest's handler reads a's ISR first: b still asserts. */
	assert_int_equal(hv_virtio_pci_isr_read(a), HV_VIRTIO_ISR_QUEUE);
	assert_true(line_up(f.vm));
	assert_int_equal(hv_virtio_pci_isr_read(b), HV_VIRTIO_ISR_QUEUE);
	assert_false(line_up(f.vm));
	/* A device destroyed while asserting takes its level with it, and
	 * only its own. */
	hv_virtio_dev_interrupt(da, HV_VIRTIO_ISR_QUEUE);
	hv_virtio_dev_interrupt(db, HV_VIRTIO_ISR_QUEUE);
	hv_virtio_pci_destroy(b);
	assert_true(line_up(f.vm));
	hv_virtio_pci_destroy(a);
	assert_false(line_up(f.vm));
	hv_virtio_dev_destroy(da);
	hv_virtio_dev_destroy(db);
	hv_pci_host_destroy(host);
	fixture_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_line_in_kvm),
	};

	return cmocka_run_group_tests_name("kvm_intx", tests, keep_one_vm_open, close_kept_vm);
}
