/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk with an I/O loop: requests run on the device's worker thread,
 * so a slow disk blocks that disk alone.  A flush held up in the disk (a
 * test hook that waits before fdatasync) leaves the shared loop free: a
 * second device on it is served meanwhile.  Flush ordering: when the flush
 * starts, the write before it has reached the file and been answered; the
 * flush is answered only after fdatasync returned.  Destroying the device
 * with a flush in progress waits for it.
 */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "hvlib/ioloop.h"
#include "unit/test_virtq_driver.h"
#include "virtio/blk_internal.h"

#define DISK_BYTES (64u << 10)
#define W_HDR   (DATA_GPA)
#define W_DATA  (DATA_GPA + 0x1000)
#define W_STAT  (DATA_GPA + 0x100)
#define F_HDR   (DATA_GPA + 0x200)
#define F_STAT  (DATA_GPA + 0x300)
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

struct fix {
	struct drv d;             /* the disk's driver */
	struct drv n;             /* the neighbour's */
	struct hv_ioloop *loop;
	struct hv_virtio_blk *blk;
	char path[64];
	int fd;
	sem_t entered, release;
	int in_flush;
	int write_on_disk;        /* seen from the hook: the write had landed */
	int write_answered;       /* ... and was in the used ring */
	int neighbour_served;
	int neighbour_during_flush;
};

static void slow_flush(void *opaque)
{
	struct fix *f = opaque;
	struct timespec ts;
	uint8_t back[1024];
	bool same = pread(f->fd, back, sizeof(back), 10 * 512) == (ssize_t)sizeof(back);

	for (size_t i = 0; same && i < sizeof(back); i++)
		same = back[i] == 0x5a;
	STORE(f->write_on_disk, same);
	STORE(f->write_answered, drv_used_idx(&f->d) == 1 && f->d.ram[W_STAT] == 0);
	STORE(f->in_flush, 1);
	sem_post(&f->entered);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10; /* bounded: a failing test must still end */
	sem_timedwait(&f->release, &ts);
	STORE(f->in_flush, 0);
}

static void neighbour_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct fix *f = opaque;
	struct hv_virtq *q = hv_virtio_dev_queue(dev, queue);
	struct hv_virtq_buf bufs[4];
	struct hv_virtq_req req;

	while (hv_virtq_pop(q, bufs, 4, &req) == 1) {
		hv_virtq_push(q, &req, 0);
		if (LOAD(f->in_flush))
			STORE(f->neighbour_during_flush, 1);
		__atomic_add_fetch(&f->neighbour_served, 1, __ATOMIC_SEQ_CST);
	}
	hv_virtq_notify(q);
}

static const struct hv_virtio_dev_ops neighbour_ops = {
	.size = sizeof(struct hv_virtio_dev_ops), .device_id = 0x42, .notify = neighbour_notify,
};

static struct fix *make(void)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct hv_virtio_blk_config bc;
	struct hv_virtio_dev_config dc;
	struct hv_virtio_dev *dev;
	uint8_t zero[DISK_BYTES] = { 0 };

	sem_init(&f->entered, 0, 0);
	sem_init(&f->release, 0, 0);
	snprintf(f->path, sizeof(f->path), "/tmp/hvlib-blkw-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	assert_int_equal(pwrite(f->fd, zero, sizeof(zero), 0), sizeof(zero));
	expect_ret(hv_ioloop_create(&f->loop), 0);

	drv_create_mem(&f->d);
	hv_virtio_blk_config_init(&bc);
	bc.path = f->path;
	bc.mem = f->d.mem;
	bc.ioloop = f->loop;
	expect_ret(hv_virtio_blk_create(&bc, &f->blk), 0);
	assert_true(f->blk->worker_on);
	f->blk->before_flush = slow_flush;
	f->blk->before_flush_opaque = f;
	drv_attach(&f->d, hv_virtio_blk_dev(f->blk), BLK_QUEUE_SIZE);
	drv_start(&f->d, 0);

	drv_create_mem(&f->n);
	hv_virtio_dev_config_init(&dc);
	dc.ops = &neighbour_ops;
	dc.opaque = f;
	dc.mem = f->n.mem;
	dc.queue_max_size = 16;
	dc.ioloop = f->loop;
	expect_ret(hv_virtio_dev_create(&dc, &dev), 0);
	drv_attach(&f->n, dev, 16);
	drv_start(&f->n, 0);
	return f;
}

static void unmake(struct fix *f)
{
	hv_virtio_dev_set_transport(f->n.dev, NULL);
	drv_destroy(&f->n);
	hv_virtio_dev_set_transport(f->d.dev, NULL);
	hv_virtio_blk_destroy(f->blk);
	hv_mem_destroy(f->d.mem);
	hv_ioloop_destroy(f->loop);
	close(f->fd);
	unlink(f->path);
	sem_destroy(&f->entered);
	sem_destroy(&f->release);
	free(f);
}

