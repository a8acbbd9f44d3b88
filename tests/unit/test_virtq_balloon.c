/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon without a VM: a hand-written driver puts page lists and
 * stats buffers on the three queues.  Inflated pages leave the host (and
 * read as zeros); deflate only counts; hostile lists (page numbers beyond
 * RAM or in ROM, odd lengths, huge counts, device-writable buffers) skip
 * entries or break the device, never the host; the config space (target,
 * actual) and the stats buffer kept for the host's next request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "unit/test_virtq_driver.h"
#include "virtio/balloon_internal.h"

#define PAGE 4096u
#define LIST_GPA (DATA_GPA)          /* page lists and stats buffers */
#define PAGES_GPA 0x80000u           /* the pages given to the balloon */

struct bq {                           /* one queue of the driver */
	uint64_t desc, avail, used;
	uint16_t avail_idx;
};

struct fix {
	struct drv d;
	struct hv_virtio_balloon *bal;
	struct bq q[BAL_NR_QUEUES];
};

static void q_desc(struct fix *f, uint32_t qi, uint32_t i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next)
{
	struct vring_desc desc = { htole64(addr), htole32(len), htole16(flags), htole16(next) };

	memcpy(f->d.ram + f->q[qi].desc + 16 * i, &desc, sizeof(desc));
}

static void q_kick(struct fix *f, uint32_t qi, uint16_t head)
{
	struct bq *q = &f->q[qi];
	uint16_t *avail = (uint16_t *)(f->d.ram + q->avail);

	avail[2 + q->avail_idx % BAL_QUEUE_SIZE] = htole16(head);
	q->avail_idx++;
	avail[1] = htole16(q->avail_idx);
	hv_virtio_dev_notify(f->d.dev, qi);
}

static uint16_t q_used_idx(struct fix *f, uint32_t qi)
{
	return le16toh(((uint16_t *)(f->d.ram + f->q[qi].used))[1]);
}

/* A driver with these features, queues set up, DRIVER_OK if live. */
static struct fix *new_fix_live(uint64_t features, bool live)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_balloon_config bc;
	uint64_t feat = HV_VIRTIO_F_VERSION_1 | features;

	drv_create_mem(&f->d);
	hv_virtio_balloon_config_init(&bc);
	bc.mem = f->d.mem;
	expect_ret(hv_virtio_balloon_create(&bc, &f->bal), 0);
	drv_attach(&f->d, hv_virtio_balloon_dev(f->bal), BAL_QUEUE_SIZE);
	hv_virtio_dev_write_status(f->d.dev, 3);
	hv_virtio_dev_set_driver_features(f->d.dev, 0, (uint32_t)feat);
	hv_virtio_dev_set_driver_features(f->d.dev, 1, (uint32_t)(feat >> 32));
	hv_virtio_dev_write_status(f->d.dev, 3 | HV_VIRTIO_STATUS_FEATURES_OK);
	assert_true(hv_virtio_dev_status(f->d.dev) & HV_VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t i = 0; i < BAL_NR_QUEUES; i++) {
		f->q[i] = (struct bq){ 0x1000 + 0x3000 * i, 0x1800 + 0x3000 * i,
				       0x2000 + 0x3000 * i, 0 };
		hv_virtio_dev_queue_set_size(f->d.dev, i, BAL_QUEUE_SIZE);
		hv_virtio_dev_queue_set_addr(f->d.dev, i, HV_VIRTQ_ADDR_DESC, f->q[i].desc);
		hv_virtio_dev_queue_set_addr(f->d.dev, i, HV_VIRTQ_ADDR_AVAIL, f->q[i].avail);
		hv_virtio_dev_queue_set_addr(f->d.dev, i, HV_VIRTQ_ADDR_USED, f->q[i].used);
		hv_virtio_dev_queue_set_ready(f->d.dev, i, true);
	}
	if (live)
		hv_virtio_dev_write_status(f->d.dev, 7 | HV_VIRTIO_STATUS_FEATURES_OK);
	return f;
}

static struct fix *new_fix(uint64_t features)
{
	return new_fix_live(features, true);
}

static void free_fix(struct fix *f)
{
	hv_virtio_balloon_destroy(f->bal);
	hv_mem_destroy(f->d.mem);
	free(f);
}

static void get(struct fix *f, struct hv_virtio_balloon_info *info)
{
	info->size = sizeof(*info);
	expect_ret(hv_virtio_balloon_get(f->bal, info), 0);
}

