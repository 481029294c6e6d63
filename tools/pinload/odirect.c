// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pinload workload odirect. */
#include "pinload.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>

/* ---- odirect: O_DIRECT pread/pwrite -> bio_iov_iter_get_pages ----------- */

/* Check an O_DIRECT write by reading back through the page cache (no GUP). */
static bool readback_ok(const char *path, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *p = map_pages(n, true);
	bool ok = fd >= 0 && p && pread(fd, p, n * pg, 0) == (ssize_t)(n * pg) &&
		  pat_ok(p, n, SEED_LOCAL);

	if (fd >= 0)
		close(fd);
	if (p)
		munmap(p, n * pg);
	return ok;
}

int do_odirect(const struct opts *o, struct res *r)
{
	size_t n = o->pages, len = n * pg;
	bool hold = o->hold_ms >= 0;
	struct uffd u;
	char *buf;
	int fd;

	r->mode = o->write ? "write" : "read";
	fd = open(o->dev, (o->write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return fail(r, "open");
	buf = map_pages(n, !hold);
	if (!buf)
		return fail(r, "mmap");
	/*
	 * --hold-ms: only page 0 is present, pages 1.. are missing under uffd.
	 * GUP takes page 0 in its fast path, faults on page 1 in the slow path
	 * and waits for the handler with page 0 still pinned (6.1: referenced).
	 */
	pat_fill(buf, 0, hold ? 1 : n, SEED_LOCAL);
	if (hold && uffd_start(&u, r, buf, buf + pg, n - 1, SEED_LOCAL, o->hold_ms))
		return -1;
	call_begin(r);
	call_end(r, o->write ? pwrite(fd, buf, len, 0) : pread(fd, buf, len, 0));
	if (hold)
		extra(r, "uffd_faults", uffd_stop(&u));
	close(fd);
	if (r->ret != (long long)len)
		return call_failed(r, o->write ? "pwrite" : "pread");
	if (!o->write)
		return 0;
	r->verified = readback_ok(o->dev, n);
	return r->verified ? 0 : call_failed(r, "verify");
}
