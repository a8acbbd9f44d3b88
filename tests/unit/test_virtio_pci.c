/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci transport on standalone buses, driven as Linux's
 * virtio_pci_modern does: identification and capabilities, the common
 * configuration registers, a request with MSI-X, the same with INTx (level,
 * lowered by the ISR read, INTx Disable), device configuration and the
 * VIRTIO_PCI_CAP_PCI_CFG window, reset, and hostile register accesses.
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

#include "unit/test_pci_util.h"
#include "unit/test_virtq_driver.h"
#include "virtio/pci_internal.h"

#define QSIZE 64u
#define SLOT 1u
#define BAR APERTURE /* the first BAR the host hands out */
#define MSIX_CAP 0x40u

/* A device that fills every writable buffer with 0xab. */
static void fill_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtq *q = hv_virtio_dev_queue(dev, queue);
	struct hv_virtq_buf bufs[QSIZE];
	struct hv_virtq_req req;

	(void)opaque;
	while (hv_virtq_pop(q, bufs, QSIZE, &req) == 1) {
		for (uint32_t i = req.nr_readable; i < req.nr_bufs; i++)
			memset(bufs[i].addr, 0xab, bufs[i].len);
		hv_virtq_push(q, &req, (uint32_t)req.writable_bytes);
	}
	hv_virtq_notify(q);
}

static void cfg_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	(void)opaque;
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(0x10 + offset + i);
}

static const struct hv_virtio_dev_ops fill_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = 0x42,
	.config_bytes = 8,
	.config_read = cfg_read,
	.notify = fill_notify,
};

struct fix {
	struct pci_fix p;
	struct drv d;
	struct hv_virtio_pci *vp;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_dev_config dc;
	struct hv_virtio_pci_config vc;

