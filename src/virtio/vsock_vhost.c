/* SPDX-License-Identifier: MIT */
/*
 * The vhost-vsock backend: hand the kernel the negotiated features, the
 * guest memory map and the rings, and let it move the packets.  Every ring
 * address the guest gave is translated and bounds-checked here before vhost
 * sees a host address.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/error.h"
#include "virtio/core_features.h"
#include "virtio/vsock_internal.h"
#include "vm/vm_internal.h"

static int vhost_ioctl(struct hv_virtio_vsock *v, unsigned long req, const void *arg)
{
	return hv_kvm_ioctl(v->vhost_fd, req, (void *)(uintptr_t)arg);
}

static int open_device(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return hv_err(-ENOENT, "%s: no such device; load the vhost-vsock module "
				       "(modprobe vhost_vsock)", path);
	if (errno == EACCES || errno == EPERM)
		return hv_err(-EACCES, "%s: permission denied (usually root only; run as root "
				       "or grant access with a udev rule)", path);
	return hv_err_sys(-errno, "opening %s", path);
}

int hv_vsock_vhost_open(struct hv_virtio_vsock *v, const char *path, uint64_t *features)
{
	int ret;

	v->vhost_fd = open_device(path);
	if (v->vhost_fd < 0)
		return v->vhost_fd;
	ret = vhost_ioctl(v, VHOST_SET_OWNER, NULL);
	if (ret == -ENOTTY || ret == -EINVAL)
		return hv_err(-ENOTSUP, "%s: not a vhost device (VHOST_SET_OWNER: %s)", path,
			      strerror(-ret));
	if (ret)
		return hv_err_sys(ret, "%s: VHOST_SET_OWNER", path);
	ret = vhost_ioctl(v, VHOST_GET_FEATURES, features);
	if (ret)
		return hv_err_sys(ret, "%s: VHOST_GET_FEATURES", path);
	if ((*features & HV_VIRTIO_CORE_FEATURES) != HV_VIRTIO_CORE_FEATURES)
		return hv_err(-ENOTSUP, "%s: vhost lacks features 0x%llx (VERSION_1, EVENT_IDX, "
				       "INDIRECT_DESC) that hvlib offers every device", path,
			      (unsigned long long)(HV_VIRTIO_CORE_FEATURES & ~*features));
	ret = vhost_ioctl(v, VHOST_VSOCK_SET_GUEST_CID, &v->cid);
	if (ret == -EADDRINUSE)
		return hv_err(ret, "%s: guest CID %llu is already in use by another VM on this "
				   "host", path, (unsigned long long)v->cid);
	if (ret == -ENOTTY)
		return hv_err(-ENOTSUP, "%s: not a vhost-vsock device (VHOST_VSOCK_SET_GUEST_CID: "
				       "%s)", path, strerror(-ret));
	if (ret)
		return hv_err_sys(ret, "%s: VHOST_VSOCK_SET_GUEST_CID %llu", path,
				  (unsigned long long)v->cid);
	return 0;
}

/* The guest RAM map as it is now; ROM is left out so vhost never writes it.
 * Regions may come and go meanwhile (listed ids that vanished are
 * skipped); the listener sends the table again after each change. */
int hv_vsock_vhost_set_mem_table(struct hv_virtio_vsock *v)
{
	struct hv_mem *mem = hv_vm_mem(v->vm);
	int n = hv_mem_regions(mem, NULL, 0), cap, ret = -ENOMEM;
	uint32_t *ids = calloc(n ? (size_t)n : 1, sizeof(*ids));
	struct vhost_memory *table = calloc(1, sizeof(*table) +
					    (size_t)n * sizeof(table->regions[0]));

	if (!ids || !table) {
		ret = hv_err(-ENOMEM, "allocating the vhost memory table");
		goto out;
	}
	cap = n;
	n = hv_mem_regions(mem, ids, (uint32_t)cap);
	for (int i = 0; i < n && i < cap; i++) {
		struct hv_mem_region_info info;

		if (hv_mem_region_info(mem, ids[i], &info) || (info.flags & HV_MEM_F_READONLY))
			continue;
		table->regions[table->nregions++] = (struct vhost_memory_region){
			.guest_phys_addr = info.gpa,
			.memory_size = info.bytes,
			.userspace_addr = (uintptr_t)info.host_addr,
		};
	}
	ret = vhost_ioctl(v, VHOST_SET_MEM_TABLE, table);
	if (ret)
		ret = hv_err_sys(ret, "VHOST_SET_MEM_TABLE with %u regions", table->nregions);
out:
	free(ids);
	free(table);
	return ret;
}

