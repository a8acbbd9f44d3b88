/* SPDX-License-Identifier: MIT */
/*
 * hvlib/mem.h - guest-physical memory map.
 *
 * A struct hv_mem is a set of non-overlapping regions of guest-physical
 * address space, each backed by host memory that hvlib maps (anonymous, memfd,
 * file) or that the caller supplies.  It works on its own, without KVM (for
 * loaders and device models under test); a VM owns one (hv_vm_mem()) whose
 * regions are mirrored into KVM memory slots as they are added and removed.
 *
 * Guest addresses are untrusted: hv_mem_translate() returns a host pointer
 * only when the whole range [gpa, gpa + len) lies inside one region, with
 * every sum checked for overflow.  The copy helpers may span adjacent regions.
 *
 * Threading: the map may change while the guest runs.  translate, read,
 * write, hv_mem_regions() and hv_mem_region_info() may run on any thread at
 * any time, also while another thread adds or removes regions: they never
 * block (they see the map as it was just before or just after a change), and
 * a copy by hv_mem_read()/hv_mem_write() finishes before a region it copies
 * from is unmapped.  Changes (add, remove, dirty-log toggling) are
 * serialised with each other; a removal returns once no reader can still
 * see the region, so HV_MEM_HOST memory may be unmapped by the caller then.
 * vCPUs keep running across a change (KVM swaps its slots atomically).
 *
 * Pointers from hv_mem_translate() are the caller's to keep safe: they stay
 * valid until their region is removed, and hvlib does not know they exist.
 * hvlib's own users of guest memory do: a running virtqueue (any device on
 * hv_virtq_pop()/hv_virtq_push(), built-in or the embedder's) pins the
 * regions of its rings, and of buffers it has popped and not yet pushed,
 * and hv_mem_remove_region() refuses them with -EBUSY until the queue is
 * stopped or its device reset (or the buffers are pushed).  vhost-vsock is
 * given the new map on every change; a device whose running rings no
 * longer lie where the guest put them (which the pins prevent) would be
 * marked DEVICE_NEEDS_RESET rather than touch the memory.  An embedder that
 * keeps its own translated pointers (its own device thread, say) must not
 * remove their region meanwhile: it is the one removing regions.
 *
 * Removal order inside hvlib: the region leaves the map (new lookups fail,
 * new pins fail), KVM's slot is deleted and vhost gets the new table, then
 * the memory is unmapped.  Regions are added the other way round: mapped,
 * KVM slot, visible, vhost told.
 */
#ifndef HVLIB_MEM_H
#define HVLIB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_mem;

/* What backs a region (struct hv_mem_region_config.backing). */
enum hv_mem_backing {
	HV_MEM_ANON = 0,  /* private anonymous memory, zero-filled */
	/* A memfd hvlib creates: shareable with other processes, snapshot-ready.
	 * Sealed F_SEAL_SHRINK | F_SEAL_GROW before anyone sees the fd: no
	 * holder can resize it under the mapping (ftruncate() fails with
	 * -EPERM); its content stays writable. */
	HV_MEM_MEMFD = 1,
	HV_MEM_FILE = 2,  /* the caller's file descriptor, mapped shared (or private with HV_MEM_F_PRIVATE) */
	HV_MEM_HOST = 3,  /* the caller's own page-aligned mapping; it must outlive the region */
};

/* Region flags. */
#define HV_MEM_F_READONLY  (1u << 0) /* guest writes exit as MMIO (ROM); the host may still write */
#define HV_MEM_F_HUGEPAGES (1u << 1) /* 2 MiB hugepages (anon, memfd); -ENOMEM if the pool is short */
#define HV_MEM_F_DIRTY_LOG (1u << 2) /* start with dirty-page logging enabled */
#define HV_MEM_F_PRIVATE   (1u << 3) /* HV_MEM_FILE: copy-on-write, the file is never written */
#define HV_MEM_F_ALL       0xfu

struct hv_mem_region_config {
	uint32_t size;     /* sizeof(struct hv_mem_region_config) */
	uint32_t flags;    /* HV_MEM_F_*; unknown bits: -EINVAL */
	uint32_t backing;  /* enum hv_mem_backing */
	int32_t fd;        /* HV_MEM_FILE: file to map; hvlib dup()s it, the caller keeps its own */
	uint64_t gpa;      /* guest-physical start, page aligned */
	uint64_t bytes;    /* length, page aligned (2 MiB aligned with HV_MEM_F_HUGEPAGES) */
	uint64_t fd_offset; /* HV_MEM_FILE: page-aligned offset into the file */
	void *host_addr;   /* HV_MEM_HOST: the caller's mapping, page aligned */
	const char *name;  /* optional, for messages and the memfd name; copied */
};

