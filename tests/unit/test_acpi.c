/* SPDX-License-Identifier: MIT */
/*
 * x86 ACPI tables: built into a buffer standing for the BIOS area and
 * checked the way an OS finds them (RSDP -> XSDT -> FADT/MADT, FADT -> DSDT),
 * with every checksum and length, against the ACPI 6.x layouts.  Devices and
 * the DSDT's contents are in test_acpi_devices.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/acpi.h"
#include "unit/unit_util.h"

#define BIOS 0xe0000ull
#define BIOS_BYTES 0x20000ull

/* A build: the buffer standing for guest memory at gpa, and the result. */
struct built {
	uint8_t *mem;
	uint64_t gpa;
	size_t bytes;
	struct hv_x86_acpi_result r;
};

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Host pointer for [gpa, gpa + len), which must lie in the buffer. */
static const uint8_t *at(const struct built *b, uint64_t gpa, uint64_t len)
{
	if (gpa < b->gpa || gpa - b->gpa > b->bytes || len > b->bytes - (gpa - b->gpa))
		fail_msg("0x%llx+0x%llx is outside the guest buffer", (unsigned long long)gpa,
			 (unsigned long long)len);
	return b->mem + (gpa - b->gpa);
}

/* A table with this signature at gpa: header sane, checksum right. */
static const uint8_t *table(const struct built *b, uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(b, gpa, 36);
	uint32_t len = le32(t + 4);

	if (memcmp(t, sig, 4))
		fail_msg("table at 0x%llx is '%.4s', expected '%s'", (unsigned long long)gpa, t, sig);
	assert_true(len >= 36);
	t = at(b, gpa, len);
	if (sum(t, len))
		fail_msg("%s checksum is wrong", sig);
	/* hvlib's own tables carry its OEM id; the embedder's keep theirs. */
	if (strstr("XSDT FACP APIC DSDT", sig))
		assert_memory_equal(t + 10, "HVLIB ", 6);
	return t;
}

static int build_at(const struct hv_x86_acpi_config *cfg, struct built *b, uint64_t gpa,
		    size_t bytes)
{
	b->mem = calloc(1, bytes);
	assert_non_null(b->mem);
	b->gpa = gpa;
	b->bytes = bytes;
	return hv_x86_acpi_build_buffer(cfg, b->mem, bytes, gpa, &b->r);
}

static void build(const struct hv_x86_acpi_config *cfg, struct built *b)
{
	expect_ret(build_at(cfg, b, BIOS, BIOS_BYTES), 0);
}

/* Follow RSDP -> XSDT -> tables; returns the XSDT's entry count. */
static uint32_t check_all(const struct built *b)
{
	const uint8_t *rsdp = at(b, b->r.rsdp_addr, 36), *xsdt, *fadt;
	uint32_t n;

	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(le32(rsdp + 16), 0);
	assert_int_equal(le32(rsdp + 20), 36);
	assert_memory_equal(rsdp + 9, "HVLIB ", 6);
	assert_int_equal(le64(rsdp + 24), b->r.xsdt_addr);
	xsdt = table(b, b->r.xsdt_addr, "XSDT");
	assert_int_equal((le32(xsdt + 4) - 36) % 8, 0);
	n = (le32(xsdt + 4) - 36) / 8;
	assert_true(n >= 2);
	assert_int_equal(le64(xsdt + 36), b->r.fadt_addr);
	assert_int_equal(le64(xsdt + 44), b->r.madt_addr);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = le64(xsdt + 36 + 8 * i);
		const uint8_t *t = at(b, addr, 36);

		table(b, addr, (const char[5]){ (char)t[0], (char)t[1], (char)t[2], (char)t[3], 0 });
		assert_true(addr >= b->r.tables_addr &&
			    addr + le32(t + 4) <= b->r.tables_addr + b->r.tables_bytes);
	}
	fadt = table(b, b->r.fadt_addr, "FACP");
	assert_int_equal(le64(fadt + 140), b->r.dsdt_addr);
	table(b, b->r.dsdt_addr, "DSDT");
	table(b, b->r.madt_addr, "APIC");
	return n;
}

