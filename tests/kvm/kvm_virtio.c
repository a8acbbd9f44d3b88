/* SPDX-License-Identifier: MIT */
/*
 * Virtio for real: Debian's stock kernel boots with two virtio-blk disks
 * and a virtio-rng, once on virtio-mmio (found through the ACPI DSDT) and
 * once on virtio-pci (behind the PCI host bridge of the ACPI SSDT, with
 * MSI-X), with its own modules loaded by the initramfs
 * (tests/virtio/virtio-init.sh).  Each boot checks, both ways:
 *  - host -> guest: the guest's SHA-256 of a pattern the host wrote;
 *  - guest -> host: a pattern the guest wrote and synced, compared byte for
 *    byte after power-off, with the rest of the disk untouched;
 *  - the read-only disk refuses writes and is unchanged;
 *  - the serial id, the capacity, and bytes from the rng;
 *  - the transport the guest found them on, and on PCI that every device
 *    has MSI-X vectors (config + one per queue) and that they fired;
 *  - that the micro-VM's I/O thread served every device, and on virtio-mmio
 *    that no queue notification took the vCPU exit to the transport (KVM
 *    ioeventfds signalled the I/O thread directly) and interrupts went
 *    through KVM irqfds.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvlib/hvlib.h"
#include "kvm/guest_util.h"
#include "microvm/microvm_internal.h"
#include "virtio/virtio_internal.h"

#define BOOT_TIMEOUT_MS (300 * 1000) /* nested KVM under TCG is slow */
#define MIB (1u << 20)
#define DISK_A_BYTES (4 * MIB)
#define DISK_B_BYTES (1 * MIB)
#define GUEST_LINE "HVLIB-GUEST-PATTERN-0123456789\n"

static char kernel[512], initrd[512], disk_a[512], disk_b[512];

/* Per device of the last boot: notifications that exited to the transport's
 * register, and those the I/O thread served (the core's counters). */
static uint64_t exit_notifies[HV_MICROVM_MAX_VIRTIO], loop_notifies[HV_MICROVM_MAX_VIRTIO];
static uint32_t nr_devices;
static bool mmio_irqfd[HV_MICROVM_MAX_VIRTIO];

static uint8_t host_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 12) + 1);
}

static uint8_t ro_byte(size_t i)
{
	return (uint8_t)(i * 13 + 5);
}

static void write_image(const char *path, size_t bytes, uint8_t (*fn)(size_t))
{
	uint8_t *data = malloc(bytes);
	FILE *f = fopen(path, "wb");

	assert_non_null(data);
	assert_non_null(f);
	for (size_t i = 0; i < bytes; i++)
		data[i] = fn(i);
	assert_int_equal(fwrite(data, 1, bytes, f), bytes);
	assert_int_equal(fclose(f), 0);
	free(data);
}

static uint8_t *read_image(const char *path, size_t bytes)
{
	uint8_t *data = malloc(bytes);
	FILE *f = fopen(path, "rb");

	assert_non_null(data);
	assert_non_null(f);
	assert_int_equal(fread(data, 1, bytes, f), bytes);
	fclose(f);
	return data;
}

/* SHA-256 (hex) of the first `bytes` of path, by the host's sha256sum. */
static void host_sha256(const char *path, size_t bytes, char out[65])
{
	char cmd[1200];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "head -c %zu '%s' | sha256sum", bytes, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", out), 1);
	pclose(p);
}

