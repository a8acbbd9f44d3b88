/* SPDX-License-Identifier: MIT */
#include "kvm/hostile_vm.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char disk_path[64];
uint8_t disk_sector0[512];

static void count_log(void *opaque, enum hv_log_level level, const char *msg)
{
	struct vmx *x = opaque;

	(void)level;
	if (__atomic_fetch_add(&x->log_lines, 1, __ATOMIC_RELAXED) == 0)
		snprintf(x->first_log, sizeof(x->first_log), "%s", msg);
	if (getenv("HVLIB_TEST_LOG"))
		fprintf(stderr, "log: %s\n", msg);
}

static void no_irq(void *opaque, uint32_t irq, int level)
{
	(void)opaque, (void)irq, (void)level;
}

static void attach(struct vmx *x, int i, struct hv_virtio_dev *dev, uint16_t off)
{
	struct hv_virtio_mmio_config mc;

	hv_virtio_mmio_config_init(&mc);
	mc.base = SCRIPT_MMIO_BASE + off;
	mc.irq = 5;
	mc.vm = x->f.vm;
	mc.set_irq = no_irq;
	if (hv_virtio_mmio_create(dev, &mc, &x->mmio[i]))
		fail_msg("virtio-mmio: %s", hv_last_error());
}

/* A VM with the rng, and unless rng_only a blk and a balloon. */
void vmx_create(struct vmx *x, bool rng_only)
{
	struct hv_virtio_balloon_config bc;
	struct hv_virtio_blk_config kc;
	struct hv_virtio_rng_config rc;
	struct hv_vm_config cfg;

	memset(x, 0, sizeof(*x));
	hv_vm_config_init(&cfg);
	cfg.log_fn = count_log;
	cfg.log_opaque = x;
	cfg.log_level = HV_LOG_INFO;
	/* The library's own threads here (virtio-blk's worker) serve the
	 * attacks under their seccomp filters, the production setting. */
	cfg.flags = HV_VM_F_SECCOMP;
	fixture_setup(&x->f, &cfg, NULL);
	assert_int_equal(hv_ioloop_create(&x->loop), 0);
	hv_virtio_rng_config_init(&rc);
	rc.vm = x->f.vm;
	rc.ioloop = x->loop;
	assert_int_equal(hv_virtio_rng_create(&rc, &x->rng), 0);
	attach(x, 1, hv_virtio_rng_dev(x->rng), DEV_RNG);
	if (rng_only)
		return;
	hv_virtio_blk_config_init(&kc);
	kc.path = disk_path;
	kc.vm = x->f.vm;
	kc.ioloop = x->loop;
	assert_int_equal(hv_virtio_blk_create(&kc, &x->blk), 0);
	attach(x, 0, hv_virtio_blk_dev(x->blk), DEV_BLK);
	hv_virtio_balloon_config_init(&bc);
	bc.vm = x->f.vm;
	bc.ioloop = x->loop;
	assert_int_equal(hv_virtio_balloon_create(&bc, &x->bal), 0);
	attach(x, 2, hv_virtio_balloon_dev(x->bal), DEV_BAL);
}

void vmx_destroy(struct vmx *x)
{
	for (int i = 0; i < 3; i++)
		hv_virtio_mmio_destroy(x->mmio[i]);
	hv_virtio_blk_destroy(x->blk);
	hv_virtio_rng_destroy(x->rng);
	hv_virtio_balloon_destroy(x->bal);
	hv_ioloop_destroy(x->loop);
	fixture_teardown(&x->f);
}

uint32_t dev_status(struct vmx *x, uint16_t dev)
{
	struct hv_virtio_dev *d = dev == DEV_BLK ? hv_virtio_blk_dev(x->blk)
				  : dev == DEV_RNG ? hv_virtio_rng_dev(x->rng)
						   : hv_virtio_balloon_dev(x->bal);

	return hv_virtio_dev_status(d);
}

