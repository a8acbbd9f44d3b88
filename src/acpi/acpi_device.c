/* SPDX-License-Identifier: MIT */
/* Devices in the DSDT: validation and AML (see acpi_device.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acpi/acpi_device.h"
#include "util/config.h"
#include "util/error.h"

HV_EXPORT void hv_acpi_device_init(struct hv_acpi_device *dev)
{
	HV_CHECK_ARG_RET(dev, );
	memset(dev, 0, sizeof(*dev));
	dev->size = sizeof(*dev);
	dev->irq = HV_ACPI_NO_IRQ;
}

/* "ACPI device 3 ('VR03')" or "ACPI device COM1", for messages. */
static const char *label(const struct hv_acpi_dev *e, char buf[48])
{
	if (e->index == HV_ACPI_DEV_BUILTIN)
		snprintf(buf, 48, "ACPI device %s", e->name);
	else
		snprintf(buf, 48, "ACPI device %u ('%s')", e->index, e->name);
	return buf;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* An ACPI id (6.1.5): 4 capitals or digits (the vendor), 4 hex digits. */
static bool acpi_id_valid(const char *id)
{
	if (strlen(id) != 8)
		return false;
	for (int i = 0; i < 4; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
			return false;
	for (int i = 4; i < 8; i++)
		if (!is_hex(id[i]))
			return false;
	return true;
}

static bool eisa_id(const char *id)
{
	uint32_t v;

	return hv_aml_eisaid_value(id, &v) == 0;
}

static int check_name(struct hv_acpi_dev *e)
{
	const char *name = e->d.name;
	size_t n;

	if (!name) {
		/* Names are per index; HV_ACPI_MAX_DEVICES keeps them to 3 digits. */
		snprintf(e->name, sizeof(e->name), "D%03X", e->index & 0xfffu);
		return 0;
	}
	/* Names starting with '_' are reserved for the ones ACPI defines. */
	if (!hv_aml_nameseg_valid(name) || name[0] == '_')
		return hv_err(-EINVAL, "ACPI device %u: name '%s' is not 1-4 of A-Z, 0-9, _ "
				       "starting with a capital", e->index, name);
	/* "COM" and "COM_" are the same ACPI name: compare them padded. */
	n = strlen(name);
	memcpy(e->name, "____", 4);
	memcpy(e->name, name, n);
	e->name[4] = '\0';
	return 0;
}

int hv_acpi_dev_check(struct hv_acpi_dev *e, uint32_t nr_gsis)
{
	const struct hv_acpi_device *d = &e->d;
	char buf[48];
	int ret = check_name(e);

	if (ret)
		return ret;
	if (d->reserved || (d->irq_flags & ~HV_ACPI_IRQ_ALL))
		return hv_err(-EINVAL, "%s: unknown irq_flags 0x%x or reserved field set",
			      label(e, buf), d->irq_flags & ~HV_ACPI_IRQ_ALL);
	if (!d->hid || (!eisa_id(d->hid) && !acpi_id_valid(d->hid)))
		return hv_err(-EINVAL, "%s: _HID '%s' is neither an EISA id like PNP0501 nor an "
				       "ACPI id like LNRO0005", label(e, buf),
			      d->hid ? d->hid : "(null)");
	if (d->mmio_len && d->mmio_base + (d->mmio_len - 1) < d->mmio_base)
		return hv_err(-EINVAL, "%s: memory range 0x%llx+0x%llx wraps around", label(e, buf),
			      (unsigned long long)d->mmio_base, (unsigned long long)d->mmio_len);
	/* The I/O descriptor's length is a byte. */
	if (d->io_len > 255 || (d->io_len && d->io_base + (d->io_len - 1u) > 0xffffu))
		return hv_err(-EINVAL, "%s: I/O ports 0x%x+%u: at most 255 ports, ending by 0xffff",
			      label(e, buf), d->io_base, d->io_len);
	if (d->irq == HV_ACPI_NO_IRQ)
		return 0;
	if (d->irq >= nr_gsis)
		return hv_err(-EINVAL, "%s: GSI %u, but the interrupt controller has %u inputs",
			      label(e, buf), d->irq, nr_gsis);
	if ((d->irq_flags & HV_ACPI_IRQ_ISA) && d->irq > 15)
		return hv_err(-EINVAL, "%s: ISA IRQ %u above 15", label(e, buf), d->irq);
	return 0;
}

int hv_acpi_devices_import(const struct hv_acpi_device *devs, uint32_t n, uint32_t nr_gsis,
			   struct hv_acpi_dev *out)
{
	int stride = hv_cfg_stride(devs, n, "ACPI devices", "hv_acpi_device_init()");
	int ret;

	if (stride < 0)
		return stride;
	for (uint32_t i = 0; i < n; i++) {
		/* Indexed by the caller's size; an older caller's missing fields
		 * take hv_acpi_device_init()'s defaults. */
		ret = HV_CFG_LOAD(&out[i].d, hv_cfg_elem(devs, (uint32_t)stride, i),
				  hv_acpi_device_init, "ACPI device");
		if (ret)
			return hv_err_context(ret, "ACPI device %u", i);
		out[i].index = i;
		ret = hv_acpi_dev_check(&out[i], nr_gsis);
		if (ret)
			return ret;
	}
	return 0;
}

/* Whether [a, a + alen) and [b, b + blen) share a byte; lengths non-zero
 * and ranges already known not to wrap. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

static int check_pair(const struct hv_acpi_dev *x, const struct hv_acpi_dev *y)
{
	char bx[48], by[48];

	if (!memcmp(x->name, y->name, 4))
		return hv_err(-EEXIST, "%s and %s have the same name", label(x, bx), label(y, by));
	if (x->d.uid == y->d.uid && !strcmp(x->d.hid, y->d.hid))
		return hv_err(-EEXIST, "%s and %s are both %s with _UID %u", label(x, bx),
			      label(y, by), x->d.hid, x->d.uid);
	if (x->d.mmio_len && y->d.mmio_len &&
	    overlap(x->d.mmio_base, x->d.mmio_len, y->d.mmio_base, y->d.mmio_len))
		return hv_err(-EEXIST, "%s and %s: memory ranges overlap", label(x, bx),
			      label(y, by));
	if (x->d.io_len && y->d.io_len &&
	    overlap(x->d.io_base, x->d.io_len, y->d.io_base, y->d.io_len))
		return hv_err(-EEXIST, "%s and %s: I/O port ranges overlap", label(x, bx),
			      label(y, by));
	return 0;
}

int hv_acpi_devices_check_unique(const struct hv_acpi_dev *devs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = i + 1; j < n; j++) {
			int ret = check_pair(&devs[i], &devs[j]);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static uint32_t aml_irq_flags(uint32_t f)
{
	uint32_t out = HV_AML_IRQ_CONSUMER;

	out |= (f & HV_ACPI_IRQ_LEVEL) ? 0 : HV_AML_IRQ_EDGE;
	out |= (f & HV_ACPI_IRQ_ACTIVE_LOW) ? HV_AML_IRQ_ACTIVE_LOW : 0;
	out |= (f & HV_ACPI_IRQ_SHARED) ? HV_AML_IRQ_SHARED : 0;
	out |= (f & HV_ACPI_IRQ_WAKE) ? HV_AML_IRQ_WAKE : 0;
	return out;
}

static void aml_memory(struct hv_aml *a, uint64_t base, uint64_t len)
{
	struct hv_aml_addr_space s = {
		.type = HV_AML_SPACE_MEMORY,
		.general_flags = HV_AML_ADDR_CONSUMER | HV_AML_ADDR_MIN_FIXED |
				 HV_AML_ADDR_MAX_FIXED,
		.type_flags = HV_AML_MEM_RW | HV_AML_MEM_NONCACHEABLE,
		.min = base,
		.max = base + (len - 1),
		.length = len,
	};

	/* The compact descriptor when it can say it, as firmware does. */
	if (s.max <= UINT32_MAX && len <= UINT32_MAX)
		hv_aml_res_memory32_fixed(a, true, (uint32_t)base, (uint32_t)len);
	else
		hv_aml_res_qword_space(a, &s);
}

void hv_acpi_aml_device(struct hv_aml *a, const struct hv_acpi_dev *e)
{
	const struct hv_acpi_device *d = &e->d;
	bool has_irq = d->irq != HV_ACPI_NO_IRQ;

	hv_aml_device_begin(a, e->name);
	if (strlen(d->hid) == 7)
		hv_aml_name_eisaid(a, "_HID", d->hid);
	else
		hv_aml_name_string(a, "_HID", d->hid);
	hv_aml_name_int(a, "_UID", d->uid);
	if (d->mmio_len || d->io_len || has_irq) {
		hv_aml_name(a, "_CRS");
		hv_aml_restemplate_begin(a);
		if (d->mmio_len)
			aml_memory(a, d->mmio_base, d->mmio_len);
		if (d->io_len)
			hv_aml_res_io(a, d->io_base, d->io_base, 1, (uint8_t)d->io_len);
		if (has_irq && (d->irq_flags & HV_ACPI_IRQ_ISA))
			hv_aml_res_irq(a, d->irq, aml_irq_flags(d->irq_flags));
		else if (has_irq)
			hv_aml_res_ext_irq(a, aml_irq_flags(d->irq_flags), &d->irq, 1);
		hv_aml_end(a);
	}
	hv_aml_end(a);
}
