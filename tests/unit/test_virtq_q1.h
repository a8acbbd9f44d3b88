/* SPDX-License-Identifier: MIT */
/*
 * Queue 1 for the fake driver of test_virtq_driver.h (which sets up queue 0
 * only): the devices with a receive and a transmit queue need both.  Its
 * rings sit after queue 0's; same size.  Include after test_virtq_driver.h.
 */
#ifndef HV_TESTS_VIRTQ_Q1_H
#define HV_TESTS_VIRTQ_Q1_H

#define Q1_DESC_GPA  0x8000u
#define Q1_AVAIL_GPA 0xc000u
#define Q1_USED_GPA  0xd000u

struct q1 {
	struct drv *d;
	uint16_t avail_idx;
};

static inline void q1_start(struct q1 *q, struct drv *d)
{
	q->d = d;
	q->avail_idx = 0;
	memset(d->ram + Q1_DESC_GPA, 0, DATA_GPA - Q1_DESC_GPA);
	hv_virtio_dev_queue_set_size(d->dev, 1, d->size);
	hv_virtio_dev_queue_set_addr(d->dev, 1, HV_VIRTQ_ADDR_DESC, Q1_DESC_GPA);
	hv_virtio_dev_queue_set_addr(d->dev, 1, HV_VIRTQ_ADDR_AVAIL, Q1_AVAIL_GPA);
	hv_virtio_dev_queue_set_addr(d->dev, 1, HV_VIRTQ_ADDR_USED, Q1_USED_GPA);
	hv_virtio_dev_queue_set_ready(d->dev, 1, true);
}

static inline void q1_desc(struct q1 *q, uint32_t i, uint64_t addr, uint32_t len,
			   uint16_t flags, uint16_t next)
{
	struct vring_desc desc = { htole64(addr), htole32(len), htole16(flags), htole16(next) };

	memcpy(q->d->ram + Q1_DESC_GPA + 16 * i, &desc, sizeof(desc));
}

/* Make chain `head` available and notify the device. */
static inline void q1_kick(struct q1 *q, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(q->d->ram + Q1_AVAIL_GPA);

	avail[2 + q->avail_idx % q->d->size] = htole16(head);
	q->avail_idx++;
	__atomic_store_n(&avail[1], htole16(q->avail_idx), __ATOMIC_RELEASE);
	hv_virtio_dev_notify(q->d->dev, 1);
}

static inline uint16_t q1_used_idx(struct q1 *q)
{
	return le16toh(__atomic_load_n((uint16_t *)(q->d->ram + Q1_USED_GPA) + 1,
				       __ATOMIC_ACQUIRE));
}

static inline void q1_used_elem(struct q1 *q, uint16_t slot, uint32_t *id, uint32_t *len)
{
	uint32_t *e = (uint32_t *)(q->d->ram + Q1_USED_GPA + 4 + 8 * (slot % q->d->size));

	*id = le32toh(e[0]);
	*len = le32toh(e[1]);
}

#endif /* HV_TESTS_VIRTQ_Q1_H */
