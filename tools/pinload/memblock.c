// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload: memory blocks (/sys/devices/system/memory/memoryB) for the
 * offline workload: is a block offlinable in principle, and a bounded write
 * to its state file.
 *
 * Writing "offline" to memoryB/state runs offline_pages() (mm/
 * memory_hotplug.c). On 6.1 and 6.12 it isolates the block, then loops
 * { if (signal_pending(current)) -> -EINTR ("signal backoff");
 * scan_movable_pages(); do_migrate_range() } until no movable page is left.
 * There is no timeout and no retry limit, and a page with an extra
 * reference never migrates: the write would hang for good. Any signal ends
 * it, not only a fatal one (kept so on purpose, see the comment at that
 * check upstream). So a writer child arms SIGALRM with a handler and
 * without SA_RESTART: its write fails with EINTR after the limit. Should a
 * kernel ignore that, the parent SIGKILLs the child after GRACE_MS and
 * reports "killed".
 */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <sys/wait.h>

#define GRACE_MS	2000	/* after the alarm, before SIGKILL */
#define KPF_NOPAGE	20	/* /proc/kpageflags bits (linux/kernel-page-flags.h) */
#define KPF_RESERVED	32

static void on_alarm(int sig) { (void)sig; }

/* The writer child: reports {write()'s return, errno}. */
static void writer(int out, const char *path, const char *val, long limit_ms)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { limit_ms / 1000, limit_ms % 1000 * 1000 } };
	long long msg[2];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);	/* after open: it times the write */
	errno = 0;
	msg[0] = fd < 0 ? -1 : write(fd, val, strlen(val));
	msg[1] = errno;
	_exit(write(out, msg, sizeof(msg)) == sizeof(msg) ? 0 : 1);
}

/*
 * Write val to a sysfs file from a child, bounded by limit_ms (see top).
 * The caller's buffers must be MADV_DONTFORK: the child must not map (and
 * so reference) pages that are to be migrated.
 */
struct wres state_write(const char *path, const char *val, long limit_ms)
{
	struct wres w = { -1, 0, "error", now_ms() };
	long long msg[2];
	struct pollfd pf;
	int rp[2], st;
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) || (pid = fork()) < 0) {
		w.err = errno;
		perror("pinload: writer");
		return w;
	}
	if (!pid)
		writer(rp[1], path, val, limit_ms);
	close(rp[1]);
	pf = (struct pollfd){ .fd = rp[0], .events = POLLIN };
	if (poll(&pf, 1, limit_ms + GRACE_MS) == 1 && read_full(rp[0], msg, sizeof(msg))) {
		w.ret = msg[0];
		w.err = (int)msg[1];
		w.end = w.ret >= 0 ? "done" : w.err == EINTR ? "eintr" : "error";
	} else {
		kill(pid, SIGKILL);
		w.end = "killed";
	}
	close(rp[0]);
	for (int i = 0; waitpid(pid, &st, WNOHANG) == 0; i++) {
		if (i == 500) {	/* 5 s: stuck in the kernel even for SIGKILL */
			w.end = "unkillable";
			break;
		}
		sleep_ms(10);
	}
	w.ms = now_ms() - w.ms;
	return w;
}

/* First line of a sysfs file (kept until exit), "?" if unreadable. */
const char *sysfs_str(const char *path)
{
	char v[128] = "", *dup;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, v, sizeof(v) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		fprintf(stderr, "pinload: cannot read %s: %s\n", path, strerror(errno));
		return "?";
	}
	v[strcspn(v, "\n")] = 0;
	dup = strdup(v);
	return dup ? dup : "?";
}

const char *block_file(char path[96], long blk, const char *name)
{
	snprintf(path, 96, MEMDIR "/memory%ld/%s", blk, name);
	return path;
}

/*
 * Pages of the block that offline_pages() refuses outright: PG_reserved
 * (boot allocations, the kernel image wherever KASLR put it; even inside
 * ZONE_MOVABLE, has_unmovable_pages() checks them) or no struct page
 * (holes). -1 if /proc/kpageflags cannot be read (not root).
 */
static long block_unmovable(long blk, long long bsize)
{
	size_t n = bsize / pg;
	uint64_t *f = malloc(n * sizeof(*f));
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	off_t off = (off_t)((uint64_t)blk * n * sizeof(*f));
	long bad = -1;

	if (f && fd >= 0 && pread(fd, f, n * sizeof(*f), off) == (ssize_t)(n * sizeof(*f)))
		for (size_t i = bad = 0; i < n; i++)
			bad += (f[i] >> KPF_RESERVED & 1) || (f[i] >> KPF_NOPAGE & 1);
	else
		perror("pinload: /proc/kpageflags");
	if (fd >= 0)
		close(fd);
	free(f);
	return bad;
}

/*
 * Is the block a candidate: online, in ZONE_MOVABLE by sysfs (valid_zones
 * of an online block names its zone, "none" if it spans several) and by the
 * zoneinfo spans of its first and last PFN, and free of reserved pages?
 * movablecore= starts ZONE_MOVABLE wherever the percentage ends, so one
 * block is usually mixed, and the last block may reach past the end of
 * RAM. Verdicts are cached: the loop in offline.c asks again and again.
 */
bool block_usable(long blk, long long bsize, struct blk_info *bi)
{
	static struct { long blk; struct blk_info bi; bool ok; } c[64];
	static int nc;
	uint64_t first = (uint64_t)blk * bsize / pg, last = first + bsize / pg - 1;
	const char *z1 = pfn_zone(first), *z2 = pfn_zone(last);
	char path[96];
	bool ok;

	for (int i = 0; i < nc; i++)
		if (c[i].blk == blk) {
			*bi = c[i].bi;
			return c[i].ok;
		}
	bi->vz = sysfs_str(block_file(path, blk, "valid_zones"));
	bi->st = sysfs_str(block_file(path, blk, "state"));
	/* e.g. "DMA32/Movable", or "Movable/unknown" past the end of RAM */
	snprintf(path, sizeof(path), strcmp(z1, z2) ? "%s/%s" : "%s", z1, z2);
	bi->zone = strdup(path) ? : "?";	/* zone names are reloaded later */
	bi->unmovable = -1;
	ok = !strcmp(bi->vz, "Movable") && !strcmp(bi->zone, "Movable") &&
	     !strcmp(bi->st, "online");
	if (ok)
		ok = (bi->unmovable = block_unmovable(blk, bsize)) == 0;
	if (nc < 64)
		c[nc++] = (typeof(c[0])){ blk, *bi, ok };
	return ok;
}
