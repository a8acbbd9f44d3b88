/* SPDX-License-Identifier: MIT */
/*
 * Laying out and writing the x86 ACPI tables:
 *	rsdp_addr:    RSDP -> XSDT
 *	tables_addr:  XSDT -> FADT, MADT, extra tables; FADT -> DSDT
 * Each table starts on a HV_X86_TABLE_ALIGN boundary.  A new generated table
 * (MCFG with PCI) is one more entry in the pieces below.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi/acpi_x86.h"
#include "mem/mem_internal.h"
#include "util/config.h"
#include "util/error.h"

#define PAGE 4096ull

enum piece_id { P_XSDT, P_FADT, P_MADT, P_DSDT, P_EXTRA };
#define MAX_PIECES (P_EXTRA + HV_ACPI_MAX_EXTRA_TABLES)

struct layout {
	uint64_t off[MAX_PIECES];
	uint64_t len[MAX_PIECES];
	uint32_t n;
	uint64_t total;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static void plan_layout(const struct hv_x86_acpi_config *cfg, size_t dsdt_len, struct layout *l)
{
	uint64_t off = 0;

	l->n = P_EXTRA + cfg->nr_tables;
	/* The XSDT lists everything but itself and the DSDT. */
	l->len[P_XSDT] = hv_acpi_xsdt_bytes(l->n - 2);
	l->len[P_FADT] = HV_X86_FADT_BYTES;
	l->len[P_MADT] = hv_x86_madt_bytes(cfg);
	l->len[P_DSDT] = dsdt_len;
	for (uint32_t i = 0; i < cfg->nr_tables; i++)
		l->len[P_EXTRA + i] = cfg->tables[i].bytes;
	for (uint32_t i = 0; i < l->n; i++) {
		off = align_up(off, HV_X86_TABLE_ALIGN);
		l->off[i] = off;
		off += l->len[i];
	}
	l->total = off;
}

/* Where the tables may go: checked once their size is known. */
static int check_placement(const struct hv_x86_acpi_plan *p, uint64_t total)
{
	uint64_t t = p->tables_addr, r = p->rsdp_addr;
	uint64_t max = p->cfg->tables_max_bytes;

	if (t > UINT64_MAX - PAGE - total)
		return hv_err(-EINVAL, "ACPI tables at 0x%llx+0x%llx wrap around",
			      (unsigned long long)t, (unsigned long long)total);
	/* Above 1 MiB is ordinary RAM where kernels are loaded. */
	if (t < HV_X86_ACPI_BIOS_AREA_END && t + total > HV_X86_ACPI_BIOS_AREA_END)
		return hv_err(-ENOSPC, "ACPI tables need %llu bytes at 0x%llx, past the end of the "
				       "BIOS area at 1 MiB: place them elsewhere (tables_addr)",
			      (unsigned long long)total, (unsigned long long)t);
	if (max && total > max)
		return hv_err(-ENOSPC, "ACPI tables need %llu bytes, tables_max_bytes is %llu",
			      (unsigned long long)total, (unsigned long long)max);
	if (r < t + total && t < r + HV_ACPI_RSDP_BYTES)
		return hv_err(-EINVAL, "ACPI: the RSDP at 0x%llx overlaps the tables at "
				       "0x%llx-0x%llx", (unsigned long long)r,
			      (unsigned long long)t, (unsigned long long)(t + total - 1));
	return 0;
}

/* The pages to keep out of RAM: one range if RSDP and tables share or
 * touch pages, else two in address order. */
static void fill_ranges(struct hv_x86_acpi_result *res)
{
	uint64_t rs = res->rsdp_addr & ~(PAGE - 1);
	uint64_t re = align_up(res->rsdp_addr + HV_ACPI_RSDP_BYTES, PAGE);
	uint64_t ts = res->tables_addr & ~(PAGE - 1);
	uint64_t te = align_up(res->tables_addr + res->tables_bytes, PAGE);

	memset(res->ranges, 0, sizeof(res->ranges));
	if (rs <= te && ts <= re) {
		uint64_t s = rs < ts ? rs : ts, e = re > te ? re : te;

		res->ranges[0] = (struct hv_e820_range){ s, e - s, HV_E820_ACPI, 0 };
		res->nr_ranges = 1;
		return;
	}
	res->ranges[rs < ts ? 0 : 1] = (struct hv_e820_range){ rs, re - rs, HV_E820_ACPI, 0 };
	res->ranges[rs < ts ? 1 : 0] = (struct hv_e820_range){ ts, te - ts, HV_E820_ACPI, 0 };
	res->nr_ranges = 2;
}

