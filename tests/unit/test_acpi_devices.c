/* SPDX-License-Identifier: MIT */
/*
 * Devices in the DSDT.  The DSDT is read back with a small AML reader
 * written here from the spec (Scope, Device, Name with integer, string,
 * buffer and package objects; Methods skipped), so each check is on what an
 * OS would find: names, _HID, _UID, _CRS bytes, \_S5_.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvlib/acpi.h"
#include "unit/unit_util.h"

#define BIOS 0xe0000ull
#define BIOS_BYTES 0x20000ull
#define MAX_DEVS (HV_ACPI_MAX_DEVICES + 1)

struct dev {
	char name[5];
	char hid[9];
	uint64_t uid;
	const uint8_t *crs; /* the descriptors, end tag included */
	uint32_t crs_len;
};

struct dsdt {
	uint8_t *mem;       /* the whole guest buffer, owning crs pointers */
	struct dev devs[MAX_DEVS];
	uint32_t n;
	int s5_elems;       /* -1: no \_S5_ */
	uint64_t s5[4];
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* PkgLength (20.2.4): returns its bytes, *end = where the object ends. */
static size_t pkglen(const uint8_t *p, const uint8_t **end)
{
	size_t n = (p[0] >> 6) + 1;
	uint32_t v = n == 1 ? p[0] & 0x3fu : p[0] & 0x0fu;

	for (size_t i = 1; i < n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*end = p + v;
	return n;
}

/* A NameString; the last segment goes to seg.  Returns its length. */
static size_t namestring(const uint8_t *p, char seg[5])
{
	const uint8_t *q = p;
	size_t nsegs = 1;

	while (*q == '\\' || *q == '^')
		q++;
	if (*q == 0x00)
		nsegs = 0, q++;
	else if (*q == 0x2e)
		nsegs = 2, q++;
	else if (*q == 0x2f)
		nsegs = q[1], q += 2;
	memset(seg, 0, 5);
	if (nsegs)
		memcpy(seg, q + 4 * (nsegs - 1), 4);
	return (size_t)(q - p) + 4 * nsegs;
}

/* An integer (incl. Zero/One/Ones): its length, or 0 if p is not one. */
static size_t integer(const uint8_t *p, uint64_t *v)
{
	static const size_t width[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };

	if (p[0] == 0x00 || p[0] == 0x01 || p[0] == 0xff) {
		*v = p[0] == 0xff ? UINT64_MAX : p[0];
		return 1;
	}
	if (p[0] > 0x0e || !width[p[0]])
		return 0;
	*v = 0;
	for (size_t i = 0; i < width[p[0]]; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return 1 + width[p[0]];
}

/* EISA id integer back to "PNP0501" (19.6.35). */
static void eisa_string(uint32_t v, char out[9])
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t b0 = (uint8_t)v, b1 = (uint8_t)(v >> 8), b2 = (uint8_t)(v >> 16),
		b3 = (uint8_t)(v >> 24);

	out[0] = (char)(0x40 + (b0 >> 2));
	out[1] = (char)(0x40 + (((b0 & 3) << 3) | (b1 >> 5)));
	out[2] = (char)(0x40 + (b1 & 0x1f));
	out[3] = hex[b2 >> 4];
	out[4] = hex[b2 & 15];
	out[5] = hex[b3 >> 4];
	out[6] = hex[b3 & 15];
	out[7] = '\0';
}

/* Name (name, object) inside device d (or at the root when d is NULL). */
static const uint8_t *name_object(struct dsdt *s, struct dev *d, const uint8_t *p)
{
	const uint8_t *end;
	char name[5];
	uint64_t v;
	size_t n;

	p += namestring(p, name);
	if ((n = integer(p, &v))) {
		if (d && !strcmp(name, "_HID"))
			eisa_string((uint32_t)v, d->hid);
		else if (d && !strcmp(name, "_UID"))
			d->uid = v;
		return p + n;
	}
	if (*p == 0x0d) { /* String */
		if (d && !strcmp(name, "_HID"))
			strncpy(d->hid, (const char *)p + 1, 8);
		return p + strlen((const char *)p + 1) + 2;
	}
	if (*p == 0x11) { /* Buffer: PkgLength, BufferSize, bytes */
		const uint8_t *q = p + 1 + pkglen(p + 1, &end);

		q += integer(q, &v);
		assert_int_equal(end - q, v);
		if (d && !strcmp(name, "_CRS")) {
			d->crs = q;
			d->crs_len = (uint32_t)v;
		}
		return end;
	}
	if (*p == 0x12 && !d && !strcmp(name, "_S5_")) { /* Package */
		const uint8_t *q = p + 1 + pkglen(p + 1, &end);

		s->s5_elems = *q++;
		for (int i = 0; i < s->s5_elems && i < 4; i++)
			q += integer(q, &s->s5[i]);
		assert_ptr_equal(q, end);
		return end;
	}
	fail_msg("unexpected object 0x%02x in Name (%s)", *p, name);
	return NULL;
}

static void term_list(struct dsdt *s, struct dev *d, const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		const uint8_t *obj_end = end;
		char name[5];

		if (p[0] == 0x10) { /* Scope */
			p += 1 + pkglen(p + 1, &obj_end);
			term_list(s, d, p + namestring(p, name), obj_end);
		} else if (p[0] == 0x5b && p[1] == 0x82) { /* Device */
			struct dev *nd;

			assert_true(s->n < MAX_DEVS);
			nd = &s->devs[s->n++];
			p += 2 + pkglen(p + 2, &obj_end);
			p += namestring(p, nd->name);
			term_list(s, nd, p, obj_end);
		} else if (p[0] == 0x08) { /* Name */
			obj_end = name_object(s, d, p + 1);
		} else if (p[0] == 0x14) { /* Method: skipped */
			pkglen(p + 1, &obj_end);
		} else {
			fail_msg("unexpected opcode 0x%02x", p[0]);
		}
		p = obj_end;
	}
	assert_ptr_equal(p, end);
}

/* Build with cfg and read the DSDT back; the caller frees s->mem and s. */
static int read_dsdt(const struct hv_x86_acpi_config *cfg, struct dsdt **out)
{
	struct hv_x86_acpi_result r;
	struct dsdt *s = calloc(1, sizeof(*s));
	const uint8_t *t;
	int ret;

	assert_non_null(s);
	s->mem = calloc(1, BIOS_BYTES);
	assert_non_null(s->mem);
	s->s5_elems = -1;
	*out = s;
	ret = hv_x86_acpi_build_buffer(cfg, s->mem, BIOS_BYTES, BIOS, &r);
	if (ret)
		return ret;
	t = s->mem + (r.dsdt_addr - BIOS);
	assert_memory_equal(t, "DSDT", 4);
	assert_int_equal(t[8], 2);
	term_list(s, NULL, t + 36, t + le32(t + 4));
	return 0;
}

static void free_dsdt(struct dsdt *s)
{
	free(s->mem);
	free(s);
}

static const struct dev *find(const struct dsdt *s, const char *name)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!strcmp(s->devs[i].name, name))
			return &s->devs[i];
	fail_msg("no device %s in the DSDT", name);
	return NULL;
}

