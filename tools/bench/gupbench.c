// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gupbench: tight loops over one GUP path each, for `make bench`.
 *
 *   gupbench OP [--seconds S] [--dev PATH]
 *
 * OP is one of
 *   pvr       process_vm_readv() of one page of our own address space:
 *             pin_user_pages_remote() + unpin, a short-term FOLL_PIN pin
 *   vmsplice  vmsplice() one page into a pipe (FOLL_GET reference parked in
 *             the pipe), then read it back (the pipe drops the reference)
 *   uring     io_uring IORING_REGISTER_BUFFERS of one page (long-term
 *             FOLL_PIN pin), then IORING_UNREGISTER_BUFFERS
 *   odirect   one 4 KiB O_DIRECT pread() from --dev (a RAM disk, brd):
 *             FOLL_GET on 6.1, FOLL_PIN on 6.5+
 *
 * It prints one JSON line: {"op":..,"ops":N,"seconds":S,"ops_per_s":R}.
 *
 *   gupbench waitfor PATH [STRING] [--seconds S] [--pid PID]
 *
 * polls every millisecond until PATH exists (and contains STRING) and prints
 * {"waited_ns":N}: started next to a tracer, it measures the tracer's
 * attach time (pintrace --ready-file, a marker bpftrace's BEGIN prints).
 * With --pid it gives up (exit 1) as soon as that tracer is gone.
 * The loop times itself, so the cost of starting a tracer around it does
 * not count. Exit 0 ok, 1 an operation failed, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
/* check the clock every this many operations: a clock read per op would
 * be measured too */
#define BATCH 64

struct bench {
	char *buf;		/* one page, touched */
	char *dst;		/* one page, for copies */
	int pipe[2];
	int ring;
	int dev;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *page_alloc(void)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, PAGE);
	return p;
}

static int op_pvr(struct bench *b)
{
	struct iovec local = { b->dst, PAGE }, remote = { b->buf, PAGE };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == PAGE ? 0 : -1;
}

static int op_vmsplice(struct bench *b)
{
	struct iovec iov = { b->buf, PAGE };

	if (vmsplice(b->pipe[1], &iov, 1, 0) != PAGE)
		return -1;
	return read(b->pipe[0], b->dst, PAGE) == PAGE ? 0 : -1;
}

static int op_uring(struct bench *b)
{
	struct iovec iov = { b->buf, PAGE };

	if (syscall(__NR_io_uring_register, b->ring, IORING_REGISTER_BUFFERS, &iov, 1) < 0)
		return -1;
	return syscall(__NR_io_uring_register, b->ring, IORING_UNREGISTER_BUFFERS, NULL, 0) < 0
		? -1 : 0;
}

static int op_odirect(struct bench *b)
{
	return pread(b->dev, b->buf, PAGE, 0) == PAGE ? 0 : -1;
}

static int setup(struct bench *b, const char *op, const char *dev)
{
	struct io_uring_params p;

	b->buf = page_alloc();
	b->dst = page_alloc();
	if (!b->buf || !b->dst)
		return -1;
	if (!strcmp(op, "vmsplice"))
		return pipe(b->pipe);
	if (!strcmp(op, "uring")) {
		memset(&p, 0, sizeof(p));
		b->ring = syscall(__NR_io_uring_setup, 4, &p);
		return b->ring < 0 ? -1 : 0;
	}
	if (!strcmp(op, "odirect")) {
		if (!dev) {
			fprintf(stderr, "gupbench: odirect needs --dev PATH\n");
			errno = EINVAL;
			return -1;
		}
		b->dev = open(dev, O_RDONLY | O_DIRECT);
		return b->dev < 0 ? -1 : 0;
	}
	return 0;
}

static bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !needle || strstr(buf, needle);
}

static int waitfor(int argc, char **argv)
{
	const char *path = argc > 2 ? argv[2] : NULL, *needle = NULL;
	double secs = 120, t0 = now_s(), t;
	char *end, proc[32] = "";

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			secs = strtod(argv[++i], &end);
			if (*end || !(secs > 0))
				return 2;
		} else if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
			snprintf(proc, sizeof(proc), "/proc/%s", argv[++i]);
		} else if (!needle) {
			needle = argv[i];
		} else {
			return 2;
		}
	}
	if (!path)
		return 2;
	while (!file_has(path, needle)) {
		t = now_s();
		if (t - t0 > secs) {
			fprintf(stderr, "gupbench: %s: not there after %.0f s\n", path, secs);
			return 1;
		}
		if (*proc && access(proc, F_OK)) {
			fprintf(stderr, "gupbench: %s: its writer is gone\n", path);
			return 1;
		}
		usleep(1000);
	}
	printf("{\"waited_ns\":%.0f}\n", (now_s() - t0) * 1e9);
	return 0;
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"Usage: gupbench pvr|vmsplice|uring|odirect [--seconds S] [--dev PATH]\n"
		"       gupbench waitfor PATH [STRING] [--seconds S] [--pid PID]\n");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(struct bench *); } ops[] = {
		{ "pvr", op_pvr }, { "vmsplice", op_vmsplice },
		{ "uring", op_uring }, { "odirect", op_odirect },
	};
	int (*fn)(struct bench *) = NULL;
	const char *op = argc > 1 ? argv[1] : "", *dev = NULL;
	struct bench b = { .pipe = { -1, -1 }, .ring = -1, .dev = -1 };
	double secs = 2.0, t0, t1;
	unsigned long long n = 0;
	char *end;

	if (!strcmp(op, "waitfor")) {
		int rc = waitfor(argc, argv);

		return rc == 2 ? usage(2) : rc;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].name))
			fn = ops[i].fn;
	if (!fn)
		return usage(!strcmp(op, "--help") || !strcmp(op, "-h") ? 0 : 2);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			secs = strtod(argv[++i], &end);
			if (*end || !(secs > 0 && secs <= 600))
				return usage(2);
		} else if (!strcmp(argv[i], "--dev") && i + 1 < argc) {
			dev = argv[++i];
		} else {
			return usage(2);
		}
	}
	if (setup(&b, op, dev)) {
		fprintf(stderr, "gupbench: %s setup: %s\n", op, strerror(errno));
		return 1;
	}
	/* one untimed call: first-touch faults and lazy setup are not the path */
	if (fn(&b)) {
		fprintf(stderr, "gupbench: %s: %s\n", op, strerror(errno));
		return 1;
	}
	t0 = now_s();
	do {
		for (int i = 0; i < BATCH; i++, n++)
			if (fn(&b)) {
				fprintf(stderr, "gupbench: %s after %llu ops: %s\n", op, n,
					strerror(errno));
				return 1;
			}
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("{\"op\":\"%s\",\"ops\":%llu,\"seconds\":%.3f,\"ops_per_s\":%.1f}\n", op, n,
	       t1 - t0, n / (t1 - t0));
	return 0;
}
