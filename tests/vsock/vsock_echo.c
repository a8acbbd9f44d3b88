/* SPDX-License-Identifier: MIT */
/*
 * Guest side of tests/kvm/kvm_vsock.c, linked statically into the test
 * initramfs (busybox has no AF_VSOCK):
 *   vsock-echo PORT HOST_PORT BYTES
 * prints the guest's CID, listens on PORT and echoes one connection until
 * its EOF, then connects to the host (CID 2) on HOST_PORT and sends BYTES
 * bytes of a pattern the host checks.  Marker lines go to stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + (i >> 9) + 7);
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void say(const char *fmt, unsigned long v)
{
	printf(fmt, v);
	fflush(stdout);
}

static struct sockaddr_vm addr(unsigned cid, unsigned port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = AF_VSOCK;
	a.svm_cid = cid;
	a.svm_port = port;
	return a;
}

static int echo(unsigned port)
{
	struct sockaddr_vm a = addr(VMADDR_CID_ANY, port);
	int s = socket(AF_VSOCK, SOCK_STREAM, 0), c;
	unsigned char buf[8192];
	unsigned long total = 0;
	ssize_t n;

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		return perror("vsock-echo: listen"), -1;
	say("HVLIB-VSOCK-LISTENING %lu\n", port);
	c = accept(s, NULL, NULL);
	if (c < 0)
		return perror("vsock-echo: accept"), -1;
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (write_all(c, buf, (size_t)n))
			return perror("vsock-echo: write"), -1;
		total += (unsigned long)n;
	}
	close(c);
	close(s);
	say("HVLIB-VSOCK-ECHOED %lu\n", total);
	return 0;
}

static int send_to_host(unsigned port, size_t bytes)
{
	struct sockaddr_vm a = addr(VMADDR_CID_HOST, port);
	unsigned char *buf = malloc(bytes);
	int s = -1;

	if (!buf)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		buf[i] = pattern(i);
	for (int tries = 0; tries < 50; tries++) {
		s = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a)))
			break;
		perror("vsock-echo: connect to host");
		close(s);
		s = -1;
		usleep(100000);
	}
	if (s < 0 || write_all(s, buf, bytes))
		return perror("vsock-echo: send to host"), -1;
	close(s);
	free(buf);
	say("HVLIB-VSOCK-SENT %lu\n", (unsigned long)bytes);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned cid = 0;
	int fd;

	if (argc != 4)
		return fprintf(stderr, "usage: vsock-echo PORT HOST_PORT BYTES\n"), 2;
	fd = open("/dev/vsock", O_RDONLY);
	if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid))
		perror("vsock-echo: local CID");
	say("HVLIB-VSOCK-CID %lu\n", cid);
	if (echo((unsigned)atoi(argv[1])))
		return 1;
	return send_to_host((unsigned)atoi(argv[2]), strtoul(argv[3], NULL, 0)) ? 1 : 0;
}
