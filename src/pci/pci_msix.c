/* SPDX-License-Identifier: MIT */
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability in config space, the
 * vector table and the pending bit array in a BAR.  The guest programs
 * each vector's address and data; a vector that is masked (its own mask
 * bit, or the function mask) when the device signals it gets its pending
 * bit set instead, and the message goes out once it is unmasked.
 * Table and PBA accesses must be aligned dwords or qwords (6.8.2: others
 * are undefined); anything else reads 0 and is dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci_internal.h"
#include "util/error.h"

enum { CAP_CONTROL = 2, CAP_TABLE = 4, CAP_PBA = 8, CAP_BYTES = 12 };

int hv_pci_msix_init(struct hv_pci_msix *x, struct hv_pci_func *f, uint32_t nr, uint32_t bar,
		     uint32_t table_off, uint32_t pba_off)
{
	int cap;

	memset(x, 0, sizeof(*x));
	if (!nr || nr > HV_PCI_MSIX_MAX || bar >= HV_PCI_NR_BARS || table_off % 8 || pba_off % 8)
		return hv_err(-EINVAL, "MSI-X: %u vectors in BAR %u at 0x%x/0x%x", nr, bar,
			      table_off, pba_off);
	x->entries = calloc(nr, sizeof(*x->entries));
	x->pending = calloc((nr + 63) / 64, sizeof(*x->pending));
	if (!x->entries || !x->pending || pthread_mutex_init(&x->lock, NULL)) {
		free(x->entries);
		free(x->pending);
		return hv_err(-ENOMEM, "MSI-X table of %u vectors", nr);
	}
	for (uint32_t i = 0; i < nr; i++)
		x->entries[i].w[HV_MSIX_CTRL] = HV_PCI_MSIX_VECTOR_MASKED;
	cap = hv_pci_func_add_cap(f, PCI_CAP_ID_MSIX, CAP_BYTES);
	if (cap < 0) {
		hv_pci_msix_fini(x);
		return cap;
	}
	x->func = f;
	x->nr = nr;
	x->cap = (uint32_t)cap;
	hv_pci_put(f->cfg, x->cap + CAP_CONTROL, 2, nr - 1);
	hv_pci_put(f->wmask, x->cap + CAP_CONTROL, 2,
		   HV_PCI_MSIX_CTRL_ENABLE | HV_PCI_MSIX_CTRL_MASKALL);
	hv_pci_put(f->cfg, x->cap + CAP_TABLE, 4, table_off | bar);
	hv_pci_put(f->cfg, x->cap + CAP_PBA, 4, pba_off | bar);
	return 0;
}

void hv_pci_msix_fini(struct hv_pci_msix *x)
{
	if (!x->entries)
		return;
	pthread_mutex_destroy(&x->lock);
	free(x->entries);
	free(x->pending);
	x->entries = NULL;
	x->pending = NULL;
}

uint64_t hv_pci_msix_table_bytes(const struct hv_pci_msix *x)
{
	return (uint64_t)x->nr * HV_PCI_MSIX_ENTRY_BYTES;
}

uint64_t hv_pci_msix_pba_bytes(const struct hv_pci_msix *x)
{
	return (x->nr + 63) / 64 * 8;
}

static bool pending(const struct hv_pci_msix *x, uint32_t v)
{
	return x->pending[v / 64] >> (v % 64) & 1;
}

static void set_pending(struct hv_pci_msix *x, uint32_t v, bool on)
{
	if (on)
		x->pending[v / 64] |= 1ull << (v % 64);
	else
		x->pending[v / 64] &= ~(1ull << (v % 64));
}

static bool vector_masked(const struct hv_pci_msix *x, uint32_t v)
{
	return x->masked || (x->entries[v].w[HV_MSIX_CTRL] & HV_PCI_MSIX_VECTOR_MASKED);
}

