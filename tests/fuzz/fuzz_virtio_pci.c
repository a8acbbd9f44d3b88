/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci transport as a guest drives it, with a virtio-console
 * (console size offered, so configuration interrupts happen) in slot 1:
 * records as in fuzz_util.h, windows
 *   0: configuration mechanism #1 (ports 0xcf8-0xcff),
 *   1: slot 1's ECAM page (capabilities, MSI-X control, the PCI_CFG window),
 *   2: BAR 0 where it was placed (common config, ISR, device config,
 *      notify, MSI-X table and PBA);
 * host actions: 0 console input (offset % 5 bytes of value), 1 a console
 * resize, 2 a configuration change.
 */
#include "fuzz_pci_common.h"
#include "hvlib/virtio_console.h"
#include "hvlib/virtio_pci.h"

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	struct hv_virtio_console *con = opaque;

	switch (op % 3) {
	case 0:
		fz_console_input(con, offset, value);
		break;
	case 1:
		hv_virtio_console_set_size(con, (uint16_t)value, (uint16_t)(value >> 16));
		break;
	default:
		hv_virtio_dev_config_changed(hv_virtio_console_dev(con));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_virtio_pci_config pc;
	struct hv_virtio_console *con;
	struct hv_virtio_pci *vp;
	struct hv_pci_host *host;
	struct fz_rig r;

	if (fz_rig_init(&r) || !(host = fz_pci_host(&r)))
		abort();
	hv_virtio_pci_config_init(&pc);
	pc.host = host;
	pc.slot = 1;
	if (!(con = fz_console(r.guest.mem, 0)) ||
	    hv_virtio_pci_create(hv_virtio_console_dev(con), &pc, &vp))
		abort();
	fz_rig_window(&r, r.pio, HV_PCI_CONF1_PORT, 8);
	fz_rig_window(&r, r.mmio, FZ_ECAM + (1u << 15), HV_PCI_ECAM_FUNC_BYTES);
	fz_rig_window(&r, r.mmio, FZ_APERTURE, HV_VIRTIO_PCI_BAR_SIZE);
	r.host_op = host_op;
	r.opaque = con;
	fz_rig_run(&r, data, size);
	hv_virtio_pci_destroy(vp);
	hv_virtio_console_destroy(con);
	hv_pci_host_destroy(host);
	fz_rig_fini(&r);
	return 0;
}