static void assemble(const struct hv_x86_acpi_plan *p, const struct layout *l,
		     const uint8_t *dsdt, struct hv_x86_acpi_image *img)
{
	const struct hv_x86_acpi_config *cfg = p->cfg;
	uint64_t addr[MAX_PIECES], xsdt[MAX_PIECES];
	uint32_t nx = 0;
	uint8_t *t = img->tables;

	for (uint32_t i = 0; i < l->n; i++)
		addr[i] = p->tables_addr + l->off[i];
	memcpy(t + l->off[P_DSDT], dsdt, l->len[P_DSDT]);
	hv_x86_madt(t + l->off[P_MADT], cfg);
	hv_x86_fadt(t + l->off[P_FADT], cfg, addr[P_DSDT]);
	for (uint32_t i = 0; i < cfg->nr_tables; i++) {
		memcpy(t + l->off[P_EXTRA + i], cfg->tables[i].data, cfg->tables[i].bytes);
		hv_acpi_finish(t + l->off[P_EXTRA + i]);
	}
	/* The DSDT is reached through the FADT, not the XSDT. */
	for (uint32_t i = P_FADT; i < l->n; i++)
		if (i != P_DSDT)
			xsdt[nx++] = addr[i];
	hv_acpi_xsdt(t + l->off[P_XSDT], xsdt, nx);
	hv_acpi_rsdp(img->rsdp, addr[P_XSDT]);

	img->result.rsdp_addr = p->rsdp_addr;
	img->result.xsdt_addr = addr[P_XSDT];
	img->result.fadt_addr = addr[P_FADT];
	img->result.madt_addr = addr[P_MADT];
	img->result.dsdt_addr = addr[P_DSDT];
	img->result.tables_addr = p->tables_addr;
	img->result.tables_bytes = l->total;
	fill_ranges(&img->result);
}

/* Plan, DSDT and layout: what both sizing and building need. */
static int prepare(const struct hv_x86_acpi_config *cfg, struct hv_x86_acpi_plan *p,
		   uint8_t **dsdt, struct layout *l)
{
	size_t dsdt_len;
	int ret = hv_x86_acpi_plan(cfg, p);

	if (!ret)
		ret = hv_x86_dsdt(p, dsdt, &dsdt_len);
	if (ret)
		return ret;
	plan_layout(p->cfg, dsdt_len, l);
	return 0;
}

int hv_x86_acpi_image(const struct hv_x86_acpi_config *cfg, struct hv_x86_acpi_image *img)
{
	struct hv_x86_acpi_plan plan;
	uint8_t *dsdt = NULL;
	struct layout l;
	int ret;

	memset(img, 0, sizeof(*img));
	ret = prepare(cfg, &plan, &dsdt, &l);
	if (!ret)
		ret = check_placement(&plan, l.total);
	if (ret)
		goto out;
	img->tables = calloc(1, l.total);
	if (!img->tables) {
		ret = hv_err(-ENOMEM, "allocating %llu bytes of ACPI tables",
			     (unsigned long long)l.total);
		goto out;
	}
	img->tables_bytes = l.total;
	assemble(&plan, &l, dsdt, img);
out:
	free(dsdt);
	hv_x86_acpi_plan_release(&plan);
	return ret;
}

void hv_x86_acpi_image_release(struct hv_x86_acpi_image *img)
{
	free(img->tables);
	img->tables = NULL;
	img->tables_bytes = 0;
}

HV_EXPORT int hv_x86_acpi_tables_bytes(const struct hv_x86_acpi_config *cfg, uint64_t *bytes)
{
	struct hv_x86_acpi_plan plan;
	uint8_t *dsdt = NULL;
	struct layout l;
	int ret = prepare(cfg, &plan, &dsdt, &l);

	HV_CHECK_ARG(bytes);

	if (!ret)
		*bytes = l.total;
	free(dsdt);
	hv_x86_acpi_plan_release(&plan);
	return ret;
}

