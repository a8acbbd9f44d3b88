/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci queue notify eventfds: a device that serves a queue off the
 * vCPU threads (vhost) gets the driver's notifications of that queue as
 * a KVM ioeventfd at the queue's notify address,
 *	BAR 0 + VPCI_NOTIFY_OFF + queue_notify_off * notify_off_multiplier
 * (queue_notify_off is the queue index here).  Width 2, no datamatch: the
 * driver writes the 16-bit queue index (virtio 1.2, 4.1.5.2; Linux's
 * vp_notify() is an iowrite16), and each queue has an address of its own,
 * so any value written there is a notification of that queue.  Other
 * widths still exit to hv_virtio_pci_bar_io(), which notifies the same
 * queue, so nothing is lost either way.
 *
 * The guest owns BAR 0: it may move it or turn Memory Space Enable off at
 * any time, through config space (ECAM or port 0xcf8, on a vCPU thread).
 * The ioeventfds follow: assigned while the BAR decodes inside the host's
 * aperture (the only place the host routes it), removed otherwise, moved
 * when the address changes.  KVM_IOEVENTFD is a plain VM ioctl, not a bus
 * registration, so it is safe from inside a bus callback.
 */
#include <errno.h>

#include "util/error.h"
#include "virtio/pci_internal.h"

/* The notify region's guest address while BAR 0 decodes in the aperture,
 * else 0. */
static uint64_t decoded_base(struct hv_virtio_pci *vp)
{
	const struct hv_pci_host_config *hc = hv_pci_host_get_config(vp->host);
	uint64_t bar = __atomic_load_n(&vp->func.bar_addr[0], __ATOMIC_ACQUIRE);

	if (!bar || bar < hc->mmio_base || bar - hc->mmio_base >= hc->mmio_len ||
	    HV_VIRTIO_PCI_BAR_SIZE > hc->mmio_len - (bar - hc->mmio_base))
		return 0;
	return bar + VPCI_NOTIFY_OFF;
}

static int assign(struct hv_virtio_pci *vp, uint32_t q, bool on)
{
	return hv_vm_ioeventfd(vp->vm, vp->notify_fds[q], HV_BUS_MMIO,
			       vp->notify_base + q * VPCI_NOTIFY_MULT, 2, 0,
			       on ? 0 : HV_IOEVENTFD_F_DEASSIGN);
}

/* Drop queue q's ioeventfd, if assigned (notify_lock held). */
static void unassign(struct hv_virtio_pci *vp, uint32_t q)
{
	if (!vp->notify_on[q])
		return;
	if (assign(vp, q, false))
		hv_virtio_dev_logf(vp->dev, HV_LOG_WARN, "queue %u: %s", q, hv_last_error());
	vp->notify_on[q] = false;
}

int hv_virtio_pci_notify_init(struct hv_virtio_pci *vp)
{
	const struct hv_pci_host_config *hc = hv_pci_host_get_config(vp->host);

	if (pthread_mutex_init(&vp->notify_lock, NULL))
		return hv_err(-ENOMEM, "virtio-pci notify lock");
	for (uint32_t q = 0; q < HV_VIRTIO_MAX_QUEUES; q++)
		vp->notify_fds[q] = -1;
	/* Guest-physical notify addresses only exist on the VM's own bus. */
	if (hc->vm && (!hc->mmio_bus || hc->mmio_bus == hv_vm_bus(hc->vm, HV_BUS_MMIO)))
		vp->vm = hc->vm;
	return 0;
}

void hv_virtio_pci_notify_fini(struct hv_virtio_pci *vp)
{
	/* The core unwired every fd when the transport detached. */
	pthread_mutex_destroy(&vp->notify_lock);
}

int hv_virtio_pci_set_notify_fd(void *opaque, uint32_t queue, int fd)
{
	struct hv_virtio_pci *vp = opaque;
	int ret = 0;

	pthread_mutex_lock(&vp->notify_lock);
	unassign(vp, queue);
	vp->notify_fds[queue] = fd;
	/* Not decoding yet: assigned when the guest enables the BAR. */
	if (fd >= 0 && vp->notify_base) {
		ret = assign(vp, queue, true);
		vp->notify_on[queue] = !ret;
		if (ret)
			vp->notify_fds[queue] = -1; /* the core forgets it too */
	}
	pthread_mutex_unlock(&vp->notify_lock);
	return ret;
}

void hv_virtio_pci_notify_follow_bar(struct hv_virtio_pci *vp)
{
	uint64_t base;

	if (!vp->vm)
		return;
	base = decoded_base(vp);
	pthread_mutex_lock(&vp->notify_lock);
	if (base == vp->notify_base) {
		pthread_mutex_unlock(&vp->notify_lock);
		return;
	}
	for (uint32_t q = 0; q < vp->dev->nr_queues; q++)
		unassign(vp, q);
	vp->notify_base = base;
	for (uint32_t q = 0; base && q < vp->dev->nr_queues; q++) {
		if (vp->notify_fds[q] < 0)
			continue;
		/* A failure (e.g. the guest put two BARs on one address) leaves
		 * the queue on the exit path, which notifies it all the same. */
		vp->notify_on[q] = !assign(vp, q, true);
		if (!vp->notify_on[q])
			hv_virtio_dev_logf(vp->dev, HV_LOG_WARN, "queue %u notifications stay on "
					   "the vCPU exit path: %s", q, hv_last_error());
		else
			hv_virtio_dev_logf(vp->dev, HV_LOG_DEBUG, "queue %u notifications at 0x%llx "
					   "go to eventfd %d", q,
					   (unsigned long long)(base + q * VPCI_NOTIFY_MULT),
					   vp->notify_fds[q]);
	}
	pthread_mutex_unlock(&vp->notify_lock);
}
