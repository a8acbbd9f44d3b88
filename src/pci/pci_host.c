/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge (hvlib/pci.h): configuration mechanism #1, ECAM, the
 * BAR aperture, slots and interrupt routing.  Guest accesses hold the
 * host's read lock for as long as they are inside a function, so removing
 * a function (write lock) waits for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi_pci.h"
#include "acpi/acpi_table.h"
#include "pci/pci_internal.h"
#include "util/config.h"
#include "util/error.h"
#include "util/rwlock.h"

#define CONF1_ENABLE 0x80000000u
/* Enable, bus, device, function, register; bits 30-24 and 1-0 are reserved. */
#define CONF1_ADDR_MASK 0x80fffffcu
#define MCFG_BYTES 60u
#define MCFG_REVISION 1u
/* The bridge's identity: the id QEMU's generic PCIe host uses, which
 * guests treat as a plain host bridge with no quirks. */
#define BRIDGE_VENDOR 0x1b36u
#define BRIDGE_DEVICE 0x0008u
#define BRIDGE_CLASS 0x060000u

struct hv_pci_host {
	struct hv_pci_host_config cfg;
	struct hv_bus *pio, *mmio;
	uint32_t conf1_handle, ecam_handle, mmio_handle;
	bool has_conf1, has_ecam, has_mmio;
	uint32_t conf1_addr;          /* atomic: the address register */
	pthread_rwlock_t lock;        /* slots[], next_bar */
	struct hv_pci_func *slots[HV_PCI_MAX_SLOTS];
	/* INTx: slots s and s + 4k share a line, so the line follows the OR
	 * of their levels: bit s of intx_asserted[s % 4] is slot s's level.
	 * intx_lock also orders the set_irq calls of one line (and guards
	 * f->host against hv_pci_host_remove()). */
	pthread_mutex_t intx_lock;
	uint32_t intx_asserted[4];
	struct hv_pci_func bridge;    /* slot 0 */
	uint64_t next_bar;            /* aperture offset of the first free byte */
	/* hv_pci_host_destroy() ran with functions still added: they keep the
	 * struct until the last one is removed (lock held). */
	bool destroyed;
};

HV_EXPORT void hv_pci_host_config_init(struct hv_pci_host_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->conf1_port = HV_PCI_CONF1_PORT;
	cfg->intx_gsi_base = 16;
}

static int check_config(const struct hv_pci_host_config *cfg)
{
	if (cfg->flags)
		return hv_err(-EINVAL, "PCI host config: unknown flags 0x%x", cfg->flags);
	if (cfg->reserved0)
		return hv_err(-EINVAL, "PCI host config: reserved0 is 0x%x, must be 0",
			      cfg->reserved0);
	if (!cfg->vm && (!cfg->mmio_bus || (cfg->conf1_port && !cfg->pio_bus) ||
			 !cfg->set_irq || !cfg->signal_msi))
		return hv_err(-EINVAL, "PCI host config: no VM, and buses or interrupt "
				       "callbacks missing");
	if (cfg->ecam_base % HV_PCI_ECAM_BUS0_SIZE)
		return hv_err(-EINVAL, "PCI host config: ECAM base 0x%llx is not 1 MiB aligned",
			      (unsigned long long)cfg->ecam_base);
	if (!cfg->mmio_len || cfg->mmio_base % 4096 || cfg->mmio_len % 4096 ||
	    cfg->mmio_base + cfg->mmio_len < cfg->mmio_base)
		return hv_err(-EINVAL, "PCI host config: BAR aperture 0x%llx+0x%llx must be "
				       "non-empty and 4 KiB aligned", (unsigned long long)cfg->mmio_base,
			      (unsigned long long)cfg->mmio_len);
	return 0;
}

static struct hv_pci_func *find(struct hv_pci_host *h, uint32_t bus, uint32_t dev, uint32_t fn)
{
	return bus == 0 && fn == 0 && dev < HV_PCI_MAX_SLOTS ? h->slots[dev] : NULL;
}

/* One configuration access, under the read lock. */
static void config_access(struct hv_pci_host *h, uint32_t bus, uint32_t dev, uint32_t fn,
			  uint32_t reg, uint32_t width, bool is_write, uint64_t *value)
{
	struct hv_pci_func *f;

	if (width > 4) { /* configuration space has no qwords */
		if (!is_write)
			*value = ~0ull;
		return;
	}
	pthread_rwlock_rdlock(&h->lock);
	f = find(h, bus, dev, fn);
	if (!f) {
		if (!is_write)
			*value = ~0ull; /* no device: the read aborts */
	} else if (is_write) {
		hv_pci_func_config_write(f, reg, width, (uint32_t)*value);
	} else {
		*value = hv_pci_func_config_read(f, reg, width);
	}
	pthread_rwlock_unlock(&h->lock);
}

