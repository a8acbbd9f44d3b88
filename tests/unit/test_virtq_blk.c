/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk without a VM: requests built by hand in guest memory and
 * served from a temporary image; reads, writes, flush, get-id, discard and
 * write-zeroes; read-only disks; and requests a hostile driver gets wrong
 * (sectors beyond the disk, sector numbers that overflow, short headers,
 * unknown types, no status byte).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"
#include "virtio/blk_internal.h"

#define DISK_BYTES (64u << 10)
#define HDR_GPA    DATA_GPA
#define STATUS_GPA (DATA_GPA + 0x100)
#define BUF_GPA    (DATA_GPA + 0x10000)

struct fix {
	struct drv d;
	struct hv_virtio_blk *blk;
	char path[64];
	int fd;                 /* the test's own view of the image */
};

static struct fix *new_fix(uint32_t flags)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_blk_config bc;
	uint8_t *data = malloc(DISK_BYTES);

	snprintf(f->path, sizeof(f->path), "/tmp/hvlib-blk-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	for (size_t i = 0; i < DISK_BYTES; i++)
		data[i] = pattern_byte(7, i);
	assert_int_equal(pwrite(f->fd, data, DISK_BYTES, 0), DISK_BYTES);
	free(data);
	drv_create_mem(&f->d);
	hv_virtio_blk_config_init(&bc);
	bc.path = f->path;
	bc.flags = flags;
	bc.serial = "hvlib-serial-1";
	bc.mem = f->d.mem;
	expect_ret(hv_virtio_blk_create(&bc, &f->blk), 0);
	drv_attach(&f->d, hv_virtio_blk_dev(f->blk), BLK_QUEUE_SIZE);
	drv_start(&f->d, HV_VIRTIO_F_INDIRECT_DESC | HV_VIRTIO_F_EVENT_IDX);
	return f;
}

static void free_fix(struct fix *f)
{
	hv_virtio_blk_destroy(f->blk);
	hv_mem_destroy(f->d.mem);
	close(f->fd);
	unlink(f->path);
	free(f);
}

/* Header, optional data buffer, status byte; returns the status and the
 * used length in *used_len.  writable: data flows device -> driver. */
static uint8_t request(struct fix *f, uint32_t type, uint64_t sector, uint32_t len,
		       bool writable, uint32_t *used_len)
{
	struct drv *d = &f->d;
	struct blk_req_hdr hdr = { htole32(type), 0, htole64(sector) };
	uint16_t status_desc = len ? 2 : 1;
	uint32_t id;

	memcpy(d->ram + HDR_GPA, &hdr, sizeof(hdr));
	d->ram[STATUS_GPA] = 0xee;
	drv_desc(d, 0, HDR_GPA, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	if (len)
		drv_desc(d, 1, BUF_GPA, len, VRING_DESC_F_NEXT | (writable ? VRING_DESC_F_WRITE : 0),
			 2);
	drv_desc(d, status_desc, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	drv_kick(d, 0);
	hv_virtio_dev_notify(d->dev, 0);
	assert_int_equal(drv_used_idx(d), d->avail_idx);
	drv_used_elem(d, (uint16_t)(d->avail_idx - 1), &id, used_len);
	assert_int_equal(id, 0);
	return d->ram[STATUS_GPA];
}

static void test_read(void **state)
{
	struct fix *f = new_fix(0);
	uint32_t used;

	(void)state;
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 3, 4096, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 4097);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(f->d.ram[BUF_GPA + i], pattern_byte(7, 3 * 512 + i));
	assert_int_equal(f->d.queue_irqs, 1);
	free_fix(f);
}

static void test_write(void **state)
{
	struct fix *f = new_fix(0);
	uint8_t back[1024];
	uint32_t used;

	(void)state;
	memset(f->d.ram + BUF_GPA, 0x5a, 1024);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 10, 1024, false, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(f->fd, back, sizeof(back), 10 * 512), sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0x5a);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, &used), VIRTIO_BLK_S_OK);
	free_fix(f);
}

