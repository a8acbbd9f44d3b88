/* SPDX-License-Identifier: MIT */
/*
 * The micro-VM's virtio devices: disks and the rng are created here from the
 * config, through the same public device API an embedder uses; the arch
 * platform gives each one its MMIO window, interrupt and firmware entry
 * (hv_arch_microvm_setup()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hvlib/virtio.h"
#include "hvlib/virtio_vsock.h"
#include "hvlib/virtio_pci.h"
#include "hvlib/virtio_balloon.h"
#include "microvm/microvm_internal.h"
#include "util/error.h"

HV_EXPORT void hv_microvm_disk_init(struct hv_microvm_disk *disk)
{
	memset(disk, 0, sizeof(*disk));
	disk->size = sizeof(*disk);
}

int hv_microvm_check_virtio(const struct hv_microvm_config *cfg)
{
	uint32_t n = cfg->nr_disks + ((cfg->flags & HV_MICROVM_F_RNG) ? 1 : 0) +
		     (cfg->vsock_cid ? 1 : 0) + ((cfg->flags & HV_MICROVM_F_BALLOON) ? 1 : 0);

	if (cfg->reserved)
		return hv_err(-EINVAL, "micro-VM config: reserved field set");
	if (cfg->transport != HV_MICROVM_TRANSPORT_MMIO && cfg->transport != HV_MICROVM_TRANSPORT_PCI)
		return hv_err(-EINVAL, "micro-VM config: unknown virtio transport %u (0: mmio, "
				       "1: pci)", cfg->transport);
	if (cfg->nr_disks > HV_MICROVM_MAX_VIRTIO || n > HV_MICROVM_MAX_VIRTIO)
		return hv_err(-EINVAL, "micro-VM config: %u virtio devices, at most %u", n,
			      HV_MICROVM_MAX_VIRTIO);
	/* Checked here too, so a bad CID fails before KVM is opened. */
	if (cfg->vsock_cid && (cfg->vsock_cid < HV_VSOCK_CID_MIN ||
			       cfg->vsock_cid > HV_VSOCK_CID_MAX))
		return hv_err(-EINVAL, "micro-VM config: vsock CID %llu is reserved or out of "
				       "range (%u..%u)", (unsigned long long)cfg->vsock_cid,
			      HV_VSOCK_CID_MIN, HV_VSOCK_CID_MAX);
	if (cfg->nr_disks && !cfg->disks)
		return hv_err(-EINVAL, "micro-VM config: %u disks but no disk array",
			      cfg->nr_disks);
	for (uint32_t i = 0; i < cfg->nr_disks; i++) {
		const struct hv_microvm_disk *d = &cfg->disks[i];

		if (d->size < sizeof(*d) || (d->flags & ~HV_MICROVM_DISK_F_ALL) || !d->path)
			return hv_err(-EINVAL, "micro-VM config: disk %u: bad size or flags, or no "
					       "path (call hv_microvm_disk_init())", i);
	}
	return 0;
}

/* Typed destructors behind the slot's void pointer. */
static void destroy_blk(void *backend)
{
	hv_virtio_blk_destroy(backend);
}

static void destroy_rng(void *backend)
{
	hv_virtio_rng_destroy(backend);
}

static void destroy_vsock(void *backend)
{
	hv_virtio_vsock_destroy(backend);
}

static void destroy_balloon(void *backend)
{
	hv_virtio_balloon_destroy(backend);
}

/* Fill the next slot (its name is already set) with a created device. */
static void add_device(struct hv_microvm *m, struct hv_virtio_dev *dev, void *backend,
		       void (*destroy_backend)(void *))
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio++];

	v->dev = dev;
	v->backend = backend;
	v->destroy_backend = destroy_backend;
}

static int add_disk(struct hv_microvm *m, const struct hv_microvm_disk *d, uint32_t i)
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio];
	struct hv_virtio_blk_config bc;
	struct hv_virtio_blk *blk;
	int ret;

	hv_virtio_blk_config_init(&bc);
	bc.path = d->path;
	bc.serial = d->serial;
	bc.flags = (d->flags & HV_MICROVM_DISK_F_READONLY) ? HV_VIRTIO_BLK_F_READONLY : 0;
	bc.vm = m->vm;
	snprintf(v->name, sizeof(v->name), "virtio-blk%u", i);
	bc.name = v->name;
	ret = hv_virtio_blk_create(&bc, &blk);
	if (ret)
		return hv_err_context(ret, "disk %u", i);
	add_device(m, hv_virtio_blk_dev(blk), blk, destroy_blk);
	return 0;
}

static int add_rng(struct hv_microvm *m)
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio];
	struct hv_virtio_rng_config rc;
	struct hv_virtio_rng *rng;
	int ret;

	hv_virtio_rng_config_init(&rc);
	rc.vm = m->vm;
	ret = hv_virtio_rng_create(&rc, &rng);
	if (ret)
		return ret;
	snprintf(v->name, sizeof(v->name), "virtio-rng");
	add_device(m, hv_virtio_rng_dev(rng), rng, destroy_rng);
	return 0;
}

static int add_vsock(struct hv_microvm *m, uint64_t cid)
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio];
	struct hv_virtio_vsock_config vc;
	struct hv_virtio_vsock *vsock;
	int ret;

	hv_virtio_vsock_config_init(&vc);
	vc.vm = m->vm;
	vc.guest_cid = cid;
	ret = hv_virtio_vsock_create(&vc, &vsock);
	if (ret)
		return hv_err_context(ret, "vsock");
	snprintf(v->name, sizeof(v->name), "virtio-vsock");
	add_device(m, hv_virtio_vsock_dev(vsock), vsock, destroy_vsock);
	return 0;
}

static int add_balloon(struct hv_microvm *m)
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio];
	struct hv_virtio_balloon_config bc;
	struct hv_virtio_balloon *bal;
	int ret;

	hv_virtio_balloon_config_init(&bc);
	bc.vm = m->vm;
	ret = hv_virtio_balloon_create(&bc, &bal);
	if (ret)
		return ret;
	snprintf(v->name, sizeof(v->name), "virtio-balloon");
	add_device(m, hv_virtio_balloon_dev(bal), bal, destroy_balloon);
	m->balloon = bal;
	return 0;
}

HV_EXPORT struct hv_virtio_balloon *hv_microvm_balloon(struct hv_microvm *m)
{
	return m->balloon;
}

int hv_microvm_create_virtio(struct hv_microvm *m, const struct hv_microvm_config *cfg)
{
	int ret = 0;

	for (uint32_t i = 0; i < cfg->nr_disks && !ret; i++)
		ret = add_disk(m, &cfg->disks[i], i);
	if (!ret && (cfg->flags & HV_MICROVM_F_RNG))
		ret = add_rng(m);
	if (!ret && cfg->vsock_cid)
		ret = add_vsock(m, cfg->vsock_cid);
	if (!ret && (cfg->flags & HV_MICROVM_F_BALLOON))
		ret = add_balloon(m);
	return ret;
}

void hv_microvm_destroy_virtio(struct hv_microvm *m)
{
	/* Transports first: once off the bus no vCPU can reach a device. */
	for (uint32_t i = 0; i < m->nr_virtio; i++) {
		hv_virtio_mmio_destroy(m->virtio[i].mmio);
		hv_virtio_pci_destroy(m->virtio[i].pci);
	}
	hv_pci_host_destroy(m->pci_host);
	m->pci_host = NULL;
	for (uint32_t i = 0; i < m->nr_virtio; i++)
		m->virtio[i].destroy_backend(m->virtio[i].backend);
	m->nr_virtio = 0;
	m->balloon = NULL;
}
