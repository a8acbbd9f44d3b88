/* SPDX-License-Identifier: MIT */
/*
 * hvlib/acpi.h - ACPI tables for guests without firmware.
 *
 * hv_x86_acpi_build() writes a complete, hardware-reduced ACPI description
 * of an x86 micro-VM into guest memory: RSDP (revision 2), XSDT, FADT, MADT,
 * DSDT and any extra tables the embedder supplies (SSDT, MCFG, ...).  Table
 * revisions are ACPI 6.3's (FADT 6.3, MADT 5; the structures used are the
 * same in later 6.x), DSDT revision 2 (64-bit integers).  OEM id "HVLIB ".
 *
 * The machine described:
 *  - nr_cpus processors with local APICs (xAPIC ids and ACPI processor UIDs
 *    0 .. nr_cpus - 1, all enabled; LINT1 is NMI), registers at lapic_addr;
 *  - one I/O APIC (ioapic_id, ioapic_addr, GSIs 0 .. ioapic_pins - 1);
 *  - the legacy 8259 PICs (MADT flag PCAT_COMPAT);
 *  - COM1 (PNP0501: I/O 0x3f8-0x3ff, ISA IRQ 4), unless HV_X86_ACPI_F_NO_COM1;
 *  - the embedder's devices (struct hv_acpi_device), under \_SB;
 *  - no PCI of its own: a PCI host (hvlib/pci.h) comes as extra tables, an
 *    SSDT with the root bridge and the MCFG (the micro-VM adds them);
 *  - no FACS, no SCI, no PM timer, no GPEs: hardware-reduced
 *    ACPI, where power-off and reset go through the registers below.
 *
 * Power management protocol: what the guest writes, so the platform can
 * emulate it.  All registers are one byte wide, in system I/O space.
 *
 *  Power-off (S5), as Linux's acpi_power_off() does it:
 *   1. outb(HV_X86_ACPI_WAK_STS (0x80), sleep_status_port)   (0x3c1)
 *      clears the wake status; harmless to ignore.
 *   2. outb(HV_X86_ACPI_POWEROFF_VALUE (0x34), sleep_control_port)   (0x3c0)
 *      i.e. (SLP_TYP 5 << 2) | SLP_EN (bit 5).  Stop the VM here.
 *   The guest then spins reading sleep_status_port until bit 7 (WAK_STS)
 *   is set, so reads should return 0 if the VM is not stopped at once.
 *   In general: on a write to sleep_control_port with bit 5 (SLP_EN) set,
 *   bits 4-2 are the sleep type; only 5 (S5, soft-off) is advertised
 *   (\_S5_ in the DSDT), other values should be ignored.
 *
 *  Reboot, as Linux's acpi_reboot() does it (its first method on x86):
 *   outb(reset_value, reset_port)   (default 0x01 to 0x3c2)
 *   Reset or stop the VM there.  Linux falls back to the i8042 (0xfe to
 *   port 0x64), then to a triple fault, if nothing happens.
 *
 * Guest memory (defaults): the RSDP at HV_X86_ACPI_RSDP_ADDR (0xe0000), where
 * Linux's scan of 0xe0000-0xfffff finds it, and the tables right after it
 * (0xe0040), all inside the PC BIOS area 0xe0000-0xfffff.  The result also
 * gives the RSDP address for the boot protocol (hv_linux_boot_config's
 * acpi_rsdp_addr: boot_params.acpi_rsdp_addr, or PVH's rsdp_paddr), which
 * is the only way a kernel finds an RSDP placed elsewhere.  The result lists
 * the guest-physical ranges to keep out of RAM in the guest's memory map; if
 * they lie inside a range the platform reserves already (hvlib's micro-VM
 * reserves 0x9fc00-0xfffff), nothing more is needed.
 *
 * Ownership: configs, device lists and extra tables are borrowed for the
 * duration of the call and copied into guest memory; nothing is kept.
 * Threading: the functions are pure (or only write guest memory) and may
 * run on any thread; write guest memory before the vCPUs start.
 *
 * Errors: -EINVAL (a bad config, device or table; the message names it),
 * -EEXIST (two devices share a name, a _HID/_UID pair or an address range),
 * -ENOSPC (the tables do not fit where they were asked to go), -EFAULT
 * (guest memory does not back the RSDP or the tables), -ENOMEM.
 */
