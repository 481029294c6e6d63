// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload workloads on a CMA area (boot with cma=64M hugetlb_cma=1G, 3 GiB
 * of RAM; root: pagemap PFNs, nr_hugepages). The area to target comes from
 * the command line (--pfns BASE:COUNT), which the caller reads from the
 * kernel's own boot log ("cma: Reserved 1024 MiB at 0x..."), never from
 * the tracer under test.
 *
 *   cma-uring    anon pages that landed in the area, registered as io_uring
 *                fixed buffers: the kernel migrates them out first
 *                (MR_LONGTERM_PIN, pgmigrate_success +N).
 *   cma-hugepin  a 32 MiB hugetlb page allocated from the area, registered
 *                with io_uring: it cannot be migrated, -ENOMEM.
 *   cma-hold     one page per 32 MiB window of the area held by a pipe of a
 *                child process (vmsplice, never read); 32 MiB gigantic pages
 *                requested: cma_alloc() fails on every held window (busy
 *                retries, cma_alloc_fail). Drained: all succeed from CMA.
 *
 * Anon memory lands in CMA only under pressure: __rmqueue() takes
 * MIGRATE_CMA pages for movable allocations once free CMA pages exceed
 * half of the free pages, so the fills below run until enough pages are
 * inside the area (cma-uring) or MemAvailable is low (cma-hold).
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
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#define MAP_HUGE_32MB	(25 << MAP_HUGE_SHIFT)
#define HUGE_32M_DIR	"/sys/kernel/mm/hugepages/hugepages-32768kB"
#define NR_HUGE		HUGE_32M_DIR "/nr_hugepages"
#define WIN_PAGES	8192L	/* 32 MiB in 4 KiB pages: one gigantic page */
#define CHUNK_MB	64	/* fill step */
#define FINE_MB		4	/* fill step near the MemAvailable target */
#define MAX_WIN		64	/* a 1 GiB area has 32 or 33 windows */
#define HUGE_LIMIT_MS	60000	/* one nr_hugepages write (study: <= 1 s) */
#define CHILD_MS	10000	/* the holder child's answers */

/* ---- shared ------------------------------------------------------------- */

static bool in_area(const struct opts *o, uint64_t pfn)
{
	return pfn != PFN_ABSENT && pfn && pfn >= o->cma_base &&
	       pfn - o->cma_base < o->cma_count;
}

/* A /proc/vmstat or /proc/meminfo counter, -1 if absent. */
static long long counter(const char *file, const char *name)
{
	FILE *f = fopen(file, "re");
	char line[160];
	size_t n = strlen(name);
	long long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && (line[n] == ' ' || line[n] == ':')) {
			v = atoll(line + n + 1 + strspn(line + n + 1, " :"));
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static long long vmstat(const char *name) { return counter("/proc/vmstat", name); }

static long long delta(long long a, long long b) { return a < 0 || b < 0 ? -1 : b - a; }

static long long nr_huge(void) { return atoll(sysfs_str(NR_HUGE)); }

/* A JSON string kept until exit (emit() prints it). */
static char *jbuf(size_t n)
{
	char *s = malloc(n);

	if (s)
		*s = 0;
	return s;
}

static int area_check(struct res *r, const struct opts *o)
{
	extra(r, "cma_base_pfn", (long long)o->cma_base);
	extra(r, "cma_count", (long long)o->cma_count);
	if (geteuid()) {
		fprintf(stderr, "pinload: needs root (pagemap PFNs, nr_hugepages)\n");
		errno = EPERM;
		return fail(r, "not-root");
	}
	return 0;
}

/*
 * Anonymous memory of len bytes, MAP_NORESERVE (the fills go near the end
 * of RAM), THP off: 4 KiB pages, each placed on its own.
 */
static char *map_fill(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED || (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL))
		return NULL;
	return p;
}

/* munmap [base, base+len) except the pages at keep[0..n) (sorted). */
static void unmap_except(char *base, size_t len, char **keep, size_t n)
{
	char *at = base;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] > at)
			munmap(at, keep[i] - at);
		at = keep[i] + pg;
	}
	if (at < base + len)
		munmap(at, base + len - at);
}

/* ---- cma-uring: long-term pins migrate pages out of CMA ----------------- */

static int count_in(const struct opts *o, char **page, size_t n, uint64_t *pfn)
{
	int in = 0;

	for (size_t i = 0; i < n; i++) {
		if (buf_pfns(page[i], 1, &pfn[i]))
			return -1;
		in += in_area(o, pfn[i]);
	}
	return in;
}

