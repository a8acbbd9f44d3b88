/* SPDX-License-Identifier: MIT */
/*
 * A PCI function's configuration space (PCI Local Bus 3.0, 6.1-6.2): the
 * type 0 header with a write mask per bit, memory BARs sized the usual way
 * (all-ones written, the size's address bits read back, because only those
 * are writable), and a capability list.  Guest offsets and widths are
 * checked here, once, for both configuration mechanisms.
 */
#include <errno.h>
#include <string.h>

#include "pci/pci_internal.h"
#include "util/error.h"

void hv_pci_put(uint8_t *p, uint32_t off, uint32_t width, uint32_t value)
{
	for (uint32_t i = 0; i < width; i++)
		p[off + i] = (uint8_t)(value >> (8 * i));
}

uint32_t hv_pci_get(const uint8_t *p, uint32_t off, uint32_t width)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < width; i++)
		v |= (uint32_t)p[off + i] << (8 * i);
	return v;
}

int hv_pci_func_init(struct hv_pci_func *f, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, bool intx, const struct hv_pci_func_ops *ops, void *opaque)
{
	memset(f, 0, sizeof(*f));
	if (pthread_mutex_init(&f->lock, NULL))
		return hv_err(-ENOMEM, "PCI function lock");
	hv_pci_put(f->cfg, PCI_VENDOR_ID, 2, vendor);
	hv_pci_put(f->cfg, PCI_DEVICE_ID, 2, device);
	f->cfg[PCI_REVISION] = revision;
	hv_pci_put(f->cfg, PCI_CLASS_PROG, 3, class_code);
	/* I/O, memory and bus master enable, INTx disable; the rest is ours. */
	hv_pci_put(f->wmask, PCI_COMMAND, 2,
		   PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			   PCI_COMMAND_INTX_DISABLE);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff; /* a scratch register for the OS */
	f->cfg[PCI_INTERRUPT_PIN] = intx ? 1 : 0;
	f->next_cap = PCI_CAP_START;
	f->ops = ops;
	f->opaque = opaque;
	return 0;
}

void hv_pci_func_fini(struct hv_pci_func *f)
{
	pthread_mutex_destroy(&f->lock);
}

void hv_pci_func_set_subsystem(struct hv_pci_func *f, uint16_t vendor, uint16_t id)
{
	hv_pci_put(f->cfg, PCI_SUBSYS_VENDOR, 2, vendor);
	hv_pci_put(f->cfg, PCI_SUBSYS_ID, 2, id);
}

int hv_pci_func_add_bar(struct hv_pci_func *f, uint32_t bar, uint64_t size, bool is64)
{
	uint64_t mask = ~(size - 1);
	uint32_t off = PCI_BAR0 + 4 * bar;

	if (bar >= HV_PCI_NR_BARS || (is64 && bar + 1 >= HV_PCI_NR_BARS) || size < 16 ||
	    (size & (size - 1)) || (!is64 && size > (1ull << 31)) || f->bar_size[bar] ||
	    (is64 && f->bar_size[bar + 1]))
		return hv_err(-EINVAL, "PCI BAR %u: size 0x%llx (a power of two from 16) or "
				       "slot taken", bar, (unsigned long long)size);
	f->bar_size[bar] = size;
	f->cfg[off] = is64 ? PCI_BAR_MEM_64 : 0;
	hv_pci_put(f->wmask, off, 4, (uint32_t)mask & ~0xfu);
	if (is64)
		hv_pci_put(f->wmask, off + 4, 4, (uint32_t)(mask >> 32));
	return 0;
}

