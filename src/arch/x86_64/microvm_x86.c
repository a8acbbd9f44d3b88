/* SPDX-License-Identifier: MIT */
/*
 * The x86 micro-VM platform: a PC without firmware.
 *
 * Guest-physical layout:
 *   0 .. 3 GiB        RAM (low part)
 *   3 GiB .. 4 GiB    MMIO hole: PCI BARs 0xc0000000-0xcfffffff, virtio-mmio
 *                     devices from 0xd0000000 (4 KiB each, GSIs 16-23), PCI
 *                     ECAM 0xe0000000 (bus 0: 1 MiB), IOAPIC 0xfec00000,
 *                     LAPIC 0xfee00000, KVM's TSS/identity pages 0xfffbc000
 *   4 GiB ..          RAM beyond 3 GiB, if any
 * Below 1 MiB, 0x9fc00 .. 0x100000 is reserved in e820 (where a PC has its
 * EBDA, VGA hole and BIOS); the ACPI tables live there at 0xe0000, and a
 * reset stub at the BIOS reset vector 0xffff0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi/acpi_x86.h"
#include "hvlib/acpi.h"
#include "hvlib/i8042.h"
#include "hvlib/serial.h"
#include "hvlib/pci.h"
#include "hvlib/virtio.h"
#include "hvlib/virtio_pci.h"
#include "hvlib/x86.h"
#include "microvm/microvm_internal.h"
#include "util/error.h"

#define LOW_RAM_END (3ull << 30)
#define HIGH_RAM_START (4ull << 30)
/* virtio-mmio windows and their interrupts: the I/O APIC pins above the
 * ISA range, which no legacy device claims (edge-triggered, active-high). */
#define VIRTIO_MMIO_BASE 0xd0000000ull
#define VIRTIO_GSI_BASE 16u
_Static_assert(VIRTIO_GSI_BASE + HV_MICROVM_MAX_VIRTIO <= HV_X86_ACPI_IOAPIC_PINS,
	       "virtio interrupts must fit the I/O APIC");
/* With the PCI transport: the BAR aperture, ECAM for bus 0, and INTA-INTD
 * on the same pins as virtio-mmio would use (the transports exclude each
 * other), level-triggered as PCI wants. */
#define PCI_MMIO_BASE 0xc0000000ull
#define PCI_MMIO_SIZE 0x10000000ull
#define PCI_ECAM_BASE 0xe0000000ull
#define PCI_INTX_GSI_BASE VIRTIO_GSI_BASE
_Static_assert(PCI_MMIO_BASE >= LOW_RAM_END && PCI_MMIO_BASE + PCI_MMIO_SIZE <= VIRTIO_MMIO_BASE,
	       "the PCI aperture must sit in the hole, below virtio-mmio");
#define BIOS_AREA_START 0x9fc00ull
#define BIOS_AREA_END 0x100000ull
/* F000:FFF0, where a real-mode jump to the BIOS's reset entry lands. */
#define BIOS_RESET_VECTOR 0xffff0ull
#define X86_KVM_PAGES_START 0xfffbc000ull
#define X86_KVM_PAGES_SIZE 0x4000ull
/* Long-mode page tables and GDT for the 64-bit boot protocol: below the
 * kernel, above the zero page, outside anything the loader uses. */
#define BOOT_SCRATCH 0x9000ull
/* The FADT's sleep control, sleep status and reset registers, in a row. */
#define PM_PORT_BASE HV_X86_ACPI_SLEEP_CONTROL_PORT
#define PM_PORT_COUNT 3
_Static_assert(HV_X86_ACPI_SLEEP_STATUS_PORT == PM_PORT_BASE + 1 &&
		       HV_X86_ACPI_RESET_PORT == PM_PORT_BASE + 2,
	       "ACPI power-management ports must be consecutive");