int hv_pci_host_conf1_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			 uint64_t *value)
{
	struct hv_pci_host *h = opaque;
	uint32_t a;

	if (offset < 4) {
		/* Only dword accesses reach the address register: Linux probes
		 * with a byte write to 0xcfb, which must not change it. */
		if (offset || width != 4) {
			if (!is_write)
				*value = 0;
		} else if (is_write) {
			__atomic_store_n(&h->conf1_addr, (uint32_t)*value & CONF1_ADDR_MASK,
					 __ATOMIC_RELAXED);
		} else {
			*value = __atomic_load_n(&h->conf1_addr, __ATOMIC_RELAXED);
		}
		return 0;
	}
	a = __atomic_load_n(&h->conf1_addr, __ATOMIC_RELAXED);
	if (!(a & CONF1_ENABLE) || offset >= 8 || width > 8 - offset) {
		if (!is_write)
			*value = ~0ull;
		return 0;
	}
	config_access(h, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7,
		      (a & 0xfc) + (uint32_t)(offset - 4), width, is_write, value);
	return 0;
}

int hv_pci_host_ecam_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value)
{
	if (offset >= HV_PCI_ECAM_BUS0_SIZE) {
		if (!is_write)
			*value = ~0ull;
		return 0;
	}
	config_access(opaque, 0, (uint32_t)(offset >> 15) & 0x1f, (uint32_t)(offset >> 12) & 7,
		      (uint32_t)offset & 0xfff, width, is_write, value);
	return 0;
}

int hv_pci_host_mmio_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value)
{
	struct hv_pci_host *h = opaque;
	uint64_t addr = h->cfg.mmio_base + offset, bar_off;

	pthread_rwlock_rdlock(&h->lock);
	for (uint32_t s = 1; s < HV_PCI_MAX_SLOTS; s++) {
		struct hv_pci_func *f = h->slots[s];

		for (uint32_t b = 0; f && b < HV_PCI_NR_BARS; b++) {
			if (!hv_pci_func_bar_hit(f, b, addr, width, &bar_off))
				continue;
			f->ops->bar_io(f->opaque, b, bar_off, width, is_write, value);
			pthread_rwlock_unlock(&h->lock);
			return 0;
		}
	}
	pthread_rwlock_unlock(&h->lock);
	if (!is_write)
		*value = ~0ull; /* nothing decodes it: a master abort */
	return 0;
}

static int register_windows(struct hv_pci_host *h)
{
	const struct hv_pci_host_config *c = &h->cfg;
	int ret = 0;

	if (c->conf1_port) {
		ret = hv_bus_register(h->pio, c->conf1_port, 8, hv_pci_host_conf1_io, h,
				      "pci-conf1", &h->conf1_handle);
		h->has_conf1 = !ret;
	}
	if (!ret && c->ecam_base) {
		ret = hv_bus_register(h->mmio, c->ecam_base, HV_PCI_ECAM_BUS0_SIZE,
				      hv_pci_host_ecam_io, h, "pci-ecam", &h->ecam_handle);
		h->has_ecam = !ret;
	}
	if (!ret) {
		ret = hv_bus_register(h->mmio, c->mmio_base, c->mmio_len, hv_pci_host_mmio_io, h,
				      "pci-mmio", &h->mmio_handle);
		h->has_mmio = !ret;
	}
	return ret ? hv_err_context(ret, "PCI host") : 0;
}

static void unregister_windows(struct hv_pci_host *h)
{
	if (h->has_mmio)
		hv_bus_unregister(h->mmio, h->mmio_handle);
	if (h->has_ecam)
		hv_bus_unregister(h->mmio, h->ecam_handle);
	if (h->has_conf1)
		hv_bus_unregister(h->pio, h->conf1_handle);
}