int do_cma_uring(const struct opts *o, struct res *r)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	size_t n = o->seen & O_PAGES ? o->pages : 256, chunk = CHUNK_MB << 20, seen = 0;
	size_t len = (size_t)(o->seen & O_FILL_MB ? o->fill_mb : 1500) << 20, done = 0, k = 0;
	char **page = malloc(n * sizeof(*page)), *area;
	uint64_t *pfn = malloc((chunk / pg) * sizeof(*pfn)), *p0 = malloc(n * sizeof(*p0));
	struct iovec *iov = malloc(n * sizeof(*iov));
	struct io_uring_params up = { 0 };
	long long ms0, mf0, in_after, moved = 0, un;
	int fd, good = 0;

	r->mode = "cma-anon";
	if (area_check(r, o))
		return -1;
	if (!page || !pfn || !p0 || !iov)
		return fail(r, "malloc");
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		perror("pinload: setrlimit(RLIMIT_MEMLOCK, unlimited)");
	area = map_fill(len);
	if (!area)
		return fail(r, "mmap");
	/* Touch chunk by chunk until n pages sit in the area (in address order). */
	while (k < n && done < len) {
		size_t c = len - done < chunk ? len - done : chunk;

		memset(area + done, 0x5a, c);
		if (buf_pfns(area + done, c / pg, pfn))
			return fail(r, "pagemap");
		for (size_t i = 0; i < c / pg; i++) {
			if (!in_area(o, pfn[i]))
				continue;
			seen++;
			if (k < n)
				page[k++] = area + done + i * pg;
		}
		done += c;
	}
	extra(r, "filled_mb", (long long)(done >> 20));
	extra(r, "in_range_seen", (long long)seen);
	extra(r, "in_range_before", (long long)k);
	if (k < n) {
		fprintf(stderr, "pinload: only %zu of %zu pages landed in pfns 0x%llx+%llu after"
			" %zu MiB (boot with hugetlb_cma=1G in 3 GiB? --fill-mb)\n", k, n,
			(unsigned long long)o->cma_base, (unsigned long long)o->cma_count,
			done >> 20);
		errno = 0;
		return fail(r, "not-enough-in-range");
	}
	/* The rest goes back; the chosen pages stay where they are. */
	unmap_except(area, len, page, n);
	for (size_t i = 0; i < n; i++) {
		pat_fill(page[i], i, 1, SEED_LOCAL);
		iov[i] = (struct iovec){ page[i], pg };
	}
	if (count_in(o, page, n, p0) != (int)n) {
		errno = 0;
		return fail(r, "moved-before-register");
	}
	extra(r, "pfn_first_before", (long long)p0[0]);
	fd = syscall(__NR_io_uring_setup, 8, &up);
	if (fd < 0)
		return fail(r, "io_uring_setup");
	ms0 = vmstat("pgmigrate_success");
	mf0 = vmstat("pgmigrate_fail");
	call_begin(r);
	call_end(r, syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, iov, n));
	extra(r, "pgmigrate_success", delta(ms0, vmstat("pgmigrate_success")));
	extra(r, "pgmigrate_fail", delta(mf0, vmstat("pgmigrate_fail")));
	in_after = count_in(o, page, n, pfn);
	for (size_t i = 0; in_after >= 0 && i < n; i++) {
		moved += pfn[i] != p0[i];
		good += pat_ok_at(page[i], i, 1, SEED_LOCAL);
	}
	extra(r, "in_range_after", in_after);
	extra(r, "moved", moved);
	extra(r, "pfn_first_after", in_after >= 0 ? (long long)pfn[0] : -1);
	r->verified = good == (int)n;
	if (r->ret)
		return call_failed(r, "register");
	extra(r, "pins_held", r->p0.acq < 0 || r->p1.acq < 0 ? -1
	      : (r->p1.acq - r->p1.rel) - (r->p0.acq - r->p0.rel));
	un = syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	extra(r, "unregister_ret", un);
	r->p1 = pinstat_now();
	close(fd);
	if (un)
		return fail(r, "unregister");
	if (!r->verified)
		return call_failed(r, "verify");
	return in_after ? call_failed(r, "still-in-range") : 0;
}

/* ---- cma-hugepin: a gigantic page in CMA cannot be pinned long term ----- */

