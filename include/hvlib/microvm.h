/* SPDX-License-Identifier: MIT */
/*
 * hvlib/microvm.h - boot a Linux micro-VM in a dozen lines.
 *
 *	struct hv_microvm_config cfg;
 *	struct hv_microvm_status st;
 *	struct hv_microvm *vm = NULL;
 *
 *	hv_microvm_config_init(&cfg);
 *	cfg.kernel = "vmlinuz";
 *	cfg.initrd = "initrd.cpio";
 *	cfg.cmdline = "console=ttyS0 quiet";
 *	cfg.mem_bytes = 256 << 20;
 *	cfg.nr_vcpus = 2;
 *	cfg.console_out_fd = 1;
 *	if (hv_microvm_create(&cfg, &vm) || hv_microvm_start(vm) ||
 *	    hv_microvm_wait(vm, -1, &st))
 *		fprintf(stderr, "%s\n", hv_last_error());
 *	hv_microvm_destroy(vm);  // NULL (create failed): a no-op
 *
 * The micro-VM is a PC without firmware: the kernel is loaded directly
 * (bzImage through the 64-bit boot protocol, or an ELF vmlinux through PVH),
 * with ACPI tables (hardware-reduced), in-kernel LAPICs/IOAPIC/PIC/PIT, a
 * 16550 UART on COM1 (IRQ 4) as console, and an i8042 for reboot.
 * Optional virtio devices (disks, an entropy source, a console, network
 * interfaces, vsock, a balloon) sit on virtio-mmio in the 3-4 GiB hole,
 * announced in the ACPI DSDT as LNRO0005 devices (Linux's virtio_mmio driver
 * finds them there): disks first, in order (/dev/vda, vdb, ...), then the
 * rng, the console, the network interfaces in order (eth0, eth1, ...),
 * vsock and the balloon.  Requests are served on one I/O thread per
 * micro-VM (hvlib/ioloop.h): the guest's queue notifications reach it
 * through KVM ioeventfds without a vCPU exit to user space, and interrupts
 * go back through KVM irqfds (on virtio-mmio).  Each network interface also
 * has its own receive thread (hvlib/virtio_net.h); vsock is served by the
 * kernel's vhost-vsock.  With
 * HV_MICROVM_TRANSPORT_PCI they are virtio-pci functions instead
 * (hvlib/virtio_pci.h), slots 1, 2, ... of a PCI host bridge announced in
 * the ACPI tables (an SSDT with the root bridge, MCFG for ECAM at
 * 0xe0000000; BARs from 0xc0000000; MSI-X, or INTx on GSIs 16-19).
 *
 * Console: with HV_MICROVM_CONSOLE_SERIAL (the default) console_out_fd /
 * console_fn and hv_microvm_console_input() are the UART's (ttyS0).  With
 * HV_MICROVM_CONSOLE_VIRTIO they are a virtio-console's (hvc0) and the
 * default command line says console=hvc0.  The UART stays either way, and
 * its output goes to the same sink: the guest's command line decides who
 * speaks (console=ttyS0 earlyprintk=ttyS0 for early boot messages,
 * console=hvc0 for hvc0 alone; Linux replays its log to hvc0 once the
 * driver loads).  Input only goes to the selected device.  Output comes
 * in runs, not byte by byte: the UART's at a newline, after 256 bytes, after
 * 2 ms without output, or 20 ms after the run began (hvlib/serial.h);
 * the virtio-console's as each notification's chains (up to 4 KiB a call).
 *
 * It never takes over the process: each vCPU runs on its own thread; no
 * signal handler beyond hvlib's kick signal is installed; nothing is printed
 * unless the console is pointed at an fd.  Several micro-VMs may run at once.
 *
 * Threading: hv_microvm_console_input(), hv_microvm_stop() and
 * hv_microvm_poll_fd() may be called from any thread at any time;
 * create/start/wait/destroy from one controlling thread.
 */
#ifndef HVLIB_MICROVM_H
#define HVLIB_MICROVM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "vcpu.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hv_microvm;

/* Micro-VM flags. */
#define HV_MICROVM_F_PVH       (1u << 0) /* boot a bzImage through PVH (its vmlinux is extracted) */
#define HV_MICROVM_F_HUGEPAGES (1u << 1) /* guest RAM on 2 MiB hugepages */
#define HV_MICROVM_F_RNG       (1u << 2) /* a virtio-rng device (entropy from getrandom()) */
#define HV_MICROVM_F_BALLOON   (1u << 3) /* a virtio-balloon (hv_microvm_balloon()) */
#define HV_MICROVM_F_SECCOMP   (1u << 4) /* seccomp filters on its threads (HV_VM_F_SECCOMP) */
#define HV_MICROVM_F_ALL       0x1fu