/* One request on queue qi: a readable list of page numbers. */
static void send_pfns(struct fix *f, uint32_t qi, const uint32_t *pfns, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t le = htole32(pfns[i]);

		memcpy(f->d.ram + LIST_GPA + 4 * i, &le, 4);
	}
	q_desc(f, qi, 0, LIST_GPA, 4 * n, 0, 0);
	q_kick(f, qi, 0);
}

static void test_features(void **state)
{
	struct fix *f = new_fix(0);

	(void)state;
	assert_int_equal(hv_virtio_dev_features_word(f->d.dev, 0),
			 HV_VIRTIO_BALLOON_F_STATS_VQ | HV_VIRTIO_BALLOON_F_DEFLATE_ON_OOM |
				 HV_VIRTIO_F_INDIRECT_DESC | HV_VIRTIO_F_EVENT_IDX);
	free_fix(f);
}

static void test_inflate_releases(void **state)
{
	struct fix *f = new_fix(0);
	uint32_t pfns[] = { 0x80, 0x81, 0x82, 0x90, 0x83 };
	struct hv_virtio_balloon_info info;
	unsigned char vec[0x20];

	(void)state;
	memset(f->d.ram + PAGES_GPA, 0x77, 0x20 * PAGE);
	send_pfns(f, BAL_Q_INFLATE, pfns, 5);
	assert_int_equal(q_used_idx(f, BAL_Q_INFLATE), 1);
	assert_false(drv_needs_reset(&f->d));
	assert_int_equal(mincore(f->d.ram + PAGES_GPA, 0x20 * PAGE, vec), 0);
	for (uint32_t i = 0; i < 0x20; i++) {
		bool gone = i <= 3 || i == 0x10;

		assert_int_equal(vec[i] & 1, !gone);
	}
	assert_int_equal(f->d.ram[PAGES_GPA + 0x10 * PAGE + 9], 0);
	assert_int_equal(f->d.ram[PAGES_GPA + 4 * PAGE], 0x77);
	get(f, &info);
	assert_int_equal(info.inflated_pages, 5);
	assert_int_equal(info.skipped_pages, 0);
	free_fix(f);
}

static void test_deflate_counts(void **state)
{
	struct fix *f = new_fix(0);
	uint32_t pfns[] = { 0x80, 0x81, 0x100000 };
	struct hv_virtio_balloon_info info;

	(void)state;
	memset(f->d.ram + PAGES_GPA, 0x77, 2 * PAGE);
	send_pfns(f, BAL_Q_DEFLATE, pfns, 3);
	assert_int_equal(q_used_idx(f, BAL_Q_DEFLATE), 1);
	assert_int_equal(f->d.ram[PAGES_GPA + PAGE], 0x77);
	get(f, &info);
	assert_int_equal(info.deflated_pages, 2);
	assert_int_equal(info.skipped_pages, 1);
	assert_false(drv_needs_reset(&f->d));
	free_fix(f);
}

/* Beyond RAM, in the hole, in ROM, the largest number: skipped one by one. */
static void test_hostile_pfns(void **state)
{
	struct fix *f = new_fix(0);
	uint32_t pfns[] = { 0xffffffffu, ROM_GPA / PAGE, 0x100, RAM_BYTES / PAGE, 0x80,
			    ROM_GPA / PAGE + 1, 0x7fffffff };
	struct hv_virtio_balloon_info info;

	(void)state;
	f->d.rom[0] = 0x5a;
	f->d.rom[PAGE] = 0x5b;
	send_pfns(f, BAL_Q_INFLATE, pfns, 7);
	assert_false(drv_needs_reset(&f->d));
	assert_int_equal(q_used_idx(f, BAL_Q_INFLATE), 1);
	assert_int_equal(f->d.rom[0], 0x5a);
	assert_int_equal(f->d.rom[PAGE], 0x5b);
	get(f, &info);
	assert_int_equal(info.inflated_pages, 1);
	assert_int_equal(info.skipped_pages, 6);
	free_fix(f);
}

/* Pages the host cannot release (locked memory): not counted as released,
 * not the guest's fault, and the device goes on. */