int do_cma_hugepin(const struct opts *o, struct res *r)
{
	size_t len = 32 << 20;
	long long was, ms0, mf0, un;
	struct io_uring_params up = { 0 };
	struct iovec iov;
	struct wres w;
	uint64_t pfn = PFN_ABSENT, pfn2 = PFN_ABSENT;
	char *buf;
	int fd, rc = 0;

	r->mode = "cma-hugetlb";
	if (area_check(r, o))
		return -1;
	if (access(NR_HUGE, W_OK)) {
		fprintf(stderr, "pinload: %s: %s (no 32 MiB hugetlb pages)\n", NR_HUGE,
			strerror(errno));
		return fail(r, "no-32m-hugepages");
	}
	extra(r, "nr_hugepages_was", was = nr_huge());
	w = state_write(NR_HUGE, "1", HUGE_LIMIT_MS);
	extra_str(r, "pool_write_end", w.end);
	extra(r, "nr_hugepages", nr_huge());
	if (w.ret < 0 || nr_huge() < 1) {
		errno = w.err;
		rc = fail(r, "nr_hugepages");
		goto restore;
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_32MB, -1, 0);
	if (buf == MAP_FAILED) {
		rc = fail(r, "mmap-hugetlb");
		goto restore;
	}
	pat_fill(buf, 0, len / pg, SEED_LOCAL);	/* faults the 32 MiB page */
	if (buf_pfns(buf, 1, &pfn)) {
		rc = fail(r, "pagemap");
		goto unmap;
	}
	extra(r, "pfn", pfn == PFN_ABSENT ? -1 : (long long)pfn);
	extra_bool(r, "in_range", in_area(o, pfn));
	if (!in_area(o, pfn)) {
		fprintf(stderr, "pinload: the 32 MiB page (pfn 0x%llx) is not in pfns 0x%llx+%llu\n",
			(unsigned long long)pfn, (unsigned long long)o->cma_base,
			(unsigned long long)o->cma_count);
		errno = 0;
		rc = fail(r, "not-in-range");
		goto unmap;
	}
	fd = syscall(__NR_io_uring_setup, 8, &up);
	if (fd < 0) {
		rc = fail(r, "io_uring_setup");
		goto unmap;
	}
	iov = (struct iovec){ buf, len };
	ms0 = vmstat("pgmigrate_success");
	mf0 = vmstat("pgmigrate_fail");
	call_begin(r);
	call_end(r, syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1));
	extra(r, "pgmigrate_success", delta(ms0, vmstat("pgmigrate_success")));
	extra(r, "pgmigrate_fail", delta(mf0, vmstat("pgmigrate_fail")));
	buf_pfns(buf, 1, &pfn2);
	extra(r, "pfn_after", pfn2 == PFN_ABSENT ? -1 : (long long)pfn2);
	r->verified = pat_ok(buf, len / pg, SEED_LOCAL);
	if (!r->ret) {
		fprintf(stderr, "pinload: a CMA hugetlb page was pinned long term;"
			" expected ENOMEM\n");
		un = syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
		extra(r, "unregister_ret", un);
		r->p1 = pinstat_now();
		rc = call_failed(r, "register-succeeded");
	} else if (r->err != ENOMEM) {
		rc = call_failed(r, "register");
	}
	close(fd);
unmap:
	munmap(buf, len);
restore:
	{
		char v[24];

		snprintf(v, sizeof(v), "%lld", was > 0 ? was : 0);
		w = state_write(NR_HUGE, v, HUGE_LIMIT_MS);
		extra_str(r, "restore_end", w.end);
		extra(r, "nr_hugepages_final", nr_huge());
	}
	return rc;
}

/* ---- cma-hold: held pages make gigantic page allocations fail ---------- */

struct win {
	uint64_t start;		/* first PFN of the 32 MiB window */
	bool full;		/* inside the area */
	char *page;		/* the held page, NULL if none landed here */
	uint64_t pfn;
};

/*
 * The holder child: vmsplice each page into its own pipe, which nothing
 * reads; "r" when done (or "e" + errno). On "d": read every pipe empty,
 * close them, answer "c" and exit. EOF from the parent: exit (the pipes
 * close with us).
 */