	pci_fix_init(&f->p);
	drv_create_mem(&f->d);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &fill_ops;
	dc.mem = f->d.mem;
	dc.queue_max_size = QSIZE;
	expect_ret(hv_virtio_dev_create(&dc, &f->d.dev), 0);
	f->d.q = hv_virtio_dev_queue(f->d.dev, 0);
	f->d.size = QSIZE;
	hv_virtio_pci_config_init(&vc);
	vc.host = f->p.host;
	expect_ret(hv_virtio_pci_create(f->d.dev, &vc, &f->vp), 0);
	assert_int_equal(hv_virtio_pci_slot(f->vp), SLOT);
	cfg_wr(&f->p, SLOT, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	hv_virtio_pci_destroy(f->vp);
	drv_destroy(&f->d);
	pci_fix_fini(&f->p);
	free(f);
	return 0;
}

static uint64_t rd(struct fix *f, uint32_t off, uint32_t width)
{
	return mem_rd(&f->p, BAR + off, width);
}

static void wr(struct fix *f, uint32_t off, uint32_t width, uint64_t val)
{
	mem_wr(&f->p, BAR + off, width, val);
}

/* The capability of this virtio cfg_type: its offset in config space. */
static uint32_t find_vcap(struct fix *f, uint8_t type)
{
	for (uint32_t off = cfg_rd(&f->p, SLOT, 0x34, 1); off;
	     off = cfg_rd(&f->p, SLOT, off + 1, 1))
		if (cfg_rd(&f->p, SLOT, off, 1) == PCI_CAP_ID_VNDR &&
		    cfg_rd(&f->p, SLOT, off + 3, 1) == type)
			return off;
	return 0;
}

/* MSI-X on, vector v to address 0xfee00000 with data 0x30 + v, unmasked. */
static void msix_on(struct fix *f)
{
	for (uint32_t v = 0; v < 2; v++) {
		wr(f, VPCI_MSIX_TABLE_OFF + 16 * v, 4, 0xfee00000u);
		wr(f, VPCI_MSIX_TABLE_OFF + 16 * v + 8, 4, 0x30 + v);
		wr(f, VPCI_MSIX_TABLE_OFF + 16 * v + 12, 4, 0);
	}
	cfg_wr(&f->p, SLOT, MSIX_CAP + 2, 2, HV_PCI_MSIX_CTRL_ENABLE);
}

/* virtio_pci_modern's probe and vp_modern_find_vqs, in order. */
static void linux_init(struct fix *f, bool msix)
{
	memset(f->d.ram + DESC_GPA, 0, USED_GPA + 0x2000 - DESC_GPA);
	f->d.avail_idx = 0;
	wr(f, VPCI_STATUS, 1, 0);
	assert_int_equal(rd(f, VPCI_STATUS, 1), 0);
	wr(f, VPCI_STATUS, 1, HV_VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VPCI_STATUS, 1, HV_VIRTIO_STATUS_ACKNOWLEDGE | HV_VIRTIO_STATUS_DRIVER);
	wr(f, VPCI_DFSELECT, 4, 1);
	assert_int_equal(rd(f, VPCI_DF, 4), 1); /* VERSION_1 */
	wr(f, VPCI_DFSELECT, 4, 0);
	assert_true(rd(f, VPCI_DF, 4) & (1u << 29));
	wr(f, VPCI_GFSELECT, 4, 0);
	wr(f, VPCI_GF, 4, 0);
	wr(f, VPCI_GFSELECT, 4, 1);
	wr(f, VPCI_GF, 4, 1);
	wr(f, VPCI_STATUS, 1, 0xb);
	assert_int_equal(rd(f, VPCI_STATUS, 1), 0xb);
	assert_int_equal(rd(f, VPCI_GF, 4), 1);
	if (msix) {
		msix_on(f);
		wr(f, VPCI_MSIX_CONFIG, 2, 0);
		assert_int_equal(rd(f, VPCI_MSIX_CONFIG, 2), 0);
	}
	assert_int_equal(rd(f, VPCI_NUM_QUEUES, 2), 1);
	wr(f, VPCI_Q_SELECT, 2, 0);
	assert_int_equal(rd(f, VPCI_Q_SIZE, 2), QSIZE);
	assert_int_equal(rd(f, VPCI_Q_ENABLE, 2), 0);
	wr(f, VPCI_Q_SIZE, 2, QSIZE);
	wr(f, VPCI_Q_DESC, 4, DESC_GPA);       /* two halves, as vp_iowrite64_twopart */
	wr(f, VPCI_Q_DESC + 4, 4, 0);
	wr(f, VPCI_Q_AVAIL, 4, AVAIL_GPA);
	wr(f, VPCI_Q_AVAIL + 4, 4, 0);
	wr(f, VPCI_Q_USED, 8, USED_GPA);       /* or one qword */
	assert_int_equal(rd(f, VPCI_Q_DESC, 8), DESC_GPA);
	assert_int_equal(rd(f, VPCI_Q_AVAIL, 4), AVAIL_GPA);
	assert_int_equal(rd(f, VPCI_Q_USED + 4, 4), 0);
	assert_int_equal(rd(f, VPCI_Q_NOFF, 2), 0);
	if (msix) {
		wr(f, VPCI_Q_MSIX, 2, 1);
		assert_int_equal(rd(f, VPCI_Q_MSIX, 2), 1);
	}
	wr(f, VPCI_Q_ENABLE, 2, 1);
	assert_int_equal(rd(f, VPCI_Q_ENABLE, 2), 1);
	wr(f, VPCI_STATUS, 1, 0xf);
	assert_int_equal(rd(f, VPCI_STATUS, 1), 0xf);
}

/* One 32-byte request through the notify register. */
static void request(struct fix *f)
{
	uint16_t before = drv_used_idx(&f->d);

	drv_desc(&f->d, 0, DATA_GPA, 32, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	wr(f, VPCI_NOTIFY_OFF, 2, 0);
	assert_int_equal(drv_used_idx(&f->d), (uint16_t)(before + 1));
	assert_int_equal(f->d.ram[DATA_GPA + 31], 0xab);
}

static void test_identity_and_capabilities(void **state)
{
	struct fix *f = *state;
	uint32_t c;

	assert_int_equal(cfg_rd(&f->p, SLOT, 0x00, 4), 0x10821af4); /* 0x1040 + 0x42 */
	assert_int_equal(cfg_rd(&f->p, SLOT, 0x08, 4), 0x00ff0001); /* revision 1 */
	assert_int_equal(cfg_rd(&f->p, SLOT, 0x2c, 4), 0x11001af4);
	assert_int_equal(cfg_rd(&f->p, SLOT, 0x3d, 1), 1);          /* INTA */
	assert_int_equal(cfg_rd(&f->p, SLOT, 0x10, 4), BAR);
	cfg_wr(&f->p, SLOT, 0x10, 4, 0xffffffffu);
	assert_int_equal(cfg_rd(&f->p, SLOT, 0x10, 4), (uint32_t)-HV_VIRTIO_PCI_BAR_SIZE);
	cfg_wr(&f->p, SLOT, 0x10, 4, BAR);
	/* MSI-X: a vector per queue and one for config, table and PBA in BAR 0. */
	assert_int_equal(cfg_rd(&f->p, SLOT, MSIX_CAP, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_rd(&f->p, SLOT, MSIX_CAP + 2, 2), 1);
	assert_int_equal(cfg_rd(&f->p, SLOT, MSIX_CAP + 4, 4), VPCI_MSIX_TABLE_OFF);
	assert_int_equal(cfg_rd(&f->p, SLOT, MSIX_CAP + 8, 4), VPCI_MSIX_PBA_OFF);
	c = find_vcap(f, VPCI_CAP_COMMON);
	assert_true(c);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 2, 1), 16);        /* cap_len */
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 4, 1), 0);         /* BAR 0 */
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 8, 4), VPCI_COMMON_OFF);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 12, 4), VPCI_COMMON_BYTES);
	c = find_vcap(f, VPCI_CAP_NOTIFY);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 2, 1), 20);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 8, 4), VPCI_NOTIFY_OFF);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 12, 4), 4);        /* one queue */
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 16, 4), VPCI_NOTIFY_MULT);
	c = find_vcap(f, VPCI_CAP_ISR);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 8, 4), VPCI_ISR_OFF);
	c = find_vcap(f, VPCI_CAP_DEVICE);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 8, 4), VPCI_DEVICE_OFF);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 12, 4), 8);
	assert_true(find_vcap(f, VPCI_CAP_PCI_CFG));
	/* Capability bytes are read-only, except the window's. */
	cfg_wr(&f->p, SLOT, c + 8, 4, 0);
	assert_int_equal(cfg_rd(&f->p, SLOT, c + 8, 4), VPCI_DEVICE_OFF);
}