#ifndef HVLIB_ACPI_H
#define HVLIB_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "loader.h"
#include "mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A device in the DSDT, under \_SB:
 *	Device (name) {
 *		Name (_HID, hid)	(EisaId () for "PNP0501"-style ids)
 *		Name (_UID, uid)
 *		Name (_CRS, ResourceTemplate () {
 *			Memory32Fixed (ReadWrite, mmio_base, mmio_len)
 *				(QWordMemory when above 4 GiB)
 *			IO (Decode16, io_base, io_base, 1, io_len)
 *			Interrupt (ResourceConsumer, <irq_flags>) { irq }
 *				(IRQNoFlags () / IRQ () with HV_ACPI_IRQ_ISA)
 *		})
 *	}
 * Each resource appears only when present.  For virtio-mmio (Linux's
 * virtio_mmio driver matches "LNRO0005"): hid "LNRO0005", the register
 * window, and an edge-triggered, active-high GSI.
 */
#define HV_ACPI_NO_IRQ UINT32_MAX /* struct hv_acpi_device.irq: no interrupt */

/* Interrupt flags (struct hv_acpi_device.irq_flags). */
#define HV_ACPI_IRQ_EDGE        0u        /* edge-triggered (default) */
#define HV_ACPI_IRQ_LEVEL       (1u << 0) /* level-triggered */
#define HV_ACPI_IRQ_ACTIVE_HIGH 0u        /* (default) */
#define HV_ACPI_IRQ_ACTIVE_LOW  (1u << 1)
#define HV_ACPI_IRQ_SHARED      (1u << 2) /* shared (default: exclusive) */
#define HV_ACPI_IRQ_WAKE        (1u << 3) /* wake capable */
#define HV_ACPI_IRQ_ISA         (1u << 4) /* ISA IRQ descriptor, as PC firmware describes
					   * COM ports: irq 0-15 */
#define HV_ACPI_IRQ_ALL         0x1fu

/* Most devices in one table set. */
#define HV_ACPI_MAX_DEVICES 1024u

struct hv_acpi_device {
	uint32_t size;       /* sizeof(struct hv_acpi_device); in an array, every
			      * element's (the array's stride) */
	uint32_t irq_flags;  /* HV_ACPI_IRQ_*; unknown bits: -EINVAL */
	const char *name;    /* ACPI name: 1-4 of A-Z, 0-9, _ (padded with _), starting
			      * with a capital, unique; NULL: "D000", "D001", ... by index */
	const char *hid;     /* _HID: an EISA id "PNP0501" or an ACPI id "LNRO0005" */
	uint32_t uid;        /* _UID: unique among devices with the same hid */
	uint32_t irq;        /* GSI (I/O APIC pin); HV_ACPI_NO_IRQ: none */
	uint64_t mmio_base;  /* memory-mapped registers, if mmio_len > 0 */
	uint64_t mmio_len;
	uint16_t io_base;    /* I/O ports, if io_len > 0 (at most 255 ports) */
	uint16_t io_len;
	uint32_t reserved;   /* must be 0 */
};

/* Fill *dev with its size and defaults (no name, no resources, no IRQ). */
HV_EXPORT void hv_acpi_device_init(struct hv_acpi_device *dev);

/* An extra table, copied verbatim except for its checksum, which is
 * recomputed, and listed in the XSDT.  bytes must equal the header's length
 * (at least 36).  The signatures this module writes itself (RSDP, XSDT,
 * RSDT, FACP, FACS, APIC, DSDT) are refused. */
struct hv_acpi_table {
	const void *data;
	uint32_t bytes;
	uint32_t reserved; /* must be 0 */
};

#define HV_ACPI_MAX_EXTRA_TABLES 16u

/*
 * x86.
 */