HV_EXPORT int hv_pci_host_create(const struct hv_pci_host_config *ucfg,
				 struct hv_pci_host **out)
{
	struct hv_pci_host_config c;
	const struct hv_pci_host_config *cfg = &c;
	struct hv_pci_host *h;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_pci_host_config_init, "PCI host config");
	if (!ret)
		ret = check_config(cfg);

	if (ret)
		return ret;
	h = calloc(1, sizeof(*h));
	if (!h)
		return hv_err(-ENOMEM, "allocating a PCI host");
	h->cfg = *cfg;
	h->pio = cfg->pio_bus ? cfg->pio_bus : cfg->vm ? hv_vm_bus(cfg->vm, HV_BUS_PIO) : NULL;
	h->mmio = cfg->mmio_bus ? cfg->mmio_bus : hv_vm_bus(cfg->vm, HV_BUS_MMIO);
	if (hv_rwlock_init_writer_pref(&h->lock)) {
		free(h);
		return hv_err(-ENOMEM, "PCI host lock");
	}
	if (pthread_mutex_init(&h->intx_lock, NULL)) {
		pthread_rwlock_destroy(&h->lock);
		free(h);
		return hv_err(-ENOMEM, "PCI host INTx lock");
	}
	ret = hv_pci_func_init(&h->bridge, BRIDGE_VENDOR, BRIDGE_DEVICE, BRIDGE_CLASS, 0, false,
			       NULL, NULL);
	if (ret)
		goto fail_lock;
	h->slots[0] = &h->bridge;
	ret = register_windows(h);
	if (ret)
		goto fail_windows;
	*out = h;
	return 0;

fail_windows:
	unregister_windows(h);
	hv_pci_func_fini(&h->bridge);
fail_lock:
	pthread_mutex_destroy(&h->intx_lock);
	pthread_rwlock_destroy(&h->lock);
	free(h);
	return ret;
}

static void free_host(struct hv_pci_host *h)
{
	hv_pci_func_fini(&h->bridge);
	pthread_mutex_destroy(&h->intx_lock);
	pthread_rwlock_destroy(&h->lock);
	free(h);
}

/* The number of device functions on h (lock held). */
static uint32_t nr_funcs(const struct hv_pci_host *h)
{
	uint32_t n = 0;

	for (uint32_t s = 1; s < HV_PCI_MAX_SLOTS; s++)
		n += h->slots[s] != NULL;
	return n;
}

HV_EXPORT void hv_pci_host_destroy(struct hv_pci_host *h)
{
	uint32_t left;

	if (!h)
		return;
	/* Off the buses first: once unregistered no vCPU is inside the host. */
	unregister_windows(h);
	h->has_conf1 = h->has_ecam = h->has_mmio = false;
	pthread_rwlock_wrlock(&h->lock);
	left = nr_funcs(h);
	h->destroyed = left != 0;
	pthread_rwlock_unlock(&h->lock);
	if (!left) {
		free_host(h);
		return;
	}
	/* Devices destroyed after their host: each one's removal still finds
	 * the host, and the last frees it. */
	if (h->cfg.vm) {
		char msg[96];

		snprintf(msg, sizeof(msg), "hv_pci_host_destroy: %u device(s) still on the "
			 "host; it is freed with the last of them", left);
		hv_vm_log(h->cfg.vm, HV_LOG_WARN, msg);
	}
}

/* Give every BAR of f a naturally aligned address in the aperture
 * (write lock held).  Addresses are not reused after a removal. */
static int place_bars(struct hv_pci_host *h, struct hv_pci_func *f)
{
	uint64_t next = h->next_bar;

	for (uint32_t b = 0; b < HV_PCI_NR_BARS; b++) {
		uint64_t size = f->bar_size[b];

		if (!size)
			continue;
		next = (next + size - 1) & ~(size - 1);
		if (next > h->cfg.mmio_len || size > h->cfg.mmio_len - next ||
		    ((h->cfg.mmio_base + next) & (size - 1)))
			return hv_err(-ENOSPC, "PCI: BAR %u (0x%llx bytes) does not fit the aperture "
					       "0x%llx+0x%llx", b, (unsigned long long)size,
				      (unsigned long long)h->cfg.mmio_base,
				      (unsigned long long)h->cfg.mmio_len);
		next += size;
	}
	next = h->next_bar;
	for (uint32_t b = 0; b < HV_PCI_NR_BARS; b++) {
		uint64_t size = f->bar_size[b];

		if (!size)
			continue;
		next = (next + size - 1) & ~(size - 1);
		hv_pci_func_place_bar(f, b, h->cfg.mmio_base + next);
		next += size;
	}
	h->next_bar = next;
	return 0;
}

