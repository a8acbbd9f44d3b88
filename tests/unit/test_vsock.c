/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock creation failing cleanly without vhost: bad configs and
 * CIDs, a missing /dev/vhost-vsock (the message says which module to
 * load), a device node that is not vhost; no descriptor or thread leaks.
 * tests/kvm/kvm_vsock.c runs the real device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "unit/unit_util.h"

/* Never dereferenced: creation fails before it touches the VM. */
static struct hv_vm *fake_vm(void)
{
	static char dummy;

	return (struct hv_vm *)(void *)&dummy;
}

static void expect_fails(const struct hv_virtio_vsock_config *cfg, int want, const char *needle)
{
	struct hv_virtio_vsock *v = (struct hv_virtio_vsock *)&v;
	int fds = count_open_fds();

	expect_err(hv_virtio_vsock_create(cfg, &v), want, needle);
	assert_null(v); /* every create sets *out = NULL on failure */
	assert_int_equal(count_open_fds(), fds);
}

static void test_bad_configs(void **state)
{
	struct hv_virtio_vsock_config cfg;

	(void)state;
	expect_fails(NULL, -EINVAL, "hv_virtio_vsock_config_init");
	hv_virtio_vsock_config_init(&cfg);
	assert_int_equal(cfg.size, sizeof(cfg));
	cfg.guest_cid = 3;
	cfg.size = 4;
	expect_fails(&cfg, -EINVAL, "size 4");
	cfg.size = sizeof(cfg);
	expect_fails(&cfg, -EINVAL, "no VM");
	cfg.vm = fake_vm();
	cfg.flags = 4;
	expect_fails(&cfg, -EINVAL, "flags 0x4");
	cfg.flags = 0;
	for (uint64_t bad = 0; bad <= HV_VSOCK_CID_HOST; bad++) {
		cfg.guest_cid = bad;
		expect_fails(&cfg, -EINVAL, "reserved or out of range");
	}
	cfg.guest_cid = 0xffffffffull; /* VMADDR_CID_ANY */
	expect_fails(&cfg, -EINVAL, "CID 4294967295");
	cfg.guest_cid = 1ull << 32;
	expect_fails(&cfg, -EINVAL, "CID 4294967296");
	cfg.guest_cid = 3;
	cfg.vhost_path = "/a/path/that/is/certainly/longer/than/sixty-three/bytes/vhost-vsock";
	expect_fails(&cfg, -EINVAL, "vhost_path");
	hv_virtio_vsock_destroy(NULL);
}

static void test_no_vhost(void **state)
{
	struct hv_virtio_vsock_config cfg;

	(void)state;
	hv_virtio_vsock_config_init(&cfg);
	cfg.vm = fake_vm();
	cfg.guest_cid = 42;
	cfg.vhost_path = "/nonexistent/vhost-vsock";
	expect_fails(&cfg, -ENOENT, "modprobe vhost_vsock");
	expect_fails(&cfg, -ENOENT, "/nonexistent/vhost-vsock");
	cfg.vhost_path = "/dev/null";
	expect_fails(&cfg, -ENOTSUP, "/dev/null: not a vhost device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_no_vhost),
	};
	return cmocka_run_group_tests_name("vsock", tests, NULL, NULL);
}