static int add_ram(struct hv_microvm *m, uint64_t gpa, uint64_t bytes, const char *name)
{
	struct hv_mem_region_config rc;

	hv_mem_region_config_init(&rc);
	rc.gpa = gpa;
	rc.bytes = bytes;
	rc.name = name;
	if (m->cfg.flags & HV_MICROVM_F_HUGEPAGES)
		rc.flags |= HV_MEM_F_HUGEPAGES;
	return hv_mem_add_region(hv_vm_mem(m->vm), &rc, NULL);
}

static int setup_ram(struct hv_microvm *m)
{
	uint64_t low = m->mem_bytes < LOW_RAM_END ? m->mem_bytes : LOW_RAM_END;
	int ret = add_ram(m, 0, low, "ram-low");

	if (!ret && m->mem_bytes > low)
		ret = add_ram(m, HIGH_RAM_START, m->mem_bytes - low, "ram-high");
	if (ret)
		return hv_err_context(ret, "allocating %llu MiB of guest RAM",
				      (unsigned long long)(m->mem_bytes >> 20));
	return 0;
}

static void add_mem_range(struct hv_microvm *m, uint64_t addr, uint64_t size, uint32_t type)
{
	m->mem_ranges[m->nr_mem_ranges++] = (struct hv_e820_range){ addr, size, type, 0 };
}

static void serial_irq(void *opaque, int level)
{
	struct hv_microvm *m = opaque;

	hv_vm_irq_line(m->vm, HV_SERIAL_COM1_IRQ, level);
}

/* The UART's callbacks share one opaque (m); the embedder's console
 * callback wants its own. */
static void console_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct hv_microvm *m = opaque;

	m->cfg.console_fn(m->cfg.console_opaque, buf, len);
}

static void kbc_reset(void *opaque)
{
	hv_microvm_request_stop(opaque, HV_STOP_REBOOT, 0, 0, NULL,
				"the guest rebooted (i8042 reset)");
}

static int setup_legacy_devices(struct hv_microvm *m)
{
	struct hv_serial_config sc;
	struct hv_i8042_config kc;
	struct hv_bus *pio = hv_vm_bus(m->vm, HV_BUS_PIO);
	int ret;

	hv_serial_config_init(&sc);
	sc.output = m->cfg.console_fn ? console_out : NULL;
	sc.output_fd = m->cfg.console_fn ? -1 : m->cfg.console_out_fd;
	sc.set_irq = serial_irq;
	sc.opaque = m;
	sc.ioloop = m->ioloop; /* batched console output */
	ret = hv_serial_create(&sc, &m->serial);
	if (!ret)
		ret = hv_serial_attach(m->serial, pio, HV_SERIAL_COM1_BASE);
	if (ret)
		return hv_err_context(ret, "serial console");
	hv_i8042_config_init(&kc);
	kc.reset = kbc_reset;
	kc.opaque = m;
	ret = hv_i8042_create(&kc, &m->kbc);
	if (!ret)
		ret = hv_i8042_attach(m->kbc, pio);
	if (ret)
		return hv_err_context(ret, "i8042");
	return 0;
}

/* Hardware-reduced ACPI power management: the sleep control register (S5 =
 * power off) and the reset register, as the FADT announces them. */
static int acpi_pm_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
		      uint64_t *value)
{
	struct hv_microvm *m = opaque;

	(void)width;
	if (!is_write) {
		*value = 0;
		return 0;
	}
	switch (hv_x86_acpi_pm_write(offset, *value)) {
	case HV_X86_ACPI_PM_POWEROFF:
		hv_microvm_request_stop(m, HV_STOP_POWEROFF, 0, 0, NULL, "the guest powered off");
		break;
	case HV_X86_ACPI_PM_RESET:
		hv_microvm_request_stop(m, HV_STOP_REBOOT, 0, 0, NULL,
					"the guest rebooted (ACPI reset)");
		break;
	default:
		break;
	}
	return 0;
}