#define HV_X86_ACPI_MAX_CPUS      255u /* xAPIC ids 0-254: no x2APIC entries */
#define HV_X86_ACPI_RSDP_ADDR     0xe0000ull
#define HV_X86_ACPI_RSDP_BYTES    36u
/* Where the tables go by default: this far after the RSDP. */
#define HV_X86_ACPI_TABLES_OFFSET 0x40u
/* End of the BIOS area: tables that start below it must end by it. */
#define HV_X86_ACPI_BIOS_AREA_END 0x100000ull
#define HV_X86_ACPI_LAPIC_ADDR    0xfee00000ull
#define HV_X86_ACPI_IOAPIC_ADDR   0xfec00000ull
#define HV_X86_ACPI_IOAPIC_PINS   24u

/* Power management registers (see the protocol above). */
#define HV_X86_ACPI_SLEEP_CONTROL_PORT 0x3c0u
#define HV_X86_ACPI_SLEEP_STATUS_PORT  0x3c1u
#define HV_X86_ACPI_RESET_PORT         0x3c2u
#define HV_X86_ACPI_RESET_VALUE        0x01u
#define HV_X86_ACPI_SLP_EN             0x20u /* sleep control: bit 5 */
#define HV_X86_ACPI_SLP_TYP_SHIFT      2     /* sleep control: SLP_TYP in bits 4-2 */
#define HV_X86_ACPI_SLP_TYP_MASK       0x1cu
#define HV_X86_ACPI_WAK_STS            0x80u /* sleep status: bit 7 */
#define HV_X86_ACPI_S5_SLP_TYP         5u    /* the \_S5_ package's SLP_TYP */
#define HV_X86_ACPI_POWEROFF_VALUE     0x34u /* (5 << 2) | SLP_EN */

/* FADT IAPC_BOOT_ARCH flags (struct hv_x86_acpi_config.boot_arch). */
#define HV_X86_ACPI_BOOT_LEGACY_DEVICES 0x0001u /* user-visible LPC/ISA devices */
#define HV_X86_ACPI_BOOT_8042           0x0002u /* an 8042 keyboard controller */
#define HV_X86_ACPI_BOOT_NO_VGA         0x0004u /* VGA not present */
#define HV_X86_ACPI_BOOT_NO_MSI         0x0008u /* MSI not supported */
#define HV_X86_ACPI_BOOT_NO_ASPM        0x0010u /* PCIe ASPM controls */
#define HV_X86_ACPI_BOOT_NO_CMOS_RTC    0x0020u /* CMOS RTC not present */
#define HV_X86_ACPI_BOOT_ARCH_DEFAULT   (HV_X86_ACPI_BOOT_NO_VGA | HV_X86_ACPI_BOOT_NO_CMOS_RTC)

/* Flags (struct hv_x86_acpi_config.flags). */
#define HV_X86_ACPI_F_NO_COM1       (1u << 0) /* leave COM1 out of the DSDT */
/* MADT Interrupt Source Override ISA IRQ 0 -> GSI 2 (edge, active-high), as on
 * PC hardware.  Only true if the platform routes the PIT there (QEMU-style
 * KVM_SET_GSI_ROUTING); with KVM's default routing, which hvlib's VM keeps,
 * the PIT's IRQ 0 reaches I/O APIC pin 0 and no override is right. */
#define HV_X86_ACPI_F_IRQ0_OVERRIDE (1u << 1)
#define HV_X86_ACPI_F_ALL           0x3u

