/* SPDX-License-Identifier: MIT */
/*
 * The PCI layer on standalone buses: the host bridge and empty slots,
 * configuration mechanism #1 and ECAM (including the hostile offsets and
 * widths a guest may use), write masks, BAR sizing, moves and the memory
 * enable bit, the capability chain, MSI-X table/PBA semantics, slots, and
 * the ACPI tables (MCFG, the SSDT with the root bridge).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "acpi/acpi_pci.h"
#include "acpi/acpi_table.h"
#include "unit/test_pci_util.h"

struct dummy {
	struct hv_pci_func func;
	struct hv_pci_msix msix;
	int accesses;
	uint32_t last_bar, last_width;
	uint64_t last_off, last_value;
	bool last_write;
};

static void dummy_bar_io(void *opaque, uint32_t bar, uint64_t offset, uint32_t width,
			 bool is_write, uint64_t *value)
{
	struct dummy *d = opaque;

	if (bar == 2 && offset < 0x1000) {
		if (offset < 0x800)
			hv_pci_msix_table_io(&d->msix, offset, width, is_write, value);
		else
			hv_pci_msix_pba_io(&d->msix, offset - 0x800, width, is_write, value);
		return;
	}
	d->accesses++;
	d->last_bar = bar;
	d->last_off = offset;
	d->last_width = width;
	d->last_write = is_write;
	if (is_write)
		d->last_value = *value;
	else
		*value = 0x5a5a5a5a00000000ull | offset;
}

static void dummy_config_written(void *opaque, uint32_t offset, uint32_t width)
{
	struct dummy *d = opaque;

	hv_pci_msix_config_written(&d->msix, offset, width);
}

static const struct hv_pci_func_ops dummy_ops = {
	.bar_io = dummy_bar_io,
	.config_written = dummy_config_written,
};

struct fix {
	struct pci_fix p;
	struct dummy d;
};

/* A function at slot 3: BAR 0 (32-bit, 4 KiB), BAR 2-3 (64-bit, 16 KiB)
 * with 3 MSI-X vectors, and a vendor capability. */
static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int cap;

	pci_fix_init(&f->p);
	expect_ret(hv_pci_func_init(&f->d.func, 0x1234, 0x5678, 0x018000, 7, true, &dummy_ops,
				    &f->d), 0);
	hv_pci_func_set_subsystem(&f->d.func, 0xabcd, 0xef01);
	expect_ret(hv_pci_func_add_bar(&f->d.func, 0, 0x1000, false), 0);
	expect_ret(hv_pci_func_add_bar(&f->d.func, 2, 0x4000, true), 0);
	expect_ret(hv_pci_msix_init(&f->d.msix, &f->d.func, 3, 2, 0, 0x800), 0);
	cap = hv_pci_func_add_cap(&f->d.func, PCI_CAP_ID_VNDR, 5);
	assert_true(cap > 0);
	expect_ret(hv_pci_host_add(f->p.host, &f->d.func, 3), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	hv_pci_host_remove(f->p.host, &f->d.func);
	hv_pci_msix_fini(&f->d.msix);
	hv_pci_func_fini(&f->d.func);
	pci_fix_fini(&f->p);
	free(f);
	return 0;
}

static void test_bridge_and_empty_slots(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	assert_int_equal(cfg_rd(&f->p, 0, 0x00, 4), 0x00081b36);
	assert_int_equal(cfg_rd(&f->p, 0, 0x0a, 2), 0x0600);   /* host bridge */
	assert_int_equal(ecam_rd(&f->p, 0, 0x00, 4), 0x00081b36);
	assert_int_equal(cfg_rd(&f->p, 5, 0x00, 4), 0xffffffffu); /* nobody there */
	assert_int_equal(ecam_rd(&f->p, 31, 0x00, 2), 0xffff);
	/* Function 1, bus 1: nothing either. */
	v = 0x80000100u | 3u << 11;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, true, &v), 0);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfc, 4, false, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(ecam_rd(&f->p, 3, 0x1000, 4), 0xffffffffu);
	v = 0x80010000u | 3u << 11;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, true, &v), 0);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfc, 4, false, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	/* Our device, both ways. */
	assert_int_equal(cfg_rd(&f->p, 3, 0x00, 4), 0x56781234);
	assert_int_equal(ecam_rd(&f->p, 3, 0x2c, 4), 0xef01abcd);
	assert_int_equal(cfg_rd(&f->p, 3, 0x08, 4), 0x01800007);
}

