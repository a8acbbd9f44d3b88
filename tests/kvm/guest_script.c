/* SPDX-License-Identifier: MIT */
#include "kvm/guest_script.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm/guest_util.h"

enum { OP_END = 0, OP_W32 = 1, OP_R32 = 2, OP_REPEAT = 3, OP_W8 = 4, OP_INC16 = 5, OP_WAIT16 = 6 };

/* Each operation: u16 op, u16 offset, u32 value (8 bytes) from SCRIPT_BASE. */
__asm__(".pushsection .rodata\n"
	"script_guest_start:\n"
	".code16\n"
	"cli\n xor %ax, %ax\n mov %ax, %es\n mov $0xd000, %ax\n mov %ax, %ds\n"
	"1: mov $0x2000, %si\n"
	"2: mov %es:(%si), %ax\n mov %es:2(%si), %di\n mov %es:4(%si), %ecx\n add $8, %si\n"
	"cmp $1, %ax\n jne 3f\n mov %ecx, (%di)\n jmp 2b\n"
	"3: cmp $2, %ax\n jne 4f\n mov (%di), %ecx\n jmp 2b\n"
	"4: cmp $3, %ax\n jne 5f\n decl %es:(0x1ff0)\n jz 2b\n"
	"shl $3, %cx\n add $0x2000, %cx\n mov %cx, %si\n jmp 2b\n"
	"5: cmp $4, %ax\n jne 6f\n mov %cl, (%di)\n jmp 2b\n"
	"6: cmp $5, %ax\n jne 8f\n incw %es:(%di)\n jmp 2b\n"
	"8: cmp $6, %ax\n jne 7f\n mov %cx, %bx\n mov $0x100000, %edx\n"
	"9: mov %es:(%di), %ax\n cmp %es:(%bx), %ax\n je 2b\n pause\n dec %edx\n jnz 9b\n"
	"jmp 2b\n"
	"7: hlt\n jmp 7b\n"
	"script_guest_end:\n"
	".code64\n .p2align 3\n"
	"script_guest_size: .quad script_guest_end - script_guest_start\n"
	".popsection\n");
extern const uint8_t script_guest_start[];
extern const uint64_t script_guest_size;

static void put(struct script *s, uint16_t op, uint16_t off, uint32_t val)
{
	uint8_t *e = s->ram + SCRIPT_BASE + 8 * s->n;

	if (SCRIPT_BASE + 8 * (s->n + 1) > SCRIPT_END) {
		fprintf(stderr, "script: too many operations\n");
		return;
	}
	memcpy(e, &op, 2);
	memcpy(e + 2, &off, 2);
	memcpy(e + 4, &val, 4);
	s->n++;
}

void sc_begin(struct script *s, uint8_t *ram)
{
	s->ram = ram;
	s->n = 0;
	s->mark = 0;
}

void sc_w32(struct script *s, uint16_t off, uint32_t val) { put(s, OP_W32, off, val); }
void sc_w8(struct script *s, uint16_t off, uint8_t val) { put(s, OP_W8, off, val); }
void sc_r32(struct script *s, uint16_t off) { put(s, OP_R32, off, 0); }
void sc_inc16(struct script *s, uint16_t ram_off) { put(s, OP_INC16, ram_off, 0); }
void sc_wait16(struct script *s, uint16_t ram_off, uint16_t ram_off2)
{
	put(s, OP_WAIT16, ram_off, ram_off2);
}
void sc_mark(struct script *s) { s->mark = s->n; }

void sc_repeat(struct script *s, uint32_t times)
{
	memcpy(s->ram + SCRIPT_COUNTER, &times, 4);
	put(s, OP_REPEAT, 0, s->mark);
}

int sc_run(struct script *s, struct hv_vcpu *vcpu)
{
	struct hv_exit exit;
	int ret;

	put(s, OP_END, 0, 0);
	memcpy(s->ram + GUEST_CODE, script_guest_start, (size_t)script_guest_size);
	if (hv_x86_setup_real_mode(vcpu, 0, GUEST_CODE))
		return fprintf(stderr, "setup_real_mode: %s\n", hv_last_error()), -1;
	ret = hv_vcpu_run(vcpu, &exit);
	if (ret || exit.reason != HV_EXIT_HLT) {
		fprintf(stderr, "script guest: run %d (%s), exit %s\n", ret, hv_last_error(),
			hv_exit_reason_name(exit.reason));
		return -1;
	}
	return 0;
}