/* Send vector v now (x->lock held); the host may be gone at teardown. */
static void send(struct hv_pci_msix *x, uint32_t v)
{
	const struct hv_pci_msix_entry *e = &x->entries[v];
	struct hv_pci_host *host = __atomic_load_n(&x->func->host, __ATOMIC_ACQUIRE);

	if (host)
		hv_pci_host_signal_msi(host, (uint64_t)e->w[HV_MSIX_ADDR_HI] << 32 |
						     e->w[HV_MSIX_ADDR_LO], e->w[HV_MSIX_DATA]);
}

/* Send what became deliverable (x->lock held). */
static void flush_pending(struct hv_pci_msix *x)
{
	if (!x->enabled || x->masked)
		return;
	for (uint32_t v = 0; v < x->nr; v++) {
		if (pending(x, v) && !vector_masked(x, v)) {
			set_pending(x, v, false);
			send(x, v);
		}
	}
}

void hv_pci_msix_table_io(struct hv_pci_msix *x, uint64_t offset, uint32_t width,
			  bool is_write, uint64_t *value)
{
	uint32_t v, word;

	if ((width != 4 && width != 8) || offset % width || offset >= hv_pci_msix_table_bytes(x)) {
		if (!is_write)
			*value = 0;
		return;
	}
	v = (uint32_t)(offset / HV_PCI_MSIX_ENTRY_BYTES);
	word = (uint32_t)(offset % HV_PCI_MSIX_ENTRY_BYTES) / 4;
	pthread_mutex_lock(&x->lock);
	for (uint32_t i = 0; i < width / 4; i++, word++) {
		uint32_t *field = &x->entries[v].w[word];
		uint32_t val = (uint32_t)(*value >> (32 * i));

		if (!is_write) {
			if (!i)
				*value = 0;
			*value |= (uint64_t)*field << (32 * i);
			continue;
		}
		if (word == HV_MSIX_CTRL)
			*field = val & HV_PCI_MSIX_VECTOR_MASKED; /* the rest is reserved */
		else if (word == HV_MSIX_ADDR_LO)
			*field = val & ~3u; /* the address is dword aligned */
		else
			*field = val;
	}
	if (is_write)
		flush_pending(x);
	pthread_mutex_unlock(&x->lock);
}

void hv_pci_msix_pba_io(struct hv_pci_msix *x, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value)
{
	if (is_write)
		return; /* read-only */
	*value = 0;
	if ((width != 4 && width != 8) || offset % width || offset >= hv_pci_msix_pba_bytes(x))
		return;
	pthread_mutex_lock(&x->lock);
	*value = x->pending[offset / 8] >> (8 * (offset % 8));
	if (width == 4)
		*value &= 0xffffffffu;
	pthread_mutex_unlock(&x->lock);
}

void hv_pci_msix_config_written(struct hv_pci_msix *x, uint32_t offset, uint32_t width)
{
	uint32_t ctrl;

	if (offset + width <= x->cap + CAP_CONTROL || offset >= x->cap + CAP_CONTROL + 2)
		return;
	ctrl = hv_pci_get(x->func->cfg, x->cap + CAP_CONTROL, 2);
	pthread_mutex_lock(&x->lock);
	__atomic_store_n(&x->enabled, !!(ctrl & HV_PCI_MSIX_CTRL_ENABLE), __ATOMIC_RELEASE);
	x->masked = ctrl & HV_PCI_MSIX_CTRL_MASKALL;
	flush_pending(x);
	pthread_mutex_unlock(&x->lock);
}

bool hv_pci_msix_enabled(struct hv_pci_msix *x)
{
	return __atomic_load_n(&x->enabled, __ATOMIC_ACQUIRE);
}

void hv_pci_msix_notify(struct hv_pci_msix *x, uint32_t v)
{
	if (v >= x->nr)
		return;
	pthread_mutex_lock(&x->lock);
	if (!x->enabled)
		;       /* the caller falls back to INTx */
	else if (vector_masked(x, v))
		set_pending(x, v, true);
	else
		send(x, v);
	pthread_mutex_unlock(&x->lock);
}