static void test_release_fails(void **state)
{
	struct fix *f = new_fix(0);
	struct hv_mem_region_config rc;
	struct hv_virtio_balloon_info info;
	uint32_t pfns[] = { 0x300, 0x301, 0x80 };
	uint8_t *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	(void)state;
	assert_true(p != MAP_FAILED);
	p[0] = 0x33;
	if (!lock_pages(p, 2 * PAGE)) {
		munmap(p, 2 * PAGE);
		free_fix(f);
		skip();
	}
	hv_mem_region_config_init(&rc);
	rc.gpa = 0x300000;
	rc.bytes = 2 * PAGE;
	rc.backing = HV_MEM_HOST;
	rc.host_addr = p;
	expect_ret(hv_mem_add_region(f->d.mem, &rc, NULL), 0);
	send_pfns(f, BAL_Q_INFLATE, pfns, 3);
	assert_false(drv_needs_reset(&f->d));
	assert_int_equal(q_used_idx(f, BAL_Q_INFLATE), 1);
	assert_int_equal(p[0], 0x33);
	get(f, &info);
	assert_int_equal(info.inflated_pages, 1);
	assert_int_equal(info.skipped_pages, 0);
	free_fix(f);
	munmap(p, 2 * PAGE);
}

static void expect_broken(struct fix *f, uint32_t qi)
{
	assert_true(drv_needs_reset(&f->d));
	assert_int_equal(q_used_idx(f, qi), 0);
	assert_true(f->d.config_irqs > 0);
}

static void test_odd_length(void **state)
{
	struct fix *f = new_fix(0);

	(void)state;
	memset(f->d.ram + PAGES_GPA, 0x77, PAGE);
	memset(f->d.ram + LIST_GPA, 0, 8);
	f->d.ram[LIST_GPA] = 0x80;
	q_desc(f, BAL_Q_INFLATE, 0, LIST_GPA, 6, 0, 0);
	q_kick(f, BAL_Q_INFLATE, 0);
	expect_broken(f, BAL_Q_INFLATE);
	assert_int_equal(f->d.ram[PAGES_GPA], 0x77); /* nothing served */
	free_fix(f);
}

/* Linux sends at most 256 page numbers a request: 256 are served, 257 are
 * refused whole (used, nothing released) and the device stays usable. */
static void test_pfn_cap(void **state)
{
	struct fix *f = new_fix(0);
	struct hv_virtio_balloon_info info;
	uint32_t pfns[HV_VIRTIO_BALLOON_MAX_PFNS + 1];
	unsigned char vec[0x20];

	(void)state;
	assert_int_equal(HV_VIRTIO_BALLOON_MAX_PFNS, 256);
	memset(f->d.ram + PAGES_GPA, 0x77, 0x20 * PAGE);
	/* 257 entries, all inside RAM (the 32 test pages over and over). */
	for (uint32_t i = 0; i < HV_VIRTIO_BALLOON_MAX_PFNS + 1; i++)
		pfns[i] = PAGES_GPA / PAGE + i % 0x20;
	send_pfns(f, BAL_Q_INFLATE, pfns, HV_VIRTIO_BALLOON_MAX_PFNS + 1);
	assert_int_equal(q_used_idx(f, BAL_Q_INFLATE), 1);
	assert_false(drv_needs_reset(&f->d));
	assert_int_equal(mincore(f->d.ram + PAGES_GPA, 0x20 * PAGE, vec), 0);
	for (uint32_t i = 0; i < 0x20; i++)
		assert_int_equal(vec[i] & 1, 1); /* none released */
	assert_int_equal(f->d.ram[PAGES_GPA + 5 * PAGE], 0x77);
	get(f, &info);
	assert_int_equal(info.inflated_pages, 0);
	assert_int_equal(info.skipped_pages, HV_VIRTIO_BALLOON_MAX_PFNS + 1);
	/* Exactly the cap: served. */
	send_pfns(f, BAL_Q_INFLATE, pfns, HV_VIRTIO_BALLOON_MAX_PFNS);
	assert_int_equal(q_used_idx(f, BAL_Q_INFLATE), 2);
	get(f, &info);
	assert_int_equal(info.inflated_pages, HV_VIRTIO_BALLOON_MAX_PFNS);
	assert_int_equal(f->d.ram[PAGES_GPA + 5 * PAGE], 0);
	/* The used length of both is 0 (the balloon writes nothing). */
	assert_int_equal(le32toh(((uint32_t *)(f->d.ram + f->q[BAL_Q_INFLATE].used + 4))[1]), 0);
	free_fix(f);

	/* A 4 GiB length cannot be in guest RAM: the chain itself is broken. */
	f = new_fix(0);
	q_desc(f, BAL_Q_DEFLATE, 0, 0, 0xfffffffc, 0, 0);
	q_kick(f, BAL_Q_DEFLATE, 0);
	expect_broken(f, BAL_Q_DEFLATE);
	free_fix(f);
}