int hv_pci_func_add_cap(struct hv_pci_func *f, uint8_t id, uint32_t len)
{
	uint32_t off = f->next_cap;

	if (len < 2 || len > HV_PCI_CFG_BYTES - off)
		return hv_err(-ENOSPC, "PCI capability 0x%02x: %u bytes do not fit at 0x%x", id,
			      len, off);
	f->cfg[off] = id;
	f->cfg[off + 1] = 0;
	if (f->last_cap)
		f->cfg[f->last_cap + 1] = (uint8_t)off;
	else
		f->cfg[PCI_CAP_PTR] = (uint8_t)off;
	hv_pci_put(f->cfg, PCI_STATUS, 2, hv_pci_get(f->cfg, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
	f->last_cap = off;
	f->next_cap = (off + len + 3) & ~3u; /* the next pointer's low bits are reserved */
	return (int)off;
}

/* The BAR's address as the guest programmed it. */
static uint64_t bar_value(const struct hv_pci_func *f, uint32_t bar)
{
	uint32_t off = PCI_BAR0 + 4 * bar;
	uint64_t v = hv_pci_get(f->cfg, off, 4) & ~0xfull;

	if (f->cfg[off] & PCI_BAR_MEM_64)
		v |= (uint64_t)hv_pci_get(f->cfg, off + 4, 4) << 32;
	return v;
}

/* Publish where each BAR decodes now (f->lock held). */
static void update_bars(struct hv_pci_func *f)
{
	bool mem = hv_pci_get(f->cfg, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;

	for (uint32_t i = 0; i < HV_PCI_NR_BARS; i++) {
		uint64_t addr = f->bar_size[i] && mem ? bar_value(f, i) : 0;

		__atomic_store_n(&f->bar_addr[i], addr, __ATOMIC_RELEASE);
	}
}

static bool access_ok(uint32_t offset, uint32_t width)
{
	return (width == 1 || width == 2 || width == 4) && (offset & 3) + width <= 4 &&
	       offset < HV_PCI_ECAM_FUNC_BYTES;
}

uint32_t hv_pci_func_config_read(struct hv_pci_func *f, uint32_t offset, uint32_t width)
{
	uint32_t v;

	if (!access_ok(offset, width))
		return 0xffffffffu; /* what an aborted configuration read returns */
	if (offset >= HV_PCI_CFG_BYTES)
		return 0; /* extended space: no capabilities there */
	pthread_mutex_lock(&f->lock);
	if (!f->ops || !f->ops->config_read || !f->ops->config_read(f->opaque, offset, width, &v))
		v = hv_pci_get(f->cfg, offset, width);
	pthread_mutex_unlock(&f->lock);
	return v;
}

void hv_pci_func_config_write(struct hv_pci_func *f, uint32_t offset, uint32_t width,
			      uint32_t value)
{
	if (!access_ok(offset, width) || offset >= HV_PCI_CFG_BYTES)
		return;
	pthread_mutex_lock(&f->lock);
	for (uint32_t i = 0; i < width; i++) {
		uint8_t m = f->wmask[offset + i], b = (uint8_t)(value >> (8 * i));

		f->cfg[offset + i] = (uint8_t)((f->cfg[offset + i] & ~m) | (b & m));
	}
	if (offset < PCI_BAR0 + 4 * HV_PCI_NR_BARS && offset + width > PCI_COMMAND)
		update_bars(f);
	if (f->ops && f->ops->config_written)
		f->ops->config_written(f->opaque, offset, width);
	pthread_mutex_unlock(&f->lock);
}

bool hv_pci_func_bar_hit(struct hv_pci_func *f, uint32_t bar, uint64_t addr, uint32_t width,
			 uint64_t *offset)
{
	uint64_t base = __atomic_load_n(&f->bar_addr[bar], __ATOMIC_ACQUIRE);
	uint64_t size = f->bar_size[bar];

	if (!base || addr < base || addr - base >= size || width > size - (addr - base))
		return false;
	*offset = addr - base;
	return true;
}

void hv_pci_func_place_bar(struct hv_pci_func *f, uint32_t bar, uint64_t addr)
{
	uint32_t off = PCI_BAR0 + 4 * bar;

	pthread_mutex_lock(&f->lock);
	hv_pci_put(f->cfg, off, 4, (uint32_t)addr | (f->cfg[off] & 0xfu));
	if (f->cfg[off] & PCI_BAR_MEM_64)
		hv_pci_put(f->cfg, off + 4, 4, (uint32_t)(addr >> 32));
	update_bars(f);
	pthread_mutex_unlock(&f->lock);
}