/* Host address of one ring, checked to lie whole in guest RAM. */
static int ring(const struct hv_mem *mem, uint32_t q, const char *what, uint64_t gpa,
		uint64_t bytes, uint64_t *hva)
{
	void *p;
	int ret = hv_mem_translate(mem, gpa, bytes, &p);

	if (ret)
		return hv_err_context(ret, "queue %u %s ring", q, what);
	*hva = (uintptr_t)p;
	return 0;
}

int hv_vsock_ring_hva(const struct hv_mem *mem, uint32_t q, const struct hv_vsock_ring *r,
		      uint64_t hva[3])
{
	uint64_t extra = r->event_idx ? 2 : 0;
	int ret = ring(mem, q, "descriptor", r->desc, 16ull * r->size, &hva[0]);

	if (!ret)
		ret = ring(mem, q, "available", r->avail, 4 + 2ull * r->size + extra, &hva[1]);
	if (!ret)
		ret = ring(mem, q, "used", r->used, 4 + 8ull * r->size + extra, &hva[2]);
	return ret;
}

static int set_vring(struct hv_virtio_vsock *v, uint32_t q)
{
	struct vhost_vring_addr addr = { .index = q };
	struct vhost_vring_state num = { .index = q }, base = { .index = q };
	struct vhost_vring_file kick = { .index = q, .fd = v->kick_fds[q] };
	struct vhost_vring_file call = { .index = q, .fd = v->call_fds[q] };
	struct hv_vsock_ring r;
	uint64_t hva[3];
	int ret;

	hv_vsock_queue_ring(v, q, &r);
	if (!r.ok)
		return hv_err(-EIO, "queue %u is not enabled (or broken) at DRIVER_OK", q);
	num.num = r.size;
	base.num = r.last_avail;
	ret = hv_vsock_ring_hva(hv_vm_mem(v->vm), q, &r, hva);
	if (ret)
		return ret;
	addr.desc_user_addr = hva[0];
	addr.avail_user_addr = hva[1];
	addr.used_user_addr = hva[2];
	if ((ret = vhost_ioctl(v, VHOST_SET_VRING_NUM, &num)) ||
	    (ret = vhost_ioctl(v, VHOST_SET_VRING_BASE, &base)) ||
	    (ret = vhost_ioctl(v, VHOST_SET_VRING_ADDR, &addr)) ||
	    (ret = vhost_ioctl(v, VHOST_SET_VRING_KICK, &kick)) ||
	    (ret = vhost_ioctl(v, VHOST_SET_VRING_CALL, &call)))
		return hv_err_sys(ret, "queue %u: vhost refused the ring (size %u, desc 0x%llx, "
				       "avail 0x%llx, used 0x%llx)", q, num.num,
				  (unsigned long long)r.desc, (unsigned long long)r.avail,
				  (unsigned long long)r.used);
	return 0;
}

int hv_vsock_vhost_start(struct hv_virtio_vsock *v)
{
	uint64_t features = hv_virtio_dev_features(v->dev);
	int running = 1, ret;

	ret = vhost_ioctl(v, VHOST_SET_FEATURES, &features);
	if (ret)
		return hv_err_sys(ret, "VHOST_SET_FEATURES 0x%llx", (unsigned long long)features);
	ret = hv_vsock_vhost_set_mem_table(v);
	for (uint32_t q = 0; !ret && q < HV_VSOCK_VHOST_QUEUES; q++)
		ret = set_vring(v, q);
	if (ret)
		return ret;
	ret = vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &running);
	if (ret)
		return hv_err_sys(ret, "VHOST_VSOCK_SET_RUNNING 1");
	v->running = true;
	return 0;
}

int hv_vsock_vhost_stop(struct hv_virtio_vsock *v)
{
	int running = 0, ret;

	if (!v->running)
		return 0;
	/* Synchronous: once it returns, vhost no longer touches the rings. */
	ret = vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &running);
	v->running = false;
	return ret ? hv_err_sys(ret, "VHOST_VSOCK_SET_RUNNING 0") : 0;
}