/* How the virtio devices reach the guest (struct hv_microvm_config.transport). */
#define HV_MICROVM_TRANSPORT_MMIO 0u /* virtio-mmio, announced in the DSDT (default) */
#define HV_MICROVM_TRANSPORT_PCI  1u /* virtio-pci behind a PCI host bridge */

/* A virtio-blk disk over a raw image file. */
#define HV_MICROVM_DISK_F_READONLY (1u << 0) /* the guest sees a read-only disk */
#define HV_MICROVM_DISK_F_ALL      0x1u
#define HV_MICROVM_MAX_VIRTIO      8u        /* disks + rng + console + nets + vsock + balloon */

struct hv_microvm_disk {
	uint32_t size;             /* sizeof(struct hv_microvm_disk) */
	uint32_t flags;            /* HV_MICROVM_DISK_F_*; unknown bits: -EINVAL */
	const char *path;          /* raw image (required) */
	const char *serial;        /* virtio-blk serial (/sys/block/vdX/serial), <= 20 bytes; or NULL */
};

/* Fill *disk with its size and defaults. */
HV_EXPORT void hv_microvm_disk_init(struct hv_microvm_disk *disk);

/* A virtio-net interface over a host tap (hvlib/virtio_net.h): created, or
 * attached if it exists; needs CAP_NET_ADMIN or a tap owned by the user. */
#define HV_MICROVM_NET_F_MAC (1u << 0) /* use mac[] (else a random local one) */
#define HV_MICROVM_NET_F_ALL 0x1u

struct hv_microvm_net {
	uint32_t size;             /* sizeof(struct hv_microvm_net) */
	uint32_t flags;            /* HV_MICROVM_NET_F_*; unknown bits: -EINVAL */
	const char *tap;           /* host tap interface name (required) */
	uint8_t mac[6];            /* with HV_MICROVM_NET_F_MAC */
	uint8_t reserved[2];       /* must be 0 */
};

/* Fill *net with its size and defaults. */
HV_EXPORT void hv_microvm_net_init(struct hv_microvm_net *net);

/* Which device is the console (struct hv_microvm_config.console). */
#define HV_MICROVM_CONSOLE_SERIAL 0u /* 16550 UART, ttyS0 */
#define HV_MICROVM_CONSOLE_VIRTIO 1u /* virtio-console, hvc0 */

/* Console output sink: bytes the guest wrote to its console. */
typedef void (*hv_microvm_console_fn)(void *opaque, const uint8_t *buf, size_t len);

struct hv_microvm_config {
	uint32_t size;             /* sizeof(struct hv_microvm_config) */
	uint32_t flags;            /* HV_MICROVM_F_*; unknown bits: -EINVAL */
	const char *kernel;        /* bzImage or ELF vmlinux (required) */
	const char *initrd;        /* initramfs, or NULL */
	const char *cmdline;       /* NULL: HV_MICROVM_DEFAULT_CMDLINE */
	uint64_t mem_bytes;        /* guest RAM; 0: 256 MiB; rounded up to 2 MiB */
	uint32_t nr_vcpus;         /* 0: 1 */
	int32_t console_out_fd;    /* guest console output to this fd (borrowed); -1: none */
	hv_microvm_console_fn console_fn; /* or to this callback (vCPU or I/O thread); with
					   * console_out_fd >= 0 too: -EINVAL */
	void *console_opaque;
	const uint32_t *pin_cpus;  /* vCPU i runs on host CPU pin_cpus[i]; NULL: unpinned */
	uint32_t nr_pin_cpus;      /* entries in pin_cpus: 0, or nr_vcpus */
	uint32_t log_level;        /* as struct hv_vm_config */
	hv_log_fn log_fn;
	void *log_opaque;
	const struct hv_microvm_disk *disks; /* nr_disks entries, borrowed during create */
	uint32_t nr_disks;         /* with the other virtio devices, at most HV_MICROVM_MAX_VIRTIO */
	uint32_t reserved;         /* must be 0 */
	uint64_t vsock_cid;        /* a virtio-vsock device with this guest CID (vhost-vsock,
				    * see hvlib/virtio_vsock.h); 0: none */
	uint32_t transport;        /* HV_MICROVM_TRANSPORT_*; others: -EINVAL */
	uint32_t console;          /* HV_MICROVM_CONSOLE_*: the device console_* serve */
	uint32_t nr_nets;          /* entries in nets */
	const struct hv_microvm_net *nets; /* network interfaces, borrowed during create */
	/* Admission (hvlib/ledger.h), borrowed, must outlive the micro-VM; NULL:
	 * none.  Create reserves mem_bytes (as rounded) and nr_vcpus in one step
	 * before anything else, or fails with -ENOSPC saying what is short;
	 * destroy returns them.  Memory an embedder adds later through
	 * hv_microvm_vm() is not counted: reserve it with hv_ledger_reserve(). */
	struct hv_ledger *ledger;
};

