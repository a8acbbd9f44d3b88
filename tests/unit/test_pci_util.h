/* SPDX-License-Identifier: MIT */
/*
 * A PCI host on standalone buses for the unit tests, with the guest's side
 * of configuration mechanism #1, ECAM and BAR accesses, and interrupts
 * recorded instead of delivered.  Include after <cmocka.h>.
 */
#ifndef HV_TESTS_PCI_UTIL_H
#define HV_TESTS_PCI_UTIL_H

#include "hvlib/pci.h"
#include "pci/pci_internal.h"
#include "unit/unit_util.h"

#define ECAM_BASE 0xe0000000ull
#define APERTURE 0xc0000000ull
#define APERTURE_LEN 0x10000000ull
#define GSI_BASE 16u
#define MAX_MSIS 64

struct pci_fix {
	struct hv_bus *pio, *mmio;
	struct hv_pci_host *host;
	int level[GSI_BASE + 4];           /* INTx line levels */
	int raises;                        /* 0 -> 1 transitions of any line */
	uint64_t msi_addr[MAX_MSIS];
	uint32_t msi_data[MAX_MSIS];
	int msis;
};

static inline void pci_fix_irq(void *opaque, uint32_t gsi, int level)
{
	struct pci_fix *p = opaque;

	assert_true(gsi >= GSI_BASE && gsi < GSI_BASE + 4);
	if (level && !p->level[gsi])
		p->raises++;
	p->level[gsi] = level;
}

static inline int pci_fix_msi(void *opaque, uint64_t address, uint32_t data)
{
	struct pci_fix *p = opaque;

	assert_true(p->msis < MAX_MSIS);
	p->msi_addr[p->msis] = address;
	p->msi_data[p->msis] = data;
	p->msis++;
	return 1;
}

static inline void pci_fix_init(struct pci_fix *p)
{
	struct hv_pci_host_config hc;

	memset(p, 0, sizeof(*p));
	expect_ret(hv_bus_create(HV_BUS_PIO, &p->pio), 0);
	expect_ret(hv_bus_create(HV_BUS_MMIO, &p->mmio), 0);
	hv_pci_host_config_init(&hc);
	hc.pio_bus = p->pio;
	hc.mmio_bus = p->mmio;
	hc.ecam_base = ECAM_BASE;
	hc.mmio_base = APERTURE;
	hc.mmio_len = APERTURE_LEN;
	hc.intx_gsi_base = GSI_BASE;
	hc.set_irq = pci_fix_irq;
	hc.signal_msi = pci_fix_msi;
	hc.irq_opaque = p;
	expect_ret(hv_pci_host_create(&hc, &p->host), 0);
}

static inline void pci_fix_fini(struct pci_fix *p)
{
	hv_pci_host_destroy(p->host);
	hv_bus_destroy(p->mmio);
	hv_bus_destroy(p->pio);
}

static inline uint32_t conf1_addr(uint32_t dev, uint32_t reg)
{
	return 0x80000000u | dev << 11 | (reg & 0xfc);
}

/* Configuration read/write of slot dev through mechanism #1. */
static inline uint32_t cfg_rd(struct pci_fix *p, uint32_t dev, uint32_t reg, uint32_t width)
{
	uint64_t v = conf1_addr(dev, reg);

	expect_ret(hv_bus_dispatch(p->pio, 0xcf8, 4, true, &v), 0);
	expect_ret(hv_bus_dispatch(p->pio, 0xcfc + (reg & 3), width, false, &v), 0);
	return (uint32_t)v;
}

static inline void cfg_wr(struct pci_fix *p, uint32_t dev, uint32_t reg, uint32_t width,
			  uint32_t val)
{
	uint64_t v = conf1_addr(dev, reg);

	expect_ret(hv_bus_dispatch(p->pio, 0xcf8, 4, true, &v), 0);
	v = val;
	expect_ret(hv_bus_dispatch(p->pio, 0xcfc + (reg & 3), width, true, &v), 0);
}

/* The same through ECAM. */
static inline uint32_t ecam_rd(struct pci_fix *p, uint32_t dev, uint32_t reg, uint32_t width)
{
	uint64_t v = 0;

	expect_ret(hv_bus_dispatch(p->mmio, ECAM_BASE + (dev << 15) + reg, width, false, &v), 0);
	return (uint32_t)v;
}

static inline void ecam_wr(struct pci_fix *p, uint32_t dev, uint32_t reg, uint32_t width,
			   uint32_t val)
{
	uint64_t v = val;

	expect_ret(hv_bus_dispatch(p->mmio, ECAM_BASE + (dev << 15) + reg, width, true, &v), 0);
}

/* A memory access at a guest-physical address (inside the aperture). */
static inline uint64_t mem_rd(struct pci_fix *p, uint64_t addr, uint32_t width)
{
	uint64_t v = 0;

	expect_ret(hv_bus_dispatch(p->mmio, addr, width, false, &v), 0);
	return v;
}

static inline void mem_wr(struct pci_fix *p, uint64_t addr, uint32_t width, uint64_t val)
{
	expect_ret(hv_bus_dispatch(p->mmio, addr, width, true, &val), 0);
}

/* Where BAR bar of dev is, as the guest reads it. */
static inline uint64_t bar_addr(struct pci_fix *p, uint32_t dev, uint32_t bar)
{
	return cfg_rd(p, dev, 0x10 + 4 * bar, 4) & ~0xfull;
}

#endif /* HV_TESTS_PCI_UTIL_H */