/* The PCI host and each virtio device on it, slots 1, 2, ... in order. */
static int setup_virtio_pci(struct hv_microvm *m)
{
	struct hv_pci_host_config hc;
	int ret;

	hv_pci_host_config_init(&hc);
	hc.vm = m->vm;
	hc.ecam_base = PCI_ECAM_BASE;
	hc.mmio_base = PCI_MMIO_BASE;
	hc.mmio_len = PCI_MMIO_SIZE;
	hc.intx_gsi_base = PCI_INTX_GSI_BASE;
	ret = hv_pci_host_create(&hc, &m->pci_host);
	if (ret)
		return ret;
	/* Linux accepts ECAM only inside a reserved range of the memory map. */
	add_mem_range(m, PCI_ECAM_BASE, HV_PCI_ECAM_BUS0_SIZE, HV_E820_RESERVED);
	for (uint32_t i = 0; i < m->nr_virtio; i++) {
		struct hv_virtio_pci_config pc;

		hv_virtio_pci_config_init(&pc);
		pc.host = m->pci_host;
		pc.slot = i + 1;
		ret = hv_virtio_pci_create(m->virtio[i].dev, &pc, &m->virtio[i].pci);
		if (ret)
			return ret;
	}
	return 0;
}

/* The tables that describe the PCI host: an SSDT with the root bridge and
 * the MCFG, in *buf (free()). */
static int pci_tables(struct hv_microvm *m, struct hv_acpi_table *tables, uint8_t **buf)
{
	int ssdt = hv_pci_host_ssdt(m->pci_host, NULL, 0);
	int mcfg = hv_pci_host_mcfg(m->pci_host, NULL, 0);

	if (ssdt < 0 || mcfg < 0)
		return ssdt < 0 ? ssdt : mcfg;
	*buf = malloc((size_t)ssdt + (size_t)mcfg);
	if (!*buf)
		return hv_err(-ENOMEM, "PCI ACPI tables");
	hv_pci_host_ssdt(m->pci_host, *buf, (uint32_t)ssdt);
	hv_pci_host_mcfg(m->pci_host, *buf + ssdt, (uint32_t)mcfg);
	tables[0] = (struct hv_acpi_table){ *buf, (uint32_t)ssdt, 0 };
	tables[1] = (struct hv_acpi_table){ *buf + ssdt, (uint32_t)mcfg, 0 };
	return 0;
}

/* Each virtio device on its MMIO window, and its DSDT entry. */
static int setup_virtio(struct hv_microvm *m, struct hv_acpi_device *acpi)
{
	for (uint32_t i = 0; i < m->nr_virtio; i++) {
		struct hv_virtio_mmio_config mc;
		int ret;

		hv_virtio_mmio_config_init(&mc);
		mc.vm = m->vm;
		mc.base = VIRTIO_MMIO_BASE + (uint64_t)i * HV_VIRTIO_MMIO_SIZE;
		mc.irq = VIRTIO_GSI_BASE + i;
		ret = hv_virtio_mmio_create(m->virtio[i].dev, &mc, &m->virtio[i].mmio);
		if (ret)
			return ret;
		hv_acpi_device_init(&acpi[i]);
		acpi[i].hid = "LNRO0005";
		acpi[i].uid = i;
		acpi[i].mmio_base = mc.base;
		acpi[i].mmio_len = HV_VIRTIO_MMIO_SIZE;
		acpi[i].irq = mc.irq;
		acpi[i].irq_flags = HV_ACPI_IRQ_EDGE | HV_ACPI_IRQ_ACTIVE_HIGH;
	}
	return 0;
}

