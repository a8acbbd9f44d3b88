/* SPDX-License-Identifier: MIT */
/*
 * Admission against a shared ledger, MMIO ranges refused over guest RAM (and
 * RAM over MMIO), and which vCPU made an access: with real KVM VMs and tiny
 * guests.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/guest_util.h"

#define MiB (1ull << 20)
#define NR_VMS 3

static int add_ram(struct hv_vm *vm, uint64_t gpa, uint64_t bytes, uint32_t flags,
		   const char *name, uint32_t *id)
{
	struct hv_mem_region_config rc;

	hv_mem_region_config_init(&rc);
	rc.gpa = gpa;
	rc.bytes = bytes;
	rc.flags = flags;
	rc.name = name;
	return hv_mem_add_region(hv_vm_mem(vm), &rc, id);
}

/* A VM of 1 MiB and one vCPU charged to l: 0, or the failing call's error. */
static int make_vm(struct hv_ledger *l, struct hv_vm **vm, struct hv_vcpu **vcpu)
{
	struct hv_vm_config cfg;
	int ret;

	hv_vm_config_init(&cfg);
	cfg.ledger = l;
	*vcpu = NULL;
	ret = hv_vm_create(&cfg, vm);
	if (ret)
		fail_msg("hv_vm_create: %s", hv_last_error());
	ret = add_ram(*vm, 0, MiB, 0, "ram", NULL);
	if (!ret)
		ret = hv_vcpu_create(*vm, 0, vcpu);
	if (ret) {
		hv_vcpu_destroy(*vcpu);
		hv_vm_destroy(*vm);
		*vm = NULL;
	}
	return ret;
}

static struct hv_ledger_usage usage(struct hv_ledger *l)
{
	struct hv_ledger_usage u = { .size = sizeof(u) };

	assert_int_equal(hv_ledger_usage(l, &u), 0);
	return u;
}

/* 2 MiB x150% = 3 MiB and 2 CPUs x150% = 3: three VMs fit, the fourth is
 * refused for memory; destroying one makes room for it. */
static void test_admission(void **state)
{
	struct hv_ledger_config lc;
	struct hv_ledger *l;
	struct hv_vm *vm[NR_VMS + 1];
	struct hv_vcpu *vcpu[NR_VMS + 1];

	(void)state;
	hv_ledger_config_init(&lc);
	lc.mem_bytes = 2 * MiB;
	lc.cpus = 2;
	lc.mem_overcommit_pct = 150;
	lc.cpu_overcommit_pct = 150;
	assert_int_equal(hv_ledger_create(&lc, &l), 0);
	for (int i = 0; i < NR_VMS; i++)
		assert_int_equal(make_vm(l, &vm[i], &vcpu[i]), 0);
	assert_int_equal(usage(l).mem_used, 3 * MiB);
	assert_int_equal(usage(l).cpu_used, 3);
	assert_int_equal(make_vm(l, &vm[NR_VMS], &vcpu[NR_VMS]), -ENOSPC);
	assert_string_equal(hv_last_error(), "guest memory 'ram': admission: 1 MiB of guest memory "
					     "asked, 0 bytes left of 2 MiB x1.50 overcommit");
	assert_int_equal(usage(l).mem_used, 3 * MiB);
	assert_int_equal(hv_ledger_destroy(l), -EBUSY);

	/* The admitted VMs run. */
	assert_int_equal(hv_mem_write(hv_vm_mem(vm[0]), GUEST_CODE, guest_in_out.start,
				      (size_t)*guest_in_out.size), 0);
	assert_int_equal(hv_x86_setup_real_mode(vcpu[0], 0, GUEST_CODE), 0);
	{
		struct hv_exit exit;

		assert_int_equal(hv_vcpu_run(vcpu[0], &exit), 0);
		assert_int_equal(exit.reason, HV_EXIT_HLT);
	}

	/* Destroying one returns its memory and vCPU: the next one fits. */
	hv_vcpu_destroy(vcpu[1]);
	hv_vm_destroy(vm[1]);
	assert_int_equal(usage(l).mem_used, 2 * MiB);
	assert_int_equal(usage(l).cpu_used, 2);
	assert_int_equal(make_vm(l, &vm[1], &vcpu[1]), 0);
	assert_int_equal(usage(l).mem_used, 3 * MiB);

	/* A vCPU beyond the CPU limit: memory room, no CPU left. */
	assert_int_equal(hv_ledger_release(l, MiB, 0), 0); /* pretend 1 MiB came back */
	assert_int_equal(make_vm(l, &vm[NR_VMS], &vcpu[NR_VMS]), -ENOSPC);
	assert_string_equal(hv_last_error(), "vCPU 0: admission: 1 vCPU asked, 0 left of 2 CPUs "
					     "x1.50 overcommit");
	assert_int_equal(usage(l).mem_used, 2 * MiB); /* the refused VM's RAM came back */
	assert_int_equal(hv_ledger_reserve(l, MiB, 0), 0);

	for (int i = 0; i < NR_VMS; i++) {
		hv_vcpu_destroy(vcpu[i]);
		hv_vm_destroy(vm[i]);
	}
	assert_int_equal(usage(l).mem_used, 0);
	assert_int_equal(usage(l).cpu_used, 0);
	assert_int_equal(hv_ledger_destroy(l), 0);
}

