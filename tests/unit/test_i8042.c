/* SPDX-License-Identifier: MIT */
/* The 8042 keyboard controller without a VM: Linux's probe, reboot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hvlib/i8042.h"
#include "unit/unit_util.h"

#define DATA 0x60
#define CMD  0x64

#define STS_OBF     0x01
#define STS_IBF     0x02
#define STS_SYS     0x04
#define STS_CMD     0x08
#define STS_UNLOCK  0x10
#define STS_AUXDATA 0x20

struct fix {
	struct hv_i8042 *k;
	int resets;
	bool reset_device; /* the callback resets the controller (no deadlock) */
};

static void on_reset(void *opaque)
{
	struct fix *f = opaque;

	f->resets++;
	if (f->reset_device)
		hv_i8042_reset(f->k);
}

static int setup(void **state)
{
	struct hv_i8042_config cfg;
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	hv_i8042_config_init(&cfg);
	cfg.reset = on_reset;
	cfg.opaque = f;
	if (hv_i8042_create(&cfg, &f->k))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	hv_i8042_destroy(f->k);
	free(f);
	return 0;
}

static uint8_t in(struct hv_i8042 *k, uint16_t port)
{
	uint64_t v = 0xdeadbeef;

	expect_ret(hv_i8042_io(k, port, 1, false, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void out(struct hv_i8042 *k, uint16_t port, uint8_t val)
{
	uint64_t v = val;

	expect_ret(hv_i8042_io(k, port, 1, true, &v), 0);
}

/* Linux's i8042_wait_read(): poll OBF a bounded number of times. */
static uint8_t response(struct hv_i8042 *k)
{
	for (int i = 0; i < 10000; i++)
		if (in(k, CMD) & STS_OBF)
			return in(k, DATA);
	fail_msg("no response: Linux would time out here");
	return 0;
}

/* i8042_command(): wait for IBF clear, command, parameter, response. */
static uint8_t command(struct hv_i8042 *k, uint8_t cmd, int param)
{
	assert_int_equal(in(k, CMD) & STS_IBF, 0);
	out(k, CMD, cmd);
	if (param >= 0) {
		assert_int_equal(in(k, CMD) & STS_IBF, 0);
		out(k, DATA, (uint8_t)param);
	}
	return response(k);
}

static void test_reset_line(void **state)
{
	struct fix *f = *state;

	/* native_machine_emergency_restart(): kb_wait(), then 0xfe. */
	assert_int_equal(in(f->k, CMD) & STS_IBF, 0);
	out(f->k, CMD, 0xfe);
	assert_int_equal(f->resets, 1);
	out(f->k, CMD, 0xf0); /* pulses every output port bit, reset included */
	assert_int_equal(f->resets, 2);
	out(f->k, CMD, 0xff); /* pulses nothing */
	out(f->k, CMD, 0xf1);
	out(f->k, DATA, 0xfe); /* 0xfe to the keyboard is no reset */
	assert_int_equal(f->resets, 2);
	/* Output port writes with bit 0 clear hold the CPU in reset. */
	assert_int_equal(command(f->k, 0xd0, -1), 0x03);
	out(f->k, CMD, 0xd1);
	out(f->k, DATA, 0x03);
	assert_int_equal(f->resets, 2);
	out(f->k, CMD, 0xd1);
	out(f->k, DATA, 0x02);
	assert_int_equal(f->resets, 3);
	assert_int_equal(command(f->k, 0xd0, -1), 0x02);
	/* The callback runs unlocked: it may reset the controller. */
	f->reset_device = true;
	out(f->k, CMD, 0xfe);
	assert_int_equal(f->resets, 4);
	assert_int_equal(command(f->k, 0xd0, -1), 0x03);
}

static void test_self_test(void **state)
{
	struct hv_i8042 *k = ((struct fix *)*state)->k;

	/* Firmware has run: no data, input buffer empty, POST passed,
	 * not inhibited.  Not 0xff, which would mean "no controller". */
	assert_int_equal(in(k, CMD), STS_SYS | STS_UNLOCK);
	out(k, CMD, 0xaa);
	assert_int_equal(in(k, CMD), STS_OBF | STS_SYS | STS_CMD | STS_UNLOCK);
	assert_int_equal(in(k, DATA), 0x55);
	assert_int_equal(in(k, CMD) & STS_OBF, 0);
	assert_int_equal(command(k, 0xab, -1), 0x00); /* keyboard interface */
	assert_int_equal(command(k, 0xa9, -1), 0x00); /* AUX interface */
}

static void test_command_byte(void **state)
{
	struct hv_i8042 *k = ((struct fix *)*state)->k;

	assert_int_equal(command(k, 0x20, -1), 0x65);
	out(k, CMD, 0x60);
	out(k, DATA, 0x47);
	assert_int_equal(in(k, CMD) & (STS_OBF | STS_CMD), 0);
	assert_int_equal(command(k, 0x20, -1), 0x47);
	/* The system flag in the status register follows bit 2. */
	out(k, CMD, 0x60);
	out(k, DATA, 0x00);
	assert_int_equal(in(k, CMD) & STS_SYS, 0);
	assert_int_equal(command(k, 0xaa, -1), 0x55);
	assert_int_equal(in(k, CMD) & STS_SYS, STS_SYS);
	/* The rest of internal RAM. */
	out(k, CMD, 0x7f);
	out(k, DATA, 0x99);
	assert_int_equal(command(k, 0x3f, -1), 0x99);
	assert_int_equal(command(k, 0x21, -1), 0x00);
	/* Port disable/enable commands edit the command byte. */
	out(k, CMD, 0xad);
	assert_int_equal(command(k, 0x20, -1) & 0x10, 0x10);
	out(k, CMD, 0xae);
	assert_int_equal(command(k, 0x20, -1) & 0x10, 0x00);
	out(k, CMD, 0xa8);
	assert_int_equal(command(k, 0x20, -1) & 0x20, 0x00);
	out(k, CMD, 0xa7);
	assert_int_equal(command(k, 0x20, -1) & 0x20, 0x20);
}

/* drivers/input/serio/i8042.c at probe, bounded the way Linux bounds it. */
static void test_linux_probe(void **state)
{
	struct hv_i8042 *k = ((struct fix *)*state)->k;
	uint8_t ctr[2];
	int n = 0;

	/* i8042_controller_check(): flush, and see a controller. */
	while (in(k, CMD) & STS_OBF) {
		assert_true(n++ < 16);
		in(k, DATA);
	}
	assert_int_not_equal(in(k, CMD), 0xff);
	assert_int_equal(command(k, 0xaa, -1), 0x55);
	/* i8042_controller_init(): CTR stable over two reads, key lock off. */
	ctr[0] = command(k, 0x20, -1);
	ctr[1] = command(k, 0x20, -1);
	assert_int_equal(ctr[0], ctr[1]);
	assert_int_equal(in(k, CMD) & STS_UNLOCK, STS_UNLOCK);
	out(k, CMD, 0x60);
	out(k, DATA, (uint8_t)((ctr[0] | 0x10) & ~0x01));
	assert_int_equal(command(k, 0x20, -1), (ctr[0] | 0x10) & ~0x01);
	/* i8042_check_aux(): the AUX loopback answers from the AUX side. */
	out(k, CMD, 0xd3);
	out(k, DATA, 0x5a);
	assert_int_equal(in(k, CMD) & (STS_OBF | STS_AUXDATA), STS_OBF | STS_AUXDATA);
	assert_int_equal(in(k, DATA), 0x5a);
	assert_int_equal(in(k, CMD) & (STS_OBF | STS_AUXDATA), 0);
	/* i8042_toggle_aux() */
	out(k, CMD, 0xa7);
	assert_int_equal(command(k, 0x20, -1) & 0x20, 0x20);
	out(k, CMD, 0xa8);
	assert_int_equal(command(k, 0x20, -1) & 0x20, 0);
	/* Keyboard output buffer write: as if from the keyboard. */
	out(k, CMD, 0xd2);
	out(k, DATA, 0xaa);
	assert_int_equal(in(k, CMD) & (STS_OBF | STS_AUXDATA), STS_OBF);
	assert_int_equal(in(k, DATA), 0xaa);
}

/* Nothing attached, unknown commands ignored, nothing breaks. */
static void test_harmless(void **state)
{
	struct hv_i8042 *k = ((struct fix *)*state)->k;
	uint64_t v = 0;

	for (unsigned c = 0; c < 0x100; c++) {
		if ((c >= 0x20 && c <= 0x3f) || c == 0xa9 || c == 0xaa || c == 0xab ||
		    c == 0xd0 || c >= 0xf0)
			continue;
		out(k, CMD, (uint8_t)c);
		if ((c >= 0x60 && c <= 0x7f) || (c >= 0xd1 && c <= 0xd4))
			continue; /* these take a data byte: leave it pending */
		assert_int_equal(in(k, CMD) & STS_OBF, 0);
	}
	out(k, CMD, 0xd4); /* to the mouse: nobody answers */
	out(k, DATA, 0xf2);
	out(k, DATA, 0xff); /* to the keyboard: nobody answers */
	assert_int_equal(in(k, CMD) & STS_OBF, 0);
	/* An empty output buffer reads as the last byte. */
	assert_int_equal(command(k, 0xaa, -1), 0x55);
	assert_int_equal(in(k, DATA), 0x55);
	/* Responses the guest does not wait for queue up, then drop. */
	for (int i = 0; i < 10; i++)
		out(k, CMD, 0xab);
	for (int i = 0; i < 4; i++)
		assert_int_equal(response(k), 0x00);
	assert_int_equal(in(k, CMD) & STS_OBF, 0);
	expect_err(hv_i8042_io(k, 0x61, 1, false, &v), -EINVAL, "0x61");
	expect_ret(hv_i8042_io(k, DATA, 2, false, &v), -EINVAL);
	expect_ret(hv_i8042_io(k, CMD, 4, true, &v), -EINVAL);
	assert_int_equal(((struct fix *)*state)->resets, 0);
}

static void test_reset_state(void **state)
{
	struct hv_i8042 *k = ((struct fix *)*state)->k;

	out(k, CMD, 0x60);
	out(k, DATA, 0x00);
	out(k, CMD, 0xaa);
	hv_i8042_reset(k);
	assert_int_equal(in(k, CMD), STS_SYS | STS_UNLOCK);
	assert_int_equal(command(k, 0x20, -1), 0x65);
}

static int other_device(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value)
{
	(void)opaque, (void)offset, (void)width, (void)is_write, (void)value;
	return 0;
}

static void test_config_and_bus(void **state)
{
	struct hv_i8042_config cfg;
	struct hv_i8042 *k = NULL;
	struct hv_bus *bus = NULL;
	uint32_t handle = 0;
	uint64_t v = 0xaa;

	(void)state;
	hv_i8042_destroy(NULL);
	expect_ret(hv_i8042_create(NULL, &k), -EINVAL);
	hv_i8042_config_init(&cfg);
	cfg.size = 4;
	expect_err(hv_i8042_create(&cfg, &k), -EINVAL, "size");
	hv_i8042_config_init(&cfg);
	cfg.flags = 2;
	expect_err(hv_i8042_create(&cfg, &k), -EINVAL, "flags");
	hv_i8042_config_init(&cfg);
	expect_ret(hv_i8042_create(&cfg, &k), 0);
	out(k, CMD, 0xfe); /* no reset callback: ignored */

	expect_ret(hv_bus_create(HV_BUS_PIO, &bus), 0);
	expect_ret(hv_i8042_attach(k, NULL), -EINVAL);
	expect_ret(hv_i8042_attach(k, bus), 0);
	expect_ret(hv_i8042_attach(k, bus), -EBUSY);
	expect_ret(hv_bus_dispatch(bus, CMD, 1, true, &v), 0);
	expect_ret(hv_bus_dispatch(bus, DATA, 1, false, &v), 0);
	assert_int_equal(v, 0x55);
	/* 0x61-0x63 stay free: port 0x61 belongs to KVM's in-kernel PIT. */
	expect_ret(hv_bus_dispatch(bus, 0x61, 1, false, &v), -ENOENT);
	expect_ret(hv_bus_dispatch(bus, DATA, 2, false, &v), -ENOENT);
	hv_i8042_destroy(k);
	expect_ret(hv_bus_dispatch(bus, CMD, 1, false, &v), -ENOENT);
	/* The command port taken: the data port is given back. */
	expect_ret(hv_bus_register(bus, CMD, 1, other_device, NULL, "other", &handle), 0);
	expect_ret(hv_i8042_create(&cfg, &k), 0);
	expect_err(hv_i8042_attach(k, bus), -EEXIST, "i8042 command port");
	expect_ret(hv_bus_dispatch(bus, DATA, 1, false, &v), -ENOENT);
	expect_ret(hv_bus_unregister(bus, handle), 0);
	expect_ret(hv_i8042_attach(k, bus), 0);
	hv_i8042_destroy(k);
	hv_bus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_harmless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
		cmocka_unit_test(test_config_and_bus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