static void test_out_of_range(void **state)
{
	struct fix *f = new_fix(0);
	uint32_t used;
	uint64_t sectors = DISK_BYTES / 512;

	(void)state;
	/* The last sector is fine; one past it, or straddling the end, is not. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, sectors - 1, 512, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, sectors, 512, true, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, sectors - 1, 1024, false, &used),
			 VIRTIO_BLK_S_IOERR);
	/* sector * 512 overflows 64 bits. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, UINT64_MAX / 256, 512, true, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false, &used),
			 VIRTIO_BLK_S_IOERR);
	/* Not a whole sector. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 100, true, &used), VIRTIO_BLK_S_IOERR);
	assert_false(drv_needs_reset(&f->d));
	free_fix(f);
}

static void test_read_only(void **state)
{
	struct fix *f = new_fix(HV_VIRTIO_BLK_F_READONLY);
	uint8_t back[512];
	uint32_t used;

	(void)state;
	assert_true(hv_virtio_dev_features_word(f->d.dev, 0) & VIRTIO_BLK_F_RO);
	memset(f->d.ram + BUF_GPA, 0x5a, 512);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 512, false, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(f->fd, back, sizeof(back), 0), sizeof(back));
	assert_int_equal(back[1], pattern_byte(7, 1));
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, &used), VIRTIO_BLK_S_OK);
	free_fix(f);
}

static void test_get_id_and_config(void **state)
{
	struct fix *f = new_fix(0);
	uint64_t v = 0;
	uint32_t used;

	(void)state;
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, 20, true, &used), VIRTIO_BLK_S_OK);
	assert_memory_equal(f->d.ram + BUF_GPA, "hvlib-serial-1\0\0\0\0\0\0", 20);
	assert_int_equal(used, 21);
	hv_virtio_dev_config_access(f->d.dev, 0, 8, false, &v);
	assert_int_equal(v, DISK_BYTES / 512);
	hv_virtio_dev_config_access(f->d.dev, 0, 4, false, &v);
	assert_int_equal(v, DISK_BYTES / 512);
	/* Hostile config offsets read 0 and writes change nothing. */
	hv_virtio_dev_config_access(f->d.dev, 70, 4, false, &v);
	assert_int_equal(v, 0);
	hv_virtio_dev_config_access(f->d.dev, 0xfffffffc, 8, false, &v);
	assert_int_equal(v, 0);
	hv_virtio_dev_config_access(f->d.dev, 0, 3, false, &v);
	assert_int_equal(v, 0);
	v = 1;
	hv_virtio_dev_config_access(f->d.dev, 0, 8, true, &v);
	hv_virtio_dev_config_access(f->d.dev, 0, 8, false, &v);
	assert_int_equal(v, DISK_BYTES / 512);
	free_fix(f);
}

static void test_discard_and_write_zeroes(void **state)
{
	struct fix *f = new_fix(0);
	struct blk_discard_seg seg = { htole64(4), htole32(2), 0 };
	uint8_t back[1024];
	uint32_t used;

	(void)state;
	memcpy(f->d.ram + BUF_GPA, &seg, sizeof(seg));
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(pread(f->fd, back, sizeof(back), 4 * 512), sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(pread(f->fd, back, 1, 6 * 512), 1);
	assert_int_equal(back[0], pattern_byte(7, 6 * 512));
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, 16, false, &used), VIRTIO_BLK_S_OK);
	/* Beyond the disk, and an unknown flag. */
	seg.sector = htole64(DISK_BYTES / 512 - 1);
	memcpy(f->d.ram + BUF_GPA, &seg, sizeof(seg));
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, &used),
			 VIRTIO_BLK_S_IOERR);
	seg = (struct blk_discard_seg){ 0, htole32(1), htole32(2) };
	memcpy(f->d.ram + BUF_GPA, &seg, sizeof(seg));
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, &used),
			 VIRTIO_BLK_S_UNSUPP);
	/* Two segments: more than max_write_zeroes_seg. */
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 32, false, &used),
			 VIRTIO_BLK_S_UNSUPP);
	free_fix(f);
}