/* Removing a region returns its bytes; a read-only region counts too. */
static void test_regions_charged(void **state)
{
	struct hv_ledger_config lc;
	struct hv_vm_config cfg;
	struct hv_ledger *l;
	struct hv_vm *vm;
	uint32_t a, b;

	(void)state;
	hv_ledger_config_init(&lc);
	lc.mem_bytes = 4 * MiB;
	lc.cpus = 1;
	assert_int_equal(hv_ledger_create(&lc, &l), 0);
	hv_vm_config_init(&cfg);
	cfg.ledger = l;
	assert_int_equal(hv_vm_create(&cfg, &vm), 0);
	assert_int_equal(add_ram(vm, 0, 3 * MiB, 0, "ram", &a), 0);
	assert_int_equal(add_ram(vm, 16 * MiB, 2 * MiB, HV_MEM_F_READONLY, "rom", &b), -ENOSPC);
	assert_non_null(strstr(hv_last_error(), "2 MiB of guest memory asked, 1 MiB left"));
	assert_int_equal(add_ram(vm, 16 * MiB, MiB, HV_MEM_F_READONLY, "rom", &b), 0);
	assert_int_equal(usage(l).mem_used, 4 * MiB);
	assert_int_equal(hv_mem_remove_region(hv_vm_mem(vm), a), 0);
	assert_int_equal(usage(l).mem_used, MiB);
	hv_vm_destroy(vm); /* returns the ROM's */
	assert_int_equal(usage(l).mem_used, 0);
	assert_int_equal(hv_ledger_destroy(l), 0);
}

static void test_mmio_over_ram(void **state)
{
	struct io_log dev = { 0 };
	struct hv_bus *mmio;
	struct fixture f;
	uint32_t id, high, h;

	(void)state;
	fixture_setup(&f, NULL, NULL); /* RAM 0 - GUEST_RAM */
	mmio = hv_vm_bus(f.vm, HV_BUS_MMIO);
	assert_int_equal(hv_bus_register(mmio, 0x7f000, 0x2000, io_log_fn, &dev, "dev", NULL),
			 -EEXIST);
	assert_string_equal(hv_last_error(),
			    "MMIO range 'dev' 0x7f000-0x80fff overlaps guest RAM 'ram' at "
			    "0x0-0x7ffff: the device would never be called");
	/* Just past RAM is fine; RAM added over it is refused. */
	assert_int_equal(hv_bus_register(mmio, GUEST_RAM, 0x1000, io_log_fn, &dev, "dev", &h), 0);
	assert_int_equal(add_ram(f.vm, 0x100000, 0x100000, 0, "high", &high), 0);
	assert_int_equal(add_ram(f.vm, GUEST_RAM, 0x10000, 0, "more", &id), -EEXIST);
	assert_string_equal(hv_last_error(), "guest RAM 'more' 0x80000-0x8ffff overlaps MMIO "
					     "range 'dev' at 0x80000-0x80fff: the device would "
					     "never be called");
	/* A read-only region under MMIO is allowed (writes reach the device). */
	assert_int_equal(add_ram(f.vm, GUEST_RAM, 0x10000, HV_MEM_F_READONLY, "rom", &id), 0);
	assert_int_equal(hv_bus_register(mmio, GUEST_RAM + 0x1000, 0x1000, io_log_fn, &dev,
					 "flash", NULL), 0);
	assert_int_equal(hv_mem_remove_region(f.mem, id), 0);
	/* Once the RAM is gone, the range is free for a device. */
	assert_int_equal(hv_bus_unregister(mmio, h), 0);
	assert_int_equal(hv_bus_register(mmio, 0x180000, 0x1000, io_log_fn, &dev, "x", NULL),
			 -EEXIST);
	assert_int_equal(hv_mem_remove_region(f.mem, high), 0);
	assert_int_equal(hv_bus_register(mmio, 0x180000, 0x1000, io_log_fn, &dev, "x", NULL), 0);
	fixture_teardown(&f);
}

