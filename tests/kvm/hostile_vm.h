/* SPDX-License-Identifier: MIT */
/*
 * The hostile-guest suite's VMs (kvm_hostile.c): guest RAM layout, a VM
 * with virtio-blk, -rng and -balloon on virtio-mmio and an I/O thread, and
 * good requests that show a device works.  Every request is the guest's
 * own: its rings are laid out here, its register accesses are a script the
 * guest runs (guest_script.h).
 */
#ifndef HV_TEST_HOSTILE_VM_H
#define HV_TEST_HOSTILE_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlib/ioloop.h"
#include "hvlib/virtio.h"
#include "hvlib/virtio_balloon.h"
#include "kvm/guest_script.h"
#include "kvm/guest_util.h"

#define DEV_BLK 0x0000u /* offsets from SCRIPT_MMIO_BASE */
#define DEV_RNG 0x1000u
#define DEV_BAL 0x2000u
#define LOG_BOUND 16
#define IMG_BYTES (1u << 20)
#define QNUM 16u

/* Guest RAM layout (GUEST_RAM = 512 KiB). */
#define BLK_DESC 0x10000u
#define BLK_AVAIL 0x11000u
#define BLK_USED 0x12000u
#define BLK_HDR 0x13000u
#define BLK_DATA 0x14000u
#define BLK_STATUS 0x15000u
#define BLK_INDIRECT 0x16000u
#define RNG_DESC 0x20000u
#define RNG_AVAIL 0x21000u
#define RNG_USED 0x22000u
#define RNG_BUF 0x23000u
#define BAL_DESC 0x8000u /* below 64 KiB: the guest bumps the avail index itself */
#define BAL_AVAIL 0x8400u
#define BAL_USED 0x8800u
#define BAL_PFNS 0x30000u
#define BIG_DATA 0x40000u

struct vmx {
	struct fixture f;
	struct hv_ioloop *loop;
	struct hv_virtio_blk *blk;
	struct hv_virtio_rng *rng;
	struct hv_virtio_balloon *bal;
	struct hv_virtio_mmio *mmio[3];
	int log_lines;
	char first_log[160];
};

/* The disk image (IMG_BYTES, its first sector `disk_sector0`), made by make_disk(). */
extern char disk_path[64];
extern uint8_t disk_sector0[512];
void make_disk(void);

/* A VM with the rng, and unless rng_only a blk and a balloon; its log
 * lines are counted in log_lines.  cmocka fails on errors. */
void vmx_create(struct vmx *x, bool rng_only);
void vmx_destroy(struct vmx *x);
uint32_t dev_status(struct vmx *x, uint16_t dev);
/* Wait up to ms for the device to say DEVICE_NEEDS_RESET. */
bool wait_needs_reset(struct vmx *x, uint16_t dev, int ms);

/* A blk read chain at desc 3i..3i+2: header, len bytes of data, status. */
void blk_read_chain(struct ring *r, uint16_t i, uint64_t data, uint32_t len);
/* Script: reset, init, queue 0 at BLK_*, DRIVER_OK, notify. */
void blk_start(struct script *s, struct vmx *x, uint64_t features);

/* A device serves a good request (after resetting it): */
bool rng_ok(struct vmx *x);     /* 64 bytes of entropy */
bool blk_ok(struct vmx *x);     /* sector 0 reads back as `disk_sector0` */
bool balloon_ok(struct vmx *x); /* it takes a reset and a clean start */

#endif