/* A page list spread over a chain, with a device-writable buffer at the end. */
static void test_writable_buffer(void **state)
{
	struct fix *f = new_fix(0);
	struct hv_virtio_balloon_info info;

	(void)state;
	memset(f->d.ram + LIST_GPA, 0, 0x100);
	q_desc(f, BAL_Q_INFLATE, 0, LIST_GPA, 8, VRING_DESC_F_NEXT, 1);
	q_desc(f, BAL_Q_INFLATE, 1, LIST_GPA + 8, 8, VRING_DESC_F_WRITE, 0);
	q_kick(f, BAL_Q_INFLATE, 0);
	expect_broken(f, BAL_Q_INFLATE);
	get(f, &info);
	assert_int_equal(info.inflated_pages, 0);
	free_fix(f);
}

/* A list split over two buffers at an odd byte: entries straddle them. */
static void test_split_list(void **state)
{
	struct fix *f = new_fix(0);
	uint32_t pfns[] = { 0x80, 0x81, 0x82 };
	struct hv_virtio_balloon_info info;

	(void)state;
	memcpy(f->d.ram + LIST_GPA, pfns, sizeof(pfns));
	q_desc(f, BAL_Q_INFLATE, 0, LIST_GPA, 5, VRING_DESC_F_NEXT, 1);
	q_desc(f, BAL_Q_INFLATE, 1, LIST_GPA + 5, 7, 0, 0);
	q_kick(f, BAL_Q_INFLATE, 0);
	assert_false(drv_needs_reset(&f->d));
	get(f, &info);
	assert_int_equal(info.inflated_pages, 3);
	free_fix(f);
}

static uint32_t config_read(struct fix *f, uint32_t offset, uint32_t width)
{
	uint64_t v = 0;

	hv_virtio_dev_config_access(f->d.dev, offset, width, false, &v);
	return (uint32_t)v;
}

static void config_write(struct fix *f, uint32_t offset, uint32_t width, uint64_t v)
{
	hv_virtio_dev_config_access(f->d.dev, offset, width, true, &v);
}

static void test_config(void **state)
{
	struct fix *f = new_fix(0);
	struct hv_virtio_balloon_info info;
	int irqs = f->d.config_irqs;

	(void)state;
	expect_err(hv_virtio_balloon_set_target(f->bal, RAM_BYTES + PAGE), -EINVAL,
		   "more than");
	expect_ret(hv_virtio_balloon_set_target(f->bal, 64 * PAGE + 100), 0);
	assert_int_equal(f->d.config_irqs, irqs + 1);
	assert_int_equal(config_read(f, 0, 4), 64);
	assert_int_equal(config_read(f, 1, 1), 0);
	/* The driver cannot move the target; it writes actual in any width. */
	config_write(f, 0, 4, 5);
	config_write(f, 4, 4, 60);
	assert_int_equal(config_read(f, 0, 4), 64);
	assert_int_equal(config_read(f, 4, 4), 60);
	config_write(f, 5, 1, 1);
	assert_int_equal(config_read(f, 4, 4), 60 + 256);
	config_write(f, 0, 8, 0x0000002a00000007ull);
	get(f, &info);
	assert_int_equal(info.target_bytes, 64 * PAGE);
	assert_int_equal(info.actual_bytes, 42 * PAGE);
	/* A claim beyond RAM is kept (and logged once). */
	config_write(f, 4, 4, 0xffffffff);
	get(f, &info);
	assert_int_equal(info.actual_bytes, 0xffffffffull * PAGE);
	/* Outside the config space: nothing. */
	config_write(f, 8, 4, 1);
	assert_int_equal(config_read(f, 8, 4), 0);
	/* Reset forgets the driver's count, not the host's target. */
	hv_virtio_dev_write_status(f->d.dev, 0);
	get(f, &info);
	assert_int_equal(info.actual_bytes, 0);
	assert_int_equal(info.target_bytes, 64 * PAGE);
	/* A short info struct is refused, an older one gets its head. */
	info.size = 8;
	expect_ret(hv_virtio_balloon_get(f->bal, &info), -EINVAL);
	free_fix(f);
}

static void put_stat(uint8_t *p, uint16_t tag, uint64_t val)
{
	tag = htole16(tag);
	val = htole64(val);
	memcpy(p, &tag, 2);
	memcpy(p + 2, &val, 8);
}

