/* SPDX-License-Identifier: MIT */
/*
 * MSI-X on its own: a PCI function in slot 1 with 1-128 vectors (the first
 * input byte), the table at 0 and the pending bits at 0x800 of its 4 KiB
 * BAR 0.  Records as in fuzz_util.h after that byte; windows 0: slot 1's
 * ECAM page (message control: enable, function mask), 1: BAR 0; host
 * action 0 signals vector offset.  Oracle: a message leaves only while
 * MSI-X is enabled, the function is unmasked and the vector is unmasked.
 */
#include "fuzz_pci_common.h"

#define PBA_OFF 0x800u

static struct hv_pci_msix msix;

static void bar_io(void *opaque, uint32_t bar, uint64_t offset, uint32_t width, bool is_write,
		   uint64_t *value)
{
	(void)opaque;
	(void)bar;
	if (offset < PBA_OFF)
		hv_pci_msix_table_io(&msix, offset, width, is_write, value);
	else
		hv_pci_msix_pba_io(&msix, offset - PBA_OFF, width, is_write, value);
}

static void config_written(void *opaque, uint32_t offset, uint32_t width)
{
	(void)opaque;
	hv_pci_msix_config_written(&msix, offset, width);
}

static const struct hv_pci_func_ops ops = { .bar_io = bar_io, .config_written = config_written };

/* Runs under msix.lock, so its state is the sender's: some unmasked
 * vector must hold this message. */
static int check_msi(void *opaque, uint64_t address, uint32_t data)
{
	(void)opaque;
	if (!msix.enabled || msix.masked)
		abort();
	for (uint32_t v = 0; v < msix.nr; v++) {
		const uint32_t *w = msix.entries[v].w;

		if (!(w[HV_MSIX_CTRL] & HV_PCI_MSIX_VECTOR_MASKED) && data == w[HV_MSIX_DATA] &&
		    address == ((uint64_t)w[HV_MSIX_ADDR_HI] << 32 | w[HV_MSIX_ADDR_LO]))
			return 0;
	}
	abort();
}

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	(void)opaque;
	(void)op;
	(void)value;
	hv_pci_msix_notify(&msix, offset);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_pci_host_config hc;
	struct hv_pci_host *host;
	struct hv_pci_func f;
	struct fz_rig r;

	if (!size || fz_rig_init(&r))
		return 0;
	hv_pci_host_config_init(&hc);
	hc.pio_bus = r.pio;
	hc.mmio_bus = r.mmio;
	hc.ecam_base = FZ_ECAM;
	hc.mmio_base = FZ_APERTURE;
	hc.mmio_len = FZ_APERTURE_LEN;
	hc.set_irq = fz_irq_line;
	hc.signal_msi = check_msi;
	if (hv_pci_host_create(&hc, &host) ||
	    hv_pci_func_init(&f, 0x1af4, 0x10ff, 0xff0000, 0, false, &ops, NULL) ||
	    hv_pci_func_add_bar(&f, 0, 4096, false) ||
	    hv_pci_msix_init(&msix, &f, data[0] % 128 + 1, 0, 0, PBA_OFF) ||
	    hv_pci_host_add(host, &f, 1))
		abort();
	fz_rig_window(&r, r.mmio, FZ_ECAM + (1u << 15), HV_PCI_ECAM_FUNC_BYTES);
	fz_rig_window(&r, r.mmio, FZ_APERTURE, 4096);
	r.host_op = host_op;
	fz_rig_run(&r, data + 1, size - 1);
	hv_pci_host_remove(host, &f);
	hv_pci_msix_fini(&msix);
	hv_pci_func_fini(&f);
	hv_pci_host_destroy(host);
	fz_rig_fini(&r);
	return 0;
}
