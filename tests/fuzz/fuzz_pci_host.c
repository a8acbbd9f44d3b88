/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge: configuration mechanism #1, ECAM and BAR
 * programming (sizing, moving, overlapping, Memory Space Enable), with
 * virtio-rng functions that come and go.  Records as in fuzz_util.h,
 * windows 0: ports 0xcf8-0xcff, 1: all of ECAM bus 0, 2: the whole BAR
 * aperture; host action 0 removes the function of slot offset % 4 (or
 * adds one there, or at the first free slot), as hot-plug would.
 */
#include "fuzz_pci_common.h"
#include "hvlib/virtio_pci.h"

#define SLOTS 4

struct rig_state {
	struct hv_pci_host *host;
	struct fz_guest *guest;
	struct hv_virtio_rng *rng[SLOTS];
	struct hv_virtio_pci *vp[SLOTS];
};

static void unplug(struct rig_state *s, uint32_t i)
{
	hv_virtio_pci_destroy(s->vp[i]);
	hv_virtio_rng_destroy(s->rng[i]);
	s->vp[i] = NULL;
	s->rng[i] = NULL;
}

/* Slot i + 1, or any free one (the aperture may be used up: -ENOSPC). */
static void plug(struct rig_state *s, uint32_t i, bool any_slot)
{
	struct hv_virtio_rng_config rc;
	struct hv_virtio_pci_config pc;

	hv_virtio_rng_config_init(&rc);
	rc.mem = s->guest->mem;
	if (hv_virtio_rng_create(&rc, &s->rng[i]))
		abort();
	hv_virtio_pci_config_init(&pc);
	pc.host = s->host;
	pc.slot = any_slot ? 0 : i + 1;
	if (hv_virtio_pci_create(hv_virtio_rng_dev(s->rng[i]), &pc, &s->vp[i])) {
		hv_virtio_rng_destroy(s->rng[i]);
		s->rng[i] = NULL;
	}
}

static void host_op(void *opaque, uint32_t op, uint32_t offset, uint32_t value)
{
	struct rig_state *s = opaque;
	uint32_t i = offset % SLOTS;

	(void)op;
	if (s->vp[i])
		unplug(s, i);
	else
		plug(s, i, value & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rig_state s = { 0 };
	struct fz_rig r;

	if (fz_rig_init(&r) || !(s.host = fz_pci_host(&r)))
		abort();
	s.guest = &r.guest;
	plug(&s, 0, false);
	plug(&s, 2, false);
	fz_rig_window(&r, r.pio, HV_PCI_CONF1_PORT, 8);
	fz_rig_window(&r, r.mmio, FZ_ECAM, HV_PCI_ECAM_BUS0_SIZE);
	fz_rig_window(&r, r.mmio, FZ_APERTURE, FZ_APERTURE_LEN);
	r.host_op = host_op;
	r.opaque = &s;
	fz_rig_run(&r, data, size);
	for (uint32_t i = 0; i < SLOTS; i++)
		unplug(&s, i);
	hv_pci_host_destroy(s.host);
	fz_rig_fini(&r);
	return 0;
}
