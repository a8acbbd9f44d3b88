/* SPDX-License-Identifier: MIT */
/* Validating an x86 ACPI config (hvlib/acpi.h) into a plan. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi/acpi_x86.h"
#include "hvlib/serial.h"
#include "util/config.h"
#include "util/error.h"

/* The PC's first serial port, as PC firmware describes it. */
static const struct hv_acpi_device com1 = {
	.size = sizeof(struct hv_acpi_device),
	.irq_flags = HV_ACPI_IRQ_ISA,
	.name = "COM1",
	.hid = "PNP0501",
	.uid = 0,
	.irq = HV_SERIAL_COM1_IRQ,
	.io_base = HV_SERIAL_COM1_BASE,
	.io_len = HV_SERIAL_NR_PORTS,
};

HV_EXPORT void hv_x86_acpi_config_init(struct hv_x86_acpi_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->nr_cpus = 1;
	cfg->lapic_addr = HV_X86_ACPI_LAPIC_ADDR;
	cfg->ioapic_addr = HV_X86_ACPI_IOAPIC_ADDR;
	cfg->ioapic_pins = HV_X86_ACPI_IOAPIC_PINS;
	cfg->rsdp_addr = HV_X86_ACPI_RSDP_ADDR;
	cfg->sleep_control_port = HV_X86_ACPI_SLEEP_CONTROL_PORT;
	cfg->sleep_status_port = HV_X86_ACPI_SLEEP_STATUS_PORT;
	cfg->reset_port = HV_X86_ACPI_RESET_PORT;
	cfg->reset_value = HV_X86_ACPI_RESET_VALUE;
	cfg->boot_arch = HV_X86_ACPI_BOOT_ARCH_DEFAULT;
}

static int check_machine(const struct hv_x86_acpi_config *cfg)
{
	if (cfg->nr_cpus == 0)
		return hv_err(-EINVAL, "ACPI config: nr_cpus is 0");
	if (cfg->nr_cpus > HV_X86_ACPI_MAX_CPUS)
		return hv_err(-EINVAL, "ACPI config: %u vCPUs, but the MADT describes at most %u: "
				       "xAPIC ids are 0-254 (255 is the broadcast id) and x2APIC "
				       "entries are not implemented", cfg->nr_cpus,
			      HV_X86_ACPI_MAX_CPUS);
	if (cfg->ioapic_id > 255)
		return hv_err(-EINVAL, "ACPI config: I/O APIC id %u is above 255", cfg->ioapic_id);
	if (!cfg->lapic_addr || cfg->lapic_addr > UINT32_MAX || !cfg->ioapic_addr ||
	    cfg->ioapic_addr > UINT32_MAX)
		return hv_err(-EINVAL, "ACPI config: LAPIC 0x%llx / I/O APIC 0x%llx must be "
				       "non-zero addresses below 4 GiB",
			      (unsigned long long)cfg->lapic_addr,
			      (unsigned long long)cfg->ioapic_addr);
	if (cfg->ioapic_pins == 0 || cfg->ioapic_pins > 256)
		return hv_err(-EINVAL, "ACPI config: %u I/O APIC pins, expected 1-256",
			      cfg->ioapic_pins);
	return 0;
}

static int check_layout(const struct hv_x86_acpi_config *cfg)
{
	if (cfg->rsdp_addr % 16 || cfg->tables_addr % HV_X86_TABLE_ALIGN)
		return hv_err(-EINVAL, "ACPI config: RSDP 0x%llx and tables 0x%llx must be "
				       "16-byte aligned", (unsigned long long)cfg->rsdp_addr,
			      (unsigned long long)cfg->tables_addr);
	if (cfg->rsdp_addr > UINT64_MAX - 0xfff)
		return hv_err(-EINVAL, "ACPI config: RSDP at 0x%llx wraps around",
			      (unsigned long long)cfg->rsdp_addr);
	if (!cfg->sleep_control_port != !cfg->sleep_status_port)
		return hv_err(-EINVAL, "ACPI config: sleep control port 0x%x and status port 0x%x: "
				       "give both, or neither (no S5)", cfg->sleep_control_port,
			      cfg->sleep_status_port);
	if (cfg->nr_devices > HV_ACPI_MAX_DEVICES || cfg->nr_tables > HV_ACPI_MAX_EXTRA_TABLES)
		return hv_err(-EINVAL, "ACPI config: %u devices and %u extra tables, at most %u "
				       "and %u", cfg->nr_devices, cfg->nr_tables,
			      HV_ACPI_MAX_DEVICES, HV_ACPI_MAX_EXTRA_TABLES);
	if (cfg->nr_tables && !cfg->tables)
		return hv_err(-EINVAL, "ACPI config: %u extra tables but no array", cfg->nr_tables);
	for (uint32_t i = 0; i < cfg->nr_tables; i++) {
		int ret = hv_acpi_check_extra_table(&cfg->tables[i], i);

		if (ret)
			return ret;
	}
	return 0;
}