/* Read-only description of a region. */
struct hv_mem_region_info {
	uint32_t id;
	uint32_t flags;    /* current HV_MEM_F_* (dirty logging may have been toggled) */
	uint32_t backing;
	int32_t fd;        /* memfd or file descriptor owned by hvlib, -1 if none; do not close */
	uint64_t gpa;
	uint64_t bytes;
	void *host_addr;
	const char *name;  /* valid while the region exists */
	uint64_t reserved_tail[4]; /* room to grow: 0 today; later fields take it */
};

/* Fill *cfg with its size and defaults (backing HV_MEM_ANON, fd -1). */
HV_EXPORT void hv_mem_region_config_init(struct hv_mem_region_config *cfg);

/* A standalone memory map, not attached to any VM.  -ENOMEM. */
HV_EXPORT int hv_mem_create(struct hv_mem **out);

/* Unmaps every region hvlib mapped and closes its fds.  NULL: no-op.
 * Only for maps from hv_mem_create(); a VM's map dies with the VM.  Devices
 * using the map must be destroyed first; nothing may read it meanwhile. */
HV_EXPORT void hv_mem_destroy(struct hv_mem *mem);

/* Map and add a region; its id (also its KVM slot number) goes to *id_out.
 * Safe while vCPUs and devices run: it becomes visible at once.
 * -EINVAL: bad size/flags/backing/alignment; -EEXIST: overlaps a region;
 * -EOVERFLOW: gpa + bytes wraps; -ENOMEM / -EBADF / other mmap errors;
 * -ENOSPC: no free slot; a KVM error when attached to a VM.  In a VM also
 * -EEXIST: a writable region over one of its MMIO ranges (hvlib/bus.h), and
 * -ENOSPC: its ledger refuses the bytes ("admission: ...", hvlib/ledger.h). */
HV_EXPORT int hv_mem_add_region(struct hv_mem *mem, const struct hv_mem_region_config *cfg,
				uint32_t *id_out);

/* Remove a region and unmap what hvlib mapped, once no reader is inside
 * it.  -ENOENT: no such id; -EBUSY: a running virtqueue holds its rings or
 * unfinished buffers in it (stop the queue or reset the device, or let the
 * buffers complete, and retry).  Safe while vCPUs and devices run. */
HV_EXPORT int hv_mem_remove_region(struct hv_mem *mem, uint32_t id);

/* Describe region id.  -ENOENT. */
HV_EXPORT int hv_mem_region_info(const struct hv_mem *mem, uint32_t id,
				 struct hv_mem_region_info *info);

/* Ids of all regions, in ascending gpa order: writes up to max ids and
 * returns how many regions exist (which may exceed max). */
HV_EXPORT int hv_mem_regions(const struct hv_mem *mem, uint32_t *ids, uint32_t max);

/* Host pointer for [gpa, gpa + len), which must lie inside one region.
 * len 0 is treated as 1.  -EFAULT: not entirely backed by one region
 * (including overflow of gpa + len). */
HV_EXPORT int hv_mem_translate(const struct hv_mem *mem, uint64_t gpa, uint64_t len, void **hva);

/* Copy between guest memory and a host buffer.  The range may span regions
 * that are contiguous in guest-physical space.  -EFAULT if any byte is not
 * backed (nothing is copied then).  hv_mem_write ignores HV_MEM_F_READONLY:
 * the host may load ROM images. */
HV_EXPORT int hv_mem_read(const struct hv_mem *mem, uint64_t gpa, void *buf, size_t len);
HV_EXPORT int hv_mem_write(struct hv_mem *mem, uint64_t gpa, const void *buf, size_t len);

/* Turn dirty-page logging of a region on or off.  -ENOENT, KVM errors. */
HV_EXPORT int hv_mem_set_dirty_log(struct hv_mem *mem, uint32_t id, bool enable);

/* Fetch and clear the dirty bitmap of a region (one bit per 4 KiB page, bit
 * n of 64-bit word n / 64 is page n % 64).  bitmap_bytes must be at least
 * hv_mem_dirty_bitmap_bytes().  -ENOENT; -EINVAL: logging off or buffer too
 * small; -EOPNOTSUPP: the map is not attached to a VM. */
HV_EXPORT int hv_mem_get_dirty_log(struct hv_mem *mem, uint32_t id, uint64_t *bitmap,
				   size_t bitmap_bytes);

/* Bytes needed for the dirty bitmap of a region of this length. */
HV_EXPORT size_t hv_mem_dirty_bitmap_bytes(uint64_t region_bytes);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_MEM_H */