/* Linux's probe of mechanism #1: a byte to 0xcfb must not move the address
 * register, which reads back as written, reserved bits clear. */
static void test_conf1_address_register(void **state)
{
	struct fix *f = *state;
	uint64_t v = 0x80001804u;

	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, true, &v), 0);
	v = 1;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfb, 1, true, &v), 0);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, false, &v), 0);
	assert_int_equal(v, 0x80001804u);
	v = 0xffffffffu;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, true, &v), 0);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, false, &v), 0);
	assert_int_equal(v, 0x80fffffcu);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf9, 2, false, &v), 0);
	assert_int_equal(v, 0);
	/* Enable bit clear: the data window reads all-ones, writes vanish. */
	v = 3u << 11 | 0x3c;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, true, &v), 0);
	v = 0x55;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfc, 1, true, &v), 0);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfc, 4, false, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(cfg_rd(&f->p, 3, 0x3c, 1), 0);
}

static void test_config_masks(void **state)
{
	struct fix *f = *state;

	cfg_wr(&f->p, 3, 0x00, 4, 0xffffffffu);               /* ids: read-only */
	assert_int_equal(cfg_rd(&f->p, 3, 0x00, 4), 0x56781234);
	cfg_wr(&f->p, 3, 0x04, 4, 0xffffffffu);               /* command + status */
	assert_int_equal(cfg_rd(&f->p, 3, 0x04, 2), 0x0407);
	assert_int_equal(cfg_rd(&f->p, 3, 0x06, 2), PCI_STATUS_CAP_LIST);
	cfg_wr(&f->p, 3, 0x04, 2, 0);
	cfg_wr(&f->p, 3, 0x3c, 2, 0xffff);                    /* line RW, pin RO */
	assert_int_equal(cfg_rd(&f->p, 3, 0x3c, 1), 0xff);
	assert_int_equal(cfg_rd(&f->p, 3, 0x3d, 1), 1);
	/* Sub-dword accesses at every offset of the data window. */
	assert_int_equal(cfg_rd(&f->p, 3, 0x01, 1), 0x12);
	assert_int_equal(cfg_rd(&f->p, 3, 0x02, 2), 0x5678);
	assert_int_equal(cfg_rd(&f->p, 3, 0x03, 1), 0x56);
	assert_int_equal(ecam_rd(&f->p, 3, 0x3d, 1), 1);
	ecam_wr(&f->p, 3, 0x3c, 1, 0x0b);
	assert_int_equal(cfg_rd(&f->p, 3, 0x3c, 4), 0x010b);
	/* The bridge takes no commands it cannot honour either. */
	cfg_wr(&f->p, 0, 0x00, 4, 0);
	assert_int_equal(cfg_rd(&f->p, 0, 0x00, 4), 0x00081b36);
}

