/* SPDX-License-Identifier: MIT */
/* The feature bits hvlib's core offers every device.  Alone in its header:
 * vhost code includes <linux/vhost.h>, whose ring types clash with vring.h. */
#ifndef HV_VIRTIO_CORE_FEATURES_H
#define HV_VIRTIO_CORE_FEATURES_H

#include "hvlib/virtio.h"

/* Implemented by the core for every device; a device served elsewhere
 * (vhost) must honour all of it. */
#define HV_VIRTIO_CORE_FEATURES \
	(HV_VIRTIO_F_VERSION_1 | HV_VIRTIO_F_EVENT_IDX | HV_VIRTIO_F_INDIRECT_DESC)

#endif /* HV_VIRTIO_CORE_FEATURES_H */