enum { R_FEAT_SEL = 0x024, R_FEAT = 0x020, R_QSEL = 0x030, R_QNUM = 0x038, R_QREADY = 0x044,
       R_NOTIFY = 0x050, R_STATUS = 0x070, R_DESC = 0x080, R_DRIVER = 0x090, R_DEVICE = 0x0a0 };

void vd_reset(struct script *s, uint16_t dev) { sc_w32(s, dev + R_STATUS, 0); }

void vd_init(struct script *s, uint16_t dev, uint64_t features)
{
	features |= 1ull << 32;
	vd_reset(s, dev);
	sc_w32(s, dev + R_STATUS, 1);
	sc_w32(s, dev + R_STATUS, 3);
	sc_w32(s, dev + R_FEAT_SEL, 0);
	sc_w32(s, dev + R_FEAT, (uint32_t)features);
	sc_w32(s, dev + R_FEAT_SEL, 1);
	sc_w32(s, dev + R_FEAT, (uint32_t)(features >> 32));
	sc_w32(s, dev + R_STATUS, 0xb);
}

void vd_queue(struct script *s, uint16_t dev, uint32_t q, uint32_t num, uint64_t desc,
	      uint64_t avail, uint64_t used)
{
	sc_w32(s, dev + R_QSEL, q);
	sc_w32(s, dev + R_QNUM, num);
	sc_w32(s, dev + R_DESC, (uint32_t)desc);
	sc_w32(s, dev + R_DESC + 4, (uint32_t)(desc >> 32));
	sc_w32(s, dev + R_DRIVER, (uint32_t)avail);
	sc_w32(s, dev + R_DRIVER + 4, (uint32_t)(avail >> 32));
	sc_w32(s, dev + R_DEVICE, (uint32_t)used);
	sc_w32(s, dev + R_DEVICE + 4, (uint32_t)(used >> 32));
	sc_w32(s, dev + R_QREADY, 1);
}

void vd_driver_ok(struct script *s, uint16_t dev)
{
	sc_w32(s, dev + R_STATUS, 0xf);
}

void vd_notify(struct script *s, uint16_t dev, uint32_t q) { sc_w32(s, dev + R_NOTIFY, q); }

void ring_init(struct ring *r, uint8_t *ram, uint64_t desc, uint64_t avail, uint64_t used,
	       uint16_t num)
{
	*r = (struct ring){ .ram = ram, .desc = desc, .avail = avail, .used = used, .num = num };
	memset(ram + desc, 0, 16u * num);
	memset(ram + avail, 0, 4 + 2u * num + 2);
	memset(ram + used, 0, 4 + 8u * num + 2);
}

void ring_desc(struct ring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	       uint16_t next)
{
	uint8_t *d = r->ram + r->desc + 16u * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

void ring_post(struct ring *r, uint16_t head)
{
	uint8_t *a = r->ram + r->avail;

	memcpy(a + 4 + 2u * (r->avail_idx % r->num), &head, 2);
	r->avail_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE); /* ring entry before the index */
	memcpy(a + 2, &r->avail_idx, 2);
}

void ring_set_avail_idx(struct ring *r, uint16_t idx)
{
	r->avail_idx = idx;
	memcpy(r->ram + r->avail + 2, &idx, 2);
}

uint16_t ring_used_idx(const struct ring *r)
{
	return __atomic_load_n((const uint16_t *)(r->ram + r->used + 2), __ATOMIC_ACQUIRE);
}

uint32_t ring_used_len(const struct ring *r, uint16_t slot)
{
	uint32_t len;

	memcpy(&len, r->ram + r->used + 4 + 8u * (slot % r->num) + 4, 4);
	return len;
}

bool ring_wait_used(const struct ring *r, uint16_t want, int ms)
{
	for (int i = 0; i < ms; i++) {
		if ((uint16_t)(ring_used_idx(r) - want) < 0x8000u)
			return true;
		usleep(1000);
	}
	return (uint16_t)(ring_used_idx(r) - want) < 0x8000u;
}
