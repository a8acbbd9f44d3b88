/* SPDX-License-Identifier: MIT */
/*
 * INTx line sharing on the PCI host: slots s and s + 4 raise the same GSI,
 * so the line stays up while either asserts, falls only when the last one
 * deasserts, and a removed function's level is dropped with it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/test_pci_util.h"

static void no_bar_io(void *opaque, uint32_t bar, uint64_t offset, uint32_t width,
		      bool is_write, uint64_t *value)
{
	(void)opaque, (void)bar, (void)offset, (void)width;
	if (!is_write)
		*value = 0;
}

static const struct hv_pci_func_ops ops = { .bar_io = no_bar_io };

struct fix {
	struct pci_fix p;
	struct hv_pci_func a, b, c; /* slots 1, 5 (GSI 17) and 2 (GSI 18) */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	pci_fix_init(&f->p);
	expect_ret(hv_pci_func_init(&f->a, 1, 1, 0, 0, true, &ops, NULL), 0);
	expect_ret(hv_pci_func_init(&f->b, 1, 2, 0, 0, true, &ops, NULL), 0);
	expect_ret(hv_pci_func_init(&f->c, 1, 3, 0, 0, true, &ops, NULL), 0);
	expect_ret(hv_pci_host_add(f->p.host, &f->a, 1), 0);
	expect_ret(hv_pci_host_add(f->p.host, &f->b, 5), 0);
	expect_ret(hv_pci_host_add(f->p.host, &f->c, 2), 0);
	assert_int_equal(hv_pci_host_intx_gsi(f->p.host, 1), GSI_BASE + 1);
	assert_int_equal(hv_pci_host_intx_gsi(f->p.host, 5), GSI_BASE + 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	hv_pci_host_remove(f->p.host, &f->a);
	hv_pci_host_remove(f->p.host, &f->b);
	hv_pci_host_remove(f->p.host, &f->c);
	hv_pci_func_fini(&f->a);
	hv_pci_func_fini(&f->b);
	hv_pci_func_fini(&f->c);
	pci_fix_fini(&f->p);
	free(f);
	return 0;
}

static void test_shared_line(void **state)
{
	struct fix *f = *state;
	int *level = f->p.level;

	hv_pci_host_set_intx(f->p.host, &f->a, 1);
	assert_int_equal(level[GSI_BASE + 1], 1);
	hv_pci_host_set_intx(f->p.host, &f->b, 1);
	assert_int_equal(f->p.raises, 1);
	/* a is done, b still asserts: the line must stay up. */
	hv_pci_host_set_intx(f->p.host, &f->a, 0);
	assert_int_equal(level[GSI_BASE + 1], 1);
	/* A repeated deassert of a changes nothing either. */
	hv_pci_host_set_intx(f->p.host, &f->a, 0);
	assert_int_equal(level[GSI_BASE + 1], 1);
	hv_pci_host_set_intx(f->p.host, &f->b, 0);
	assert_int_equal(level[GSI_BASE + 1], 0);
	/* Another line is independent. */
	hv_pci_host_set_intx(f->p.host, &f->c, 1);
	hv_pci_host_set_intx(f->p.host, &f->a, 1);
	hv_pci_host_set_intx(f->p.host, &f->c, 0);
	assert_int_equal(level[GSI_BASE + 2], 0);
	assert_int_equal(level[GSI_BASE + 1], 1);
	assert_int_equal(f->p.raises, 3);
}

static void test_remove_drops_level(void **state)
{
	struct fix *f = *state;
	int *level = f->p.level;

	hv_pci_host_set_intx(f->p.host, &f->a, 1);
	hv_pci_host_set_intx(f->p.host, &f->b, 1);
	hv_pci_host_remove(f->p.host, &f->b);
	assert_int_equal(level[GSI_BASE + 1], 1); /* a still asserts */
	hv_pci_host_set_intx(f->p.host, &f->b, 0); /* removed: ignored */
	hv_pci_host_set_intx(f->p.host, &f->b, 1);
	hv_pci_host_set_intx(f->p.host, &f->a, 0);
	assert_int_equal(level[GSI_BASE + 1], 0);
	hv_pci_host_set_intx(f->p.host, &f->a, 1);
	hv_pci_host_remove(f->p.host, &f->a); /* the last one: the line falls */
	assert_int_equal(level[GSI_BASE + 1], 0);
	/* A new function in the old slot starts deasserted. */
	expect_ret(hv_pci_host_add(f->p.host, &f->b, 5), 0);
	hv_pci_host_set_intx(f->p.host, &f->b, 1);
	assert_int_equal(level[GSI_BASE + 1], 1);
	hv_pci_host_set_intx(f->p.host, &f->b, 0);
	assert_int_equal(level[GSI_BASE + 1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_drops_level, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