static void send_stats(struct fix *f, uint64_t memfree)
{
	uint8_t *p = f->d.ram + LIST_GPA;

	put_stat(p, HV_VIRTIO_BALLOON_S_MEMFREE, memfree);
	put_stat(p + 10, HV_VIRTIO_BALLOON_S_MEMTOT, 1 << 20);
	put_stat(p + 20, 999, 5);           /* unknown tag: ignored */
	put_stat(p + 30, 15, 3);            /* the last tag kept */
	q_desc(f, BAL_Q_STATS, 0, LIST_GPA, 40 + 7, 0, 0); /* and a torn tail */
	q_kick(f, BAL_Q_STATS, 0);
}

static void test_stats(void **state)
{
	struct fix *f = new_fix(HV_VIRTIO_BALLOON_F_STATS_VQ);
	struct hv_virtio_balloon_info info;

	(void)state;
	expect_ret(hv_virtio_balloon_request_stats(f->bal), -EAGAIN);
	send_stats(f, 12345);
	assert_int_equal(q_used_idx(f, BAL_Q_STATS), 0); /* kept */
	get(f, &info);
	assert_int_equal(info.stats_updates, 1);
	assert_true(info.stats_time_ns > 0);
	assert_int_equal(info.stats_valid, (1u << 4) | (1u << 5) | (1u << 15));
	assert_int_equal(info.stats[HV_VIRTIO_BALLOON_S_MEMFREE], 12345);
	assert_int_equal(info.stats[HV_VIRTIO_BALLOON_S_MEMTOT], 1 << 20);
	assert_int_equal(info.stats[15], 3);
	/* The host asks: the buffer goes back, once. */
	expect_ret(hv_virtio_balloon_request_stats(f->bal), 0);
	assert_int_equal(q_used_idx(f, BAL_Q_STATS), 1);
	expect_ret(hv_virtio_balloon_request_stats(f->bal), -EAGAIN);
	send_stats(f, 999);
	get(f, &info);
	assert_int_equal(info.stats_updates, 2);
	assert_int_equal(info.stats[HV_VIRTIO_BALLOON_S_MEMFREE], 999);
	/* A second buffer while one is held: the older one is returned. */
	send_stats(f, 1000);
	assert_int_equal(q_used_idx(f, BAL_Q_STATS), 2);
	/* Reset drops the held buffer. */
	hv_virtio_dev_write_status(f->d.dev, 0);
	expect_ret(hv_virtio_balloon_request_stats(f->bal), -EAGAIN);
	free_fix(f);
}

/* Linux gives its first stats buffer and kicks before DRIVER_OK: the kick
 * is dropped, and the buffer served once the driver sets DRIVER_OK. */
static void test_stats_before_driver_ok(void **state)
{
	struct fix *f = new_fix_live(HV_VIRTIO_BALLOON_F_STATS_VQ, false);
	struct hv_virtio_balloon_info info;

	(void)state;
	send_stats(f, 4242);
	get(f, &info);
	assert_int_equal(info.stats_updates, 0);
	hv_virtio_dev_write_status(f->d.dev, 7 | HV_VIRTIO_STATUS_FEATURES_OK);
	get(f, &info);
	assert_int_equal(info.stats_updates, 1);
	assert_int_equal(info.stats[HV_VIRTIO_BALLOON_S_MEMFREE], 4242);
	/* Setting DRIVER_OK again replays nothing. */
	hv_virtio_dev_write_status(f->d.dev, 7 | HV_VIRTIO_STATUS_FEATURES_OK);
	get(f, &info);
	assert_int_equal(info.stats_updates, 1);
	free_fix(f);
}

static void test_bad_config(void **state)
{
	struct hv_virtio_balloon_config bc;
	struct hv_virtio_balloon *bal;

	(void)state;
	expect_ret(hv_virtio_balloon_create(NULL, &bal), -EINVAL);
	hv_virtio_balloon_config_init(&bc);
	expect_err(hv_virtio_balloon_create(&bc, &bal), -EINVAL, "memory map");
	bc.flags = 1;
	expect_ret(hv_virtio_balloon_create(&bc, &bal), -EINVAL);
	hv_virtio_balloon_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_inflate_releases),
		cmocka_unit_test(test_deflate_counts),
		cmocka_unit_test(test_hostile_pfns),
		cmocka_unit_test(test_release_fails),
		cmocka_unit_test(test_odd_length),
		cmocka_unit_test(test_pfn_cap),
		cmocka_unit_test(test_writable_buffer),
		cmocka_unit_test(test_split_list),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_stats_before_driver_ok),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
