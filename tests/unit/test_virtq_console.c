/* SPDX-License-Identifier: MIT */
/*
 * virtio-console without a VM: transmit chains to a callback and to a pipe,
 * input buffered before the driver has buffers and split across small ones,
 * the bound on buffered input (and its wrap-around), the console size, the
 * emergency write, resets, and what a hostile driver gets wrong (receive
 * chains without writable bytes or outside RAM, looping transmit chains).
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

#include "hvlib/virtio_console.h"
#include "virtio/virtio_internal.h"
#include "unit/test_virtq_driver.h"
#include "unit/test_virtq_q1.h"

#define CON_QSIZE 128u
#define RX_GPA    (DATA_GPA + 0x1000)   /* receive buffers, 0x100 apart */
#define TX_GPA    (DATA_GPA + 0x8000)

struct fix {
	struct drv d;
	struct q1 tx;
	struct hv_virtio_console *con;
	char out[4096];
	size_t out_len;
	int out_calls;
};

static void output(void *opaque, const uint8_t *buf, size_t len)
{
	struct fix *f = opaque;

	assert_true(f->out_len + len <= sizeof(f->out));
	memcpy(f->out + f->out_len, buf, len);
	f->out_len += len;
	f->out_calls++;
}

static struct fix *new_fix_with(struct hv_virtio_console_config *cc, bool start)
{
	struct fix *f = calloc(1, sizeof(*f));

	drv_create_mem(&f->d);
	cc->mem = f->d.mem;
	if (!cc->output && cc->output_fd < 0) {
		cc->output = output;
		cc->opaque = f;
	}
	expect_ret(hv_virtio_console_create(cc, &f->con), 0);
	drv_attach(&f->d, hv_virtio_console_dev(f->con), CON_QSIZE);
	if (start) {
		drv_start(&f->d, HV_VIRTIO_F_EVENT_IDX);
		q1_start(&f->tx, &f->d);
	}
	return f;
}

static struct fix *new_fix(bool start)
{
	struct hv_virtio_console_config cc;

	hv_virtio_console_config_init(&cc);
	return new_fix_with(&cc, start);
}

static void free_fix(struct fix *f)
{
	hv_virtio_console_destroy(f->con);
	hv_mem_destroy(f->d.mem);
	free(f);
}

/* Post receive chain `slot` (one writable buffer of len bytes) and notify. */
static void post_rx(struct fix *f, uint16_t slot, uint32_t len)
{
	drv_desc(&f->d, slot, RX_GPA + 0x100u * slot, len, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, slot);
	hv_virtio_dev_notify(f->d.dev, 0);
}

/* The used length of the n-th receive chain handed back (0-based). */
static uint32_t rx_used(struct fix *f, uint16_t n)
{
	uint32_t id, len;

	assert_true(drv_used_idx(&f->d) > n);
	drv_used_elem(&f->d, n, &id, &len);
	return len;
}

static void test_output(void **state)
{
	struct fix *f = new_fix(true);
	uint32_t id, len;

	(void)state;
	memcpy(f->d.ram + TX_GPA, "hello ", 6);
	memcpy(f->d.ram + TX_GPA + 0x100, "world", 5);
	q1_desc(&f->tx, 0, TX_GPA, 6, VRING_DESC_F_NEXT, 1);
	q1_desc(&f->tx, 1, TX_GPA + 0x100, 5, VRING_DESC_F_NEXT, 2);
	q1_desc(&f->tx, 2, TX_GPA + 0x200, 8, VRING_DESC_F_WRITE, 0); /* ignored */
	q1_kick(&f->tx, 0);
	assert_int_equal(f->out_len, 11);
	assert_memory_equal(f->out, "hello world", 11);
	assert_int_equal(q1_used_idx(&f->tx), 1);
	q1_used_elem(&f->tx, 0, &id, &len);
	assert_int_equal(len, 0);
	assert_int_equal(f->d.queue_irqs, 1);
	free_fix(f);
}

/* Chains that are waiting together reach the callback as one run: 300
 * one-byte chains (hvc writes a character at a time when it must) in one
 * notification make 3 calls (300 over 128-entry rounds of the ring). */
static void test_output_runs(void **state)
{
	struct fix *f = new_fix(true);
	uint16_t *avail = (uint16_t *)(f->d.ram + Q1_AVAIL_GPA);
	char want[300];

	(void)state;
	for (uint32_t done = 0; done < sizeof(want);) {
		uint32_t n = sizeof(want) - done < CON_QSIZE ? sizeof(want) - done : CON_QSIZE;

		for (uint32_t i = 0; i < n; i++) {
			want[done + i] = (char)('a' + (done + i) % 26);
			f->d.ram[TX_GPA + i] = (uint8_t)want[done + i];
			q1_desc(&f->tx, i, TX_GPA + i, 1, 0, 0);
			avail[2 + f->tx.avail_idx % CON_QSIZE] = htole16((uint16_t)i);
			f->tx.avail_idx++;
		}
		__atomic_store_n(&avail[1], htole16(f->tx.avail_idx), __ATOMIC_RELEASE);
		hv_virtio_dev_notify(f->d.dev, 1);
		done += n;
	}
	assert_int_equal(f->out_len, sizeof(want));
	assert_memory_equal(f->out, want, sizeof(want));
	/* One call per notification's worth of chains, but a notification is
	 * served in slices of HV_VIRTQ_BUDGET chains: one call per slice. */
	assert_int_equal(f->out_calls, (CON_QSIZE + HV_VIRTQ_BUDGET - 1) / HV_VIRTQ_BUDGET * 2 +
				       (300 % CON_QSIZE + HV_VIRTQ_BUDGET - 1) / HV_VIRTQ_BUDGET);
	free_fix(f);
}

