/* SPDX-License-Identifier: MIT */
/*
 * hvrun: a command-line VMM on hvlib's micro-VM layer.
 *
 *   hvrun --kernel FILE [--initrd FILE] [--cmdline STR] [--memory 256M]
 *         [--cpus N] [--pin 0,1] [--pvh] [--timeout SECONDS]
 *         [--disk FILE[,ro]]... [--rng] [--vsock CID] [--transport mmio|pci]
 *         [--balloon[=SIZE]] [--console serial|virtio] [--net tap=NAME[,mac=MAC]]...
 *         [--admit] [--host-memory SIZE] [--host-cpus N] [--overcommit MEM[,CPU]]
 *
 * The guest's console (the UART, or hvc0 with --console virtio) is this
 * terminal: its output on stdout, stdin fed to it (raw mode when stdin is a
 * terminal; Ctrl-C still stops hvrun).
 * Exit status: 0 power-off, 2 reboot, 3 guest crash, 4 timeout, 1 error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hvlib/hvlib.h>
#include <hvlib/microvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIN 256

struct options {
	struct hv_microvm_config cfg;
	uint32_t pin[MAX_PIN];
	struct hv_microvm_disk disks[HV_MICROVM_MAX_VIRTIO];
	uint64_t balloon_bytes;  /* --balloon=SIZE: inflate by this much at start */
	struct hv_microvm_net nets[HV_MICROVM_MAX_VIRTIO];
	int timeout_s;
	int verbose;
	int admit;               /* any of --admit, --host-*, --overcommit */
	struct hv_ledger_config ledger;
};

static int signal_pipe[2] = { -1, -1 };
static struct termios saved_tty;
static int tty_raw;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvrun --kernel FILE [OPTION]...\n"
		"Boot a Linux micro-VM on KVM with its serial console on this terminal.\n\n"
		"  -k, --kernel FILE     bzImage or ELF vmlinux (required)\n"
		"  -i, --initrd FILE     initramfs\n"
		"  -c, --cmdline STR     kernel command line (default \"%s\")\n"
		"  -m, --memory SIZE     guest RAM, e.g. 256M, 1G (default 256M)\n"
		"  -n, --cpus N          vCPUs (default 1)\n"
		"  -p, --pin LIST        host CPU for each vCPU, e.g. 2,3\n"
		"      --pvh             boot a bzImage through its PVH entry point\n"
		"  -d, --disk FILE[,ro]  a virtio-blk disk over a raw image (repeatable: vda,\n"
		"                        vdb, ...); ro: read-only\n"
		"      --rng             a virtio-rng device\n"
		"      --vsock CID       a virtio-vsock device (vhost-vsock) with this guest\n"
		"                        CID (3 or more): the host connects with AF_VSOCK\n"
		"      --transport T     how virtio devices appear: mmio (default) or pci\n"
		"      --balloon[=SIZE]  a virtio-balloon; SIZE: take that much memory back\n"
		"                        from the guest once its driver is up (e.g. 64M)\n"
		"      --console DEV     serial (ttyS0, default) or virtio (hvc0; default\n"
		"                        command line then \"%s\")\n"
		"      --net tap=NAME[,mac=MAC]  a virtio-net interface on host tap NAME\n"
		"                        (created, or attached if it exists; repeatable:\n"
		"                        eth0, eth1, ...)\n"
		"      --admit           admission control: refuse a VM larger than the host\n"
		"                        (its memory and the CPUs hvrun may use, within its\n"
		"                        cgroup); implied by the next three\n"
		"      --host-memory SIZE  memory capacity to admit against (default: the host's)\n"
		"      --host-cpus N     CPU capacity to admit against (default: the host's)\n"
		"      --overcommit MEM[,CPU]  ratios over capacity, e.g. 1.5,4 (default 1,1)\n"
		"      --no-seccomp      do not confine hvlib's vCPU and device threads with\n"
		"                        seccomp filters (on by default; a call outside a\n"
		"                        thread's filter ends hvrun with SIGSYS)\n"
		"  -t, --timeout SEC     stop the guest after SEC seconds (exit status 4)\n"
		"  -v, --verbose         log hvlib diagnostics (and the admission) to stderr\n"
		"  -h, --help            show this help\n\n"
		"Exit status: 0 guest powered off, 2 guest rebooted, 3 guest crashed,\n"
		"4 timeout, 1 any other failure (with a message on stderr).\n",
		HV_MICROVM_DEFAULT_CMDLINE, HV_MICROVM_DEFAULT_CMDLINE_VIRTIO);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'G': case 'g': v <<= 30; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': v <<= 20; break; /* plain numbers are MiB */
	default: return -1;
	}
	if (*end == 'i' || *end == 'B')
		end += (end[0] == 'i' && end[1] == 'B') ? 2 : 1;
	*out = v;
	return *end ? -1 : 0;
}