static void test_defaults(void **state)
{
	struct hv_x86_acpi_config cfg;
	uint64_t bytes = 0;
	struct built b;

	(void)state;
	hv_x86_acpi_config_init(&cfg);
	assert_int_equal(cfg.size, sizeof(cfg));
	assert_int_equal(cfg.nr_cpus, 1);
	assert_int_equal(cfg.rsdp_addr, 0xe0000);
	assert_int_equal(cfg.sleep_control_port, 0x3c0);
	assert_int_equal(cfg.sleep_status_port, 0x3c1);
	assert_int_equal(cfg.reset_port, 0x3c2);
	build(&cfg, &b);
	assert_int_equal(check_all(&b), 2);
	assert_int_equal(b.r.rsdp_addr, 0xe0000);
	assert_int_equal(b.r.xsdt_addr, 0xe0040);
	assert_int_equal(b.r.tables_addr, 0xe0040);
	expect_ret(hv_x86_acpi_tables_bytes(&cfg, &bytes), 0);
	assert_int_equal(bytes, b.r.tables_bytes);
	/* Everything sits in one page of the BIOS area. */
	assert_int_equal(b.r.nr_ranges, 1);
	assert_int_equal(b.r.ranges[0].addr, 0xe0000);
	assert_int_equal(b.r.ranges[0].size, 0x1000);
	assert_int_equal(b.r.ranges[0].type, HV_E820_ACPI);
	free(b.mem);
}

static void test_fadt(void **state)
{
	struct hv_x86_acpi_config cfg;
	const uint8_t *f;
	struct built b;

	(void)state;
	hv_x86_acpi_config_init(&cfg);
	build(&cfg, &b);
	f = table(&b, b.r.fadt_addr, "FACP");
	assert_int_equal(le32(f + 4), 276);
	assert_int_equal(f[8], 6);			/* revision */
	assert_int_equal(f[131] & 0x0f, 3);		/* minor version */
	assert_int_equal(le32(f + 36), 0);		/* no FACS */
	assert_int_equal(le64(f + 132), 0);
	assert_int_equal(le32(f + 40), b.r.dsdt_addr);	/* both DSDT fields */
	assert_int_equal(le16(f + 46), 0);		/* no SCI */
	assert_int_equal(le16(f + 109), 0x24);		/* no VGA, no CMOS RTC */
	/* HW_REDUCED_ACPI (20), RESET_REG_SUP (10), no fixed buttons (4, 5), WBINVD. */
	assert_int_equal(le32(f + 112), (1u << 20) | (1u << 10) | (1u << 5) | (1u << 4) | 1u);
	/* RESET_REG: system I/O, 8 bits, byte access, port 0x3c2; value 1. */
	assert_memory_equal(f + 116, ((const uint8_t[]){ 1, 8, 0, 1, 0xc2, 3, 0, 0, 0, 0, 0, 0 }),
			    12);
	assert_int_equal(f[128], 1);
	assert_memory_equal(f + 244, ((const uint8_t[]){ 1, 8, 0, 1, 0xc0, 3, 0, 0, 0, 0, 0, 0 }),
			    12);
	assert_memory_equal(f + 256, ((const uint8_t[]){ 1, 8, 0, 1, 0xc1, 3, 0, 0, 0, 0, 0, 0 }),
			    12);
	/* No PM1/PM2/PM timer/GPE blocks, legacy or extended. */
	for (int off = 56; off < 88; off++)
		assert_int_equal(f[off], 0);
	for (int off = 148; off < 244; off++)
		assert_int_equal(f[off], 0);
	assert_int_equal(HV_X86_ACPI_POWEROFF_VALUE,
			 (HV_X86_ACPI_S5_SLP_TYP << HV_X86_ACPI_SLP_TYP_SHIFT) | HV_X86_ACPI_SLP_EN);
	free(b.mem);
}

/* Walk the MADT: every entry's length adds up to the table's. */
static void check_madt(const struct built *b, uint32_t ncpus, uint32_t ioapic_id, bool iso)
{
	const uint8_t *m = table(b, b->r.madt_addr, "APIC");
	uint32_t len = le32(m + 4), off = 44, lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(m[8], 5);
	assert_int_equal(le32(m + 36), 0xfee00000);
	assert_int_equal(le32(m + 40), 1); /* PCAT_COMPAT */
	while (off < len) {
		const uint8_t *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics); /* processor UID */
			assert_int_equal(e[3], lapics); /* APIC id */
			assert_int_equal(le32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ioapic_id);
			assert_int_equal(le32(e + 4), 0xfec00000);
			assert_int_equal(le32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_memory_equal(e, ((const uint8_t[]){ 2, 10, 0, 0, 2, 0, 0, 0, 5, 0 }),
					    10);
			isos++;
			break;
		case 4:
			assert_memory_equal(e, ((const uint8_t[]){ 4, 6, 0xff, 5, 0, 1 }), 6);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, iso ? 1 : 0);
	assert_int_equal(nmis, 1);
	assert_int_equal(len, 44 + 8 * ncpus + 12 + 6 + (iso ? 10 : 0));
}