static void test_hostile_config_accesses(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	/* A word at 0xcff or a dword at 0xcfd leaves the window: unclaimed. */
	v = conf1_addr(3, 0);
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcf8, 4, true, &v), 0);
	assert_int_equal(hv_bus_dispatch(f->p.pio, 0xcff, 2, false, &v), -ENOENT);
	assert_int_equal(hv_bus_dispatch(f->p.pio, 0xcfd, 4, false, &v), -ENOENT);
	/* Width 3 reaches the host: all-ones, and a write does nothing. */
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfc, 3, false, &v), 0);
	assert_int_equal(v, 0xffffff);
	v = 0;
	expect_ret(hv_bus_dispatch(f->p.pio, 0xcfc, 3, true, &v), 0);
	assert_int_equal(cfg_rd(&f->p, 3, 0, 4), 0x56781234);
	/* ECAM: 8-byte, dword-crossing and extended-space accesses. */
	expect_ret(hv_bus_dispatch(f->p.mmio, ECAM_BASE + (3 << 15), 8, false, &v), 0);
	assert_int_equal(v, ~0ull);
	expect_ret(hv_bus_dispatch(f->p.mmio, ECAM_BASE + (3 << 15) + 3, 2, false, &v), 0);
	assert_int_equal(v, 0xffff);
	expect_ret(hv_bus_dispatch(f->p.mmio, ECAM_BASE + (3 << 15) + 2, 4, false, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	v = 0xffffffffu;
	expect_ret(hv_bus_dispatch(f->p.mmio, ECAM_BASE + (3 << 15) + 0x10 + 2, 4, true, &v), 0);
	assert_int_equal(ecam_rd(&f->p, 3, 0x100, 4), 0);     /* no extended capabilities */
	ecam_wr(&f->p, 3, 0xffc, 4, 0xffffffffu);
	assert_int_equal(ecam_rd(&f->p, 3, 0xffc, 4), 0);
	/* The last byte of config space is reachable; nothing beyond. */
	assert_int_equal(cfg_rd(&f->p, 3, 0xff, 1), 0);
	expect_ret(hv_bus_dispatch(f->p.mmio, ECAM_BASE + HV_PCI_ECAM_BUS0_SIZE - 1, 1, false, &v),
		   0);
	assert_int_equal(v, 0xff); /* slot 31, function 7: absent */
	/* The BARs did not move through any of it. */
	assert_int_equal(bar_addr(&f->p, 3, 0), APERTURE);
}

static void test_bar_sizing(void **state)
{
	struct fix *f = *state;
	uint32_t old0 = cfg_rd(&f->p, 3, 0x10, 4);

	assert_int_equal(old0, APERTURE);              /* placed like firmware would */
	assert_int_equal(cfg_rd(&f->p, 3, 0x18, 4) & 0xf, PCI_BAR_MEM_64);
	cfg_wr(&f->p, 3, 0x10, 4, 0xffffffffu);
	assert_int_equal(cfg_rd(&f->p, 3, 0x10, 4), 0xfffff000u);
	cfg_wr(&f->p, 3, 0x18, 4, 0xffffffffu);
	cfg_wr(&f->p, 3, 0x1c, 4, 0xffffffffu);
	assert_int_equal(cfg_rd(&f->p, 3, 0x18, 4), 0xffffc004u);
	assert_int_equal(cfg_rd(&f->p, 3, 0x1c, 4), 0xffffffffu);
	cfg_wr(&f->p, 3, 0x14, 4, 0xffffffffu);        /* no BAR 1: stays 0 */
	assert_int_equal(cfg_rd(&f->p, 3, 0x14, 4), 0);
	cfg_wr(&f->p, 3, 0x30, 4, 0xfffff800u);        /* no expansion ROM */
	assert_int_equal(cfg_rd(&f->p, 3, 0x30, 4), 0);
	cfg_wr(&f->p, 3, 0x10, 4, old0);
	assert_int_equal(cfg_rd(&f->p, 3, 0x10, 4), old0);
}

static void test_bar_decode_and_move(void **state)
{
	struct fix *f = *state;
	uint64_t bar0 = bar_addr(&f->p, 3, 0), moved = APERTURE + 0x200000;

	/* Memory Space Enable is off after reset: nothing decodes. */
	assert_int_equal(mem_rd(&f->p, bar0 + 8, 4), 0xffffffffu);
	assert_int_equal(f->d.accesses, 0);
	cfg_wr(&f->p, 3, 0x04, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(mem_rd(&f->p, bar0 + 8, 4), 0x5a5a5a5a00000008ull & 0xffffffffu);
	assert_int_equal(f->d.last_bar, 0);
	mem_wr(&f->p, bar0 + 0xffc, 4, 0x1234);
	assert_int_equal(f->d.last_off, 0xffc);
	assert_int_equal(f->d.last_value, 0x1234);
	assert_true(f->d.last_write);
	/* An access that runs off the end of the BAR is not the BAR's. */
	assert_int_equal(mem_rd(&f->p, bar0 + 0xffe, 4), 0xffffffffu);
	assert_int_equal(f->d.last_off, 0xffc);
	/* Move it (mechanism #1): the old place is empty, the new one decodes. */
	cfg_wr(&f->p, 3, 0x10, 4, (uint32_t)moved);
	assert_int_equal(mem_rd(&f->p, bar0 + 8, 4), 0xffffffffu);
	mem_rd(&f->p, moved + 0x10, 2);
	assert_int_equal(f->d.last_off, 0x10);
	assert_int_equal(f->d.last_width, 2);
	/* And back, through ECAM (itself on the MMIO bus). */
	ecam_wr(&f->p, 3, 0x10, 4, (uint32_t)bar0);
	mem_rd(&f->p, bar0 + 0x20, 1);
	assert_int_equal(f->d.last_off, 0x20);
	/* The 64-bit BAR, moved by halves. */
	ecam_wr(&f->p, 3, 0x18, 4, (uint32_t)(APERTURE + 0x400000));
	ecam_wr(&f->p, 3, 0x1c, 4, 0);
	mem_rd(&f->p, APERTURE + 0x400000 + 0x1008, 8);
	assert_int_equal(f->d.last_bar, 2);
	assert_int_equal(f->d.last_off, 0x1008);
	/* Moved where the aperture does not reach: gone; memory off: gone. */
	cfg_wr(&f->p, 3, 0x10, 4, 0x10000000u);
	cfg_wr(&f->p, 3, 0x10, 4, (uint32_t)bar0);
	cfg_wr(&f->p, 3, 0x04, 2, 0);
	f->d.accesses = 0;
	assert_int_equal(mem_rd(&f->p, bar0, 4), 0xffffffffu);
	assert_int_equal(f->d.accesses, 0);
}

/* A driver's walk of the list: every capability once, in order. */
static void test_capability_walk(void **state)
{
	struct fix *f = *state;
	uint32_t ids[8], n = 0;

	assert_true(cfg_rd(&f->p, 3, 0x06, 2) & PCI_STATUS_CAP_LIST);
	for (uint32_t off = cfg_rd(&f->p, 3, 0x34, 1); off; off = cfg_rd(&f->p, 3, off + 1, 1)) {
		assert_true(off >= 0x40 && off % 4 == 0 && n < 8);
		ids[n++] = cfg_rd(&f->p, 3, off, 1);
	}
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], PCI_CAP_ID_MSIX);
	assert_int_equal(ids[1], PCI_CAP_ID_VNDR);
	/* Pointers are read-only. */
	cfg_wr(&f->p, 3, 0x34, 1, 0x80);
	cfg_wr(&f->p, 3, 0x41, 1, 0x44);
	assert_int_equal(cfg_rd(&f->p, 3, 0x34, 1), 0x40);
	assert_int_equal(cfg_rd(&f->p, 3, 0x41, 1), 0x4c);
	/* A capability that cannot fit is refused. */
	assert_int_equal(hv_pci_func_add_cap(&f->d.func, PCI_CAP_ID_VNDR, 200), -ENOSPC);
}

