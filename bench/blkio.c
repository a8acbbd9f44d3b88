/* SPDX-License-Identifier: MIT */
/*
 * blkio: the in-guest half of bench/blk, linked statically into its
 * initramfs.  Direct I/O (O_DIRECT, so the guest page cache is out of the
 * picture and every request reaches the device) on a block device for a
 * fixed time, one request in flight per job:
 *
 *   blkio DEV read|write|randread|randwrite BLOCK SECONDS [JOBS]
 *
 * read/write walk the device sequentially in BLOCK-sized requests (wrapping
 * at its end); randread/randwrite go to uniformly random BLOCK-aligned
 * offsets.  Writes end with fsync(), counted in the time, so a write-back
 * cache on either side cannot hide the cost.  JOBS processes (default 1)
 * run side by side on their own descriptors: JOBS requests in flight.
 * Prints one line for the host to parse:
 *
 *   BENCH-RESULT MODE block=BLOCK jobs=JOBS ops=N bytes=N seconds=S MBps=X IOPS=Y
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct totals {
	uint64_t ops, bytes;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One job: requests until the deadline; its counts land in *out. */
static int job(const char *dev, int is_write, int is_rand, size_t block, double deadline,
	       unsigned id, struct totals *out)
{
	int fd = open(dev, (is_write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	uint64_t size, nblocks, next, seed = 0x9e3779b97f4a7c15ull * (id + 1);
	void *buf;

	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "blkio: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	/* A regular file too, to try it out on a host. */
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size)) {
		fprintf(stderr, "blkio: %s: BLKGETSIZE64: %s\n", dev, strerror(errno));
		return -1;
	}
	nblocks = size / block;
	if (!nblocks || posix_memalign(&buf, 4096, block)) {
		fprintf(stderr, "blkio: %s smaller than a block, or no memory\n", dev);
		return -1;
	}
	memset(buf, 0x5a + (int)id, block); /* written data is not all zeroes */
	next = (uint64_t)id * (nblocks / 8); /* sequential jobs start apart */
	while (now() < deadline) {
		uint64_t blk = is_rand ? xorshift(&seed) % nblocks : next++ % nblocks;
		off_t off = (off_t)(blk * block);
		ssize_t done = is_write ? pwrite(fd, buf, block, off) : pread(fd, buf, block, off);

		if (done != (ssize_t)block) {
			fprintf(stderr, "blkio: %s at %lld: %s\n", is_write ? "pwrite" : "pread",
				(long long)off, done < 0 ? strerror(errno) : "short transfer");
			return -1;
		}
		out->ops++;
		out->bytes += block;
	}
	if (is_write && fsync(fd)) {
		fprintf(stderr, "blkio: fsync: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev, *mode;
	size_t block;
	double seconds, t0, elapsed;
	unsigned jobs = 1, failed = 0;
	int is_write, is_rand;
	struct totals *t, sum = { 0, 0 };

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: blkio DEV read|write|randread|randwrite BLOCK SECONDS "
				"[JOBS]\n");
		return 2;
	}
	dev = argv[1];
	mode = argv[2];
	block = strtoul(argv[3], NULL, 0);
	seconds = strtod(argv[4], NULL);
	if (argc == 6)
		jobs = (unsigned)strtoul(argv[5], NULL, 0);
	is_rand = !strncmp(mode, "rand", 4);
	is_write = !strcmp(mode + (is_rand ? 4 : 0), "write");
	if ((!is_write && strcmp(mode + (is_rand ? 4 : 0), "read")) || !block || block % 512 ||
	    seconds <= 0 || !jobs || jobs > 64) {
		fprintf(stderr, "blkio: bad mode, block size, time or job count\n");
		return 2;
	}
	/* Counters shared with the job processes. */
	t = mmap(NULL, jobs * sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		 0);
	if (t == MAP_FAILED)
		return 1;
	memset(t, 0, jobs * sizeof(*t));
	t0 = now();
	for (unsigned i = 0; i < jobs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (!pid)
			_exit(job(dev, is_write, is_rand, block, t0 + seconds, i, &t[i]) ? 1 : 0);
	}
	for (unsigned i = 0; i < jobs; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	elapsed = now() - t0;
	if (failed)
		return 1;
	for (unsigned i = 0; i < jobs; i++) {
		sum.ops += t[i].ops;
		sum.bytes += t[i].bytes;
	}
	printf("BENCH-RESULT %s block=%zu jobs=%u ops=%llu bytes=%llu seconds=%.3f MBps=%.2f "
	       "IOPS=%.1f\n",
	       mode, block, jobs, (unsigned long long)sum.ops, (unsigned long long)sum.bytes,
	       elapsed, (double)sum.bytes / elapsed / 1e6, (double)sum.ops / elapsed);
	return 0;
}