static int parse_pin(const char *s, struct options *o)
{
	uint32_t n = 0;

	while (*s) {
		char *end;
		unsigned long cpu = strtoul(s, &end, 10);

		if (end == s || n == MAX_PIN || cpu > 65535)
			return -1;
		o->pin[n++] = (uint32_t)cpu;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	o->cfg.pin_cpus = o->pin;
	o->cfg.nr_pin_cpus = n;
	return n ? 0 : -1;
}

/* A ratio ("1.5") as a percentage (150). */
static int parse_ratio(const char *s, char **end, uint32_t *pct)
{
	double v;

	errno = 0;
	v = strtod(s, end);
	if (errno || *end == s || v < 0.01 || v > 1000)
		return -1;
	*pct = (uint32_t)(v * 100 + 0.5);
	return 0;
}

/* MEM[,CPU] */
static int parse_overcommit(const char *s, struct options *o)
{
	char *end;

	if (parse_ratio(s, &end, &o->ledger.mem_overcommit_pct))
		return -1;
	if (*end == ',' && parse_ratio(end + 1, &end, &o->ledger.cpu_overcommit_pct))
		return -1;
	return *end ? -1 : 0;
}

/* FILE or FILE,ro */
static int parse_disk(char *arg, struct options *o)
{
	struct hv_microvm_disk *d;
	char *comma = strrchr(arg, ',');

	if (o->cfg.nr_disks == HV_MICROVM_MAX_VIRTIO)
		return -1;
	d = &o->disks[o->cfg.nr_disks];
	hv_microvm_disk_init(d);
	if (comma && !strcmp(comma, ",ro")) {
		*comma = '\0';
		d->flags |= HV_MICROVM_DISK_F_READONLY;
	} else if (comma && !strcmp(comma, ",rw")) {
		*comma = '\0';
	}
	if (!*arg)
		return -1;
	d->path = arg;
	o->cfg.disks = o->disks;
	o->cfg.nr_disks++;
	return 0;
}

/* aa:bb:cc:dd:ee:ff */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* tap=NAME[,mac=MAC] */
static int parse_net(char *arg, struct options *o)
{
	struct hv_microvm_net *n;
	char *save = NULL;

	if (o->cfg.nr_nets == HV_MICROVM_MAX_VIRTIO)
		return -1;
	n = &o->nets[o->cfg.nr_nets];
	hv_microvm_net_init(n);
	for (char *kv = strtok_r(arg, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "tap=", 4) && kv[4])
			n->tap = kv + 4;
		else if (!strncmp(kv, "mac=", 4) && !parse_mac(kv + 4, n->mac))
			n->flags |= HV_MICROVM_NET_F_MAC;
		else
			return -1;
	}
	if (!n->tap)
		return -1;
	o->cfg.nets = o->nets;
	o->cfg.nr_nets++;
	return 0;
}

