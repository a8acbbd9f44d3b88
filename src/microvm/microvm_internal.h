/* SPDX-License-Identifier: MIT */
/* The micro-VM handle, shared by the generic layer and the arch platform. */
#ifndef HV_MICROVM_INTERNAL_H
#define HV_MICROVM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "hvlib/loader.h"
#include "hvlib/microvm.h"

#define HV_MICROVM_MAX_MEM_RANGES 8

struct hv_serial;
struct hv_i8042;
struct hv_virtio_dev;
struct hv_virtio_mmio;
struct hv_virtio_pci;
struct hv_pci_host;
struct hv_virtio_console;
struct hv_ioloop;

/* One virtio device of the micro-VM: the device, the backend that owns it
 * (a struct hv_virtio_blk, hv_virtio_rng, ...: destroyed through
 * destroy_backend), and the transport the arch platform puts it on. */
struct hv_microvm_virtio {
	struct hv_virtio_dev *dev;     /* owned by backend */
	struct hv_virtio_mmio *mmio;   /* one of these two, by cfg.transport */
	struct hv_virtio_pci *pci;
	void *backend;
	void (*destroy_backend)(void *backend);
	char name[24];
};

struct hv_microvm {
	struct hv_microvm_config cfg; /* strings and disks are not kept: used only in create */
	uint64_t mem_bytes;
	uint32_t nr_vcpus;
	bool charged;                 /* mem_bytes and nr_vcpus held in cfg.ledger */
	struct hv_vm *vm;
	struct hv_vcpu **vcpus;
	struct hv_serial *serial;
	struct hv_i8042 *kbc;
	struct hv_microvm_virtio virtio[HV_MICROVM_MAX_VIRTIO];
	uint32_t nr_virtio;
	struct hv_pci_host *pci_host;  /* with HV_MICROVM_TRANSPORT_PCI */
	struct hv_virtio_balloon *balloon; /* in virtio[], or NULL */
	struct hv_virtio_console *vcon; /* the console, with HV_MICROVM_CONSOLE_VIRTIO; in virtio[] */
	struct hv_ioloop *ioloop;      /* serves the virtio queues (not vsock's); NULL: none */

	/* Filled by the arch platform for the loader. */
	struct hv_e820_range mem_ranges[HV_MICROVM_MAX_MEM_RANGES];
	uint32_t nr_mem_ranges;
	uint64_t acpi_rsdp;
	struct hv_linux_boot_result boot;

	int event_fd;            /* readable once stopped */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	bool joined;
	struct hv_microvm_status status; /* reason HV_STOP_RUNNING until stopped */
};

/* Record why the VM stops (the first reason wins) and stop every vCPU.
 * Safe from vCPU threads, device callbacks and host threads. */
void hv_microvm_request_stop(struct hv_microvm *m, uint32_t reason, uint32_t vcpu, int error,
			     const struct hv_exit *exit, const char *message);

/* Virtio devices (microvm_virtio.c): config checks, creation from the
 * config (before the arch set-up places them), and teardown. */
int hv_microvm_check_virtio(const struct hv_microvm_config *cfg);
int hv_microvm_create_virtio(struct hv_microvm *m, const struct hv_microvm_config *cfg);
void hv_microvm_destroy_virtio(struct hv_microvm *m);

/* Arch platform (src/arch/<arch>/microvm_*.c). */
/* Guest RAM, platform devices, transports for m->virtio[], firmware tables;
 * fills mem_ranges/acpi_rsdp. */
int hv_arch_microvm_setup(struct hv_microvm *m);
/* Per-vCPU platform state; for vCPU 0 also the kernel entry state. */
int hv_arch_microvm_setup_vcpu(struct hv_microvm *m, struct hv_vcpu *vcpu);

#endif /* HV_MICROVM_INTERNAL_H */
