/* SPDX-License-Identifier: MIT */
/* Shared pieces of the KVM integration tests: tiny guests and a VM fixture. */
#ifndef HV_TEST_GUEST_UTIL_H
#define HV_TEST_GUEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlib/hvlib.h"

/* Guest programs, assembled by the compiler (guest_util.c).  Each is
 * position-independent and is copied to GUEST_CODE. */
struct guest_code {
	const uint8_t *start;
	const uint64_t *size;
};
/* real mode: out 0x10 'H'; MMIO write 0x5a to 0xd0000; MMIO byte read
 * from 0xd0004 -> out 0x11; hlt */
extern const struct guest_code guest_real;
/* protected mode: out 0x10 'P'; mov eax,[0x2000]; out 0x11 eax; hlt */
extern const struct guest_code guest_prot;
/* long mode: out 0x10 'L'; MMIO dword write 0xdeadbeef to 0xd0000000;
 * dword read from 0xd0000008 -> out 0x11; hlt */
extern const struct guest_code guest_long;
/* real mode: spins forever (jmp $) */
extern const struct guest_code guest_spin;
/* real mode: writes byte al=1..n to ds:[si] at page stride from 0x3000,
 * pages 0..7 where bit set in 0x2000 mask word; hlt (dirty-log test) */
extern const struct guest_code guest_dirty;
/* real mode: in al, 0x20 -> out 0x21, al; hlt */
extern const struct guest_code guest_in_out;
/* real mode: IVT vector 0x25 -> handler; PIC (ICW1-4, base 0x20) with only
 * IRQ 5 unmasked; out 0x14 (ready); sti; hlt until the handler ran; then
 * out 0x13 'D' and cli; hlt.  The handler: out 0x12 'I', EOI, iret. */
extern const struct guest_code guest_irq;
/* real mode: a virtqueue driver's data path, for ever: head 0 made
 * available again at avail 0x9000, notify through virtio-mmio at 0xd0000
 * (QueueNotify 0), spin until used 0xa000 has it, out 0x10 the count (16
 * bits).  The host sets up the device and the descriptor. */
extern const struct guest_code guest_virtq;

#define GUEST_CODE 0x1000u
#define GUEST_RAM 0x80000u /* 512 KiB: GUEST_MMIO lies beyond it */
#define GUEST_MMIO 0xd0000u
#define GUEST_MMIO64 0xd0000000ull

/* A VM with GUEST_RAM bytes of anon RAM at 0 and vCPU 0; code copied to
 * GUEST_CODE.  Aborts the test (cmocka fail) on error. */
struct fixture {
	struct hv_vm *vm;
	struct hv_vcpu *vcpu;
	struct hv_mem *mem;
	uint8_t *ram;
};
void fixture_setup(struct fixture *f, const struct hv_vm_config *cfg,
		   const struct guest_code *code);
void fixture_teardown(struct fixture *f);

/* cmocka group set-up and teardown for tests that create and destroy many
 * VMs: one VM (a vCPU, no irqchip) stays open while the group runs, because
 * going from no VM to one and back makes the host kernel live-patch its
 * scheduler (KVM's static keys), which can livelock an emulated (TCG) host;
 * see README, "with-kvm". */
int keep_one_vm_open(void **state);
int close_kept_vm(void **state);

/* Records accesses for assertions. */
struct io_log {
	uint64_t last_offset;
	uint64_t last_value;
	uint32_t last_width;
	uint32_t writes;
	uint32_t reads;
	uint64_t read_value; /* what reads return */
};
int io_log_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value);

/* A guest console collected through a micro-VM's console callback
 * (guest_console_fn with the struct as console_opaque); NUL-terminated. */
struct console {
	pthread_mutex_t lock;
	char buf[1 << 20];
	size_t len;
};
void guest_console_init(struct console *c);
void guest_console_fn(void *opaque, const uint8_t *buf, size_t len);
bool guest_console_has(struct console *c, const char *needle);

/* A micro-VM that did not stop in time: print each vCPU's position (it
 * pauses them briefly) and the tail of its console to stderr. */
void guest_dump_stuck(struct hv_microvm *vm, uint32_t nr_vcpus, struct console *c,
		      const char *label);

/* Guest material of the Linux boot tests: HVLIB_GUEST_DIR ("guest" if
 * unset), and in kernel/initrd the guest kernel (HVLIB_KERNEL_DIR, else that
 * directory, else the scripts/fetch-kernel cache) and initramfs initrd_name
 * there.  Returns 0, or 77 (ctest's skip code) with a message naming `what`
 * when either file is missing. */
const char *guest_dir(void);
int guest_find_material(const char *initrd_name, const char *what, char *kernel,
			size_t kernel_len, char *initrd, size_t initrd_len);

/* Number of open file descriptors of this process. */
int count_open_fds(void);
/* Threads of this process now. */
int count_threads(void);
/* VmRSS in KiB. */
long rss_kib(void);

#endif