/* Two vCPUs run the same guest, which writes to and reads from one MMIO
 * device: the callback sees which vCPU made each access. */
struct who {
	pthread_mutex_t lock;
	struct hv_vm *vm;
	uint32_t seen[2];
	int wrong;
};

static int who_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *value)
{
	struct who *w = opaque;
	struct hv_vcpu *vcpu = hv_bus_current_vcpu();

	(void)offset;
	(void)width;
	pthread_mutex_lock(&w->lock);
	if (!vcpu || hv_vcpu_vm(vcpu) != w->vm || hv_vcpu_index(vcpu) > 1)
		w->wrong++;
	else
		w->seen[hv_vcpu_index(vcpu)]++;
	pthread_mutex_unlock(&w->lock);
	if (!is_write)
		*value = vcpu ? hv_vcpu_index(vcpu) + 0x40 : 0xff;
	return 0;
}

struct runner {
	struct hv_vcpu *vcpu;
	struct io_log result;
	int ret, reason;
};

static void *run_fn(void *opaque)
{
	struct runner *r = opaque;
	struct hv_exit exit;

	r->ret = hv_vcpu_run(r->vcpu, &exit);
	r->reason = (int)exit.reason;
	return NULL;
}

static int result_fn(void *opaque, uint64_t offset, uint32_t width, bool is_write, uint64_t *v)
{
	struct runner *r = hv_bus_current_vcpu() ? opaque : NULL;

	if (!r)
		return -EIO;
	/* One port for both: each vCPU stores into its own runner. */
	return io_log_fn(&r[hv_vcpu_index(hv_bus_current_vcpu())].result, offset, width, is_write,
			 v);
}

static void test_current_vcpu(void **state)
{
	struct who w = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct runner r[2] = { 0 };
	pthread_t t[2];
	struct fixture f;
	uint64_t v = 0;

	(void)state;
	fixture_setup(&f, NULL, &guest_real);
	w.vm = f.vm;
	r[0].vcpu = f.vcpu;
	assert_int_equal(hv_vcpu_create(f.vm, 1, &r[1].vcpu), 0);
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_MMIO), GUEST_MMIO, 0x1000, who_fn,
					 &w, "who", NULL), 0);
	/* Ports 0x10 ('H') and 0x11 (the MMIO read's value, written last) land
	 * in the writing vCPU's own log. */
	assert_int_equal(hv_bus_register(hv_vm_bus(f.vm, HV_BUS_PIO), 0x10, 2, result_fn, r,
					 "out", NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hv_x86_setup_real_mode(r[i].vcpu, 0, GUEST_CODE), 0);
		assert_int_equal(pthread_create(&t[i], NULL, run_fn, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].ret, 0);
		assert_int_equal(r[i].reason, HV_EXIT_HLT);
		/* The MMIO read answered with the index of the vCPU asking. */
		assert_int_equal(r[i].result.last_value, 0x40 + i);
		assert_int_equal(r[i].result.writes, 2);
	}
	assert_int_equal(w.wrong, 0);
	assert_int_equal(w.seen[0], 2); /* a write and a read each */
	assert_int_equal(w.seen[1], 2);
	/* Outside a vCPU's dispatch there is none. */
	assert_null(hv_bus_current_vcpu());
	assert_int_equal(hv_bus_dispatch(hv_vm_bus(f.vm, HV_BUS_MMIO), GUEST_MMIO, 1, false, &v),
			 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(w.wrong, 1);
	hv_vcpu_destroy(r[1].vcpu);
	fixture_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_regions_charged),
		cmocka_unit_test(test_mmio_over_ram),
		cmocka_unit_test(test_current_vcpu),
	};

	return cmocka_run_group_tests_name("kvm_ledger", tests, keep_one_vm_open, close_kept_vm);
}