/* A power management port inside a device's ports would make both misbehave. */
static int check_port(const struct hv_x86_acpi_plan *p, uint16_t port, const char *what)
{
	for (uint32_t i = 0; port && i < p->nr_devs; i++) {
		const struct hv_acpi_device *d = &p->devs[i].d;

		if (d->io_len && port >= d->io_base && port - d->io_base < d->io_len)
			return hv_err(-EEXIST, "ACPI config: the %s port 0x%x is one of ACPI device "
					       "%s's I/O ports", what, port, p->devs[i].name);
	}
	return 0;
}

static int gather_devices(const struct hv_x86_acpi_config *cfg, struct hv_x86_acpi_plan *p)
{
	uint32_t builtin = (cfg->flags & HV_X86_ACPI_F_NO_COM1) ? 0 : 1;
	int ret;

	p->devs = calloc(builtin + cfg->nr_devices + 1, sizeof(*p->devs));
	if (!p->devs)
		return hv_err(-ENOMEM, "allocating %u ACPI devices", cfg->nr_devices);
	if (builtin) {
		p->devs[0].d = com1;
		p->devs[0].index = HV_ACPI_DEV_BUILTIN;
		ret = hv_acpi_dev_check(&p->devs[0], cfg->ioapic_pins);
		if (ret)
			return ret;
	}
	ret = hv_acpi_devices_import(cfg->devices, cfg->nr_devices, cfg->ioapic_pins,
				     p->devs + builtin);
	if (ret)
		return ret;
	p->nr_devs = builtin + cfg->nr_devices;
	ret = hv_acpi_devices_check_unique(p->devs, p->nr_devs);
	if (!ret)
		ret = check_port(p, cfg->sleep_control_port, "sleep control");
	if (!ret)
		ret = check_port(p, cfg->sleep_status_port, "sleep status");
	if (!ret)
		ret = check_port(p, cfg->reset_port, "reset");
	return ret;
}

int hv_x86_acpi_plan(const struct hv_x86_acpi_config *ucfg, struct hv_x86_acpi_plan *p)
{
	const struct hv_x86_acpi_config *cfg = &p->copy;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = HV_CFG_LOAD(&p->copy, ucfg, hv_x86_acpi_config_init, "ACPI config");
	if (ret)
		return ret;
	if (cfg->flags & ~HV_X86_ACPI_F_ALL)
		return hv_err(-EINVAL, "ACPI config: unknown flags 0x%x",
			      cfg->flags & ~HV_X86_ACPI_F_ALL);
	if (cfg->reserved0 || cfg->reserved1 || cfg->reserved2 || cfg->reserved3)
		return hv_err(-EINVAL, "ACPI config: reserved0..3 are 0x%x 0x%x 0x%x 0x%x, must be 0",
			      cfg->reserved0, cfg->reserved1, cfg->reserved2, cfg->reserved3);
	ret = check_machine(cfg);
	if (!ret)
		ret = check_layout(cfg);
	if (ret)
		return ret;
	p->cfg = cfg;
	p->rsdp_addr = cfg->rsdp_addr;
	p->tables_addr = cfg->tables_addr ? cfg->tables_addr
					  : cfg->rsdp_addr + HV_X86_ACPI_TABLES_OFFSET;
	return gather_devices(cfg, p);
}

void hv_x86_acpi_plan_release(struct hv_x86_acpi_plan *p)
{
	free(p->devs);
	p->devs = NULL;
	p->nr_devs = 0;
}