static void expect_crs(const struct dev *d, const uint8_t *want, size_t n)
{
	uint8_t sum = 0;

	assert_non_null(d->crs);
	/* The descriptors, then the end tag whose checksum zeroes the sum. */
	assert_int_equal(d->crs_len, n + 2);
	assert_memory_equal(d->crs, want, n);
	assert_int_equal(d->crs[n], 0x79);
	for (uint32_t i = 0; i < d->crs_len; i++)
		sum = (uint8_t)(sum + d->crs[i]);
	assert_int_equal(sum, 0);
}

static void test_default_dsdt(void **state)
{
	struct hv_x86_acpi_config cfg;
	const struct dev *com1;
	struct dsdt *s;

	(void)state;
	hv_x86_acpi_config_init(&cfg);
	expect_ret(read_dsdt(&cfg, &s), 0);
	assert_int_equal(s->n, 1);
	com1 = find(s, "COM1");
	assert_string_equal(com1->hid, "PNP0501");
	assert_int_equal(com1->uid, 0);
	expect_crs(com1, (const uint8_t[]){ 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
					    0x22, 0x10, 0x00 }, 11);
	assert_int_equal(s->s5_elems, 4);
	assert_int_equal(s->s5[0], 5);
	free_dsdt(s);
}

static void test_virtio_devices(void **state)
{
	struct hv_acpi_device dev[3];
	struct hv_x86_acpi_config cfg;
	struct dsdt *s;

	(void)state;
	for (int i = 0; i < 3; i++) {
		hv_acpi_device_init(&dev[i]);
		dev[i].hid = "LNRO0005";
		dev[i].uid = (uint32_t)i;
		dev[i].mmio_len = 0x200;
		dev[i].irq = 5 + (uint32_t)i;
	}
	dev[0].name = "VR00";
	dev[0].mmio_base = 0xd0000000;
	dev[1].mmio_base = 0xd0000200;      /* unnamed: D001 */
	dev[1].irq_flags = HV_ACPI_IRQ_LEVEL | HV_ACPI_IRQ_ACTIVE_LOW | HV_ACPI_IRQ_SHARED;
	dev[2].mmio_base = 0x100000000ull;  /* above 4 GiB: QWordMemory */
	dev[2].irq = HV_ACPI_NO_IRQ;
	hv_x86_acpi_config_init(&cfg);
	cfg.devices = dev;
	cfg.nr_devices = 3;
	expect_ret(read_dsdt(&cfg, &s), 0);
	assert_int_equal(s->n, 4);
	assert_string_equal(find(s, "VR00")->hid, "LNRO0005");
	expect_crs(find(s, "VR00"),
		   (const uint8_t[]){ 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
				      0x00, 0x02, 0x00, 0x00,
				      0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00 }, 21);
	assert_int_equal(find(s, "D001")->uid, 1);
	expect_crs(find(s, "D001"),
		   (const uint8_t[]){ 0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0x00, 0xd0,
				      0x00, 0x02, 0x00, 0x00,
				      0x89, 0x06, 0x00, 0x0d, 0x01, 0x06, 0x00, 0x00, 0x00 }, 21);
	expect_crs(find(s, "D002"),
		   (const uint8_t[]){ 0x8a, 0x2b, 0x00, 0x00, 0x0d, 0x01,
				      0, 0, 0, 0, 0, 0, 0, 0,
				      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
				      0xff, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
				      0, 0, 0, 0, 0, 0, 0, 0,
				      0x00, 0x02, 0, 0, 0, 0, 0, 0 }, 46);
	free_dsdt(s);
}