static void test_msix(void **state)
{
	struct fix *f = *state;
	uint64_t table = APERTURE + 0x4000; /* BAR 2 */
	uint32_t cap = 0x40;

	assert_int_equal(bar_addr(&f->p, 3, 2), table);
	assert_int_equal(cfg_rd(&f->p, 3, cap + 2, 2), 2);      /* 3 vectors */
	assert_int_equal(cfg_rd(&f->p, 3, cap + 4, 4), 2);      /* table: BAR 2, 0 */
	assert_int_equal(cfg_rd(&f->p, 3, cap + 8, 4), 0x802);  /* PBA: BAR 2, 0x800 */
	cfg_wr(&f->p, 3, 0x04, 2, PCI_COMMAND_MEMORY);
	/* Vectors start masked. */
	assert_int_equal(mem_rd(&f->p, table + 16 + 12, 4), 1);
	mem_wr(&f->p, table + 16, 4, 0xfee00003u);             /* low bits are 0 */
	mem_wr(&f->p, table + 16 + 4, 4, 0);
	mem_wr(&f->p, table + 16 + 8, 4, 0x41);
	assert_int_equal(mem_rd(&f->p, table + 16, 8), 0xfee00000u);
	/* MSI-X off: nothing is sent or remembered. */
	hv_pci_msix_notify(&f->d.msix, 1);
	assert_int_equal(f->p.msis, 0);
	assert_int_equal(mem_rd(&f->p, table + 0x800, 8), 0);
	/* On with the function masked: pending. */
	cfg_wr(&f->p, 3, cap + 2, 2, HV_PCI_MSIX_CTRL_ENABLE | HV_PCI_MSIX_CTRL_MASKALL);
	assert_int_equal(cfg_rd(&f->p, 3, cap + 2, 2),
			 HV_PCI_MSIX_CTRL_ENABLE | HV_PCI_MSIX_CTRL_MASKALL | 2);
	hv_pci_msix_notify(&f->d.msix, 1);
	assert_int_equal(f->p.msis, 0);
	assert_int_equal(mem_rd(&f->p, table + 0x800, 4), 2);
	/* Function unmasked, vector still masked: still pending. */
	cfg_wr(&f->p, 3, cap + 2, 2, HV_PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(f->p.msis, 0);
	/* Vector unmasked: delivered, pending bit gone. */
	mem_wr(&f->p, table + 16 + 12, 4, 0xfffffffeu);
	assert_int_equal(mem_rd(&f->p, table + 16 + 12, 4), 0); /* reserved bits stay 0 */
	assert_int_equal(f->p.msis, 1);
	assert_int_equal(f->p.msi_addr[0], 0xfee00000u);
	assert_int_equal(f->p.msi_data[0], 0x41);
	assert_int_equal(mem_rd(&f->p, table + 0x800, 8), 0);
	hv_pci_msix_notify(&f->d.msix, 1);
	assert_int_equal(f->p.msis, 2);
	/* A masked vector again, then a qword write of its address. */
	mem_wr(&f->p, table + 16 + 12, 4, 1);
	hv_pci_msix_notify(&f->d.msix, 1);
	assert_int_equal(f->p.msis, 2);
	mem_wr(&f->p, table + 16, 8, 0x00000001fee01000ull);
	mem_wr(&f->p, table + 16 + 8, 8, 0x42);                /* data 0x42, unmasked */
	assert_int_equal(f->p.msis, 3);
	assert_int_equal(f->p.msi_addr[2], 0x1fee01000ull);
	assert_int_equal(f->p.msi_data[2], 0x42);
	/* Out of range vectors; the PBA is read-only. */
	hv_pci_msix_notify(&f->d.msix, 3);
	hv_pci_msix_notify(&f->d.msix, 0xffff);
	assert_int_equal(f->p.msis, 3);
	mem_wr(&f->p, table + 0x800, 8, ~0ull);
	assert_int_equal(mem_rd(&f->p, table + 0x800, 8), 0);
}

static void test_msix_hostile(void **state)
{
	struct fix *f = *state;
	uint64_t table = APERTURE + 0x4000;

	cfg_wr(&f->p, 3, 0x04, 2, PCI_COMMAND_MEMORY);
	/* Bytes, words, misaligned dwords: read 0, ignored. */
	mem_wr(&f->p, table + 12, 1, 0);
	mem_wr(&f->p, table + 12, 2, 0);
	mem_wr(&f->p, table + 10, 4, 0);
	assert_int_equal(mem_rd(&f->p, table + 12, 4), 1);
	assert_int_equal(mem_rd(&f->p, table + 12, 1), 0);
	assert_int_equal(mem_rd(&f->p, table + 4, 8), 0);      /* misaligned qword */
	/* Past the 3 entries and past the PBA. */
	mem_wr(&f->p, table + 48, 4, 0x1234);
	assert_int_equal(mem_rd(&f->p, table + 48, 4), 0);
	assert_int_equal(mem_rd(&f->p, table + 0x808, 8), 0);
	assert_int_equal(mem_rd(&f->p, table + 0x801, 1), 0);
}

static void test_slots(void **state)
{
	struct fix *f = *state;
	struct dummy a, big;

	expect_ret(hv_pci_func_init(&a.func, 1, 2, 0, 0, false, &dummy_ops, &a), 0);
	expect_err(hv_pci_host_add(f->p.host, &a.func, 3), -EBUSY, "slot 3");
	expect_err(hv_pci_host_add(f->p.host, &a.func, 32), -EINVAL, "slot 32");
	expect_ret(hv_pci_host_add(f->p.host, &a.func, 0), 0);
	assert_int_equal(a.func.slot, 1);
	assert_int_equal(cfg_rd(&f->p, 1, 0, 4), 0x00020001);
	assert_int_equal(cfg_rd(&f->p, 1, 0x34, 1), 0);        /* no capabilities */
	assert_int_equal(cfg_rd(&f->p, 1, 0x06, 2), 0);
	hv_pci_host_remove(f->p.host, &a.func);
	assert_int_equal(cfg_rd(&f->p, 1, 0, 4), 0xffffffffu);
	hv_pci_func_fini(&a.func);
	/* A BAR larger than the aperture. */
	expect_ret(hv_pci_func_init(&big.func, 1, 2, 0, 0, false, &dummy_ops, &big), 0);
	expect_ret(hv_pci_func_add_bar(&big.func, 0, 1ull << 30, true), 0);
	expect_err(hv_pci_host_add(f->p.host, &big.func, 0), -ENOSPC, "aperture");
	/* Bad BARs. */
	assert_int_equal(hv_pci_func_add_bar(&big.func, 0, 0x2000, false), -EINVAL);
	assert_int_equal(hv_pci_func_add_bar(&big.func, 2, 0x3000, false), -EINVAL);
	assert_int_equal(hv_pci_func_add_bar(&big.func, 5, 0x1000, true), -EINVAL);
	assert_int_equal(hv_pci_func_add_bar(&big.func, 6, 0x1000, false), -EINVAL);
	assert_int_equal(hv_pci_func_add_bar(&big.func, 3, 8, false), -EINVAL);
	hv_pci_func_fini(&big.func);
}

static void test_host_config(void **state)
{
	struct fix *f = *state;
	struct hv_pci_host_config hc;
	struct hv_pci_host *h;

	hv_pci_host_config_init(&hc);
	hc.pio_bus = f->p.pio;
	hc.mmio_bus = f->p.mmio;
	hc.set_irq = pci_fix_irq;
	hc.signal_msi = pci_fix_msi;
	expect_err(hv_pci_host_create(&hc, &h), -EINVAL, "aperture");
	hc.mmio_base = 0xb0000000ull;
	hc.mmio_len = 0x1000;
	hc.ecam_base = 0x1234000;
	expect_err(hv_pci_host_create(&hc, &h), -EINVAL, "ECAM");
	hc.ecam_base = 0;
	expect_err(hv_pci_host_create(&hc, &h), -EEXIST, "pci-conf1"); /* the fixture's */
	hc.conf1_port = 0;
	hc.flags = 1;
	expect_err(hv_pci_host_create(&hc, &h), -EINVAL, "flags");
	hc.flags = 0;
	hc.size = 4;
	expect_err(hv_pci_host_create(&hc, &h), -EINVAL, "hv_pci_host_config_init");
	hc.size = sizeof(hc);
	expect_ret(hv_pci_host_create(&hc, &h), 0);
	assert_int_equal(hv_pci_host_mcfg(h, NULL, 0), -EINVAL); /* no ECAM */
	hv_pci_host_destroy(h);
	hv_pci_host_destroy(NULL);
}

static void test_acpi_tables(void **state)
{
	struct fix *f = *state;
	uint8_t mcfg[64], *ssdt, *pub;
	size_t len;
	static const uint8_t pnp0a08[4] = { 0x41, 0xd0, 0x0a, 0x08 };

	assert_int_equal(hv_pci_host_mcfg(f->p.host, mcfg, sizeof(mcfg)), 60);
	assert_memory_equal(mcfg, "MCFG", 4);
	assert_int_equal(hv_acpi_get32(mcfg + 4), 60);
	assert_int_equal(hv_acpi_checksum(mcfg, 60), 0);
	assert_int_equal(hv_acpi_get32(mcfg + 44), (uint32_t)ECAM_BASE);
	assert_int_equal(mcfg[52] | mcfg[53] << 8 | mcfg[54] << 16 | mcfg[55] << 24, 0);
	expect_ret(hv_acpi_pci_ssdt(hv_pci_host_get_config(f->p.host), &ssdt, &len), 0);
	assert_memory_equal(ssdt, "SSDT", 4);
	assert_int_equal(hv_acpi_get32(ssdt + 4), len);
	assert_int_equal(hv_acpi_checksum(ssdt, len), 0);
	assert_non_null(memmem(ssdt, len, "PCI0", 4));
	assert_non_null(memmem(ssdt, len, "_PRT", 4));
	assert_non_null(memmem(ssdt, len, "_CRS", 4));
	assert_non_null(memmem(ssdt, len, pnp0a08, 4));
	/* The public copy: size first, then the same bytes. */
	assert_int_equal(hv_pci_host_ssdt(f->p.host, NULL, 0), len);
	pub = calloc(1, len);
	assert_int_equal(hv_pci_host_ssdt(f->p.host, pub, (uint32_t)len), len);
	assert_memory_equal(pub, ssdt, len);
	free(pub);
	free(ssdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bridge_and_empty_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf1_address_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_masks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_config_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_decode_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acpi_tables, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