static void test_malformed(void **state)
{
	struct fix *f = new_fix(0);
	struct drv *d = &f->d;
	uint32_t used, id;

	(void)state;
	assert_int_equal(request(f, 0x7777, 0, 0, false, &used), VIRTIO_BLK_S_UNSUPP);
	/* A header of 8 bytes, then the status byte. */
	drv_desc(d, 0, HDR_GPA, 8, VRING_DESC_F_NEXT, 1);
	drv_desc(d, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	drv_kick(d, 0);
	hv_virtio_dev_notify(d->dev, 0);
	assert_int_equal(d->ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	/* No writable byte at all: returned with nothing written. */
	drv_desc(d, 0, HDR_GPA, 16, 0, 0);
	drv_kick(d, 0);
	hv_virtio_dev_notify(d->dev, 0);
	assert_int_equal(drv_used_idx(d), d->avail_idx);
	drv_used_elem(d, (uint16_t)(d->avail_idx - 1), &id, &used);
	assert_int_equal(used, 0);
	assert_false(drv_needs_reset(d));
	free_fix(f);
}

static void test_bad_configs(void **state)
{
	struct hv_virtio_blk_config bc;
	struct hv_virtio_blk *blk = NULL;
	struct hv_mem *mem;
	int fds = count_open_fds();

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	hv_virtio_blk_config_init(&bc);
	bc.mem = mem;
	expect_err(hv_virtio_blk_create(&bc, &blk), -EINVAL, "path is NULL");
	bc.path = "/nonexistent/disk.img";
	expect_err(hv_virtio_blk_create(&bc, &blk), -ENOENT, "/nonexistent/disk.img");
	bc.path = "/dev/null";
	expect_err(hv_virtio_blk_create(&bc, &blk), -EINVAL, "regular file");
	bc.path = "/etc/hostname";
	bc.serial = "this serial is far too long";
	expect_err(hv_virtio_blk_create(&bc, &blk), -EINVAL, "serial");
	assert_int_equal(count_open_fds(), fds);
	hv_virtio_blk_destroy(NULL);
	hv_mem_destroy(mem);
}

/* A read of more than 4 GiB (three 1.5 GiB buffers over one sparse region
 * of a sparse 8 GiB disk) cannot be reported in a 32-bit used length: it is
 * refused before any byte moves, instead of wrapping the count. */
static void test_read_over_4gib(void **state)
{
	const uint64_t big_gpa = 1ull << 32, part = 3ull << 29; /* 1.5 GiB */
	struct fix *f = new_fix(0);
	struct hv_mem_region_config rc;
	struct hv_virtio_blk_config bc;
	struct blk_req_hdr hdr = { htole32(VIRTIO_BLK_T_IN), 0, 0 };
	struct drv *d = &f->d;
	uint32_t id, used;

	(void)state;
	/* The same image grown to 8 GiB (sparse), on a new device. */
	hv_virtio_blk_destroy(f->blk);
	assert_int_equal(ftruncate(f->fd, 8ull << 30), 0);
	hv_virtio_blk_config_init(&bc);
	bc.path = f->path;
	bc.mem = d->mem;
	expect_ret(hv_virtio_blk_create(&bc, &f->blk), 0);
	drv_attach(d, hv_virtio_blk_dev(f->blk), BLK_QUEUE_SIZE);
	drv_start(d, 0);
	hv_mem_region_config_init(&rc);
	rc.gpa = big_gpa;
	rc.bytes = part; /* never touched */
	expect_ret(hv_mem_add_region(d->mem, &rc, NULL), 0);
	memcpy(d->ram + HDR_GPA, &hdr, sizeof(hdr));
	d->ram[STATUS_GPA] = 0xee;
	drv_desc(d, 0, HDR_GPA, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	for (uint16_t i = 1; i <= 3; i++)
		drv_desc(d, i, big_gpa, (uint32_t)part, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
			 (uint16_t)(i + 1));
	drv_desc(d, 4, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	drv_kick(d, 0);
	hv_virtio_dev_notify(d->dev, 0);
	assert_int_equal(drv_used_idx(d), d->avail_idx);
	drv_used_elem(d, (uint16_t)(d->avail_idx - 1), &id, &used);
	assert_int_equal(d->ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1); /* just the status byte */
	free_fix(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_get_id_and_config),
		cmocka_unit_test(test_discard_and_write_zeroes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_read_over_4gib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