static void log_stderr(void *opaque, enum hv_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	(void)opaque;
	fprintf(stderr, "hvrun: %s: %s\n", names[level & 3], msg);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' }, { "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' }, { "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'n' },   { "pin", required_argument, NULL, 'p' },
		{ "pvh", no_argument, NULL, 'P' },          { "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },      { "help", no_argument, NULL, 'h' },
		{ "disk", required_argument, NULL, 'd' },   { "rng", no_argument, NULL, 'R' },
		{ "vsock", required_argument, NULL, 'V' },
		{ "transport", required_argument, NULL, 'T' },
		{ "balloon", optional_argument, NULL, 'B' },
		{ "console", required_argument, NULL, 'C' }, { "net", required_argument, NULL, 'N' },
		{ "admit", no_argument, NULL, 'A' },
		{ "host-memory", required_argument, NULL, 'M' },
		{ "host-cpus", required_argument, NULL, 'U' },
		{ "overcommit", required_argument, NULL, 'O' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	hv_microvm_config_init(&o->cfg);
	hv_ledger_config_init(&o->ledger);
	o->cfg.console_out_fd = STDOUT_FILENO;
	o->cfg.flags = HV_MICROVM_F_SECCOMP; /* a CLI confines by default */
	while ((c = getopt_long(argc, argv, "k:i:c:m:n:p:t:d:vh", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'k': o->cfg.kernel = optarg; break;
		case 'i': o->cfg.initrd = optarg; break;
		case 'c': o->cfg.cmdline = optarg; break;
		case 'P': o->cfg.flags |= HV_MICROVM_F_PVH; break;
		case 'R': o->cfg.flags |= HV_MICROVM_F_RNG; break;
		case 'S': o->cfg.flags &= ~HV_MICROVM_F_SECCOMP; break;
		case 'T':
			if (!strcmp(optarg, "mmio"))
				o->cfg.transport = HV_MICROVM_TRANSPORT_MMIO;
			else if (!strcmp(optarg, "pci"))
				o->cfg.transport = HV_MICROVM_TRANSPORT_PCI;
			else
				return fprintf(stderr, "hvrun: bad --transport '%s' (mmio or pci)\n",
					       optarg), -1;
			break;
		case 'B':
			o->cfg.flags |= HV_MICROVM_F_BALLOON;
			if (optarg && parse_size(optarg, &o->balloon_bytes))
				return fprintf(stderr, "hvrun: bad --balloon '%s' (e.g. 64M)\n",
					       optarg), -1;
			break;
		case 'd':
			if (parse_disk(optarg, o))
				return fprintf(stderr, "hvrun: bad --disk '%s' (FILE or FILE,ro; at "
					       "most %u)\n", optarg, HV_MICROVM_MAX_VIRTIO), -1;
			break;
		case 'V':
			errno = 0;
			o->cfg.vsock_cid = strtoull(optarg, &end, 0);
			if (errno || *end || o->cfg.vsock_cid < 3)
				return fprintf(stderr, "hvrun: bad --vsock '%s' (a CID, 3 or "
					       "more)\n", optarg), -1;
			break;
		case 'C':
			if (!strcmp(optarg, "virtio"))
				o->cfg.console = HV_MICROVM_CONSOLE_VIRTIO;
			else if (!strcmp(optarg, "serial"))
				o->cfg.console = HV_MICROVM_CONSOLE_SERIAL;
			else
				return fprintf(stderr, "hvrun: bad --console '%s' (serial or virtio)\n",
					       optarg), -1;
			break;
		case 'N':
			if (parse_net(optarg, o))
				return fprintf(stderr, "hvrun: bad --net '%s' (tap=NAME[,mac=MAC])\n",
					       optarg), -1;
			break;
		case 'A': o->admit = 1; break;
		case 'M':
			o->admit = 1;
			if (parse_size(optarg, &o->ledger.mem_bytes) || !o->ledger.mem_bytes)
				return fprintf(stderr, "hvrun: bad --host-memory '%s' (e.g. 4G)\n",
					       optarg), -1;
			break;
		case 'U':
			o->admit = 1;
			o->ledger.cpus = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !o->ledger.cpus)
				return fprintf(stderr, "hvrun: bad --host-cpus '%s'\n", optarg), -1;
			break;
		case 'O':
			o->admit = 1;
			if (parse_overcommit(optarg, o))
				return fprintf(stderr, "hvrun: bad --overcommit '%s' (MEM[,CPU] ratios, "
					       "e.g. 1.5,4)\n", optarg), -1;
			break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'm':
			if (parse_size(optarg, &o->cfg.mem_bytes))
				return fprintf(stderr, "hvrun: bad --memory '%s' (e.g. 512M, 2G)\n",
					       optarg), -1;
			break;
		case 'n':
			o->cfg.nr_vcpus = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !o->cfg.nr_vcpus)
				return fprintf(stderr, "hvrun: bad --cpus '%s'\n", optarg), -1;
			break;
		case 'p':
			if (parse_pin(optarg, o))
				return fprintf(stderr, "hvrun: bad --pin '%s' (e.g. 2,3)\n", optarg), -1;
			break;
		case 't':
			o->timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || o->timeout_s <= 0)
				return fprintf(stderr, "hvrun: bad --timeout '%s'\n", optarg), -1;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		return fprintf(stderr, "hvrun: unexpected argument '%s'\n", argv[optind]), -1;
	if (!o->cfg.kernel)
		return fprintf(stderr, "hvrun: --kernel is required (see --help)\n"), -1;
	if (o->verbose) {
		o->cfg.log_fn = log_stderr;
		o->cfg.log_level = HV_LOG_DEBUG;
	}
	return 0;
}

static void on_signal(int signo)
{
	int saved = errno;
	char c = (char)signo;

	if (write(signal_pipe[1], &c, 1) < 0) {
		/* Nothing to do: the pipe is full, a stop is already pending. */
	}
	errno = saved;
}

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
}

/* Raw input, so the guest sees every key; ISIG stays so Ctrl-C stops hvrun. */
static void make_tty_raw(void)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty))
		return;
	raw = saved_tty;
	cfmakeraw(&raw);
	raw.c_lflag |= ISIG;
	raw.c_oflag |= OPOST | ONLCR;
	if (!tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)) {
		tty_raw = 1;
		atexit(restore_tty);
	}
}