struct hv_x86_acpi_config {
	uint32_t size;            /* sizeof(struct hv_x86_acpi_config) */
	uint32_t flags;           /* HV_X86_ACPI_F_*; unknown bits: -EINVAL */
	uint32_t nr_cpus;         /* 1 .. HV_X86_ACPI_MAX_CPUS; default 1 */
	uint32_t ioapic_id;       /* 0-255; default 0, what KVM's in-kernel I/O APIC reports */
	uint64_t lapic_addr;      /* below 4 GiB; default HV_X86_ACPI_LAPIC_ADDR */
	uint64_t ioapic_addr;     /* below 4 GiB; default HV_X86_ACPI_IOAPIC_ADDR */
	uint32_t ioapic_pins;     /* 1-256; default 24; device GSIs must be below it */
	uint32_t reserved0;       /* must be 0 */
	uint64_t rsdp_addr;       /* 16-byte aligned; default HV_X86_ACPI_RSDP_ADDR */
	uint64_t tables_addr;     /* 16-byte aligned; 0 (default): rsdp_addr +
				   * HV_X86_ACPI_TABLES_OFFSET */
	uint64_t tables_max_bytes; /* 0 (default): no cap, except that tables starting
				    * below 1 MiB must end by 1 MiB */
	const struct hv_acpi_device *devices; /* nr_devices entries, at most
					       * HV_ACPI_MAX_DEVICES */
	uint32_t nr_devices;
	uint32_t nr_tables;       /* entries in tables, at most HV_ACPI_MAX_EXTRA_TABLES */
	const struct hv_acpi_table *tables; /* extra tables, in XSDT order */
	/* Power management I/O ports: both sleep ports 0 means no S5 (no \_S5_,
	 * no sleep registers); reset_port 0 means no reset register. */
	uint16_t sleep_control_port; /* default HV_X86_ACPI_SLEEP_CONTROL_PORT */
	uint16_t sleep_status_port;  /* default HV_X86_ACPI_SLEEP_STATUS_PORT */
	uint16_t reset_port;         /* default HV_X86_ACPI_RESET_PORT */
	uint8_t reset_value;         /* default HV_X86_ACPI_RESET_VALUE */
	uint8_t reserved1;           /* must be 0 */
	uint16_t boot_arch;          /* FADT IAPC_BOOT_ARCH; default
				      * HV_X86_ACPI_BOOT_ARCH_DEFAULT */
	uint16_t reserved2;          /* must be 0 */
	uint32_t reserved3;          /* must be 0 */
};

/* What was written where. */
struct hv_x86_acpi_result {
	uint64_t rsdp_addr;    /* for hv_linux_boot_config.acpi_rsdp_addr */
	uint64_t xsdt_addr;
	uint64_t fadt_addr;
	uint64_t madt_addr;
	uint64_t dsdt_addr;
	uint64_t tables_addr;  /* all tables: [tables_addr, tables_addr + tables_bytes) */
	uint64_t tables_bytes;
	uint32_t nr_ranges;    /* entries of ranges[] used: 1 (RSDP and tables share
				* pages) or 2 */
	uint32_t reserved;
	/* The pages holding the RSDP and the tables (rounded out to 4 KiB),
	 * type HV_E820_ACPI, for the guest's memory map. */
	struct hv_e820_range ranges[2];
	uint64_t reserved_tail[4]; /* room to grow: 0 today; later fields take it */
};

/* Fill *cfg with its size and the defaults above. */
HV_EXPORT void hv_x86_acpi_config_init(struct hv_x86_acpi_config *cfg);

/* Bytes of the tables (XSDT first) that cfg describes, the RSDP excluded;
 * independent of the addresses.  Pure.  -EINVAL, -EEXIST, -ENOMEM. */
HV_EXPORT int hv_x86_acpi_tables_bytes(const struct hv_x86_acpi_config *cfg, uint64_t *bytes);

/*
 * Build the tables and write them into guest memory: the RSDP at
 * cfg->rsdp_addr, the tables at cfg->tables_addr.  Everything is checked
 * before anything is written.  All errors above.
 */
HV_EXPORT int hv_x86_acpi_build(struct hv_mem *mem, const struct hv_x86_acpi_config *cfg,
				struct hv_x86_acpi_result *out);

/*
 * The same into a host buffer that stands for guest-physical
 * [buf_gpa, buf_gpa + buf_bytes), which must contain the RSDP and the
 * tables (-ENOSPC otherwise).  Bytes outside them are left alone.  Pure.
 */
HV_EXPORT int hv_x86_acpi_build_buffer(const struct hv_x86_acpi_config *cfg, void *buf,
				       size_t buf_bytes, uint64_t buf_gpa,
				       struct hv_x86_acpi_result *out);

#ifdef __cplusplus
}
#endif

#endif /* HVLIB_ACPI_H */