static void holder(int in, int out, struct win *w, int nw)
{
	int fds[MAX_WIN][2], err = 0;
	char c = 'r', *back = malloc(pg);

	for (int i = 0; i < nw; i++) {
		struct iovec iov = { w[i].page, pg };

		fds[i][0] = fds[i][1] = -1;
		if (!w[i].page)
			continue;
		if (pipe2(fds[i], O_CLOEXEC) ||
		    vmsplice(fds[i][1], &iov, 1, SPLICE_F_NONBLOCK) != (ssize_t)pg) {
			err = errno ? errno : EIO;
			c = 'e';
			break;
		}
	}
	if (write(out, &c, 1) != 1 || (c == 'e' && write(out, &err, sizeof(err)) < 0))
		_exit(1);
	if (read(in, &c, 1) != 1 || c != 'd')
		_exit(0);
	for (int i = 0; i < nw; i++) {
		if (fds[i][0] < 0)
			continue;
		if (back && !read_full(fds[i][0], back, pg))
			c = 'e';
		close(fds[i][0]);
		close(fds[i][1]);
	}
	c = c == 'e' ? 'e' : 'c';
	_exit(write(out, &c, 1) == 1 ? 0 : 1);
}

/* One byte from the child within CHILD_MS; 0 on timeout or EOF. */
static char child_says(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char c = 0;

	if (poll(&pf, 1, CHILD_MS) != 1 || read(fd, &c, 1) != 1)
		return 0;
	return c;
}

/*
 * Request n gigantic pages, record what the kernel says, give them back.
 * Returns the pages got; *fails: the cma_alloc_fail delta.
 */
static long long request(struct res *r, const char *ph, long n, bool under_test,
			 long long *fails)
{
	long long s0 = vmstat("cma_alloc_success"), f0 = vmstat("cma_alloc_fail"), got;
	char v[24], *key = malloc(6 * 48);
	struct wres w;

	snprintf(v, sizeof(v), "%ld", n);
	if (under_test)
		call_begin(r);
	w = state_write(NR_HUGE, v, HUGE_LIMIT_MS);
	if (under_test) {
		errno = w.err;
		call_end(r, w.ret);
	}
	got = nr_huge();
	*fails = delta(f0, vmstat("cma_alloc_fail"));
	if (!key)
		return got;
	sprintf(key, "%s_requested", ph);
	extra(r, key, n);
	sprintf(key + 48, "%s_got", ph);
	extra(r, key + 48, got);
	sprintf(key + 96, "%s_cma_alloc_success", ph);
	extra(r, key + 96, delta(s0, vmstat("cma_alloc_success")));
	sprintf(key + 144, "%s_cma_alloc_fail", ph);
	extra(r, key + 144, *fails);
	sprintf(key + 192, "%s_ms", ph);
	extra(r, key + 192, (long long)(w.ms + 0.5));
	sprintf(key + 240, "%s_end", ph);
	extra_str(r, key + 240, w.end);
	w = state_write(NR_HUGE, "0", HUGE_LIMIT_MS);
	if (w.ret < 0)
		fprintf(stderr, "pinload: nr_hugepages back to 0: %s\n", w.end);
	return got;
}

static long long mem_available_kb(void) { return counter("/proc/meminfo", "MemAvailable"); }