/* The value after "marker " on the console, or "" if absent. */
static void marker(const struct console *c, const char *name, char *out, size_t len)
{
	char key[64];
	const char *p;
	size_t n = 0;

	snprintf(key, sizeof(key), "%s ", name);
	p = strstr(c->buf, key);
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	while (p[n] && p[n] != '\r' && p[n] != '\n' && n + 1 < len)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void expect_marker(const struct console *c, const char *name, const char *want)
{
	char got[256];

	marker(c, name, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("%s: guest said '%s', expected '%s'", name, got, want);
}

/* The guest's marker and interrupt lines, so a log shows what ran. */
static void show_markers(const struct console *c, const char *transport)
{
	const char *p = c->buf;

	while (*p) {
		const char *end = strchr(p, '\n');
		int len = end ? (int)(end - p) : (int)strlen(p);

		if (memmem(p, (size_t)len, "HVLIB-", 6) || memmem(p, (size_t)len, "virtio", 6))
			printf("guest (%s): %.*s\n", transport, len, p);
		p += len + (end ? 1 : 0);
	}
	fflush(stdout);
}

static int boot(struct console *con, struct hv_microvm_status *st, uint32_t transport)
{
	struct hv_microvm_disk disks[2];
	struct hv_microvm_config cfg;
	struct hv_microvm *vm = NULL;
	int ret;

	hv_microvm_disk_init(&disks[0]);
	disks[0].path = disk_a;
	disks[0].serial = "hvlib-disk-a";
	hv_microvm_disk_init(&disks[1]);
	disks[1].path = disk_b;
	disks[1].flags = HV_MICROVM_DISK_F_READONLY;
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.initrd = initrd;
	cfg.cmdline = "console=ttyS0 quiet panic=-1";
	cfg.mem_bytes = 256ull << 20;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = con;
	cfg.disks = disks;
	cfg.nr_disks = 2;
	cfg.flags = HV_MICROVM_F_RNG | HV_MICROVM_F_SECCOMP;
	cfg.transport = transport;
	ret = hv_microvm_create(&cfg, &vm);
	if (!ret)
		ret = hv_microvm_start(vm);
	if (!ret)
		ret = hv_microvm_wait(vm, BOOT_TIMEOUT_MS, st);
	if (ret)
		fprintf(stderr, "boot: %s\n", hv_last_error());
	nr_devices = vm ? vm->nr_virtio : 0;
	for (uint32_t i = 0; i < nr_devices; i++) {
		exit_notifies[i] = __atomic_load_n(&vm->virtio[i].dev->exit_notifies,
						   __ATOMIC_RELAXED);
		loop_notifies[i] = __atomic_load_n(&vm->virtio[i].dev->loop_notifies,
						   __ATOMIC_RELAXED);
		mmio_irqfd[i] = vm->virtio[i].mmio && hv_virtio_mmio_uses_irqfd(vm->virtio[i].mmio);
	}
	hv_microvm_destroy(vm);
	return ret;
}

static void check_guest_write(void)
{
	uint8_t *a = read_image(disk_a, DISK_A_BYTES);
	size_t line = strlen(GUEST_LINE);

	for (size_t i = 0; i < MIB; i++)
		if (a[i] != host_byte(i))
			fail_msg("disk A byte %zu changed: 0x%02x", i, a[i]);
	for (size_t i = 0; i < MIB; i++)
		if (a[MIB + i] != (uint8_t)GUEST_LINE[i % line])
			fail_msg("guest pattern byte %zu: 0x%02x, expected 0x%02x", i, a[MIB + i],
				 (uint8_t)GUEST_LINE[i % line]);
	for (size_t i = 2 * MIB; i < DISK_A_BYTES; i++)
		if (a[i] != host_byte(i))
			fail_msg("disk A byte %zu changed: 0x%02x", i, a[i]);
	free(a);
}

static void check_notify_paths(uint32_t transport)
{
	assert_int_equal(nr_devices, 3);
	for (uint32_t i = 0; i < nr_devices; i++) {
		printf("device %u: %llu notifications served by the I/O thread, %llu took a vCPU "
		       "exit\n", i, (unsigned long long)loop_notifies[i],
		       (unsigned long long)exit_notifies[i]);
		if (!loop_notifies[i])
			fail_msg("device %u: the I/O thread served nothing", i);
		if (transport == HV_MICROVM_TRANSPORT_MMIO && exit_notifies[i])
			fail_msg("device %u: %llu notifications exited to the transport despite "
				 "its ioeventfds", i, (unsigned long long)exit_notifies[i]);
		if (transport == HV_MICROVM_TRANSPORT_MMIO && !mmio_irqfd[i])
			fail_msg("device %u: virtio-mmio interrupts do not use an irqfd", i);
	}
}

static void disks_and_rng(uint32_t transport)
{
	struct console *con = calloc(1, sizeof(*con));
	struct hv_microvm_status st;
	char sha_a[65], sha_b[65], size[32], fired[16];
	uint8_t *b;
	int ret;

	memset(&st, 0, sizeof(st));
	guest_console_init(con);
	write_image(disk_a, DISK_A_BYTES, host_byte);
	write_image(disk_b, DISK_B_BYTES, ro_byte);
	host_sha256(disk_a, MIB, sha_a);
	host_sha256(disk_b, DISK_B_BYTES, sha_b);
	ret = boot(con, &st, transport);
	show_markers(con, transport == HV_MICROVM_TRANSPORT_PCI ? "pci" : "mmio");
	if (ret || st.reason != HV_STOP_POWEROFF || !strstr(con->buf, "HVLIB-DONE")) {
		fprintf(stderr, "---- guest console ----\n%s\n-----------------------\n", con->buf);
		fail_msg("stopped by %s (%s)", hv_stop_reason_name(st.reason), st.message);
	}
	assert_null(strstr(con->buf, "HVLIB-MODPROBE-FAILED"));
	expect_marker(con, "HVLIB-VIRTIO-DEVICES", "3");
	expect_marker(con, "HVLIB-VDA-SERIAL", "hvlib-disk-a");
	snprintf(size, sizeof(size), "%u", DISK_A_BYTES / 512);
	expect_marker(con, "HVLIB-VDA-SIZE", size);
	expect_marker(con, "HVLIB-VDA-SHA", sha_a);
	expect_marker(con, "HVLIB-VDA-WRITTEN", "0");
	expect_marker(con, "HVLIB-VDB-RO", "1");
	expect_marker(con, "HVLIB-VDB-WRITE", "refused");
	expect_marker(con, "HVLIB-VDB-SHA", sha_b);
	expect_marker(con, "HVLIB-RNG-CURRENT", "virtio_rng.0");
	expect_marker(con, "HVLIB-RNG-BYTES", "64");
	if (transport == HV_MICROVM_TRANSPORT_PCI) {
		expect_marker(con, "HVLIB-VIRTIO-BUS", "pci");
		/* Three devices, each a config vector and one queue vector. */
		expect_marker(con, "HVLIB-MSI-VECTORS", "6");
		marker(con, "HVLIB-MSI-FIRED", fired, sizeof(fired));
		if (atoi(fired) < 3)
			fail_msg("only %s MSI-X vectors fired; each queue should have", fired);
	} else {
		expect_marker(con, "HVLIB-VIRTIO-BUS", "mmio");
		expect_marker(con, "HVLIB-MSI-VECTORS", "0");
	}
	check_notify_paths(transport);
	check_guest_write();
	b = read_image(disk_b, DISK_B_BYTES);
	for (size_t i = 0; i < DISK_B_BYTES; i++)
		if (b[i] != ro_byte(i))
			fail_msg("read-only disk byte %zu changed", i);
	free(b);
	free(con);
}

static void test_disks_and_rng_mmio(void **state)
{
	(void)state;
	disks_and_rng(HV_MICROVM_TRANSPORT_MMIO);
}

static void test_disks_and_rng_pci(void **state)
{
	(void)state;
	disks_and_rng(HV_MICROVM_TRANSPORT_PCI);
}

/* INTx sharing for real: five disks on PCI (slots 1-5) and pci=nomsi, so
 * vda (slot 1) and vde (slot 5) share one level-triggered line; the guest
 * reads both at once, eight passes each, and must see the host's bytes. */
static void test_shared_intx_pci(void **state)
{
	struct console *con = calloc(1, sizeof(*con));
	struct hv_microvm_disk disks[5];
	struct hv_microvm_config cfg;
	struct hv_microvm_status st;
	struct hv_microvm *vm = NULL;
	char sha[65], lines[16];
	int ret;

	(void)state;
	memset(&st, 0, sizeof(st));
	guest_console_init(con);
	write_image(disk_a, DISK_A_BYTES, host_byte);
	write_image(disk_b, DISK_B_BYTES, ro_byte);
	host_sha256(disk_a, DISK_A_BYTES, sha);
	for (int i = 0; i < 5; i++) {
		hv_microvm_disk_init(&disks[i]);
		disks[i].path = i == 0 || i == 4 ? disk_a : disk_b;
		disks[i].flags = HV_MICROVM_DISK_F_READONLY; /* vda and vde: one image */
	}
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.initrd = initrd;
	cfg.cmdline = "console=ttyS0 quiet panic=-1 pci=nomsi hvlib.intx";
	cfg.mem_bytes = 256ull << 20;
	cfg.console_fn = guest_console_fn;
	cfg.console_opaque = con;
	cfg.disks = disks;
	cfg.nr_disks = 5;
	cfg.transport = HV_MICROVM_TRANSPORT_PCI;
	ret = hv_microvm_create(&cfg, &vm);
	if (!ret)
		ret = hv_microvm_start(vm);
	if (!ret)
		ret = hv_microvm_wait(vm, BOOT_TIMEOUT_MS, &st);
	hv_microvm_destroy(vm);
	show_markers(con, "pci-intx");
	if (ret || st.reason != HV_STOP_POWEROFF || !strstr(con->buf, "HVLIB-DONE")) {
		fprintf(stderr, "---- guest console ----\n%s\n-----------------------\n", con->buf);
		fail_msg("ret %d, stopped by %s (%s)", ret, hv_stop_reason_name(st.reason),
			 st.message);
	}
	assert_null(strstr(con->buf, "HVLIB-MODPROBE-FAILED"));
	expect_marker(con, "HVLIB-INTX-MSI", "0");
	expect_marker(con, "HVLIB-INTX-SHA-vda", sha);
	expect_marker(con, "HVLIB-INTX-SHA-vde", sha);
	marker(con, "HVLIB-INTX-LINES", lines, sizeof(lines));
	if (atoi(lines) < 1)
		fail_msg("no INTx line fired ('%s')", lines);
	free(con);
}

/* A disk that cannot be opened fails create with its name, and leaks nothing. */
static void test_missing_disk(void **state)
{
	struct hv_microvm_disk disk;
	struct hv_microvm_config cfg;
	struct hv_microvm *vm = NULL;

	(void)state;
	hv_microvm_disk_init(&disk);
	disk.path = "/nonexistent/hvlib-disk.img";
	hv_microvm_config_init(&cfg);
	cfg.kernel = kernel;
	cfg.disks = &disk;
	cfg.nr_disks = 1;
	assert_int_equal(hv_microvm_create(&cfg, &vm), -ENOENT);
	assert_non_null(strstr(hv_last_error(), "/nonexistent/hvlib-disk.img"));
	disk.flags = 0x80;
	assert_int_equal(hv_microvm_create(&cfg, &vm), -EINVAL);
	disk.flags = 0;
	cfg.transport = 7;
	assert_int_equal(hv_microvm_create(&cfg, &vm), -EINVAL);
	assert_non_null(strstr(hv_last_error(), "transport"));
}

static int find_material(void)
{
	snprintf(disk_a, sizeof(disk_a), "%s/virtio-a-%d.img", guest_dir(), (int)getpid());
	snprintf(disk_b, sizeof(disk_b), "%s/virtio-b-%d.img", guest_dir(), (int)getpid());
	return guest_find_material("virtio-initrd.cpio.gz", "virtio", kernel, sizeof(kernel), initrd, sizeof(initrd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disks_and_rng_mmio),
		cmocka_unit_test(test_disks_and_rng_pci),
		cmocka_unit_test(test_shared_intx_pci),
		cmocka_unit_test(test_missing_disk),
	};
	int ret = find_material();

	if (ret)
		return ret;
	if (getenv("HVLIB_TEST_FILTER")) /* one boot, when debugging */
		cmocka_set_test_filter(getenv("HVLIB_TEST_FILTER"));
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(disk_a);
	unlink(disk_b);
	return ret;
}