/* Each bad device is refused with the error and a message naming it. */
static void test_device_errors(void **state)
{
	static const struct {
		int err;
		const char *needle;
	} want[] = {
		{ -EINVAL, "name" },      { -EINVAL, "name" },   { -EINVAL, "_HID" },
		{ -EINVAL, "_HID" },      { -EINVAL, "GSI 24" }, { -EINVAL, "ISA IRQ" },
		{ -EINVAL, "I/O ports" }, { -EINVAL, "wraps" },  { -EINVAL, "irq_flags" },
		{ -EEXIST, "same name" }, { -EEXIST, "_UID" },   { -EEXIST, "memory ranges" },
		{ -EEXIST, "I/O port" },  { -EEXIST, "reset port" },
	};
	struct hv_acpi_device dev[2];
	struct hv_x86_acpi_config cfg;
	struct dsdt *s;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		hv_acpi_device_init(&dev[0]);
		hv_acpi_device_init(&dev[1]);
		dev[0].hid = dev[1].hid = "LNRO0005";
		dev[1].uid = 1;
		hv_x86_acpi_config_init(&cfg);
		cfg.devices = dev;
		cfg.nr_devices = 1;
		switch (i) {
		case 0: dev[0].name = "1ABC"; break;
		case 1: dev[0].name = "_HID"; break;  /* reserved for ACPI's names */
		case 2: dev[0].hid = "virtio"; break;
		case 3: dev[0].hid = NULL; break;
		case 4: dev[0].irq = 24; break;
		case 5: dev[0].irq = 16; dev[0].irq_flags = HV_ACPI_IRQ_ISA; break;
		case 6: dev[0].io_base = 0x100; dev[0].io_len = 256; break;
		case 7: dev[0].mmio_base = UINT64_MAX - 10; dev[0].mmio_len = 0x100; break;
		case 8: dev[0].irq_flags = 1u << 30; break;
		case 9: dev[0].name = "COM1"; break;  /* hvlib's own COM1 */
		case 10: cfg.nr_devices = 2; dev[1].uid = 0; break;
		case 11: cfg.nr_devices = 2; dev[0].mmio_base = 0x1000; dev[0].mmio_len = 0x200;
			dev[1].mmio_base = 0x11ff; dev[1].mmio_len = 1; break;
		case 12: dev[0].io_base = 0x3f0; dev[0].io_len = 9; break; /* into COM1 */
		case 13: dev[0].io_base = 0x3c2; dev[0].io_len = 1; break; /* the reset port */
		}
		expect_err(read_dsdt(&cfg, &s), want[i].err, want[i].needle);
		free_dsdt(s);
	}
}