static void forward_input(struct hv_microvm *vm, int *stdin_open)
{
	uint8_t buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	size_t done = 0;

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			*stdin_open = 0;
		return;
	}
	/* The UART FIFO (or virtio-console buffer) fills: wait for the guest to drain it. */
	while (done < (size_t)n) {
		size_t took = hv_microvm_console_input(vm, buf + done, (size_t)n - done);
		struct timespec ts = { 0, 1000000 };

		done += took;
		if (!took && poll(&(struct pollfd){ .fd = hv_microvm_poll_fd(vm), .events = POLLIN },
				  1, 0) == 1)
			return; /* the guest stopped: drop the rest */
		if (!took)
			nanosleep(&ts, NULL);
	}
}

static int exit_status(const struct hv_microvm_status *st, int timed_out)
{
	if (timed_out)
		return fprintf(stderr, "hvrun: timeout: the guest was stopped\n"), 4;
	switch (st->reason) {
	case HV_STOP_POWEROFF: return 0;
	case HV_STOP_REBOOT: return fprintf(stderr, "hvrun: %s\n", st->message), 2;
	case HV_STOP_CRASH: return fprintf(stderr, "hvrun: %s\n", st->message), 3;
	case HV_STOP_REQUESTED: return fprintf(stderr, "hvrun: interrupted\n"), 1;
	default: return fprintf(stderr, "hvrun: %s\n", st->message), 1;
	}
}

static int run(struct hv_microvm *vm, const struct options *o)
{
	struct hv_microvm_status st;
	int stdin_open = 1, timed_out = 0;
	time_t deadline = o->timeout_s ? time(NULL) + o->timeout_s : 0;

	make_tty_raw();
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = hv_microvm_poll_fd(vm), .events = POLLIN },
			{ .fd = signal_pipe[0], .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		int ret = poll(fds, 3, deadline ? 200 : -1);

		if (ret < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		if (fds[1].revents || (deadline && time(NULL) >= deadline)) {
			timed_out = !fds[1].revents;
			hv_microvm_stop(vm);
			break;
		}
		if (fds[2].revents)
			forward_input(vm, &stdin_open);
	}
	if (hv_microvm_wait(vm, -1, &st))
		return fprintf(stderr, "hvrun: %s\n", hv_last_error()), 1;
	restore_tty();
	return exit_status(&st, timed_out);
}

/* The ledger of --admit and friends, attached to the config; NULL without. */
static int make_ledger(struct options *o, struct hv_ledger **out)
{
	*out = NULL;
	if (!o->admit)
		return 0;
	if (hv_ledger_create(&o->ledger, out))
		return fprintf(stderr, "hvrun: %s\n", hv_last_error()), -1;
	o->cfg.ledger = *out;
	return 0;
}

/* With --verbose: what the VM holds of the ledger. */
static void report_admission(const struct options *o, struct hv_ledger *ledger)
{
	struct hv_ledger_usage u = { .size = sizeof(u) };

	if (!ledger || !o->verbose || hv_ledger_usage(ledger, &u))
		return;
	fprintf(stderr, "hvrun: admission: reserved %llu of %llu MiB (%llu MiB x%u.%02u), "
		"%u of %u CPUs (%u x%u.%02u)\n", (unsigned long long)(u.mem_used >> 20),
		(unsigned long long)(u.mem_limit >> 20), (unsigned long long)(u.mem_capacity >> 20),
		u.mem_overcommit_pct / 100, u.mem_overcommit_pct % 100, u.cpu_used, u.cpu_limit,
		u.cpu_capacity, u.cpu_overcommit_pct / 100, u.cpu_overcommit_pct % 100);
}

int main(int argc, char **argv)
{
	struct hv_microvm *vm = NULL;
	struct hv_ledger *ledger;
	struct options o;
	int status;

	memset(&o, 0, sizeof(o));
	if (parse_args(argc, argv, &o) || make_ledger(&o, &ledger))
		return 1;
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK)) {
		perror("hvrun: pipe");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* The target is in config space: the driver reads it when it probes. */
	if (hv_microvm_create(&o.cfg, &vm) ||
	    (o.balloon_bytes &&
	     hv_virtio_balloon_set_target(hv_microvm_balloon(vm), o.balloon_bytes)) ||
	    (report_admission(&o, ledger), hv_microvm_start(vm))) {
		fprintf(stderr, "hvrun: %s\n", hv_last_error());
		hv_microvm_destroy(vm);
		hv_ledger_destroy(ledger);
		return 1;
	}
	status = run(vm, &o);
	hv_microvm_destroy(vm);
	hv_ledger_destroy(ledger);
	return status;
}
