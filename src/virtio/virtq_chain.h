/* SPDX-License-Identifier: MIT */
/* Descriptor chain walking, shared by the queue code and its tests. */
#ifndef HV_VIRTIO_VIRTQ_CHAIN_H
#define HV_VIRTIO_VIRTQ_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_internal.h"


/* Walk the chain starting at head (q->lock held) into bufs/req.  0, or
 * -EIO with the reason in why. */
int hv_virtq_walk_chain(struct hv_virtq *q, uint16_t head, struct hv_virtq_buf *bufs,
			uint32_t max_bufs, struct hv_virtq_req *req, char *why, size_t why_len);

#endif /* HV_VIRTIO_VIRTQ_CHAIN_H */
