/* SPDX-License-Identifier: MIT */
/*
 * The micro-VM's virtio devices: disks, the rng, the console and network
 * interfaces are created here from the config, through the same public
 * device API an embedder uses; the arch platform gives each one its MMIO
 * window, interrupt and firmware entry (hv_arch_microvm_setup()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hvlib/ioloop.h"
#include "hvlib/virtio.h"
#include "hvlib/virtio_vsock.h"
#include "hvlib/virtio_pci.h"
#include "hvlib/virtio_balloon.h"
#include "hvlib/virtio_console.h"
#include "hvlib/virtio_net.h"
#include "microvm/microvm_internal.h"
#include "util/ioloop_internal.h"
#include "util/thread.h"
#include "util/config.h"
#include "util/error.h"

HV_EXPORT void hv_microvm_disk_init(struct hv_microvm_disk *disk)
{
	HV_CHECK_ARG_RET(disk, );
	memset(disk, 0, sizeof(*disk));
	disk->size = sizeof(*disk);
}

HV_EXPORT void hv_microvm_net_init(struct hv_microvm_net *net)
{
	HV_CHECK_ARG_RET(net, );
	memset(net, 0, sizeof(*net));
	net->size = sizeof(*net);
}

/* Element i of the caller's disks[] / nets[], indexed by the caller's element
 * size, as a full-size local copy (util/config.h). */
static int get_disk(const struct hv_microvm_config *cfg, uint32_t i, struct hv_microvm_disk *d)
{
	int ret = hv_cfg_stride(cfg->disks, cfg->nr_disks, "micro-VM config: disks",
				"hv_microvm_disk_init()");

	if (ret >= 0)
		ret = HV_CFG_LOAD(d, hv_cfg_elem(cfg->disks, (uint32_t)ret, i), hv_microvm_disk_init,
				  "micro-VM disk");
	return ret < 0 ? hv_err_context(ret, "disk %u", i) : 0;
}

static int get_net(const struct hv_microvm_config *cfg, uint32_t i, struct hv_microvm_net *n)
{
	int ret = hv_cfg_stride(cfg->nets, cfg->nr_nets, "micro-VM config: nets",
				"hv_microvm_net_init()");

	if (ret >= 0)
		ret = HV_CFG_LOAD(n, hv_cfg_elem(cfg->nets, (uint32_t)ret, i), hv_microvm_net_init,
				  "micro-VM network interface");
	return ret < 0 ? hv_err_context(ret, "network interface %u", i) : 0;
}

static int check_nets(const struct hv_microvm_config *cfg)
{
	struct hv_microvm_net n;

	for (uint32_t i = 0; i < cfg->nr_nets; i++) {
		int ret = get_net(cfg, i, &n);

		if (ret)
			return ret;
		if (n.flags & ~HV_MICROVM_NET_F_ALL)
			return hv_err(-EINVAL, "micro-VM config: network interface %u: unknown "
					       "flags 0x%x", i, n.flags & ~HV_MICROVM_NET_F_ALL);
		if (!n.tap || !n.tap[0])
			return hv_err(-EINVAL, "micro-VM config: network interface %u: no tap "
					       "name", i);
		if (n.reserved[0] || n.reserved[1])
			return hv_err(-EINVAL, "micro-VM config: network interface %u: reserved[] "
					       "is %02x %02x, must be 0", i, n.reserved[0],
				      n.reserved[1]);
	}
	return 0;
}

static int check_disks(const struct hv_microvm_config *cfg)
{
	struct hv_microvm_disk d;

	for (uint32_t i = 0; i < cfg->nr_disks; i++) {
		int ret = get_disk(cfg, i, &d);

		if (ret)
			return ret;
		if (d.flags & ~HV_MICROVM_DISK_F_ALL)
			return hv_err(-EINVAL, "micro-VM config: disk %u: unknown flags 0x%x", i,
				      d.flags & ~HV_MICROVM_DISK_F_ALL);
		if (!d.path || !d.path[0])
			return hv_err(-EINVAL, "micro-VM config: disk %u: no path (the image file "
					       "is required)", i);
	}
	return 0;
}

