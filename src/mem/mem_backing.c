/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "mem/mem_backing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

static const char *region_name(const struct hv_mem_region *r)
{
	return r->name ? r->name : "guest-ram";
}

static int map_anon(struct hv_mem_region *r)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *p;

	/* Hugepages are reserved from the pool at mmap() time, so a short pool
	 * is -ENOMEM here; with MAP_NORESERVE it would be SIGBUS on first touch. */
	if (r->flags & HV_MEM_F_HUGEPAGES)
		flags |= MAP_HUGETLB;
	else
		flags |= MAP_NORESERVE;
	p = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return hv_err_sys(-errno, "mapping %llu bytes of %s memory for '%s'",
				  (unsigned long long)r->bytes,
				  (r->flags & HV_MEM_F_HUGEPAGES) ? "hugepage" : "anonymous",
				  region_name(r));
	/* Transparent hugepages cut TLB misses for guests; best effort. */
	if (!(r->flags & HV_MEM_F_HUGEPAGES))
		(void)madvise(p, r->bytes, MADV_HUGEPAGE);
	r->host = p;
	return 0;
}

/* Linux refuses memfd names longer than this; region names have no limit. */
#define HV_MEMFD_NAME_MAX 249

static int map_memfd(struct hv_mem_region *r)
{
	unsigned int mfd_flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	char name[HV_MEMFD_NAME_MAX + 1];
	int fd, ret;
	void *p;

	if (r->flags & HV_MEM_F_HUGEPAGES)
		mfd_flags |= MFD_HUGETLB;
	snprintf(name, sizeof(name), "%s", region_name(r));
	fd = memfd_create(name, mfd_flags);
	if (fd < 0)
		return hv_err_sys(-errno, "memfd_create for '%s'", region_name(r));
	if (ftruncate(fd, (off_t)r->bytes) < 0) {
		ret = hv_err_sys(-errno, "sizing memfd for '%s' to %llu bytes", region_name(r),
				 (unsigned long long)r->bytes);
		goto err_close;
	}
	/* Whoever gets the fd (hv_mem_region_info(), a snapshot, another
	 * process) cannot shrink it under our mapping (SIGBUS in the VMM) or
	 * grow it past what the guest sees. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		ret = hv_err_sys(-errno, "sealing memfd for '%s' against resizing", region_name(r));
		goto err_close;
	}
	p = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = hv_err_sys(-errno, "mapping memfd for '%s'", region_name(r));
		goto err_close;
	}
	r->host = p;
	r->fd = fd;
	return 0;

err_close:
	close(fd);
	return ret;
}

static int map_file(struct hv_mem_region *r, const struct hv_mem_region_config *cfg)
{
	/* ROM from a file is mapped copy-on-write: host stores (loading, or a
	 * device writing where a guest pointed it) never reach the file and never
	 * fault on a read-only descriptor. */
	bool priv = r->flags & (HV_MEM_F_PRIVATE | HV_MEM_F_READONLY);
	struct stat st;
	int fd, ret;
	void *p;

	if (fstat(cfg->fd, &st) < 0)
		return hv_err_sys(-errno, "guest memory region '%s': fd %d", region_name(r), cfg->fd);
	if (r->bytes > (uint64_t)INT64_MAX || cfg->fd_offset > (uint64_t)INT64_MAX - r->bytes)
		return hv_err(-EINVAL, "guest memory region '%s': file offset 0x%llx + 0x%llx "
				       "bytes is beyond any file",
			      region_name(r), (unsigned long long)cfg->fd_offset,
			      (unsigned long long)r->bytes);
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < cfg->fd_offset + r->bytes)
		return hv_err(-EINVAL,
			      "guest memory region '%s': file has %lld bytes, the region needs "
			      "%llu from offset %llu",
			      region_name(r), (long long)st.st_size, (unsigned long long)r->bytes,
			      (unsigned long long)cfg->fd_offset);
	fd = fcntl(cfg->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return hv_err_sys(-errno, "duplicating fd %d", cfg->fd);
	p = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, priv ? MAP_PRIVATE : MAP_SHARED, fd, (off_t)cfg->fd_offset);
	if (p == MAP_FAILED) {
		ret = hv_err_sys(-errno, "mapping file for guest memory region '%s'", region_name(r));
		close(fd);
		return ret;
	}
	r->host = p;
	r->fd = fd;
	return 0;
}

int hv_mem_backing_map(struct hv_mem_region *r, const struct hv_mem_region_config *cfg)
{
	int ret;

	switch (r->backing) {
	case HV_MEM_ANON:
		ret = map_anon(r);
		break;
	case HV_MEM_MEMFD:
		ret = map_memfd(r);
		break;
	case HV_MEM_FILE:
		ret = map_file(r, cfg);
		break;
	default: /* HV_MEM_HOST */
		r->host = cfg->host_addr;
		return 0;
	}
	if (!ret)
		r->unmap = true;
	return ret;
}

void hv_mem_backing_release(struct hv_mem_region *r)
{
	if (r->unmap && r->host)
		munmap(r->host, r->bytes);
	if (r->fd >= 0)
		close(r->fd);
	r->host = NULL;
	r->fd = -1;
	r->unmap = false;
}