static void test_request_with_msix(void **state)
{
	struct fix *f = *state;

	linux_init(f, true);
	request(f);
	assert_int_equal(f->p.msis, 1);
	assert_int_equal(f->p.msi_addr[0], 0xfee00000u);
	assert_int_equal(f->p.msi_data[0], 0x31);      /* the queue's vector */
	assert_int_equal(f->p.raises, 0);              /* no INTx with MSI-X */
	assert_int_equal(rd(f, VPCI_ISR_OFF, 1), 0);
	hv_virtio_dev_config_changed(f->d.dev);
	assert_int_equal(f->p.msis, 2);
	assert_int_equal(f->p.msi_data[1], 0x30);      /* the config vector */
	/* Vectors the table does not have read back as NO_VECTOR. */
	wr(f, VPCI_MSIX_CONFIG, 2, 2);
	assert_int_equal(rd(f, VPCI_MSIX_CONFIG, 2), VPCI_NO_VECTOR);
	hv_virtio_dev_config_changed(f->d.dev);
	assert_int_equal(f->p.msis, 2);
	/* A masked vector waits in the PBA. */
	wr(f, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 1);
	request(f);
	assert_int_equal(f->p.msis, 2);
	assert_int_equal(rd(f, VPCI_MSIX_PBA_OFF, 8), 2);
	wr(f, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 0);
	assert_int_equal(f->p.msis, 3);
	/* Queue without a vector: silent. */
	wr(f, VPCI_Q_MSIX, 2, VPCI_NO_VECTOR);
	request(f);
	assert_int_equal(f->p.msis, 3);
	/* Reset forgets vectors and queues; MSI-X itself stays on. */
	wr(f, VPCI_STATUS, 1, 0);
	assert_int_equal(rd(f, VPCI_STATUS, 1), 0);
	assert_int_equal(rd(f, VPCI_MSIX_CONFIG, 2), VPCI_NO_VECTOR);
	assert_int_equal(rd(f, VPCI_Q_MSIX, 2), VPCI_NO_VECTOR);
	assert_int_equal(rd(f, VPCI_Q_ENABLE, 2), 0);
	linux_init(f, true);
	request(f);
	assert_int_equal(f->p.msis, 4);
}