#define HV_MICROVM_DEFAULT_CMDLINE "console=ttyS0 panic=-1"
/* The default with HV_MICROVM_CONSOLE_VIRTIO. */
#define HV_MICROVM_DEFAULT_CMDLINE_VIRTIO "console=hvc0 panic=-1"

/* Fill *cfg with its size and defaults (console_out_fd -1). */
HV_EXPORT void hv_microvm_config_init(struct hv_microvm_config *cfg);

/*
 * Create the VM, its memory, devices and vCPUs, and load the kernel, initrd
 * and command line; nothing runs yet.  Caller owns *out until
 * hv_microvm_destroy().  Errors: those of hv_vm_create(), the loaders (with
 * the file name and the problem), -EINVAL for a bad config; with
 * HV_MICROVM_F_SECCOMP, the error of a device thread's filter that could not
 * be installed (hv_microvm_start() likewise for the vCPU threads).
 */
HV_EXPORT int hv_microvm_create(const struct hv_microvm_config *cfg, struct hv_microvm **out);

/* Start every vCPU on its own thread.  -EBUSY: already started. */
HV_EXPORT int hv_microvm_start(struct hv_microvm *vm);

enum hv_stop_reason {
	HV_STOP_RUNNING = 0,   /* not stopped (yet) */
	HV_STOP_POWEROFF = 1,  /* the guest powered off (ACPI S5) */
	HV_STOP_REBOOT = 2,    /* the guest asked for a reset (ACPI reset register, i8042) */
	HV_STOP_CRASH = 3,     /* triple fault, or KVM reported a guest crash */
	HV_STOP_ERROR = 4,     /* a vCPU could not go on (KVM error, emulation failure) */
	HV_STOP_REQUESTED = 5, /* hv_microvm_stop() */
	HV_STOP_REASON_COUNT
};

struct hv_microvm_status {
	uint32_t reason;      /* enum hv_stop_reason */
	uint32_t vcpu;        /* the vCPU that saw it */
	int32_t error;        /* HV_STOP_ERROR: the -errno, if any */
	uint32_t reserved;
	struct hv_exit exit;  /* the exit that ended the VM, if one did */
	char message[256];    /* human-readable summary */
	uint64_t reserved_tail[4]; /* room to grow: 0 today; later fields take it */
};

/* Name of a stop reason, e.g. "poweroff"; never NULL. */
HV_EXPORT const char *hv_stop_reason_name(uint32_t reason);

/*
 * Wait until the guest stops, at most timeout_ms (-1: forever), then stop
 * and join every vCPU and fill *status.  -ETIMEDOUT: still running (status
 * untouched); -EINVAL: never started.
 */
HV_EXPORT int hv_microvm_wait(struct hv_microvm *vm, int timeout_ms,
			      struct hv_microvm_status *status);

/* A descriptor that becomes readable once the guest has stopped, for
 * poll/epoll/asyncio loops (then call hv_microvm_wait(vm, 0, ...)).  Owned by
 * the micro-VM. */
HV_EXPORT int hv_microvm_poll_fd(const struct hv_microvm *vm);

/* Stop the guest from outside (reason HV_STOP_REQUESTED unless it already
 * stopped on its own).  Does not wait. */
HV_EXPORT int hv_microvm_stop(struct hv_microvm *vm);

/* Feed bytes to the guest's console (host -> guest).  Returns how many were
 * accepted (the UART's FIFO or the virtio-console's input buffer may be
 * full: retry the rest later). */
HV_EXPORT size_t hv_microvm_console_input(struct hv_microvm *vm, const uint8_t *data, size_t len);

/* The underlying VM and vCPUs, for embedders who want to add devices or
 * inspect state with the lower-level API.  Owned by the micro-VM. */
HV_EXPORT struct hv_vm *hv_microvm_vm(struct hv_microvm *vm);
HV_EXPORT struct hv_vcpu *hv_microvm_vcpu(struct hv_microvm *vm, uint32_t index);

/* The micro-VM's balloon (HV_MICROVM_F_BALLOON), for the calls of
 * hvlib/virtio_balloon.h; owned by the micro-VM.  NULL without one. */
struct hv_virtio_balloon;
HV_EXPORT struct hv_virtio_balloon *hv_microvm_balloon(struct hv_microvm *vm);

/* Stops and joins any running vCPUs, then frees everything.  NULL: no-op. */
HV_EXPORT void hv_microvm_destroy(struct hv_microvm *vm);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_MICROVM_H */