static void test_madt_cpu_counts(void **state)
{
	static const uint32_t counts[] = { 1, 2, 64, 255 };
	struct hv_x86_acpi_config cfg;
	struct built b;

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		hv_x86_acpi_config_init(&cfg);
		cfg.nr_cpus = counts[i];
		build(&cfg, &b);
		check_all(&b);
		check_madt(&b, counts[i], 0, false);
		free(b.mem);
	}
	cfg.nr_cpus = 256;
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -EINVAL, "x2APIC");
	free(b.mem);
	cfg.nr_cpus = 0;
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -EINVAL, "nr_cpus");
	free(b.mem);
}

static void test_madt_options(void **state)
{
	struct hv_x86_acpi_config cfg;
	struct built b;

	(void)state;
	hv_x86_acpi_config_init(&cfg);
	cfg.nr_cpus = 3;
	cfg.ioapic_id = 3;
	cfg.flags = HV_X86_ACPI_F_IRQ0_OVERRIDE;
	build(&cfg, &b);
	check_all(&b);
	check_madt(&b, 3, 3, true);
	free(b.mem);
}

static void test_config_errors(void **state)
{
	struct hv_x86_acpi_config cfg;
	struct built b;

	(void)state;
	expect_err(hv_x86_acpi_build_buffer(NULL, &b, 1, 0, &b.r), -EINVAL, "config");
	for (int i = 0; i < 9; i++) {
		hv_x86_acpi_config_init(&cfg);
		switch (i) {
		case 0: cfg.size = 4; break;
		case 1: cfg.flags = 1u << 31; break;
		case 2: cfg.reserved1 = 1; break;
		case 3: cfg.lapic_addr = 1ull << 32; break;
		case 4: cfg.ioapic_pins = 0; break;
		case 5: cfg.ioapic_id = 256; break;
		case 6: cfg.sleep_status_port = 0; break;	/* half a sleep interface */
		case 7: cfg.rsdp_addr = 0xe0008; break;	/* not 16-byte aligned */
		case 8: cfg.tables_addr = 0xe0044; break;
		}
		if (build_at(&cfg, &b, BIOS, BIOS_BYTES) != -EINVAL)
			fail_msg("bad config %d accepted", i);
		free(b.mem);
	}
}

static void test_placement(void **state)
{
	struct hv_x86_acpi_config cfg;
	struct built b;

	(void)state;
	hv_x86_acpi_config_init(&cfg);
	cfg.nr_cpus = 255;
	cfg.tables_addr = 0xffc00; /* 1 KiB before 1 MiB: too small */
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -ENOSPC, "1 MiB");
	free(b.mem);
	cfg.tables_addr = 0;
	cfg.tables_max_bytes = 1024;
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -ENOSPC, "tables_max_bytes");
	free(b.mem);
	cfg.tables_max_bytes = 0;
	cfg.tables_addr = 0xe0000;
	cfg.rsdp_addr = 0xe0100; /* inside the tables */
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -EINVAL, "overlaps");
	free(b.mem);

	/* A buffer that does not hold the tables: nothing is written. */
	hv_x86_acpi_config_init(&cfg);
	expect_err(build_at(&cfg, &b, BIOS, 0x100), -ENOSPC, "buffer");
	for (size_t i = 0; i < 0x100; i++)
		assert_int_equal(b.mem[i], 0);
	free(b.mem);

	/* Tables above 1 MiB, RSDP in the BIOS area: two ranges, page-rounded. */
	cfg.nr_cpus = 8;
	cfg.tables_addr = 0x180010;
	expect_ret(build_at(&cfg, &b, 0, 0x200000), 0);
	check_all(&b);
	assert_int_equal(b.r.xsdt_addr, 0x180010);
	assert_int_equal(b.r.nr_ranges, 2);
	assert_int_equal(b.r.ranges[0].addr, 0xe0000);
	assert_int_equal(b.r.ranges[0].size, 0x1000);
	assert_int_equal(b.r.ranges[1].addr, 0x180000);
	assert_int_equal(b.r.ranges[1].size, 0x1000);
	assert_int_equal(b.r.ranges[1].type, HV_E820_ACPI);
	free(b.mem);
}