static int setup_acpi(struct hv_microvm *m)
{
	struct hv_acpi_device devices[HV_MICROVM_MAX_VIRTIO];
	struct hv_acpi_table tables[2];
	struct hv_x86_acpi_config ac;
	struct hv_x86_acpi_result res;
	uint8_t *pci_buf = NULL;
	bool pci = m->cfg.transport == HV_MICROVM_TRANSPORT_PCI;
	int ret;

	ret = hv_bus_register(hv_vm_bus(m->vm, HV_BUS_PIO), PM_PORT_BASE, PM_PORT_COUNT,
			      acpi_pm_io, m, "acpi-pm", NULL);
	if (ret)
		return ret;
	ret = pci ? setup_virtio_pci(m) : setup_virtio(m, devices);
	if (!ret && pci)
		ret = pci_tables(m, tables, &pci_buf);
	if (ret)
		goto out;
	hv_x86_acpi_config_init(&ac);
	ac.tables_max_bytes = BIOS_RESET_VECTOR - (ac.rsdp_addr + HV_X86_ACPI_TABLES_OFFSET);
	ac.nr_cpus = m->nr_vcpus;
	ac.devices = pci ? NULL : devices;
	ac.nr_devices = pci ? 0 : m->nr_virtio;
	ac.tables = pci ? tables : NULL;
	ac.nr_tables = pci ? 2 : 0;
	ret = hv_x86_acpi_build(hv_vm_mem(m->vm), &ac, &res);
	if (ret) {
		hv_err_context(ret, "building ACPI tables");
		goto out;
	}
	m->acpi_rsdp = res.rsdp_addr;
out:
	free(pci_buf);
	return ret;
}

/*
 * Linux's default reboot on a hardware-reduced ACPI machine is reboot=efi
 * (efi_reboot_required()), which without EFI falls through to reboot=bios:
 * back in real mode, a jump to the BIOS reset entry F000:FFF0.  With no
 * firmware that is zeroed RAM, and the vCPU would run zeros for ever.  A
 * stub there does what firmware would: it writes the FADT's reset
 * register, so the default reboot ends the VM like reboot=k or reboot=acpi.
 */
static int setup_reset_vector(struct hv_microvm *m)
{
	const uint8_t stub[] = {
		0xb0, HV_X86_ACPI_RESET_VALUE,         /* mov al, reset value */
		0xba, HV_X86_ACPI_RESET_PORT & 0xff,   /* mov dx, reset port */
		HV_X86_ACPI_RESET_PORT >> 8,
		0xee,                                  /* out dx, al */
		0xf4,                                  /* 1: hlt */
		0xeb, 0xfd,                            /* jmp 1b */
	};
	_Static_assert(BIOS_RESET_VECTOR + sizeof(stub) <= BIOS_AREA_END,
		       "the reset stub must fit below 1 MiB");
	int ret = hv_mem_write(hv_vm_mem(m->vm), BIOS_RESET_VECTOR, stub, sizeof(stub));

	return ret ? hv_err_context(ret, "writing the reset vector stub") : 0;
}

int hv_arch_microvm_setup(struct hv_microvm *m)
{
	int ret = setup_ram(m);

	if (ret)
		return ret;
	add_mem_range(m, BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START, HV_E820_RESERVED);
	add_mem_range(m, X86_KVM_PAGES_START, X86_KVM_PAGES_SIZE, HV_E820_RESERVED);
	ret = setup_legacy_devices(m);
	if (!ret)
		ret = setup_acpi(m);
	if (!ret)
		ret = setup_reset_vector(m);
	return ret;
}

int hv_arch_microvm_setup_vcpu(struct hv_microvm *m, struct hv_vcpu *vcpu)
{
	int ret = hv_x86_setup_platform_vcpu(vcpu, m->nr_vcpus);

	/* Application processors wait for INIT/SIPI from vCPU 0's LAPIC. */
	if (ret || hv_vcpu_index(vcpu) != 0)
		return ret;
	if (m->boot.mode == HV_LINUX_BOOT_PVH)
		return hv_x86_setup_pvh(vcpu, (uint32_t)m->boot.entry, (uint32_t)m->boot.boot_params);
	return hv_x86_setup_linux64(vcpu, m->boot.entry, m->boot.boot_params, BOOT_SCRATCH);
}
