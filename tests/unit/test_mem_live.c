/* SPDX-License-Identifier: MIT */
/*
 * The guest memory map changing while it is read: readers on other threads
 * under adds and removes, pins and -EBUSY, listeners, a queue's rings and
 * buffers pinning their regions, and the seals on memfd guest RAM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem/mem_internal.h"
#include "unit/test_virtq_driver.h"

#define PAGE 4096u
#define STABLE_GPA 0x100000u  /* always there, filled with 0xa5 */
#define CHURN_GPA 0x200000u   /* comes and goes, each time with its own byte */
#define CHURN_BYTES (64u * PAGE)

static uint32_t add(struct hv_mem *mem, uint64_t gpa, uint64_t bytes, uint32_t backing)
{
	struct hv_mem_region_config rc;
	uint32_t id;

	hv_mem_region_config_init(&rc);
	rc.gpa = gpa;
	rc.bytes = bytes;
	rc.backing = backing;
	expect_ret(hv_mem_add_region(mem, &rc, &id), 0);
	return id;
}

struct readers {
	struct hv_mem *mem;
	atomic_bool stop;
	atomic_long reads, churn_hits;
	atomic_int bad; /* a reader saw something impossible */
};

/*
 * One copy of the churning region.  Its incarnations alternate: the
 * caller's own memory (HV_MEM_HOST), filled with a byte with the top bit
 * set before it is added and unmapped by the test once removed, and memfd
 * memory hvlib maps and unmaps, filled with a byte without it after the
 * add (so zeros may show, in any order: a string copy may load out of
 * order).  A copy that saw two different bytes, or zeros beside a
 * top-bit byte, ran from one incarnation into the next: a removal that
 * did not wait for it to finish.
 */
static void check_churn(struct readers *r, const uint8_t *buf, size_t len)
{
	uint8_t seen = 0;
	bool zeros = false;

	for (size_t i = 0; i < len; i += 64) {
		if (buf[i] == 0xa5)
			atomic_store(&r->bad, 7);
		if (!buf[i])
			zeros = true;
		else if (seen && buf[i] != seen)
			atomic_store(&r->bad, 2);
		else
			seen = buf[i];
	}
	if (zeros && (seen & 0x80))
		atomic_store(&r->bad, 8);
}

/* Reads the stable region, and the churning one when it is there: a copy
 * either fails whole (-EFAULT) or sees the region's own bytes, never
 * another's or unmapped memory (ASan, SIGSEGV). */