static void test_output_fd(void **state)
{
	struct hv_virtio_console_config cc;
	struct fix *f;
	char buf[16] = "";
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	hv_virtio_console_config_init(&cc);
	cc.output_fd = p[1];
	f = new_fix_with(&cc, true);
	memcpy(f->d.ram + TX_GPA, "to-fd", 5);
	q1_desc(&f->tx, 0, TX_GPA, 5, 0, 0);
	q1_kick(&f->tx, 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "to-fd", 5);
	free_fix(f);
	close(p[0]);
	close(p[1]);
}

static void test_input_before_buffers(void **state)
{
	struct fix *f = new_fix(false);

	(void)state;
	/* Before the driver exists: buffered. */
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"abc", 3), 3);
	drv_start(&f->d, HV_VIRTIO_F_EVENT_IDX);
	q1_start(&f->tx, &f->d);
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"de", 2), 2);
	assert_int_equal(drv_used_idx(&f->d), 0);
	post_rx(f, 0, 64);
	assert_int_equal(rx_used(f, 0), 5);
	assert_memory_equal(f->d.ram + RX_GPA, "abcde", 5);
	assert_int_equal(f->d.queue_irqs, 1);
	free_fix(f);
}

static void test_input_split_and_bounded(void **state)
{
	struct hv_virtio_console_config cc;
	struct fix *f;

	(void)state;
	hv_virtio_console_config_init(&cc);
	cc.input_bytes = 8;
	f = new_fix_with(&cc, true);
	/* At most 8 bytes wait; the rest is refused, not dropped. */
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"0123456789", 10), 8);
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"x", 1), 0);
	post_rx(f, 0, 3);
	assert_int_equal(rx_used(f, 0), 3);
	assert_memory_equal(f->d.ram + RX_GPA, "012", 3);
	/* The ring wraps: 5 left + 3 new. */
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"89ab", 4), 3);
	post_rx(f, 1, 4);
	post_rx(f, 2, 64);
	assert_int_equal(rx_used(f, 1), 4);
	assert_int_equal(rx_used(f, 2), 4);
	assert_memory_equal(f->d.ram + RX_GPA + 0x100, "3456", 4);
	assert_memory_equal(f->d.ram + RX_GPA + 0x200, "789a", 4);
	/* Empty again: a chain waits for the next input, which goes straight in. */
	post_rx(f, 3, 64);
	assert_int_equal(drv_used_idx(&f->d), 3);
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"zz", 2), 2);
	assert_int_equal(rx_used(f, 3), 2);
	assert_memory_equal(f->d.ram + RX_GPA + 0x300, "zz", 2);
	free_fix(f);
}

static void test_config_and_emergency_write(void **state)
{
	struct hv_virtio_console_config cc;
	struct fix *f;
	uint64_t v = 0;

	(void)state;
	hv_virtio_console_config_init(&cc);
	cc.cols = 132;
	cc.rows = 43;
	f = new_fix_with(&cc, true);
	assert_true(hv_virtio_dev_features_word(f->d.dev, 0) & 1); /* F_SIZE */
	assert_true(hv_virtio_dev_features_word(f->d.dev, 0) & 4); /* F_EMERG_WRITE */
	assert_false(hv_virtio_dev_features_word(f->d.dev, 0) & 2); /* no MULTIPORT */
	hv_virtio_dev_config_access(f->d.dev, 0, 4, false, &v);
	assert_int_equal(v, 132 | 43u << 16);
	expect_ret(hv_virtio_console_set_size(f->con, 80, 25), 0);
	hv_virtio_dev_config_access(f->d.dev, 0, 2, false, &v);
	assert_int_equal(v, 80);
	hv_virtio_dev_config_access(f->d.dev, 2, 2, false, &v);
	assert_int_equal(v, 25);
	assert_int_equal(f->d.config_irqs, 1);
	/* Emergency write: one character per write; elsewhere, writes vanish. */
	v = 'Z';
	hv_virtio_dev_config_access(f->d.dev, 8, 4, true, &v);
	hv_virtio_dev_config_access(f->d.dev, 0, 4, true, &v);
	hv_virtio_dev_config_access(f->d.dev, 10, 2, true, &v);
	assert_int_equal(f->out_len, 1);
	assert_int_equal(f->out[0], 'Z');
	/* Hostile offsets and widths read 0. */
	hv_virtio_dev_config_access(f->d.dev, 12, 4, false, &v);
	assert_int_equal(v, 0);
	hv_virtio_dev_config_access(f->d.dev, 0xfffffffe, 4, false, &v);
	assert_int_equal(v, 0);
	free_fix(f);
	f = new_fix(true);
	expect_err(hv_virtio_console_set_size(f->con, 80, 25), -EINVAL, "size");
	free_fix(f);
}

