/* SPDX-License-Identifier: MIT */
/* hello: run a few bytes of guest code in real mode and in 64-bit long mode,
 * printing what the guest writes to port 0x10 and to MMIO at 0xd0000. */
#include <hvlib/hvlib.h>
#include <stdio.h>
#include <string.h>

/* mov $'H',%al; out %al,$0x10; mov $0xd000,%bx; mov %bx,%ds; movb $'i',(0); hlt */
static const unsigned char real_code[] = { 0xb0, 'H', 0xe6, 0x10, 0xbb, 0x00, 0xd0, 0x8e,
					   0xdb, 0xc6, 0x06, 0x00, 0x00, 'i', 0xf4 };
/* mov $'6',%al; out %al,$0x10; mov $0xd0000,%eax; movb $'4',(%rax); hlt */
static const unsigned char long_code[] = { 0xb0, '6', 0xe6, 0x10, 0xb8, 0x00, 0x00, 0x0d,
					   0x00, 0xc6, 0x00, '4', 0xf4 };

static int on_io(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
{
	(void)offset, (void)width;
	if (is_write)
		printf("%s: guest wrote '%c'\n", (const char *)opaque, (int)*value);
	return 0;
}

static int run(struct hv_vcpu *vcpu, const char *mode)
{
	struct hv_exit exit;

	if (hv_vcpu_run(vcpu, &exit) || exit.reason != HV_EXIT_HLT)
		return fprintf(stderr, "%s: %s\n", mode, hv_last_error()), 1;
	printf("%s: guest halted\n", mode);
	return 0;
}

int main(void)
{
	struct hv_mem_region_config ram;
	struct hv_x86_long_mode lm = { .size = sizeof(lm), .entry = 0x1000, .stack = 0x8000,
				       .scratch_gpa = 0x10000 };
	struct hv_vcpu *vcpu = NULL;
	struct hv_vm *vm = NULL;
	int err = 1;

	hv_mem_region_config_init(&ram);
	ram.bytes = 512 << 10; /* RAM ends below the MMIO address */
	if (hv_vm_create(NULL, &vm) || hv_mem_add_region(hv_vm_mem(vm), &ram, NULL) ||
	    hv_bus_register(hv_vm_bus(vm, HV_BUS_PIO), 0x10, 1, on_io, "port 0x10", "hello-port",
			    NULL) ||
	    hv_bus_register(hv_vm_bus(vm, HV_BUS_MMIO), 0xd0000, 0x1000, on_io, "mmio 0xd0000",
			    "hello-mmio", NULL) ||
	    hv_vcpu_create(vm, 0, &vcpu))
		goto out;
	if (hv_mem_write(hv_vm_mem(vm), 0x1000, real_code, sizeof(real_code)) ||
	    hv_x86_setup_real_mode(vcpu, 0, 0x1000) || run(vcpu, "real mode"))
		goto out;
	if (hv_mem_write(hv_vm_mem(vm), 0x1000, long_code, sizeof(long_code)) ||
	    hv_x86_setup_long_mode(vcpu, &lm) || run(vcpu, "long mode"))
		goto out;
	err = 0;
out:
	if (err)
		fprintf(stderr, "hello: %s\n", hv_last_error());
	hv_vcpu_destroy(vcpu);
	hv_vm_destroy(vm);
	return err;
}