static void *reader(void *arg)
{
	struct readers *r = arg;
	static __thread uint8_t buf[CHURN_BYTES]; /* a long copy: a wide window */
	uint32_t ids[8];

	while (!atomic_load(&r->stop)) {
		struct hv_mem_region_info info;
		void *hva;
		int n, ret;

		if (hv_mem_read(r->mem, STABLE_GPA + PAGE, buf, 2 * PAGE) || buf[0] != 0xa5 ||
		    buf[2 * PAGE - 1] != 0xa5)
			atomic_store(&r->bad, 1);
		ret = hv_mem_read(r->mem, CHURN_GPA, buf, sizeof(buf));
		if (ret == 0) {
			check_churn(r, buf, sizeof(buf));
			atomic_fetch_add(&r->churn_hits, 1);
		} else if (ret != -EFAULT) {
			atomic_store(&r->bad, 3);
		}
		if (hv_mem_translate(r->mem, STABLE_GPA, PAGE, &hva))
			atomic_store(&r->bad, 4);
		n = hv_mem_regions(r->mem, ids, 8);
		if (n < 1 || n > 3)
			atomic_store(&r->bad, 5);
		for (int i = 0; i < n && i < 8; i++)
			if (hv_mem_region_info(r->mem, ids[i], &info) == 0 && info.bytes != 4 * PAGE &&
			    info.bytes != CHURN_BYTES && info.bytes != PAGE)
				atomic_store(&r->bad, 6);
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

static void test_readers_under_changes(void **state)
{
	struct readers r = { 0 };
	pthread_t th[2];
	uint8_t fill[PAGE];

	(void)state;
	expect_ret(hv_mem_create(&r.mem), 0);
	add(r.mem, STABLE_GPA, 4 * PAGE, HV_MEM_ANON);
	memset(fill, 0xa5, sizeof(fill));
	for (uint32_t i = 0; i < 4; i++)
		expect_ret(hv_mem_write(r.mem, STABLE_GPA + i * PAGE, fill, PAGE), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
	for (int round = 0; round < 150; round++) {
		uint32_t id;
		void *host = NULL;

		if (round & 1) {
			struct hv_mem_region_info info;

			id = add(r.mem, CHURN_GPA, CHURN_BYTES, HV_MEM_MEMFD);
			expect_ret(hv_mem_region_info(r.mem, id, &info), 0);
			/* Through the fd: racing the readers' copies is the point,
			 * and ThreadSanitizer need not hear of it. */
			memset(fill, 1 + round % 0x7f, sizeof(fill));
			for (uint32_t off = 0; off < CHURN_BYTES; off += PAGE)
				assert_int_equal(pwrite(info.fd, fill, PAGE, off), PAGE);
		} else {
			struct hv_mem_region_config rc;

			host = mmap(NULL, CHURN_BYTES, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			assert_true(host != MAP_FAILED);
			memset(host, 0x80 | round, CHURN_BYTES);
			hv_mem_region_config_init(&rc);
			rc.gpa = CHURN_GPA;
			rc.bytes = CHURN_BYTES;
			rc.backing = HV_MEM_HOST;
			rc.host_addr = host;
			expect_ret(hv_mem_add_region(r.mem, &rc, &id), 0);
		}
		/* Another region comes and goes in between: the table grows. */
		expect_ret(hv_mem_remove_region(r.mem, add(r.mem, 0, PAGE, HV_MEM_ANON)), 0);
		expect_ret(hv_mem_remove_region(r.mem, id), 0);
		/* No reader is left in it: the caller may take its memory back. */
		if (host)
			munmap(host, CHURN_BYTES);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(atomic_load(&r.reads) > 0);
	print_message("readers: %ld rounds, %ld saw the churning region\n",
		      atomic_load(&r.reads), atomic_load(&r.churn_hits));
	hv_mem_destroy(r.mem);
}

static void test_pin_refuses_removal(void **state)
{
	struct hv_mem_pins set = { 0 }, other = { 0 };
	struct hv_mem *mem;
	void *hva, *hva2;
	uint32_t id, rom;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	id = add(mem, 0, 4 * PAGE, HV_MEM_ANON);
	expect_ret(hv_mem_pin_range(mem, PAGE, 16, true, &set, &hva), 0);
	expect_ret(hv_mem_pin_range(mem, 2 * PAGE, 16, false, &set, &hva2), 0);
	assert_int_equal(set.n, 1); /* one region, pinned once */
	assert_ptr_equal((uint8_t *)hva + PAGE, hva2);
	expect_ret(hv_mem_pin_range(mem, 0, PAGE, false, &other, &hva2), 0);
	expect_err(hv_mem_remove_region(mem, id), -EBUSY, "in use by 2");
	hv_mem_unpin_all(&set);
	assert_int_equal(set.n, 0);
	expect_err(hv_mem_remove_region(mem, id), -EBUSY, "in use by 1");
	hv_mem_unpin_all(&other);
	expect_ret(hv_mem_remove_region(mem, id), 0);
	/* Gone: nothing to pin; ROM refuses device writes; ranges are checked. */
	expect_ret(hv_mem_pin_range(mem, PAGE, 16, false, &set, &hva), -EFAULT);
	id = add(mem, 0, 4 * PAGE, HV_MEM_ANON);
	expect_ret(hv_mem_pin_range(mem, 3 * PAGE, PAGE + 1, false, &set, &hva), -EFAULT);
	{
		struct hv_mem_region_config rc;

		hv_mem_region_config_init(&rc);
		rc.gpa = 8 * PAGE;
		rc.bytes = PAGE;
		rc.flags = HV_MEM_F_READONLY;
		expect_ret(hv_mem_add_region(mem, &rc, &rom), 0);
	}
	expect_ret(hv_mem_pin_range(mem, 8 * PAGE, 4, true, &set, &hva), -EFAULT);
	expect_ret(hv_mem_pin_range(mem, 8 * PAGE, 4, false, &set, &hva), 0);
	hv_mem_unpin_all(&set);
	assert_int_equal(set.n, 0);
	expect_ret(hv_mem_remove_region(mem, rom), 0);
	expect_ret(hv_mem_remove_region(mem, id), 0);
	hv_mem_destroy(mem);
}

static void test_pin_set_full(void **state)
{
	struct hv_mem_pins set = { 0 };
	struct hv_mem *mem;
	void *hva;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	for (uint32_t i = 0; i <= HV_MEM_PINS_MAX; i++)
		add(mem, (uint64_t)i * PAGE, PAGE, HV_MEM_ANON);
	for (uint32_t i = 0; i < HV_MEM_PINS_MAX; i++)
		expect_ret(hv_mem_pin_range(mem, (uint64_t)i * PAGE, 8, false, &set, &hva), 0);
	expect_ret(hv_mem_pin_range(mem, (uint64_t)HV_MEM_PINS_MAX * PAGE, 8, false, &set, &hva),
		   -ENOSPC);
	expect_ret(hv_mem_pin_range(mem, 0, 8, false, &set, &hva), 0); /* already in */
	hv_mem_unpin_all(&set);
	hv_mem_destroy(mem);
}

/* A listener that records what it was told, and what the map looked like. */
struct log {
	struct hv_mem *mem;
	int adds, removes, changes, flags;
	int regions_at_change;
	int refuse_add; /* -errno to return from region_add */
	char order[32];
};

static void note(struct log *l, char c)
{
	size_t n = strlen(l->order);

	if (n + 1 < sizeof(l->order))
		l->order[n] = c;
}

static int log_add(void *opaque, const struct hv_mem_region *r)
{
	struct log *l = opaque;

	(void)r;
	l->adds++;
	note(l, 'a');
	/* Not visible yet. */
	if (hv_mem_find(l->mem, r->gpa, &(struct hv_mem_region){ 0 }))
		l->refuse_add = -EIO;
	return l->refuse_add;
}

static void log_remove(void *opaque, const struct hv_mem_region *r)
{
	struct log *l = opaque;
	void *hva;

	l->removes++;
	note(l, 'r');
	/* No longer visible, still mapped (the KVM slot goes before the memory). */
	if (hv_mem_translate(l->mem, r->gpa, 1, &hva) == 0)
		l->removes += 100;
	((volatile uint8_t *)r->host)[0] = 1;
}

static int log_flags(void *opaque, const struct hv_mem_region *r, uint32_t flags)
{
	struct log *l = opaque;

	(void)r;
	(void)flags;
	l->flags++;
	return 0;
}

static void log_changed(void *opaque, struct hv_mem *mem)
{
	struct log *l = opaque;

	l->changes++;
	note(l, 'c');
	l->regions_at_change = hv_mem_regions(mem, NULL, 0);
}

static const struct hv_mem_listener log_listener = {
	.region_add = log_add,
	.region_remove = log_remove,
	.region_set_flags = log_flags,
	.map_changed = log_changed,
};

static void test_listeners(void **state)
{
	struct log a = { 0 }, b = { 0 };
	struct hv_mem *mem;
	uint32_t id;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	a.mem = b.mem = mem;
	expect_ret(hv_mem_listener_add(mem, &log_listener, &a), 0);
	expect_ret(hv_mem_listener_add(mem, &log_listener, &b), 0);
	id = add(mem, 0, PAGE, HV_MEM_ANON);
	assert_string_equal(a.order, "ac");
	assert_int_equal(a.regions_at_change, 1);
	assert_int_equal(b.adds + b.changes, 2);
	/* The second listener refuses: the first is told the add is undone. */
	b.refuse_add = -EPERM;
	{
		struct hv_mem_region_config rc;

		hv_mem_region_config_init(&rc);
		rc.gpa = PAGE;
		rc.bytes = PAGE;
		expect_ret(hv_mem_add_region(mem, &rc, NULL), -EPERM);
	}
	assert_string_equal(a.order, "acar");
	assert_int_equal(hv_mem_regions(mem, NULL, 0), 1);
	b.refuse_add = 0;
	expect_ret(hv_mem_set_dirty_log(mem, id, true), 0);
	assert_int_equal(a.flags + b.flags, 2);
	expect_ret(hv_mem_remove_region(mem, id), 0);
	assert_string_equal(a.order, "acarrc");
	assert_int_equal(a.removes, 2);
	assert_int_equal(a.regions_at_change, 0);
	/* Unregistered: told nothing more. */
	hv_mem_listener_remove(mem, &log_listener, &a);
	hv_mem_listener_remove(mem, &log_listener, &a); /* unknown: no-op */
	add(mem, 0, PAGE, HV_MEM_ANON);
	assert_string_equal(a.order, "acarrc");
	assert_int_equal(b.changes, 3);
	hv_mem_listener_remove(mem, &log_listener, &b);
	hv_mem_destroy(mem);
}

static void test_memfd_sealed(void **state)
{
	struct hv_mem_region_info info;
	struct hv_mem *mem;
	uint8_t byte = 7;
	uint32_t id;
	int seals;

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	id = add(mem, 0, 4 * PAGE, HV_MEM_MEMFD);
	expect_ret(hv_mem_region_info(mem, id, &info), 0);
	seals = fcntl(info.fd, F_GET_SEALS);
	assert_true(seals >= 0);
	assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW), F_SEAL_SHRINK | F_SEAL_GROW);
	assert_int_equal(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE), 0); /* still RAM */
	assert_int_equal(ftruncate(info.fd, PAGE), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(info.fd, 8 * PAGE), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(info.fd, 4 * PAGE), 0); /* same size is no change */
	assert_int_equal(pwrite(info.fd, &byte, 1, 3 * PAGE), 1);
	assert_int_equal(((uint8_t *)info.host_addr)[3 * PAGE], 7);
	/* A seal cannot be lifted, and growing through fallocate fails too. */
	assert_int_equal(fallocate(info.fd, 0, 0, 8 * PAGE), -1);
	hv_mem_destroy(mem);
}

/* A running queue's rings pin their region; a reset lets go; rings that
 * vanished while the queue was off break the device when it is enabled. */
static void test_queue_rings(void **state)
{
	struct drv d;
	uint32_t ids[4], rings;

	(void)state;
	drv_create(&d, NULL, NULL, 8);
	drv_start(&d, 0);
	assert_false(drv_needs_reset(&d));
	assert_int_equal(hv_mem_regions(d.mem, ids, 4), 2); /* RAM, ROM */
	expect_err(hv_mem_remove_region(d.mem, ids[0]), -EBUSY, "in use");
	expect_ret(hv_mem_remove_region(d.mem, ids[1]), 0); /* ROM: not the queue's */
	/* Disabling the queue lets go of the rings. */
	hv_virtio_dev_queue_set_ready(d.dev, 0, false);
	rings = add(d.mem, 0x400000, 16 * PAGE, HV_MEM_ANON);
	hv_virtio_dev_queue_set_addr(d.dev, 0, HV_VIRTQ_ADDR_DESC, 0x400000);
	hv_virtio_dev_queue_set_addr(d.dev, 0, HV_VIRTQ_ADDR_AVAIL, 0x404000);
	hv_virtio_dev_queue_set_addr(d.dev, 0, HV_VIRTQ_ADDR_USED, 0x408000);
	hv_virtio_dev_queue_set_ready(d.dev, 0, true);
	assert_false(drv_needs_reset(&d));
	expect_ret(hv_mem_remove_region(d.mem, ids[0]), 0); /* the old RAM: free now */
	expect_err(hv_mem_remove_region(d.mem, rings), -EBUSY, "in use");
	hv_virtio_dev_queue_set_ready(d.dev, 0, false);
	expect_ret(hv_mem_remove_region(d.mem, rings), 0);
	hv_virtio_dev_queue_set_ready(d.dev, 0, true);
	assert_true(drv_needs_reset(&d));
	/* A pop never reads the vanished rings. */
	{
		struct hv_virtq_buf bufs[8];
		struct hv_virtq_req req;

		expect_ret(hv_virtq_pop(d.q, bufs, 8, &req), -EIO);
	}
	hv_virtio_dev_destroy(d.dev);
	hv_mem_destroy(d.mem);
}

/* The device's listener, behind the pins: if a running queue's rings ever
 * left the map (here: the test drops the queue's pins by hand), the device
 * breaks and its queue never reads the unmapped rings (ASan would see it). */
static void test_listener_breaks_queue(void **state)
{
	struct hv_virtq_buf bufs[8];
	struct hv_virtq_req req;
	uint32_t rings;
	struct drv d;

	(void)state;
	drv_create(&d, NULL, NULL, 8);
	drv_start(&d, 0);
	hv_virtio_dev_queue_set_ready(d.dev, 0, false);
	rings = add(d.mem, 0x400000, 16 * PAGE, HV_MEM_MEMFD);
	hv_virtio_dev_queue_set_addr(d.dev, 0, HV_VIRTQ_ADDR_DESC, 0x400000);
	hv_virtio_dev_queue_set_addr(d.dev, 0, HV_VIRTQ_ADDR_AVAIL, 0x404000);
	hv_virtio_dev_queue_set_addr(d.dev, 0, HV_VIRTQ_ADDR_USED, 0x408000);
	hv_virtio_dev_queue_set_ready(d.dev, 0, true);
	assert_false(drv_needs_reset(&d));
	/* An unrelated change leaves the queue alone. */
	expect_ret(hv_mem_remove_region(d.mem, add(d.mem, 0x800000, PAGE, HV_MEM_ANON)), 0);
	assert_false(drv_needs_reset(&d));
	pthread_mutex_lock(&d.q->lock);
	hv_mem_unpin_all(&d.q->ring_pins);
	pthread_mutex_unlock(&d.q->lock);
	expect_ret(hv_mem_remove_region(d.mem, rings), 0);
	assert_true(drv_needs_reset(&d));
	expect_ret(hv_virtq_pop(d.q, bufs, 8, &req), -EIO);
	drv_destroy(&d);
}

/* Buffers popped and not yet pushed pin their region until pushed. */
static void test_inflight_buffers(void **state)
{
	struct hv_virtq_buf bufs[8];
	struct hv_virtq_req req[2];
	uint32_t data;
	struct drv d;

	(void)state;
	drv_create(&d, NULL, NULL, 8);
	drv_start(&d, 0);
	data = add(d.mem, 0x400000, PAGE, HV_MEM_ANON);
	drv_desc(&d, 0, 0x400000, 64, VRING_DESC_F_WRITE, 0);
	drv_desc(&d, 1, 0x400100, 64, VRING_DESC_F_WRITE, 0);
	drv_kick(&d, 0);
	drv_kick(&d, 1);
	expect_ret(hv_virtq_pop(d.q, bufs, 8, &req[0]), 1);
	expect_ret(hv_virtq_pop(d.q, bufs + 4, 4, &req[1]), 1);
	expect_err(hv_mem_remove_region(d.mem, data), -EBUSY, "in use by 1");
	hv_virtq_push(d.q, &req[0], 0);
	expect_ret(hv_mem_remove_region(d.mem, data), -EBUSY); /* one left */
	hv_virtq_push(d.q, &req[1], 0);
	expect_ret(hv_mem_remove_region(d.mem, data), 0);
	/* A chain into the vanished region now breaks the device. */
	drv_kick(&d, 0);
	expect_ret(hv_virtq_pop(d.q, bufs, 8, &req[0]), -EIO);
	assert_true(drv_needs_reset(&d));
	/* A request never pushed is let go by the device reset. */
	hv_virtio_dev_write_status(d.dev, 0);
	data = add(d.mem, 0x400000, PAGE, HV_MEM_ANON);
	drv_start(&d, 0);
	drv_desc(&d, 0, 0x400000, 64, VRING_DESC_F_WRITE, 0);
	drv_kick(&d, 0);
	expect_ret(hv_virtq_pop(d.q, bufs, 8, &req[0]), 1);
	expect_ret(hv_mem_remove_region(d.mem, data), -EBUSY);
	hv_virtio_dev_write_status(d.dev, 0);
	expect_ret(hv_mem_remove_region(d.mem, data), 0);
	hv_virtq_push(d.q, &req[0], 0); /* stale: dropped, nothing to let go */
	drv_destroy(&d);
}

/* A chain whose buffers lie in more regions than a queue can pin breaks. */
static void test_inflight_too_many_regions(void **state)
{
	struct hv_virtq_buf bufs[16];
	struct hv_virtq_req req;
	struct drv d;

	(void)state;
	drv_create(&d, NULL, NULL, 16);
	drv_start(&d, 0);
	for (uint32_t i = 0; i < HV_MEM_PINS_MAX + 1; i++) {
		add(d.mem, 0x400000 + (uint64_t)i * PAGE, PAGE, HV_MEM_ANON);
		drv_desc(&d, i, 0x400000 + (uint64_t)i * PAGE, 16, VRING_DESC_F_WRITE,
			 (uint16_t)(i + 1));
	}
	drv_desc(&d, HV_MEM_PINS_MAX, 0x400000 + (uint64_t)HV_MEM_PINS_MAX * PAGE, 16,
		 VRING_DESC_F_WRITE, 0);
	/* RAM (the rings) is pinned by the queue's ring set, not this one. */
	for (uint32_t i = 0; i < HV_MEM_PINS_MAX; i++)
		d.ram[DESC_GPA + 16 * i + 12] |= VRING_DESC_F_NEXT;
	drv_kick(&d, 0);
	expect_ret(hv_virtq_pop(d.q, bufs, 16, &req), -EIO);
	assert_true(drv_needs_reset(&d));
	drv_destroy(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_under_changes),
		cmocka_unit_test(test_pin_refuses_removal),
		cmocka_unit_test(test_pin_set_full),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_memfd_sealed),
		cmocka_unit_test(test_queue_rings),
		cmocka_unit_test(test_listener_breaks_queue),
		cmocka_unit_test(test_inflight_buffers),
		cmocka_unit_test(test_inflight_too_many_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
