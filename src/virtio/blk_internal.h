/* SPDX-License-Identifier: MIT */
/* virtio-blk (virtio 1.2, 5.2): wire format and device state. */
#ifndef HV_VIRTIO_BLK_INTERNAL_H
#define HV_VIRTIO_BLK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlib/virtio.h"
#include "virtio/chain_epoch.h"

#define VIRTIO_BLK_F_SIZE_MAX     (1ull << 1)
#define VIRTIO_BLK_F_SEG_MAX      (1ull << 2)
#define VIRTIO_BLK_F_RO           (1ull << 5)
#define VIRTIO_BLK_F_BLK_SIZE     (1ull << 6)
#define VIRTIO_BLK_F_FLUSH        (1ull << 9)
#define VIRTIO_BLK_F_DISCARD      (1ull << 13)
#define VIRTIO_BLK_F_WRITE_ZEROES (1ull << 14)

#define VIRTIO_BLK_T_IN           0u
#define VIRTIO_BLK_T_OUT          1u
#define VIRTIO_BLK_T_FLUSH        4u
#define VIRTIO_BLK_T_GET_ID       8u
#define VIRTIO_BLK_T_DISCARD      11u
#define VIRTIO_BLK_T_WRITE_ZEROES 13u

#define VIRTIO_BLK_S_OK     0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_WRITE_ZEROES_F_UNMAP 1u

#define BLK_SECTOR 512u
#define BLK_HDR_BYTES 16u
#define BLK_QUEUE_SIZE 256u
#define BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per request */

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};
_Static_assert(sizeof(struct blk_req_hdr) == BLK_HDR_BYTES, "virtio_blk_req header");

struct blk_discard_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
_Static_assert(sizeof(struct blk_discard_seg) == 16, "virtio_blk_discard_write_zeroes");

/* Device config (5.2.4), little-endian, as far as hvlib fills it in. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors; /* 1.2; VIRTIO_BLK_F_SECURE_ERASE is not offered */
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
};
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20 &&
		       offsetof(struct virtio_blk_config, writeback) == 32 &&
		       offsetof(struct virtio_blk_config, max_discard_sectors) == 36 &&
		       offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56 &&
		       sizeof(struct virtio_blk_config) == 72,
	       "virtio_blk_config layout");

struct hv_virtio_blk {
	struct hv_virtio_dev *dev;
	int fd;
	bool read_only;
	uint64_t bytes;                 /* image size, whole sectors */
	struct virtio_blk_config config; /* constant after create */
	char serial[HV_VIRTIO_BLK_ID_BYTES];
	struct hv_chain_epoch epoch;    /* chains in service vs ops->reset */

	/* With an I/O loop: the worker thread (blk_worker.c), the rest under
	 * wlock. */
	bool worker_on;
	pthread_t worker;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	bool kicked, stop;
	/* Tests only: called before each fdatasync (a slow disk), on the
	 * thread serving the queue. */
	void (*before_flush)(void *opaque);
	void *before_flush_opaque;
};

/* Serve the request queue until it is empty (blk.c). */
void hv_virtio_blk_serve(struct hv_virtio_blk *blk);

/* The worker (blk_worker.c): start returns 0 or -errno; kick from any
 * thread, never blocks on I/O; stop joins it (no-op if none). */
int hv_virtio_blk_worker_start(struct hv_virtio_blk *blk);
void hv_virtio_blk_worker_kick(struct hv_virtio_blk *blk);
void hv_virtio_blk_worker_stop(struct hv_virtio_blk *blk);

/* DISCARD and WRITE_ZEROES (blk_discard.c); returns the status byte. */
uint8_t hv_virtio_blk_discard(struct hv_virtio_blk *blk, const struct hv_virtq_req *req,
			      uint32_t type);

#endif /* HV_VIRTIO_BLK_INTERNAL_H */