int hv_pci_host_add(struct hv_pci_host *h, struct hv_pci_func *f, uint32_t slot)
{
	int ret = 0;

	if (slot >= HV_PCI_MAX_SLOTS || !f->ops || !f->ops->bar_io)
		return hv_err(-EINVAL, "PCI: slot %u (1-%u, 0: any), or a function without ops",
			      slot, HV_PCI_MAX_SLOTS - 1);
	pthread_rwlock_wrlock(&h->lock);
	if (!slot) {
		for (slot = 1; slot < HV_PCI_MAX_SLOTS && h->slots[slot]; slot++)
			;
		if (slot == HV_PCI_MAX_SLOTS)
			ret = hv_err(-ENOSPC, "PCI: all %u slots are taken", HV_PCI_MAX_SLOTS - 1);
	} else if (h->slots[slot]) {
		ret = hv_err(-EBUSY, "PCI: slot %u is taken", slot);
	}
	if (!ret)
		ret = place_bars(h, f);
	if (!ret) {
		pthread_mutex_lock(&h->intx_lock);
		f->slot = slot;
		__atomic_store_n(&f->host, h, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&h->intx_lock);
		h->slots[slot] = f;
	}
	pthread_rwlock_unlock(&h->lock);
	return ret;
}

/* Drive slot's share of its INTx line (intx_lock held): the line rises with
 * the first asserting slot and falls with the last. */
static void intx_drive(struct hv_pci_host *h, uint32_t slot, bool level)
{
	uint32_t *mask = &h->intx_asserted[slot % 4], was = *mask;
	uint32_t gsi = hv_pci_host_intx_gsi(h, slot);

	if (level)
		*mask |= 1u << slot;
	else
		*mask &= ~(1u << slot);
	if (!was == !*mask)
		return;
	if (h->cfg.set_irq)
		h->cfg.set_irq(h->cfg.irq_opaque, gsi, !!*mask);
	else
		hv_vm_irq_line(h->cfg.vm, gsi, !!*mask);
}

void hv_pci_host_remove(struct hv_pci_host *h, struct hv_pci_func *f)
{
	bool last;

	pthread_rwlock_wrlock(&h->lock);
	if (f->host == h && h->slots[f->slot] == f)
		h->slots[f->slot] = NULL;
	pthread_mutex_lock(&h->intx_lock);
	if (f->host == h)
		intx_drive(h, f->slot, false); /* a removed function asserts nothing */
	__atomic_store_n(&f->host, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&h->intx_lock);
	last = h->destroyed && !nr_funcs(h);
	pthread_rwlock_unlock(&h->lock);
	if (last)
		free_host(h);
}

uint32_t hv_pci_host_intx_gsi(const struct hv_pci_host *h, uint32_t slot)
{
	return h->cfg.intx_gsi_base + slot % 4; /* INTA of slot s: (s + 0) % 4 */
}

void hv_pci_host_set_intx(struct hv_pci_host *h, struct hv_pci_func *f, int level)
{
	pthread_mutex_lock(&h->intx_lock);
	if (f->host == h) /* not once removed */
		intx_drive(h, f->slot, level != 0);
	pthread_mutex_unlock(&h->intx_lock);
}

int hv_pci_host_signal_msi(struct hv_pci_host *h, uint64_t address, uint32_t data)
{
	if (h->cfg.signal_msi)
		return h->cfg.signal_msi(h->cfg.irq_opaque, address, data);
	return hv_vm_signal_msi(h->cfg.vm, address, data);
}

const struct hv_pci_host_config *hv_pci_host_get_config(const struct hv_pci_host *h)
{
	return &h->cfg;
}

HV_EXPORT int hv_pci_host_mcfg(const struct hv_pci_host *h, void *buf, uint32_t len)
{
	uint8_t t[MCFG_BYTES] = { 0 };

	HV_CHECK_ARG(h);

	if (!h || !h->cfg.ecam_base)
		return hv_err(-EINVAL, "PCI: no ECAM window, so no MCFG");
	hv_acpi_header(t, "MCFG", MCFG_BYTES, MCFG_REVISION);
	/* 8 reserved bytes, then one allocation: base, segment 0, buses 0-0. */
	hv_acpi_put64(t + 44, h->cfg.ecam_base);
	hv_acpi_finish(t);
	if (buf && len)
		memcpy(buf, t, len < MCFG_BYTES ? len : MCFG_BYTES);
	return MCFG_BYTES;
}

HV_EXPORT int hv_pci_host_ssdt(const struct hv_pci_host *h, void *buf, uint32_t len)
{
	HV_CHECK_ARG(h);
	uint8_t *t;
	size_t n;
	int ret = hv_acpi_pci_ssdt(&h->cfg, &t, &n);

	if (ret)
		return ret;
	if (buf && len)
		memcpy(buf, t, len < n ? len : n);
	free(t);
	return (int)n;
}