static void test_no_com1(void **state)
{
	struct hv_acpi_device dev;
	struct hv_x86_acpi_config cfg;
	struct dsdt *s;

	(void)state;
	/* The embedder describes its own COM1, on another IRQ. */
	hv_acpi_device_init(&dev);
	dev.name = "COM";
	dev.hid = "PNP0501";
	dev.io_base = 0x3f8;
	dev.io_len = 8;
	dev.irq = 5;
	dev.irq_flags = HV_ACPI_IRQ_ISA | HV_ACPI_IRQ_LEVEL | HV_ACPI_IRQ_ACTIVE_LOW;
	hv_x86_acpi_config_init(&cfg);
	cfg.flags = HV_X86_ACPI_F_NO_COM1;
	cfg.devices = &dev;
	cfg.nr_devices = 1;
	expect_ret(read_dsdt(&cfg, &s), 0);
	assert_int_equal(s->n, 1);
	assert_string_equal(find(s, "COM_")->hid, "PNP0501");
	/* IRQ (Level, ActiveLow, Exclusive) {5}: _LL is bit 3 of the flags byte. */
	expect_crs(find(s, "COM_"), (const uint8_t[]){ 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03,
						       0x01, 0x08, 0x23, 0x20, 0x00, 0x08 }, 12);
	free_dsdt(s);
}

/* Arrays are walked by their elements' size, so a newer caller's larger
 * struct works as long as the fields this version does not know are 0. */
static void test_device_array_stride(void **state)
{
	struct big {
		struct hv_acpi_device d;
		uint64_t future;
	} big[2];
	struct hv_x86_acpi_config cfg;
	struct dsdt *s;

	(void)state;
	for (int i = 0; i < 2; i++) {
		memset(&big[i], 0, sizeof(big[i]));
		hv_acpi_device_init(&big[i].d);
		big[i].d.size = sizeof(big[i]);
		big[i].d.hid = "LNRO0005";
		big[i].d.uid = (uint32_t)i;
	}
	hv_x86_acpi_config_init(&cfg);
	cfg.devices = &big[0].d;
	cfg.nr_devices = 2;
	expect_ret(read_dsdt(&cfg, &s), 0);
	assert_int_equal(find(s, "D001")->uid, 1);
	free_dsdt(s);
	big[1].future = 1;
	expect_err(read_dsdt(&cfg, &s), -EINVAL, "does not know");
	free_dsdt(s);
	big[1].future = 0;
	big[1].d.size = sizeof(struct hv_acpi_device);
	expect_err(read_dsdt(&cfg, &s), -EINVAL, "differs");
	free_dsdt(s);
	big[0].d.size = 4;
	expect_err(read_dsdt(&cfg, &s), -EINVAL, "hv_acpi_device_init");
	free_dsdt(s);
}

/* The most devices allowed: a DSDT of tens of KiB, whose \_SB scope needs
 * a 3-byte PkgLength, read back device by device. */
static void test_many_devices(void **state)
{
	struct hv_acpi_device *dev = calloc(HV_ACPI_MAX_DEVICES + 1, sizeof(*dev));
	struct hv_x86_acpi_config cfg;
	struct dsdt *s;

	(void)state;
	assert_non_null(dev);
	for (uint32_t i = 0; i <= HV_ACPI_MAX_DEVICES; i++) {
		hv_acpi_device_init(&dev[i]);
		dev[i].hid = "LNRO0005";
		dev[i].uid = i;
		dev[i].mmio_base = 0xd0000000ull + 0x200ull * i;
		dev[i].mmio_len = 0x200;
		dev[i].irq = 5 + i % 19;
	}
	hv_x86_acpi_config_init(&cfg);
	cfg.devices = dev;
	cfg.nr_devices = HV_ACPI_MAX_DEVICES;
	expect_ret(read_dsdt(&cfg, &s), 0);
	assert_int_equal(s->n, HV_ACPI_MAX_DEVICES + 1);
	assert_int_equal(find(s, "D3FF")->uid, 0x3ff);
	assert_int_equal(s->s5_elems, 4);
	free_dsdt(s);
	cfg.nr_devices = HV_ACPI_MAX_DEVICES + 1;
	expect_err(read_dsdt(&cfg, &s), -EINVAL, "at most");
	free_dsdt(s);
	free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_dsdt),
		cmocka_unit_test(test_virtio_devices),
		cmocka_unit_test(test_device_errors),
		cmocka_unit_test(test_no_com1),
		cmocka_unit_test(test_device_array_stride),
		cmocka_unit_test(test_many_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