static void test_power_options(void **state)
{
	struct hv_x86_acpi_config cfg;
	const uint8_t *f, *d;
	struct built b;

	(void)state;
	/* No sleep registers and no reset register. */
	hv_x86_acpi_config_init(&cfg);
	cfg.sleep_control_port = cfg.sleep_status_port = 0;
	cfg.reset_port = 0;
	build(&cfg, &b);
	check_all(&b);
	f = table(&b, b.r.fadt_addr, "FACP");
	assert_int_equal(le32(f + 112) & (1u << 10), 0);
	for (int off = 116; off < 129; off++)
		assert_int_equal(f[off], 0);
	for (int off = 244; off < 268; off++)
		assert_int_equal(f[off], 0);
	d = table(&b, b.r.dsdt_addr, "DSDT");
	for (uint32_t i = 36; i + 4 <= le32(d + 4); i++)
		assert_false(!memcmp(d + i, "_S5_", 4));
	free(b.mem);

	/* The PC chipset's reset register instead. */
	hv_x86_acpi_config_init(&cfg);
	cfg.reset_port = 0xcf9;
	cfg.reset_value = 0x06;
	build(&cfg, &b);
	f = table(&b, b.r.fadt_addr, "FACP");
	assert_int_equal(le64(f + 120), 0xcf9);
	assert_int_equal(f[128], 0x06);
	free(b.mem);
}

static void test_extra_tables(void **state)
{
	struct hv_x86_acpi_config cfg;
	struct hv_acpi_table extra[2];
	uint8_t ssdt[40] = "SSDT", mcfg[60] = "MCFG";
	const uint8_t *x;
	struct built b;

	(void)state;
	ssdt[4] = sizeof(ssdt);
	mcfg[4] = sizeof(mcfg);
	ssdt[9] = 0x55; /* wrong on purpose: hvlib recomputes it */
	extra[0] = (struct hv_acpi_table){ ssdt, sizeof(ssdt), 0 };
	extra[1] = (struct hv_acpi_table){ mcfg, sizeof(mcfg), 0 };
	hv_x86_acpi_config_init(&cfg);
	cfg.tables = extra;
	cfg.nr_tables = 2;
	build(&cfg, &b);
	assert_int_equal(check_all(&b), 4);
	x = table(&b, b.r.xsdt_addr, "XSDT");
	table(&b, le64(x + 52), "SSDT");
	table(&b, le64(x + 60), "MCFG");
	free(b.mem);

	extra[0].bytes = 39; /* disagrees with the header */
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -EINVAL, "header length");
	free(b.mem);
	extra[0].bytes = sizeof(ssdt);
	memcpy(ssdt, "DSDT", 4);
	expect_err(build_at(&cfg, &b, BIOS, BIOS_BYTES), -EINVAL, "itself");
	free(b.mem);
}

static void test_guest_memory(void **state)
{
	struct hv_mem_region_config rc;
	struct hv_x86_acpi_config cfg;
	struct hv_x86_acpi_result r;
	struct hv_mem *mem;
	struct built b;
	uint8_t page[4096];

	(void)state;
	expect_ret(hv_mem_create(&mem), 0);
	hv_x86_acpi_config_init(&cfg);
	cfg.nr_cpus = 4;
	/* Only the RSDP's page is RAM: everything is checked before writing. */
	hv_mem_region_config_init(&rc);
	rc.gpa = 0xe0000;
	rc.bytes = 0x1000;
	cfg.tables_addr = 0xe1000;
	expect_ret(hv_mem_add_region(mem, &rc, NULL), 0);
	expect_err(hv_x86_acpi_build(mem, &cfg, &r), -EFAULT, "does not back");
	expect_ret(hv_mem_read(mem, 0xe0000, page, sizeof(page)), 0);
	for (size_t i = 0; i < sizeof(page); i++)
		assert_int_equal(page[i], 0);

	/* With the next page too, spanning two regions. */
	rc.gpa = 0xe1000;
	expect_ret(hv_mem_add_region(mem, &rc, NULL), 0);
	expect_ret(hv_x86_acpi_build(mem, &cfg, &r), 0);
	b.gpa = 0xe0000;
	b.bytes = 0x2000;
	b.mem = malloc(b.bytes);
	assert_non_null(b.mem);
	b.r = r;
	expect_ret(hv_mem_read(mem, b.gpa, b.mem, b.bytes), 0);
	check_all(&b);
	check_madt(&b, 4, 0, false);
	free(b.mem);
	hv_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt_cpu_counts),
		cmocka_unit_test(test_madt_options),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_power_options),
		cmocka_unit_test(test_extra_tables),
		cmocka_unit_test(test_guest_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
