/* SPDX-License-Identifier: MIT */
/*
 * The VM's view of its address space beside the memory map: guest RAM and
 * MMIO ranges must not overlap (KVM serves RAM without an exit, so a device
 * under it is never called), and RAM is charged to the VM's ledger.
 *
 * ram[] copies each region's range, so the MMIO bus's guard (which runs
 * under the bus's write lock) never reaches into the memory map's locks:
 * map_lock is innermost.  Read-only regions are exempt: their writes exit
 * to the MMIO bus, which is how flash or ROM with registers is modelled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus_internal.h"
#include "mem/mem_internal.h"
#include "util/error.h"
#include "vm/vm_internal.h"

struct hv_vm_ram {
	uint32_t id;
	bool readonly;
	uint64_t gpa, bytes;
	char name[32];
};

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen; /* neither wraps: both were checked */
}

/* MMIO bus guard: refuse a range over guest RAM.  map_lock held. */
static int mmio_guard(void *opaque, uint64_t base, uint64_t len, const char *name)
{
	struct hv_vm *vm = opaque;

	for (uint32_t i = 0; i < vm->nr_ram; i++) {
		const struct hv_vm_ram *r = &vm->ram[i];

		if (r->readonly || !overlaps(base, len, r->gpa, r->bytes))
			continue;
		return hv_err(-EEXIST, "MMIO range '%s' 0x%llx-0x%llx overlaps guest RAM '%s' at "
				       "0x%llx-0x%llx: the device would never be called", name,
			      (unsigned long long)base, (unsigned long long)(base + len - 1),
			      r->name, (unsigned long long)r->gpa,
			      (unsigned long long)(r->gpa + r->bytes - 1));
	}
	return 0;
}

void hv_vm_map_init(struct hv_vm *vm)
{
	pthread_mutex_init(&vm->map_lock, NULL);
	hv_bus_set_guard(vm->mmio, &vm->map_lock, mmio_guard, vm);
}

void hv_vm_map_fini(struct hv_vm *vm)
{
	free(vm->ram);
	pthread_mutex_destroy(&vm->map_lock);
}

static int check_mmio(struct hv_vm *vm, const struct hv_mem_region *r)
{
	uint64_t base, len;
	char name[32];

	if ((r->flags & HV_MEM_F_READONLY) ||
	    !hv_bus_overlap_locked(vm->mmio, r->gpa, r->bytes, &base, &len, name, sizeof(name)))
		return 0;
	return hv_err(-EEXIST, "guest RAM '%s' 0x%llx-0x%llx overlaps MMIO range '%s' at "
			       "0x%llx-0x%llx: the device would never be called",
		      r->name ? r->name : "unnamed", (unsigned long long)r->gpa,
		      (unsigned long long)(r->gpa + r->bytes - 1), name,
		      (unsigned long long)base, (unsigned long long)(base + len - 1));
}

static int remember(struct hv_vm *vm, const struct hv_mem_region *r)
{
	struct hv_vm_ram *e;

	if (vm->nr_ram == vm->ram_cap) {
		uint32_t cap = vm->ram_cap ? vm->ram_cap * 2 : 8;

		e = realloc(vm->ram, cap * sizeof(*e));
		if (!e)
			return hv_err(-ENOMEM, "growing the VM's RAM list");
		vm->ram = e;
		vm->ram_cap = cap;
	}
	e = &vm->ram[vm->nr_ram++];
	e->id = r->id;
	e->readonly = r->flags & HV_MEM_F_READONLY;
	e->gpa = r->gpa;
	e->bytes = r->bytes;
	snprintf(e->name, sizeof(e->name), "%s", r->name ? r->name : "unnamed");
	return 0;
}

int hv_vm_map_add(struct hv_vm *vm, const struct hv_mem_region *r,
		  int (*commit)(struct hv_vm *vm, const struct hv_mem_region *r))
{
	struct hv_ledger *ledger = vm->cfg.ledger;
	int ret;

	pthread_mutex_lock(&vm->map_lock);
	ret = check_mmio(vm, r);
	if (ret)
		goto out;
	if (ledger) {
		ret = hv_ledger_reserve(ledger, r->bytes, 0);
		if (ret) {
			hv_err_context(ret, "guest memory '%s'", r->name ? r->name : "unnamed");
			goto out;
		}
	}
	ret = remember(vm, r);
	if (!ret) {
		ret = commit(vm, r);
		if (ret)
			vm->nr_ram--; /* remember() appended it */
	}
	if (ret && ledger)
		hv_ledger_release(ledger, r->bytes, 0);
out:
	pthread_mutex_unlock(&vm->map_lock);
	return ret;
}

void hv_vm_map_remove(struct hv_vm *vm, const struct hv_mem_region *r)
{
	pthread_mutex_lock(&vm->map_lock);
	for (uint32_t i = 0; i < vm->nr_ram; i++) {
		if (vm->ram[i].id != r->id)
			continue;
		vm->ram[i] = vm->ram[--vm->nr_ram];
		if (vm->cfg.ledger)
			hv_ledger_release(vm->cfg.ledger, r->bytes, 0);
		break;
	}
	pthread_mutex_unlock(&vm->map_lock);
}