/* Whether [gpa, gpa + len) lies in the buffer standing for guest memory. */
static bool in_buffer(uint64_t gpa, uint64_t len, uint64_t buf_gpa, size_t buf_bytes)
{
	return gpa >= buf_gpa && gpa - buf_gpa <= buf_bytes && len <= buf_bytes - (gpa - buf_gpa);
}

HV_EXPORT int hv_x86_acpi_build_buffer(const struct hv_x86_acpi_config *cfg, void *buf,
				       size_t buf_bytes, uint64_t buf_gpa,
				       struct hv_x86_acpi_result *out)
{
	struct hv_x86_acpi_image img;
	const struct hv_x86_acpi_result *r = &img.result;
	uint8_t *b = buf;
	int ret;

	HV_CHECK_ARG(out);

	if (!buf || !out)
		return hv_err(-EINVAL, "ACPI: no buffer or no result");
	ret = hv_x86_acpi_image(cfg, &img);
	if (ret)
		return ret;
	if (!in_buffer(r->rsdp_addr, HV_ACPI_RSDP_BYTES, buf_gpa, buf_bytes) ||
	    !in_buffer(r->tables_addr, r->tables_bytes, buf_gpa, buf_bytes)) {
		ret = hv_err(-ENOSPC, "ACPI: RSDP at 0x%llx and %llu bytes of tables at 0x%llx do "
				      "not fit the buffer for 0x%llx+0x%zx",
			     (unsigned long long)r->rsdp_addr, (unsigned long long)r->tables_bytes,
			     (unsigned long long)r->tables_addr, (unsigned long long)buf_gpa,
			     buf_bytes);
		goto out;
	}
	memcpy(b + (r->rsdp_addr - buf_gpa), img.rsdp, HV_ACPI_RSDP_BYTES);
	memcpy(b + (r->tables_addr - buf_gpa), img.tables, img.tables_bytes);
	*out = img.result;
out:
	hv_x86_acpi_image_release(&img);
	return ret;
}

/* Whether guest memory backs every byte of [gpa, gpa + len): adjacent
 * regions may share the range, as hv_mem_write() allows. */
static bool backed(const struct hv_mem *mem, uint64_t gpa, uint64_t len)
{
	while (len) {
		struct hv_mem_region r;
		uint64_t chunk;

		if (!hv_mem_find(mem, gpa, &r))
			return false;
		chunk = r.bytes - (gpa - r.gpa);
		if (chunk >= len)
			return true;
		gpa += chunk;
		len -= chunk;
	}
	return true;
}

HV_EXPORT int hv_x86_acpi_build(struct hv_mem *mem, const struct hv_x86_acpi_config *cfg,
				struct hv_x86_acpi_result *out)
{
	struct hv_x86_acpi_image img;
	const struct hv_x86_acpi_result *r = &img.result;
	int ret;

	HV_CHECK_ARG(mem);
	HV_CHECK_ARG(out);

	if (!mem || !out)
		return hv_err(-EINVAL, "ACPI: no guest memory or no result");
	ret = hv_x86_acpi_image(cfg, &img);
	if (ret)
		return ret;
	/* Check both before writing either: a failed build writes nothing. */
	if (!backed(mem, r->rsdp_addr, HV_ACPI_RSDP_BYTES) ||
	    !backed(mem, r->tables_addr, r->tables_bytes)) {
		ret = hv_err(-EFAULT, "ACPI: guest memory does not back the RSDP at 0x%llx and the "
				      "tables at 0x%llx-0x%llx", (unsigned long long)r->rsdp_addr,
			     (unsigned long long)r->tables_addr,
			     (unsigned long long)(r->tables_addr + r->tables_bytes - 1));
		goto out;
	}
	ret = hv_mem_write(mem, r->tables_addr, img.tables, img.tables_bytes);
	if (!ret)
		ret = hv_mem_write(mem, r->rsdp_addr, img.rsdp, HV_ACPI_RSDP_BYTES);
	if (ret) {
		hv_err_context(ret, "writing the ACPI tables");
		goto out;
	}
	*out = img.result;
out:
	hv_x86_acpi_image_release(&img);
	return ret;
}
