/* SPDX-License-Identifier: MIT */
/*
 * A virtio device following the guest memory map.  A running queue pins
 * the regions of its rings (hv_virtq_start()), so they cannot be removed
 * under it; this listener is the check that no map change ever leaves a
 * running queue with ring pointers that no longer mean what the guest set
 * up: such a queue stops serving (broken) and the device needs a reset,
 * rather than touching memory that is gone.  A stopped queue translates
 * its rings again when enabled, and fails then if they are gone.
 */
#include <stdio.h>

#include "virtio/virtio_internal.h"

/* Whether [gpa, gpa + len) still translates to hva (q->lock held). */
static bool still_at(struct hv_virtio_dev *dev, uint64_t gpa, uint64_t len, const void *hva)
{
	struct hv_mem_region r;

	if (!hv_mem_find(dev->mem, gpa, &r) || len > r.bytes - (gpa - r.gpa))
		return false;
	return r.host + (gpa - r.gpa) == (const uint8_t *)hva;
}

static bool rings_intact(struct hv_virtq *q)
{
	return still_at(q->dev, q->desc_gpa, vring_desc_bytes(q->size), q->desc) &&
	       still_at(q->dev, q->avail_gpa, vring_avail_bytes(q->size), q->avail) &&
	       still_at(q->dev, q->used_gpa, vring_used_bytes(q->size), q->used);
}

static void map_changed(void *opaque, struct hv_mem *mem)
{
	struct hv_virtio_dev *dev = opaque;
	char why[96] = "";

	(void)mem;
	for (uint32_t i = 0; i < dev->nr_queues; i++) {
		struct hv_virtq *q = &dev->queues[i];

		pthread_mutex_lock(&q->lock);
		if (q->running && !q->broken && !rings_intact(q)) {
			q->broken = true;
			snprintf(why, sizeof(why), "queue %u: its rings left guest memory", i);
		}
		pthread_mutex_unlock(&q->lock);
	}
	if (why[0])
		hv_virtio_dev_needs_reset(dev, why);
}

static const struct hv_mem_listener dev_listener = {
	.map_changed = map_changed,
};

int hv_virtio_dev_mem_listen(struct hv_virtio_dev *dev)
{
	return hv_mem_listener_add(dev->mem, &dev_listener, dev);
}

void hv_virtio_dev_mem_unlisten(struct hv_virtio_dev *dev)
{
	hv_mem_listener_remove(dev->mem, &dev_listener, dev);
}