/* Wait up to ms for the device to say DEVICE_NEEDS_RESET. */
bool wait_needs_reset(struct vmx *x, uint16_t dev, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (dev_status(x, dev) & HV_VIRTIO_STATUS_NEEDS_RESET)
			return true;
		usleep(1000);
	}
	return false;
}

/* One good entropy request on the rng. */
bool rng_ok(struct vmx *x)
{
	struct script s;
	struct ring r;

	ring_init(&r, x->f.ram, RNG_DESC, RNG_AVAIL, RNG_USED, 8);
	memset(x->f.ram + RNG_BUF, 0, 64);
	ring_desc(&r, 0, RNG_BUF, 64, VRING_DESC_F_WRITE, 0);
	ring_post(&r, 0);
	sc_begin(&s, x->f.ram);
	vd_init(&s, DEV_RNG, 0);
	vd_queue(&s, DEV_RNG, 0, 8, RNG_DESC, RNG_AVAIL, RNG_USED);
	vd_driver_ok(&s, DEV_RNG);
	vd_notify(&s, DEV_RNG, 0);
	if (sc_run(&s, x->f.vcpu))
		return false;
	return ring_wait_used(&r, 1, 2000) && ring_used_len(&r, 0) == 64;
}

/* A blk read chain at desc 3i..3i+2: header, len bytes of data, status. */
void blk_read_chain(struct ring *r, uint16_t i, uint64_t data, uint32_t len)
{
	uint8_t *hdr = r->ram + BLK_HDR + 16u * i;

	memset(hdr, 0, 16); /* VIRTIO_BLK_T_IN, sector 0 */
	r->ram[BLK_STATUS + i] = 0xff;
	ring_desc(r, 3 * i, BLK_HDR + 16u * i, 16, VRING_DESC_F_NEXT, 3 * i + 1);
	ring_desc(r, 3 * i + 1, data, len, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3 * i + 2);
	ring_desc(r, 3 * i + 2, BLK_STATUS + i, 1, VRING_DESC_F_WRITE, 0);
}

void blk_start(struct script *s, struct vmx *x, uint64_t features)
{
	sc_begin(s, x->f.ram);
	vd_init(s, DEV_BLK, features);
	vd_queue(s, DEV_BLK, 0, QNUM, BLK_DESC, BLK_AVAIL, BLK_USED);
	vd_driver_ok(s, DEV_BLK);
	vd_notify(s, DEV_BLK, 0);
}

/* After a reset, a good read of sector 0 comes back right. */
bool blk_ok(struct vmx *x)
{
	struct script s;
	struct ring r;

	ring_init(&r, x->f.ram, BLK_DESC, BLK_AVAIL, BLK_USED, QNUM);
	memset(x->f.ram + BLK_DATA, 0, 512);
	blk_read_chain(&r, 0, BLK_DATA, 512);
	ring_post(&r, 0);
	blk_start(&s, x, 0);
	if (sc_run(&s, x->f.vcpu) || !ring_wait_used(&r, 1, 2000))
		return false;
	return x->f.ram[BLK_STATUS] == 0 &&
	       !memcmp(x->f.ram + BLK_DATA, disk_sector0, 512) &&
	       !(dev_status(x, DEV_BLK) & HV_VIRTIO_STATUS_NEEDS_RESET);
}

/* The balloon takes a reset and a clean start. */
bool balloon_ok(struct vmx *x)
{
	struct script s;

	sc_begin(&s, x->f.ram);
	vd_init(&s, DEV_BAL, 0);
	vd_driver_ok(&s, DEV_BAL);
	return !sc_run(&s, x->f.vcpu) && dev_status(x, DEV_BAL) == 0xf;
}

void make_disk(void)
{
	int fd;

	snprintf(disk_path, sizeof(disk_path), "/tmp/hvlib-hostile-XXXXXX");
	fd = mkstemp(disk_path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(disk_sector0); i++)
		disk_sector0[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ftruncate(fd, IMG_BYTES), 0);
	assert_int_equal(pwrite(fd, disk_sector0, sizeof(disk_sector0), 0),
			 (ssize_t)sizeof(disk_sector0));
	close(fd);
}
