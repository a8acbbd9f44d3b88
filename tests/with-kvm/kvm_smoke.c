/*
 * kvm_smoke: the smallest proof that /dev/kvm works (e.g. inside
 * scripts/with-kvm's emulated machine).  Opens /dev/kvm, checks the API
 * version is 12, creates a VM with 4 KiB of guest memory at 0x1000 holding
 *     mov al, 'A' ; out 0x10, al ; hlt
 * runs one vCPU in real mode from 0000:1000 and expects KVM_EXIT_IO (port
 * 0x10, one byte 'A') and then KVM_EXIT_HLT.
 * Exit 0 on success, 1 with a message on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fputs("kvm_smoke: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, " (%s)", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

#define CHECK(cond, ...) do { errno = 0; if (!(cond)) die(__VA_ARGS__); } while (0)

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "KVM_EXIT_IO";
	case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	default: return "another exit";
	}
}

int main(void)
{
	static const uint8_t code[] = {
		0xb0, 'A',	/* mov al, 'A' */
		0xe6, 0x10,	/* out 0x10, al */
		0xf4,		/* hlt */
	};
	const uint64_t gpa = 0x1000, size = 0x1000;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, api, mmap_size;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(kvm >= 0, "open /dev/kvm");
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	CHECK(api == KVM_API_VERSION, "KVM_GET_API_VERSION is %d, want %d", api, KVM_API_VERSION);
	CHECK(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) > 0, "no KVM_CAP_USER_MEMORY");

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	CHECK(vm >= 0, "KVM_CREATE_VM");
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED, "mmap guest memory");
	memcpy(mem, code, sizeof(code));
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = gpa;
	region.memory_size = size;
	region.userspace_addr = (uintptr_t)mem;
	CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	CHECK(vcpu >= 0, "KVM_CREATE_VCPU");
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	CHECK(mmap_size >= (int)sizeof(*run), "KVM_GET_VCPU_MMAP_SIZE is %d", mmap_size);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	CHECK(run != MAP_FAILED, "mmap kvm_run");

	CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = gpa;
	regs.rflags = 0x2;
	CHECK(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

	CHECK(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN (first)");
	CHECK(run->exit_reason == KVM_EXIT_IO, "first exit is %s (%u), want KVM_EXIT_IO",
	      exit_name(run->exit_reason), run->exit_reason);
	CHECK(run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x10 &&
	      run->io.size == 1 && run->io.count == 1,
	      "unexpected I/O exit: direction %u port 0x%x size %u count %u",
	      run->io.direction, run->io.port, run->io.size, run->io.count);
	{
		uint8_t byte = *((uint8_t *)run + run->io.data_offset);

		CHECK(byte == 'A', "guest wrote 0x%02x to port 0x10, want 'A'", byte);
	}

	CHECK(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN (second)");
	CHECK(run->exit_reason == KVM_EXIT_HLT, "second exit is %s (%u), want KVM_EXIT_HLT",
	      exit_name(run->exit_reason), run->exit_reason);
	CHECK(ioctl(vcpu, KVM_GET_REGS, &regs) == 0, "KVM_GET_REGS");
	CHECK(regs.rip == gpa + sizeof(code), "rip after hlt is 0x%llx, want 0x%llx",
	      (unsigned long long)regs.rip, (unsigned long long)(gpa + sizeof(code)));

	printf("kvm_smoke: OK: API version %d, guest wrote 'A' to port 0x10 and halted\n", api);
	return 0;
}
