/* SPDX-License-Identifier: MIT */
/* Creating and releasing the host memory behind a guest memory region. */
#ifndef HV_MEM_BACKING_H
#define HV_MEM_BACKING_H

#include "mem/mem_internal.h"

/* Map the backing cfg asks for; sets r->host, r->fd, r->unmap. */
int hv_mem_backing_map(struct hv_mem_region *r, const struct hv_mem_region_config *cfg);
void hv_mem_backing_release(struct hv_mem_region *r);

#endif /* HV_MEM_BACKING_H */