int do_cma_hold(const struct opts *o, struct res *r)
{
	long long target = (o->seen & O_AVAIL_MB ? o->avail_mb : 140) * 1024LL, avail;
	long long got2, fail1, fail2;
	uint64_t first = o->cma_base / WIN_PAGES * WIN_PAGES, *pfn;
	long nw = (long)((o->cma_base + o->cma_count + WIN_PAGES - 1) / WIN_PAGES -
			 o->cma_base / WIN_PAGES), full = 0, held = 0, held_full = 0;
	long long mtotal = counter("/proc/meminfo", "MemTotal");
	size_t len = mtotal > 0 ? (size_t)mtotal << 10 : 0, done = 0, step, np;
	int to[2], from[2], pid, st, err = 0;
	char *area, **keep, *js, c;
	struct win w[MAX_WIN];

	r->mode = "pipe-held";
	if (area_check(r, o))
		return -1;
	if (nw < 1 || nw > MAX_WIN) {
		fprintf(stderr, "pinload: %ld windows of 32 MiB; at most %d\n", nw, MAX_WIN);
		errno = EINVAL;
		return fail(r, "windows");
	}
	if (access(NR_HUGE, W_OK))
		return fail(r, "no-32m-hugepages");
	if (nr_huge()) {
		fprintf(stderr, "pinload: %s is not 0\n", NR_HUGE);
		errno = EBUSY;
		return fail(r, "pool-not-empty");
	}
	for (long i = 0; i < nw; i++) {
		w[i] = (struct win){ .start = first + i * WIN_PAGES, .pfn = PFN_ABSENT };
		w[i].full = w[i].start >= o->cma_base &&
			    w[i].start + WIN_PAGES <= o->cma_base + o->cma_count;
		full += w[i].full;
	}
	extra(r, "windows", nw);
	extra(r, "windows_full", full);
	area = len ? map_fill(len) : NULL;
	if (!area)
		return fail(r, "mmap");
	/* Fill until MemAvailable is down to the target; never past it. */
	while (done < len && (avail = mem_available_kb()) > target) {
		step = avail - target > (CHUNK_MB + 32) * 1024LL ? (size_t)CHUNK_MB << 20
		       : (size_t)FINE_MB << 20;
		if (avail - target < FINE_MB * 1024LL)
			break;
		step = step < len - done ? step : len - done;
		memset(area + done, 0x5a, step);
		done += step;
	}
	extra(r, "filled_mb", (long long)(done >> 20));
	extra(r, "mem_available_kb", mem_available_kb());
	np = done / pg;
	pfn = malloc(np * sizeof(*pfn));
	keep = malloc(nw * sizeof(*keep));
	js = jbuf(nw * 48 + 8);
	if (!pfn || !keep || !js)
		return fail(r, "malloc");
	if (buf_pfns(area, np, pfn))
		return fail(r, "pagemap");
	/* The first page that landed in each window (address order). */
	for (size_t i = 0; i < np; i++) {
		long b;

		if (!in_area(o, pfn[i]))
			continue;
		b = (long)((pfn[i] - first) / WIN_PAGES);
		if (!w[b].page) {
			w[b].page = area + i * pg;
			w[b].pfn = pfn[i];
			keep[held++] = w[b].page;
			held_full += w[b].full;
		}
	}
	free(pfn);
	/* keep[] must be sorted by address for unmap_except() */
	for (long i = 1; i < held; i++)
		for (long j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			char *t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unmap_except(area, len, keep, held);
	extra(r, "windows_held", held);
	extra(r, "windows_full_held", held_full);
	for (long i = 0, n = 0; i < nw; i++)
		if (w[i].page)
			n += sprintf(js + n, "%s%llu", n ? "," : "[", (unsigned long long)w[i].pfn);
	strcat(js, *js ? "]" : "[]");
	extra_json(r, "held_pfns", js);
	if (!held_full) {
		fprintf(stderr, "pinload: no page landed in a full window of pfns 0x%llx+%llu"
			" (%zu MiB filled)\n", (unsigned long long)o->cma_base,
			(unsigned long long)o->cma_count, done >> 20);
		errno = 0;
		return fail(r, "nothing-in-range");
	}

	/* The holder: another process than the one that asks for the pages. */
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC) || (pid = fork()) < 0)
		return fail(r, "fork");
	if (!pid) {
		close(to[1]);
		close(from[0]);
		holder(to[0], from[1], w, nw);
	}
	close(to[0]);
	close(from[1]);
	extra(r, "holder_pid", pid);
	c = child_says(from[0]);
	if (c == 'e' && read_full(from[0], &err, sizeof(err)))
		errno = err;
	if (c != 'r') {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (c != 'e')
			errno = ETIMEDOUT;
		return fail(r, "holder-vmsplice");
	}
	/* Our own mappings of the held pages must not follow state_write()'s forks. */
	for (long i = 0; i < held; i++)
		madvise(keep[i], pg, MADV_DONTFORK);

	request(r, "held", full, true, &fail1);

	c = write(to[1], "d", 1) == 1 ? child_says(from[0]) : 0;
	extra_str(r, "drain", c == 'c' ? "done" : c == 'e' ? "error" : "timeout");
	if (c != 'c')
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);	/* after 'c' it exits; after SIGKILL it is gone */
	close(to[1]);
	close(from[0]);

	got2 = request(r, "drained", full, false, &fail2);
	extra(r, "nr_hugepages_final", nr_huge());

	if (c != 'c') {
		errno = ETIMEDOUT;
		return fail(r, "drain");
	}
	/* Exit 0 only for: held pages make cma_alloc() fail, drained ones do not. */
	if (fail1 <= 0)
		return call_failed(r, "held-no-cma-failure");
	if (fail2 != 0 || got2 != full)
		return call_failed(r, "drained-request");
	return 0;
}