static void test_request_with_intx(void **state)
{
	struct fix *f = *state;
	uint32_t gsi = GSI_BASE + SLOT % 4;

	linux_init(f, false);
	request(f);
	assert_int_equal(f->p.msis, 0);
	assert_int_equal(f->p.level[gsi], 1);          /* level: stays up */
	request(f);
	assert_int_equal(f->p.raises, 1);
	assert_int_equal(rd(f, VPCI_ISR_OFF, 1), HV_VIRTIO_ISR_QUEUE);
	assert_int_equal(f->p.level[gsi], 0);          /* the read lowers it */
	assert_int_equal(rd(f, VPCI_ISR_OFF, 1), 0);
	hv_virtio_dev_config_changed(f->d.dev);
	assert_int_equal(f->p.level[gsi], 1);
	assert_int_equal(rd(f, VPCI_ISR_OFF, 1), HV_VIRTIO_ISR_CONFIG);
	/* INTx Disable holds the line down; clearing it raises what is due. */
	cfg_wr(&f->p, SLOT, 0x04, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	request(f);
	assert_int_equal(f->p.level[gsi], 0);
	cfg_wr(&f->p, SLOT, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(f->p.level[gsi], 1);
	/* Turning MSI-X on takes the line down too. */
	msix_on(f);
	assert_int_equal(f->p.level[gsi], 0);
	cfg_wr(&f->p, SLOT, MSIX_CAP + 2, 2, 0);
	assert_int_equal(f->p.level[gsi], 1);
	/* A reset clears the ISR and the line. */
	wr(f, VPCI_STATUS, 1, 0);
	assert_int_equal(f->p.level[gsi], 0);
	assert_int_equal(rd(f, VPCI_ISR_OFF, 1), 0);
}

static void test_device_config_and_window(void **state)
{
	struct fix *f = *state;
	uint32_t w = find_vcap(f, VPCI_CAP_PCI_CFG);

	assert_int_equal(rd(f, VPCI_DEVICE_OFF + 2, 2), 0x1312);
	assert_int_equal(rd(f, VPCI_DEVICE_OFF, 8), 0x1716151413121110ull);
	assert_int_equal(rd(f, VPCI_DEVICE_OFF + 6, 4), 0); /* runs past the 8 bytes */
	assert_int_equal(rd(f, VPCI_DEVICE_OFF + 0x800, 4), 0);
	/* The window: BAR 0, device_status (1 byte at 0x14). */
	cfg_wr(&f->p, SLOT, w + 4, 1, 0);
	cfg_wr(&f->p, SLOT, w + 8, 4, VPCI_STATUS);
	cfg_wr(&f->p, SLOT, w + 12, 4, 1);
	cfg_wr(&f->p, SLOT, w + 16, 1, HV_VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(f, VPCI_STATUS, 1), HV_VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VPCI_STATUS, 1, 3);
	assert_int_equal(cfg_rd(&f->p, SLOT, w + 16, 1), 3);
	/* Device config through it, 4 bytes. */
	cfg_wr(&f->p, SLOT, w + 8, 4, VPCI_DEVICE_OFF + 4);
	cfg_wr(&f->p, SLOT, w + 12, 4, 4);
	assert_int_equal(cfg_rd(&f->p, SLOT, w + 16, 4), 0x17161514);
	/* Windows that make no sense do nothing: length 3, misaligned, past
	 * the BAR, another BAR. */
	cfg_wr(&f->p, SLOT, w + 8, 4, VPCI_STATUS);
	cfg_wr(&f->p, SLOT, w + 12, 4, 3);
	cfg_wr(&f->p, SLOT, w + 16, 4, 0);
	cfg_wr(&f->p, SLOT, w + 8, 4, VPCI_STATUS + 1);
	cfg_wr(&f->p, SLOT, w + 12, 4, 2);
	cfg_wr(&f->p, SLOT, w + 16, 2, 0);
	cfg_wr(&f->p, SLOT, w + 8, 4, 0xfffffffcu);
	cfg_wr(&f->p, SLOT, w + 12, 4, 4);
	cfg_wr(&f->p, SLOT, w + 16, 4, 0);
	cfg_wr(&f->p, SLOT, w + 4, 1, 5);
	cfg_wr(&f->p, SLOT, w + 8, 4, VPCI_STATUS);
	cfg_wr(&f->p, SLOT, w + 12, 4, 1);
	cfg_wr(&f->p, SLOT, w + 16, 1, 0);
	assert_int_equal(rd(f, VPCI_STATUS, 1), 3);
}

static void test_hostile_registers(void **state)
{
	struct fix *f = *state;

	linux_init(f, true);
	/* Wrong widths: read 0, ignored. */
	assert_int_equal(rd(f, VPCI_STATUS, 4), 0);
	assert_int_equal(rd(f, VPCI_DF, 2), 0);
	assert_int_equal(rd(f, VPCI_Q_DESC + 2, 4), 0);
	assert_int_equal(rd(f, VPCI_Q_DESC + 4, 8), 0);
	wr(f, VPCI_STATUS, 2, 0);
	wr(f, VPCI_Q_SELECT, 1, 7);
	wr(f, VPCI_Q_DESC + 4, 2, 0xffff);
	assert_int_equal(rd(f, VPCI_STATUS, 1), 0xf);
	assert_int_equal(rd(f, VPCI_Q_SELECT, 2), 0);
	assert_int_equal(rd(f, VPCI_Q_DESC, 8), DESC_GPA);
	/* Set-up of an enabled queue is frozen; queue_enable 0 is not a thing. */
	wr(f, VPCI_Q_SIZE, 2, 8);
	wr(f, VPCI_Q_DESC, 8, 0x9000);
	wr(f, VPCI_Q_ENABLE, 2, 0);
	assert_int_equal(rd(f, VPCI_Q_SIZE, 2), QSIZE);
	assert_int_equal(rd(f, VPCI_Q_DESC, 8), DESC_GPA);
	assert_int_equal(rd(f, VPCI_Q_ENABLE, 2), 1);
	/* Queues that do not exist. */
	wr(f, VPCI_Q_SELECT, 2, 9);
	assert_int_equal(rd(f, VPCI_Q_SIZE, 2), 0);
	assert_int_equal(rd(f, VPCI_Q_MSIX, 2), VPCI_NO_VECTOR);
	wr(f, VPCI_Q_MSIX, 2, 0);
	wr(f, VPCI_Q_ENABLE, 2, 1);
	wr(f, VPCI_Q_DESC, 8, 0x9000);
	assert_int_equal(rd(f, VPCI_Q_DESC, 8), 0);
	wr(f, VPCI_Q_SELECT, 2, 0xffff);
	assert_int_equal(rd(f, VPCI_Q_ENABLE, 2), 0);
	wr(f, VPCI_Q_SELECT, 2, 0);
	/* Gaps, reserved fields and the unused end of the BAR. */
	assert_int_equal(rd(f, VPCI_Q_RESET, 2), 0);
	assert_int_equal(rd(f, 0x3c, 4), 0);
	assert_int_equal(rd(f, 0x800, 4), 0);
	assert_int_equal(rd(f, VPCI_ISR_OFF + 1, 1), 0);
	assert_int_equal(rd(f, 0x6000, 8), 0);
	assert_int_equal(rd(f, HV_VIRTIO_PCI_BAR_SIZE - 4, 4), 0);
	wr(f, 0x7ff8, 8, ~0ull);
	/* Notifications: misaligned, other queues, reads. */
	drv_desc(&f->d, 0, DATA_GPA, 32, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	wr(f, VPCI_NOTIFY_OFF + 2, 2, 0);
	wr(f, VPCI_NOTIFY_OFF + 4 * 9, 2, 0);
	wr(f, VPCI_NOTIFY_OFF + 0xffc, 4, 0);
	assert_int_equal(rd(f, VPCI_NOTIFY_OFF, 2), 0);
	assert_int_equal(drv_used_idx(&f->d), 0);
	wr(f, VPCI_NOTIFY_OFF, 4, 0x1234); /* the address counts, not the value */
	assert_int_equal(drv_used_idx(&f->d), 1);
	assert_false(drv_needs_reset(&f->d));
	/* A ring outside guest memory breaks the device, not the VMM. */
	wr(f, VPCI_STATUS, 1, 0);
	linux_init(f, true);
	drv_desc(&f->d, 0, 0x80000000ull, 32, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	wr(f, VPCI_NOTIFY_OFF, 2, 0);
	assert_true(rd(f, VPCI_STATUS, 1) & HV_VIRTIO_STATUS_NEEDS_RESET);
}

static void test_create_errors(void **state)
{
	struct fix *f = *state;
	struct hv_virtio_pci_config vc;
	struct hv_virtio_pci *vp;

	hv_virtio_pci_config_init(&vc);
	vc.host = f->p.host;
	expect_err(hv_virtio_pci_create(f->d.dev, &vc, &vp), -EBUSY, "transport");
	vc.host = NULL;
	expect_err(hv_virtio_pci_create(f->d.dev, &vc, &vp), -EINVAL, "host");
	vc.host = f->p.host;
	vc.slot = 40;
	expect_err(hv_virtio_pci_create(f->d.dev, &vc, &vp), -EINVAL, "slot");
	vc.slot = 0;
	vc.flags = 2;
	expect_err(hv_virtio_pci_create(f->d.dev, &vc, &vp), -EINVAL, "flags");
	/* The slot is taken after a destroy and a new create elsewhere. */
	hv_virtio_pci_destroy(f->vp);
	vc.flags = 0;
	vc.slot = 7;
	expect_ret(hv_virtio_pci_create(f->d.dev, &vc, &f->vp), 0);
	assert_int_equal(cfg_rd(&f->p, SLOT, 0, 4), 0xffffffffu);
	assert_int_equal(cfg_rd(&f->p, 7, 0, 4), 0x10821af4);
	hv_virtio_pci_destroy(NULL);
}

/* Without a VM there is no ioeventfd: the transport says so (as
 * virtio-mmio does) and notifications stay on the BAR, wherever the guest
 * moves it or while it turns decoding off and on. */
static void test_notify_fd_without_vm(void **state)
{
	struct fix *f = *state;
	int efd = eventfd(0, EFD_CLOEXEC);

	assert_true(efd >= 0);
	assert_null(f->vp->vm);
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->d.dev, 0, efd), -ENOTSUP, "eventfd");
	assert_int_equal(f->d.q->notify_fd, -1);
	expect_ret(hv_virtio_dev_set_queue_notify_fd(f->d.dev, 0, -1), 0);
	expect_err(hv_virtio_dev_set_queue_notify_fd(f->d.dev, 1, efd), -EINVAL, "queue");
	cfg_wr(&f->p, SLOT, 0x04, 2, 0);
	cfg_wr(&f->p, SLOT, 0x10, 4, (uint32_t)BAR + 0x100000);
	cfg_wr(&f->p, SLOT, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(f->vp->notify_base, 0);
	assert_int_equal(rd(f, VPCI_NUM_QUEUES, 2) & 0xffff, 0xffff); /* nothing at the old place */
	assert_int_equal(mem_rd(&f->p, BAR + 0x100000 + VPCI_NUM_QUEUES, 2), 1);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_with_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_with_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_config_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_fd_without_vm, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
