/* SPDX-License-Identifier: MIT */
#include "kvm/guest_util.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Guest programs: the assembler encodes them; the tests copy the bytes. */
#define GUEST(name, mode, body)                                                    \
	__asm__(".pushsection .rodata\n" ".globl " #name "_start\n" #name "_start:\n" mode "\n" body "\n"     \
		#name "_end:\n" ".code64\n" ".p2align 3\n" ".globl " #name "_size\n"  \
		#name "_size: .quad " #name "_end - " #name "_start\n" ".popsection\n"); \
	extern const uint8_t name##_start[];                                       \
	extern const uint64_t name##_size;                                          \
	const struct guest_code name = { name##_start, &name##_size }

GUEST(guest_real, ".code16",
      "mov $'H', %al\n out %al, $0x10\n"
      "mov $0xd000, %bx\n mov %bx, %ds\n"
      "movb $0x5a, (0)\n"
      "mov (4), %al\n out %al, $0x11\n"
      "hlt");
GUEST(guest_prot, ".code32",
      "mov $'P', %al\n out %al, $0x10\n"
      "mov (0x2000), %eax\n out %eax, $0x11\n"
      "hlt");
GUEST(guest_long, ".code64",
      "mov $'L', %al\n out %al, $0x10\n"
      "movabs $0xd0000000, %rax\n movl $0xdeadbeef, (%rax)\n"
      "mov 8(%rax), %ebx\n mov %ebx, %eax\n out %eax, $0x11\n"
      "hlt");
GUEST(guest_spin, ".code16", "1: jmp 1b");
GUEST(guest_dirty, ".code16",
      "mov (0x2000), %dx\n mov $0x3000, %si\n mov $1, %al\n"
      "1: test $1, %dx\n jz 2f\n mov %al, (%si)\n"
      "2: add $0x1000, %si\n inc %al\n shr $1, %dx\n jnz 1b\n"
      "hlt");
GUEST(guest_in_out, ".code16", "in $0x20, %al\n out %al, $0x21\n hlt");
/* IRQ 5 through the PIC: vector 0x25's IVT entry, PIC set up with only
 * IRQ 5 unmasked, then hlt until the handler has run. */
GUEST(guest_irq, ".code16",
      "cli\n movw $(3f - guest_irq_start + 0x1000), (0x94)\n movw $0, (0x96)\n"
      "movb $0, (0x500)\n"
      "mov $0x11, %al\n out %al, $0x20\n mov $0x20, %al\n out %al, $0x21\n"
      "mov $0x04, %al\n out %al, $0x21\n mov $0x01, %al\n out %al, $0x21\n"
      "mov $0xdf, %al\n out %al, $0x21\n"
      "out %al, $0x14\n sti\n"
      "1: hlt\n cmpb $0, (0x500)\n jz 1b\n"
      "mov $'D', %al\n out %al, $0x13\n"
      "2: cli\n hlt\n jmp 2b\n"
      "3: movb $1, (0x500)\n mov $'I', %al\n out %al, $0x12\n"
      "mov $0x20, %al\n out %al, $0x20\n iret");

/* A virtio driver's data path, the set-up done by the host: make head 0
 * available again (avail->idx at 0x9002), notify queue 0 of the
 * virtio-mmio window at 0xd0000, wait for used->idx (0xa002) to catch up,
 * report the count on port 0x10, forever. */
GUEST(guest_virtq, ".code16",
      "xor %ax, %ax\n mov %ax, %ds\n mov $0xd000, %ax\n mov %ax, %es\n xor %bx, %bx\n"
      "1: inc %bx\n mov %bx, (0x9002)\n movl $0, %es:(0x50)\n"
      "2: mov (0xa002), %ax\n cmp %bx, %ax\n jne 2b\n"
      "mov %bx, %ax\n out %ax, $0x10\n jmp 1b");

void fixture_setup(struct fixture *f, const struct hv_vm_config *cfg,
		   const struct guest_code *code)
{
	struct hv_mem_region_config region;
	struct hv_mem_region_info info;
	uint32_t id;
	int ret;

	memset(f, 0, sizeof(*f));
	ret = hv_vm_create(cfg, &f->vm);
	if (ret)
		fail_msg("hv_vm_create: %s", hv_last_error());
	f->mem = hv_vm_mem(f->vm);
	hv_mem_region_config_init(&region);
	region.gpa = 0;
	region.bytes = GUEST_RAM;
	region.name = "ram";
	ret = hv_mem_add_region(f->mem, &region, &id);
	if (ret)
		fail_msg("hv_mem_add_region: %s", hv_last_error());
	assert_int_equal(hv_mem_region_info(f->mem, id, &info), 0);
	f->ram = info.host_addr;
	if (code)
		memcpy(f->ram + GUEST_CODE, code->start, (size_t)*code->size);
	ret = hv_vcpu_create(f->vm, 0, &f->vcpu);
	if (ret)
		fail_msg("hv_vcpu_create: %s", hv_last_error());
}

void fixture_teardown(struct fixture *f)
{
	hv_vcpu_destroy(f->vcpu);
	hv_vm_destroy(f->vm);
	memset(f, 0, sizeof(*f));
}

int io_log_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
{
	struct io_log *log = opaque;

	log->last_offset = offset;
	log->last_width = width;
	if (is_write) {
		log->last_value = *value;
		log->writes++;
	} else {
		*value = log->read_value;
		log->reads++;
	}
	return 0;
}

/* Entries of a /proc directory, "." and ".." not counted; -1 if unreadable. */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

int count_open_fds(void)
{
	return count_entries("/proc/self/fd");
}

int count_threads(void)
{
	return count_entries("/proc/self/task");
}

long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void guest_console_init(struct console *c)
{
	pthread_mutex_init(&c->lock, NULL);
	c->len = 0;
	c->buf[0] = '\0';
}

void guest_console_fn(void *opaque, const uint8_t *buf, size_t len)
{
	struct console *c = opaque;

	/* HVLIB_TEST_CONSOLE=1: show guest output as it comes, to watch a
	 * boot that hangs before the test gives up. */
	static int echo = -1;

	if (echo < 0)
		echo = getenv("HVLIB_TEST_CONSOLE") != NULL;
	if (echo)
		fwrite(buf, 1, len, stderr);
	pthread_mutex_lock(&c->lock);
	if (len > sizeof(c->buf) - 1 - c->len)
		len = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	c->buf[c->len] = '\0';
	pthread_mutex_unlock(&c->lock);
}

bool guest_console_has(struct console *c, const char *needle)
{
	bool found;

	pthread_mutex_lock(&c->lock);
	found = strstr(c->buf, needle) != NULL;
	pthread_mutex_unlock(&c->lock);
	return found;
}

void guest_dump_stuck(struct hv_microvm *vm, uint32_t nr_vcpus, struct console *c,
		      const char *label)
{
	size_t tail = 0;

	/* The console first: pausing a vCPU waits for it to leave KVM_RUN,
	 * which a wedged (emulated) host CPU may never let it do. */
	pthread_mutex_lock(&c->lock);
	if (c->len > 4000)
		tail = c->len - 4000;
	fprintf(stderr, "%s: last of the guest console:\n%s\n-----\n", label, c->buf + tail);
	pthread_mutex_unlock(&c->lock);
	/* Where each vCPU is: a guest stuck in HLT with interrupts off, spinning
	 * in one function, or looping on an MMIO register tells them apart. */
	for (uint32_t i = 0; i < nr_vcpus; i++) {
		struct hv_vcpu *vcpu = hv_microvm_vcpu(vm, i);
		struct hv_x86_regs r;
		struct hv_x86_sregs s;

		if (!vcpu || hv_vcpu_pause(vcpu)) {
			fprintf(stderr, "%s: vCPU %u: cannot pause: %s\n", label, i, hv_last_error());
			continue;
		}
		if (!hv_vcpu_get_regs(vcpu, &r) && !hv_vcpu_get_sregs(vcpu, &s))
			fprintf(stderr,
				"%s: vCPU %u: rip %#llx rsp %#llx rflags %#llx cr0 %#llx cr3 %#llx "
				"efer %#llx\n",
				label, i, (unsigned long long)r.rip, (unsigned long long)r.rsp,
				(unsigned long long)r.rflags, (unsigned long long)s.cr0,
				(unsigned long long)s.cr3, (unsigned long long)s.efer);
		hv_vcpu_resume(vcpu);
	}
}

const char *guest_dir(void)
{
	const char *guest = getenv("HVLIB_GUEST_DIR");

	return guest ? guest : "guest";
}

int guest_find_material(const char *initrd_name, const char *what, char *kernel,
			size_t kernel_len, char *initrd, size_t initrd_len)
{
	const char *kdir = getenv("HVLIB_KERNEL_DIR");
	const char *home = getenv("HOME");

	snprintf(kernel, kernel_len, "%s/vmlinuz", kdir ? kdir : guest_dir());
	if (access(kernel, R_OK))
		snprintf(kernel, kernel_len, "%s/.cache/hvlib/kernel/current/vmlinuz",
			 home ? home : "/root");
	snprintf(initrd, initrd_len, "%s/%s", guest_dir(), initrd_name);
	if (access(kernel, R_OK) || access(initrd, R_OK)) {
		fprintf(stderr, "SKIP: no guest kernel (%s) or %s initramfs (%s); build the "
				"tests with the kernel fetched (scripts/fetch-kernel)\n", kernel, what,
			initrd);
		return 77;
	}
	return 0;
}

int keep_one_vm_open(void **state)
{
	struct fixture *f;

	*state = NULL;
	/* tests/stress measures the churn without it. */
	if (getenv("HVLIB_TEST_NO_KEEPER"))
		return 0;
	f = malloc(sizeof(*f));
	if (!f)
		return -1;
	fixture_setup(f, NULL, NULL);
	*state = f;
	return 0;
}

int close_kept_vm(void **state)
{
	if (*state)
		fixture_teardown(*state);
	free(*state);
	return 0;
}
