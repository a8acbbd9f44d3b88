/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk DISCARD and WRITE_ZEROES (virtio 1.2, 5.2.6): one segment per
 * request (max_*_seg is 1).  Discard punches a hole; write-zeroes zeroes
 * the range in place (punching with the UNMAP flag), falling back to
 * writing zeros where the file system lacks fallocate modes.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "virtio/blk_internal.h"

static int write_zeros(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t done = pwrite(fd, zeros, n, (off_t)off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return -1;
		off += (uint64_t)done;
		len -= (uint64_t)done;
	}
	return 0;
}

uint8_t hv_virtio_blk_discard(struct hv_virtio_blk *blk, const struct hv_virtq_req *req,
			      uint32_t type)
{
	struct blk_discard_seg seg;
	uint64_t sector, count, capacity = blk->bytes / BLK_SECTOR;
	uint32_t flags;
	int mode;

	if (blk->read_only)
		return VIRTIO_BLK_S_IOERR;
	/* Exactly one segment after the header. */
	if (req->readable_bytes != BLK_HDR_BYTES + sizeof(seg) ||
	    hv_virtq_req_read(req, BLK_HDR_BYTES, &seg, sizeof(seg)) != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;
	sector = le64toh(seg.sector);
	count = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if (count > BLK_MAX_DISCARD_SECTORS || sector > capacity || count > capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	if (flags & ~VIRTIO_BLK_WRITE_ZEROES_F_UNMAP ||
	    (type == VIRTIO_BLK_T_DISCARD && flags))
		return VIRTIO_BLK_S_UNSUPP;
	if (!count)
		return VIRTIO_BLK_S_OK;
	if (type == VIRTIO_BLK_T_DISCARD || (flags & VIRTIO_BLK_WRITE_ZEROES_F_UNMAP))
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	else
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (!fallocate(blk->fd, mode, (off_t)(sector * BLK_SECTOR), (off_t)(count * BLK_SECTOR)))
		return VIRTIO_BLK_S_OK;
	/* Discard is a hint: a file system that cannot punch holes may ignore it. */
	if (type == VIRTIO_BLK_T_DISCARD)
		return VIRTIO_BLK_S_OK;
	return write_zeros(blk->fd, sector * BLK_SECTOR, count * BLK_SECTOR) ? VIRTIO_BLK_S_IOERR
									       : VIRTIO_BLK_S_OK;
}