/* A write of 1024 bytes of 0x5a at sector 10 (descriptors 0-2) and a flush
 * (3-4), made available together. */
static void post_write_and_flush(struct fix *f)
{
	struct drv *d = &f->d;
	struct blk_req_hdr w = { htole32(VIRTIO_BLK_T_OUT), 0, htole64(10) };
	struct blk_req_hdr fl = { htole32(VIRTIO_BLK_T_FLUSH), 0, 0 };

	memcpy(d->ram + W_HDR, &w, sizeof(w));
	memcpy(d->ram + F_HDR, &fl, sizeof(fl));
	memset(d->ram + W_DATA, 0x5a, 1024);
	d->ram[W_STAT] = d->ram[F_STAT] = 0xee;
	drv_desc(d, 0, W_HDR, sizeof(w), VRING_DESC_F_NEXT, 1);
	drv_desc(d, 1, W_DATA, 1024, VRING_DESC_F_NEXT, 2);
	drv_desc(d, 2, W_STAT, 1, VRING_DESC_F_WRITE, 0);
	drv_desc(d, 3, F_HDR, sizeof(fl), VRING_DESC_F_NEXT, 4);
	drv_desc(d, 4, F_STAT, 1, VRING_DESC_F_WRITE, 0);
	drv_kick(d, 0);
	drv_kick(d, 3);
}

/* used->idx as the driver reads it: acquire, pairing with the device's
 * release store, so what it wrote before is visible after. */
static uint16_t used_idx(struct fix *f)
{
	return le16toh(__atomic_load_n((uint16_t *)(f->d.ram + USED_GPA) + 1, __ATOMIC_ACQUIRE));
}

static bool wait_sem(sem_t *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	return sem_timedwait(s, &ts) == 0;
}

static void wait_for(int *counter, int want)
{
	for (int i = 0; i < 10000 && LOAD(*counter) < want; i++)
		test_sleep_us(500);
}

static void test_slow_flush_leaves_loop_free(void **state)
{
	struct fix *f = make();
	uint32_t id, len;

	(void)state;
	post_write_and_flush(f);
	hv_virtio_dev_notify(f->d.dev, 0);
	assert_true(wait_sem(&f->entered));
	/* Ordering: the write landed and was answered before the flush began. */
	assert_true(LOAD(f->write_on_disk));
	assert_true(LOAD(f->write_answered));
	/* The loop is free while the disk is stuck. */
	drv_desc(&f->n, 0, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->n, 0);
	hv_virtio_dev_notify(f->n.dev, 0);
	wait_for(&f->neighbour_served, 1);
	assert_int_equal(LOAD(f->neighbour_served), 1);
	assert_true(LOAD(f->neighbour_during_flush));
	/* The flush is not answered while fdatasync has not returned. */
	test_sleep_us(20000);
	assert_int_equal(used_idx(f), 1);
	assert_int_equal(f->d.ram[F_STAT], 0xee);
	sem_post(&f->release);
	for (int i = 0; i < 10000 && used_idx(f) < 2; i++)
		test_sleep_us(500);
	assert_int_equal(used_idx(f), 2);
	drv_used_elem(&f->d, 1, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, 1);
	assert_int_equal(f->d.ram[F_STAT], VIRTIO_BLK_S_OK);
	hv_virtio_blk_worker_stop(f->blk); /* joined: its interrupt count is ours to read */
	assert_true(f->d.queue_irqs >= 1);
	unmake(f);
}

static void *release_later(void *arg)
{
	struct fix *f = arg;

	test_sleep_us(50000);
	sem_post(&f->release);
	return NULL;
}

/* Destroy while the flush waits in the disk: it completes first. */
static void test_destroy_waits_for_flush(void **state)
{
	struct fix *f = make();
	struct timespec t0, t1;
	pthread_t t;
	long ms;

	(void)state;
	post_write_and_flush(f);
	hv_virtio_dev_notify(f->d.dev, 0);
	assert_true(wait_sem(&f->entered));
	assert_int_equal(pthread_create(&t, NULL, release_later, f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hv_virtio_blk_worker_stop(f->blk); /* joins after the flush */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 40);
	assert_int_equal(LOAD(f->in_flush), 0);
	assert_int_equal(used_idx(f), 2);
	assert_int_equal(f->d.ram[F_STAT], VIRTIO_BLK_S_OK);
	unmake(f); /* stop again: a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_flush_leaves_loop_free),
		cmocka_unit_test(test_destroy_waits_for_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