int hv_microvm_check_virtio(const struct hv_microvm_config *cfg)
{
	uint64_t n = (uint64_t)cfg->nr_disks + cfg->nr_nets +
		     ((cfg->flags & HV_MICROVM_F_RNG) ? 1 : 0) +
		     (cfg->console == HV_MICROVM_CONSOLE_VIRTIO ? 1 : 0) + (cfg->vsock_cid ? 1 : 0) +
		     ((cfg->flags & HV_MICROVM_F_BALLOON) ? 1 : 0);
	int ret;

	if (cfg->reserved)
		return hv_err(-EINVAL, "micro-VM config: reserved is 0x%x, must be 0", cfg->reserved);
	if (cfg->transport != HV_MICROVM_TRANSPORT_MMIO && cfg->transport != HV_MICROVM_TRANSPORT_PCI)
		return hv_err(-EINVAL, "micro-VM config: unknown virtio transport %u (0: mmio, "
				       "1: pci)", cfg->transport);
	if (cfg->console > HV_MICROVM_CONSOLE_VIRTIO)
		return hv_err(-EINVAL, "micro-VM config: console %u (HV_MICROVM_CONSOLE_SERIAL or "
				       "_VIRTIO)", cfg->console);
	if (n > HV_MICROVM_MAX_VIRTIO)
		return hv_err(-EINVAL, "micro-VM config: %llu virtio devices, at most %u",
			      (unsigned long long)n, HV_MICROVM_MAX_VIRTIO);
	/* Checked here too, so a bad CID fails before KVM is opened. */
	if (cfg->vsock_cid && (cfg->vsock_cid < HV_VSOCK_CID_MIN ||
			       cfg->vsock_cid > HV_VSOCK_CID_MAX))
		return hv_err(-EINVAL, "micro-VM config: vsock CID %llu is reserved or out of "
				       "range (%u..%u)", (unsigned long long)cfg->vsock_cid,
			      HV_VSOCK_CID_MIN, HV_VSOCK_CID_MAX);
	ret = check_nets(cfg);
	return ret ? ret : check_disks(cfg);
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
	bc.ioloop = m->ioloop;
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
	rc.ioloop = m->ioloop;
	ret = hv_virtio_rng_create(&rc, &rng);
	if (ret)
		return ret;
	snprintf(v->name, sizeof(v->name), "virtio-rng");
	add_device(m, hv_virtio_rng_dev(rng), rng, destroy_rng);
	return 0;
}

static void destroy_console(void *backend)
{
	hv_virtio_console_destroy(backend);
}

static void destroy_net(void *backend)
{
	hv_virtio_net_destroy(backend);
}

/* The console sinks of the config, on hvc0 instead of the UART. */
static int add_console(struct hv_microvm *m, const struct hv_microvm_config *cfg)
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio];
	struct hv_virtio_console_config cc;
	struct hv_virtio_console *con;
	int ret;

	hv_virtio_console_config_init(&cc);
	cc.output = cfg->console_fn;
	cc.opaque = cfg->console_opaque;
	cc.output_fd = cfg->console_fn ? -1 : cfg->console_out_fd;
	cc.vm = m->vm;
	cc.ioloop = m->ioloop;
	snprintf(v->name, sizeof(v->name), "virtio-console");
	cc.name = v->name;
	ret = hv_virtio_console_create(&cc, &con);
	if (ret)
		return hv_err_context(ret, "console");
	m->vcon = con;
	add_device(m, hv_virtio_console_dev(con), con, destroy_console);
	return 0;
}

static int add_net(struct hv_microvm *m, const struct hv_microvm_net *n, uint32_t i)
{
	struct hv_microvm_virtio *v = &m->virtio[m->nr_virtio];
	struct hv_virtio_net_config nc;
	struct hv_virtio_net *net;
	int ret;

	hv_virtio_net_config_init(&nc);
	nc.tap = n->tap;
	if (n->flags & HV_MICROVM_NET_F_MAC) {
		nc.flags |= HV_VIRTIO_NET_F_MAC;
		memcpy(nc.mac, n->mac, sizeof(nc.mac));
	}
	nc.vm = m->vm;
	nc.ioloop = m->ioloop;
	snprintf(v->name, sizeof(v->name), "virtio-net%u", i);
	nc.name = v->name;
	ret = hv_virtio_net_create(&nc, &net);
	if (ret)
		return hv_err_context(ret, "network interface %u", i);
	add_device(m, hv_virtio_net_dev(net), net, destroy_net);
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
	bc.ioloop = m->ioloop;
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
	HV_CHECK_ARG_RET(m, NULL);
	return m->balloon;
}

int hv_microvm_create_virtio(struct hv_microvm *m, const struct hv_microvm_config *cfg)
{
	int ret = 0;

	/* One I/O thread serves every device's queue notifications (vsock has
	 * vhost's threads instead) and the UART's output batching timer. */
	if (cfg->nr_disks || cfg->nr_nets || cfg->console == HV_MICROVM_CONSOLE_VIRTIO ||
	    cfg->console_fn || cfg->console_out_fd >= 0 ||
	    (cfg->flags & (HV_MICROVM_F_RNG | HV_MICROVM_F_BALLOON))) {
		ret = hv_ioloop_create_thread(&m->ioloop, (cfg->flags & HV_MICROVM_F_SECCOMP)
								  ? HV_THREAD_F_SECCOMP : 0);
		if (ret)
			return hv_err_context(ret, "the virtio I/O thread");
	}

	for (uint32_t i = 0; i < cfg->nr_disks && !ret; i++) {
		struct hv_microvm_disk d;

		ret = get_disk(cfg, i, &d);
		if (!ret)
			ret = add_disk(m, &d, i);
	}
	if (!ret && (cfg->flags & HV_MICROVM_F_RNG))
		ret = add_rng(m);
	if (!ret && cfg->console == HV_MICROVM_CONSOLE_VIRTIO)
		ret = add_console(m, cfg);
	for (uint32_t i = 0; i < cfg->nr_nets && !ret; i++) {
		struct hv_microvm_net n;

		ret = get_net(cfg, i, &n);
		if (!ret)
			ret = add_net(m, &n, i);
	}
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
	/* Last: the transports' teardown waited for the notifies it ran. */
	hv_ioloop_destroy(m->ioloop);
	m->ioloop = NULL;
	m->nr_virtio = 0;
	m->balloon = NULL;
	m->vcon = NULL;
}