static void test_reset_keeps_input(void **state)
{
	struct fix *f = new_fix(true);

	(void)state;
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"keep", 4), 4);
	hv_virtio_dev_write_status(f->d.dev, 0);
	assert_int_equal(hv_virtio_dev_status(f->d.dev), 0);
	drv_start(&f->d, 0);
	q1_start(&f->tx, &f->d);
	post_rx(f, 0, 16);
	assert_int_equal(rx_used(f, 0), 4);
	assert_memory_equal(f->d.ram + RX_GPA, "keep", 4);
	free_fix(f);
}

static void test_hostile_rings(void **state)
{
	struct fix *f = new_fix(true);

	(void)state;
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"data", 4), 4);
	/* A receive chain with nothing writable: returned empty, data kept. */
	drv_desc(&f->d, 0, RX_GPA, 16, 0, 0);
	drv_kick(&f->d, 0);
	hv_virtio_dev_notify(f->d.dev, 0);
	assert_int_equal(rx_used(f, 0), 0);
	post_rx(f, 1, 16);
	assert_int_equal(rx_used(f, 1), 4);
	assert_false(drv_needs_reset(&f->d));
	/* A receive buffer beyond RAM breaks the device, not the host. */
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"more", 4), 4);
	drv_desc(&f->d, 2, 0x40000000, 16, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 2);
	hv_virtio_dev_notify(f->d.dev, 0);
	assert_true(drv_needs_reset(&f->d));
	assert_int_equal(drv_used_idx(&f->d), 2);
	/* Input is still taken while broken, and notifications are ignored. */
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"!", 1), 1);
	free_fix(f);

	/* A transmit chain that loops. */
	f = new_fix(true);
	q1_desc(&f->tx, 0, TX_GPA, 4, VRING_DESC_F_NEXT, 1);
	q1_desc(&f->tx, 1, TX_GPA, 4, VRING_DESC_F_NEXT, 0);
	q1_kick(&f->tx, 0);
	assert_true(drv_needs_reset(&f->d));
	assert_int_equal(f->out_len, 0);
	/* A receive buffer in ROM. */
	hv_virtio_dev_write_status(f->d.dev, 0);
	drv_start(&f->d, 0);
	assert_int_equal(hv_virtio_console_input(f->con, (const uint8_t *)"rom", 3), 3);
	drv_desc(&f->d, 0, ROM_GPA, 16, VRING_DESC_F_WRITE, 0);
	drv_kick(&f->d, 0);
	hv_virtio_dev_notify(f->d.dev, 0);
	assert_true(drv_needs_reset(&f->d));
	assert_int_equal(f->d.rom[0], 0);
	free_fix(f);
}

static void test_bad_configs(void **state)
{
	struct hv_virtio_console_config cc;
	struct hv_virtio_console *con = NULL;
	struct hv_mem *mem;
	int fds = count_open_fds();

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	hv_virtio_console_config_init(&cc);
	cc.mem = mem;
	cc.output = output;
	cc.output_fd = 1;
	expect_err(hv_virtio_console_create(&cc, &con), -EINVAL, "exclude");
	cc.output = NULL;
	cc.output_fd = 1000;
	expect_err(hv_virtio_console_create(&cc, &con), -EBADF, "1000");
	cc.output_fd = -1;
	cc.input_bytes = HV_VIRTIO_CONSOLE_MAX_INPUT + 1;
	expect_err(hv_virtio_console_create(&cc, &con), -EINVAL, "input_bytes");
	cc.input_bytes = 0;
	cc.cols = 80;
	expect_err(hv_virtio_console_create(&cc, &con), -EINVAL, "size");
	cc.cols = 0;
	cc.flags = 1;
	expect_err(hv_virtio_console_create(&cc, &con), -EINVAL, "flags");
	cc.flags = 0;
	cc.size = 4;
	expect_err(hv_virtio_console_create(&cc, &con), -EINVAL, "config_init");
	assert_int_equal(count_open_fds(), fds);
	hv_virtio_console_destroy(NULL);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_output_runs),
		cmocka_unit_test(test_output_fd),
		cmocka_unit_test(test_input_before_buffers),
		cmocka_unit_test(test_input_split_and_bounded),
		cmocka_unit_test(test_config_and_emergency_write),
		cmocka_unit_test(test_reset_keeps_input),
		cmocka_unit_test(test_hostile_rings),
		cmocka_unit_test(test_bad_configs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
