// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload: deterministic trigger for the page pin (FOLL_PIN) and page
 * reference (FOLL_GET) paths that pintrace traces. tools/pinload.md lists
 * the kernel path of each workload on 6.1 and 6.12.
 *
 * Each run prints exactly one JSON object on one line to stdout, even on
 * failure; diagnostics go to stderr. Exit 0: ok, 1: the call under test or
 * its setup failed, 2: usage error.
 *
 * pinload is one-shot: error paths leave buffers and fds to process exit,
 * and helper children see EOF on their pipe and exit when we do.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -static -o pinload tools/pinload.c -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define SEED_REMOTE	0x70696e6c6f616431ULL	/* data of the pvr target */
#define SEED_LOCAL	0x70696e6c6f616432ULL	/* data pinload itself produces */
#define UFFD_CHUNK	64	/* pages per UFFDIO_COPY: few faults on big buffers */
#define MAX_PAGES	262144	/* 1 GiB, io_uring's limit for one buffer */
#define MAX_PIPE_PAGES	65536	/* 6.1 allocates the pipe_buffer ring with kcalloc */
#define MAX_MS		600000
#define MAX_CHILDREN	64
#define MAX_EXTRA	8

enum { O_PAGES = 1, O_HOLD = 2, O_KEEP = 4, O_WRITE = 8, O_DRAIN = 16,
       O_CLOSE = 32, O_DEV = 64, O_MS = 128, O_CHILDREN = 256 };

struct opts {
	long pages, hold_ms, keep_ms, ms, children;	/* hold_ms -1: not given */
	const char *dev;
	bool write, drain;
	unsigned int seen;				/* O_* given */
};

struct pinstat { long long acq, rel; };	/* FOLL_PIN counters; -1: unknown */

/* What happened; filled by a workload, printed by emit(). */
struct res {
	const char *failed;	/* step that failed (a string literal), or NULL */
	const char *mode;
	int err;		/* errno of the failed step / the call under test */
	int verified;		/* 1 data matched, 0 mismatch, -1 nothing to check */
	long long ret;		/* return value of the call under test */
	double ms;		/* its duration */
	struct pinstat p0, p1;	/* vmstat before and after */
	int nextra;
	struct { const char *key; long long val; } extra[MAX_EXTRA];
	int nkids;		/* fork-pvr: results of the children */
	const struct res *kids;
};

/* fork-pvr children send their struct res through one pipe in one write. */
_Static_assert(sizeof(struct res) <= PIPE_BUF, "struct res must fit PIPE_BUF");

static size_t pg;	/* page size: every count here is in these pages */

/* ---- helpers ------------------------------------------------------------ */

static struct res res_new(void)
{
	return (struct res){ .verified = -1, .ret = -1,
			     .p0 = { -1, -1 }, .p1 = { -1, -1 } };
}

/* Record the failing step with the current errno; returns -1. */
static int fail(struct res *r, const char *step)
{
	r->failed = step;
	r->err = errno;
	return -1;
}

static void extra(struct res *r, const char *key, long long val)
{
	if (r->nextra < MAX_EXTRA) {
		r->extra[r->nextra].key = key;
		r->extra[r->nextra++].val = val;
	}
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

	while (ms > 0 && nanosleep(&t, &t) && errno == EINTR)
		;
}

static bool read_full(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p = (char *)p + r;
		n -= r;
	}
	return true;
}

/*
 * Private anonymous pages with THP off: every pin or ref lands on a small
 * folio, so counts per 4 KiB page are exact. Touched (present) unless the
 * caller wants them missing for userfaultfd.
 */
static char *map_pages(size_t n, bool touch)
{
	char *p = mmap(NULL, n * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* EINVAL: kernel without THP, nothing to turn off */
	if (p == MAP_FAILED || (madvise(p, n * pg, MADV_NOHUGEPAGE) && errno != EINVAL))
		return NULL;
	if (touch)
		memset(p, 0x5a, n * pg);
	return p;
}

/* Word w of the pattern depends on (seed, w): shifted copies do not match. */
static uint64_t pat_word(uint64_t seed, uint64_t w)
{
	uint64_t x = seed ^ (w * 0x9e3779b97f4a7c15ULL);

	return x ^ (x >> 29);
}

/* Fill n pages at p, which is page first_page of the pattern. */
static void pat_fill(char *p, size_t first_page, size_t n, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p, base = first_page * (pg / 8);

	for (size_t i = 0; i < n * (pg / 8); i++)
		w[i] = pat_word(seed, base + i);
}

static bool pat_ok(const char *p, size_t n, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < n * (pg / 8); i++)
		if (w[i] != pat_word(seed, i))
			return false;
	return true;
}

/*
 * FOLL_PIN counters, in refs units (one per small page). They are per-CPU
 * node stats that reach /proc/vmstat only past a threshold or once a
 * second, so fold them first through vm.stat_refresh (root only); without
 * that the deltas are unreliable and we report -1. The counters are global:
 * other processes add noise. FOLL_GET references never move them.
 */
static struct pinstat pinstat_now(void)
{
	struct pinstat s = { -1, -1 };
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	bool folded = fd >= 0 && write(fd, "1", 1) == 1;
	char line[128];
	FILE *f;

	if (fd >= 0)
		close(fd);
	f = folded ? fopen("/proc/vmstat", "re") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "nr_foll_pin_acquired %lld", &s.acq);
		sscanf(line, "nr_foll_pin_released %lld", &s.rel);
	}
	if (f)
		fclose(f);
	return s;
}

/* Bracket the call under test: vmstat snapshots, duration, its errno. */
static void call_begin(struct res *r)
{
	r->p0 = pinstat_now();
	r->ms = now_ms();
	errno = 0;
}

static void call_end(struct res *r, long long ret)
{
	r->err = errno;	/* arguments are evaluated first: errno of the call */
	r->ret = ret;
	r->ms = now_ms() - r->ms;
	r->p1 = pinstat_now();
}

/* The call under test (or the check of its data) failed: keep r->err. */
static int call_failed(struct res *r, const char *step)
{
	r->failed = step;
	return -1;
}

/* ---- JSON: one object on one line --------------------------------------- */

static const char *jsep = "";

static void j_key(const char *k)
{
	printf("%s\"%s\":", jsep, k);
	jsep = ",";
}

static void j_int(const char *k, long long v) { j_key(k); printf("%lld", v); }
static void j_bool(const char *k, bool v) { j_key(k); fputs(v ? "true" : "false", stdout); }

static void j_str(const char *k, const char *s)
{
	j_key(k);
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Fields of one result; also used for each fork-pvr child. */
static void j_result(const struct res *r)
{
	for (int i = 0; i < r->nextra; i++)
		j_int(r->extra[i].key, r->extra[i].val);
	j_int("ret", r->ret);
	j_int("errno", r->err);
	j_key("duration_ms");
	printf("%.3f", r->ms);
	if (r->verified >= 0)
		j_bool("verified", r->verified);
	if (r->failed)
		j_str("failed_at", r->failed);
}

static int emit(const char *workload, const struct opts *o, const struct res *r)
{
	bool ok = !r->failed;

	putchar('{');
	j_str("workload", workload);
	if (o->seen & O_PAGES) {
		j_int("pages", o->pages);
		j_int("bytes", (long long)o->pages * pg);
	}
	if (o->dev)
		j_str("dev", o->dev);
	if (o->seen & O_HOLD)
		j_int("hold_ms", o->hold_ms);
	if (o->seen & O_KEEP)
		j_int("keep_ms", o->keep_ms);
	if (o->seen & O_MS)
		j_int("ms", o->ms);
	if (o->seen & O_CHILDREN)
		j_int("children", o->children);
	if (r->mode)
		j_str("mode", r->mode);
	j_result(r);
	if (r->kids) {
		j_key("results");
		for (int i = 0; i < r->nkids; i++) {
			printf("%c{", i ? ',' : '[');
			jsep = "";
			j_result(&r->kids[i]);
			putchar('}');
		}
		printf("%s", r->nkids ? "]" : "[]");
		jsep = ",";
	}
	j_int("pin_acquired", r->p0.acq < 0 || r->p1.acq < 0 ? -1 : r->p1.acq - r->p0.acq);
	j_int("pin_released", r->p0.rel < 0 || r->p1.rel < 0 ? -1 : r->p1.rel - r->p0.rel);
	j_bool("ok", ok);
	puts("}");
	return fflush(stdout) || !ok ? 1 : 0;
}

/* ---- userfaultfd: make the kernel wait while it holds pins -------------- */

/*
 * A handler thread fills missing pages of a registered range with the
 * pattern (page index counted from origin). The first fault is answered
 * only after delay_ms, so whatever the faulting kernel path pinned before
 * it touched that page stays pinned at least that long.
 */
struct uffd {
	int fd;
	char *origin, *src;	/* pattern page 0; UFFDIO_COPY source */
	uintptr_t end;		/* end of the registered range */
	uint64_t seed;
	long delay_ms;
	unsigned long faults;
	pthread_t thr;
};

static void uffd_resolve(struct uffd *u, uintptr_t addr)
{
	size_t n = (u->end - addr) / pg < UFFD_CHUNK ? (u->end - addr) / pg : UFFD_CHUNK;
	struct uffdio_copy c = { .dst = addr, .src = (uintptr_t)u->src, .len = n * pg };
	struct uffdio_range one = { .start = addr, .len = pg };

	pat_fill(u->src, (addr - (uintptr_t)u->origin) / pg, n, u->seed);
	/* After a partial copy the kernel has already woken the faulting page. */
	if (ioctl(u->fd, UFFDIO_COPY, &c) == 0 || c.copy > 0)
		return;
	c.len = pg;
	if (ioctl(u->fd, UFFDIO_COPY, &c) && ioctl(u->fd, UFFDIO_WAKE, &one))
		perror("pinload: UFFDIO_WAKE");	/* EEXIST: mapped meanwhile */
}

static void *uffd_thread(void *arg)
{
	struct uffd *u = arg;
	struct uffd_msg m;

	for (;;) {	/* ends by pthread_cancel() in read() */
		ssize_t n = read(u->fd, &m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(m))
			return NULL;
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (u->faults++ == 0)
			sleep_ms(u->delay_ms);
		uffd_resolve(u, m.arg.pagefault.address & ~(uintptr_t)(pg - 1));
	}
}

static int uffd_start(struct uffd *u, struct res *r, char *origin, char *start,
		      size_t n, uint64_t seed, long delay_ms)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)start, .len = n * pg },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	*u = (struct uffd){ .origin = origin, .end = (uintptr_t)start + n * pg,
			    .seed = seed, .delay_ms = delay_ms };
	/*
	 * No UFFD_USER_MODE_ONLY: the faults we want are taken in the kernel.
	 * /dev/userfaultfd (6.1+) is the fallback where the syscall is refused
	 * or unknown (valgrind 3.19 does not know it).
	 */
	u->fd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (u->fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		u->fd = dev < 0 ? -1 : ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
		if (dev >= 0)
			close(dev);
	}
	if (u->fd < 0)
		return fail(r, "userfaultfd");
	if (ioctl(u->fd, UFFDIO_API, &api))
		return fail(r, "UFFDIO_API");
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg))
		return fail(r, "UFFDIO_REGISTER");
	u->src = map_pages(UFFD_CHUNK, false);
	if (!u->src)
		return fail(r, "mmap");
	errno = pthread_create(&u->thr, NULL, uffd_thread, u);
	return errno ? fail(r, "pthread_create") : 0;
}

/* Stop the handler; closing the fd unregisters, later faults are normal. */
static unsigned long uffd_stop(struct uffd *u)
{
	pthread_cancel(u->thr);
	pthread_join(u->thr, NULL);
	close(u->fd);
	munmap(u->src, UFFD_CHUNK * pg);
	return u->faults;
}

/* ---- pvr: process_vm_readv/writev -> pin_user_pages_remote -------------- */

/* Target: map and fill N pages, send their address, wait for EOF, check. */
static void pvr_target(int addr_wr, int done_rd, const struct opts *o)
{
	char *p = map_pages(o->pages, true), c;
	uintptr_t a = (uintptr_t)p;
	ssize_t n;

	if (p)
		pat_fill(p, 0, o->pages, SEED_REMOTE);
	if (write(addr_wr, &a, sizeof(a)) != sizeof(a) || !p)
		_exit(3);
	while ((n = read(done_rd, &c, 1)) > 0 || (n < 0 && errno == EINTR))
		;
	_exit(o->write && !pat_ok(p, o->pages, SEED_LOCAL) ? 4 : 0);
}

static int do_pvr(const struct opts *o, struct res *r)
{
	size_t len = o->pages * pg;
	bool hold = o->hold_ms >= 0;
	int ap[2], dp[2], st;
	uintptr_t raddr = 0;
	struct iovec lv, rv;
	struct uffd u;
	pid_t pid;
	char *buf;

	r->mode = o->write ? "write" : "read";
	extra(r, "pid", getpid());
	if (pipe(ap) || pipe(dp))
		return fail(r, "pipe");
	pid = fork();
	if (pid < 0)
		return fail(r, "fork");
	if (pid == 0) {
		close(ap[0]);
		close(dp[1]);
		pvr_target(ap[1], dp[0], o);
	}
	close(ap[1]);
	close(dp[0]);
	extra(r, "target_pid", pid);
	if (!read_full(ap[0], &raddr, sizeof(raddr)) || !raddr)
		return fail(r, "target_setup");
	/* --hold-ms: the local buffer stays missing, so the kernel's copy faults. */
	buf = map_pages(o->pages, !hold);
	if (!buf)
		return fail(r, "mmap");
	if (!hold && o->write)
		pat_fill(buf, 0, o->pages, SEED_LOCAL);
	if (hold && uffd_start(&u, r, buf, buf, o->pages, SEED_LOCAL, o->hold_ms))
		return -1;
	lv = (struct iovec){ buf, len };
	rv = (struct iovec){ (void *)raddr, len };
	call_begin(r);
	call_end(r, o->write ? process_vm_writev(pid, &lv, 1, &rv, 1, 0)
			     : process_vm_readv(pid, &lv, 1, &rv, 1, 0));
	if (hold)
		extra(r, "uffd_faults", uffd_stop(&u));
	if (r->ret != (long long)len)
		return call_failed(r, o->write ? "process_vm_writev" : "process_vm_readv");
	if (!o->write)
		r->verified = pat_ok(buf, o->pages, SEED_REMOTE);
	close(dp[1]);	/* releases the target, which checks what we wrote */
	if (waitpid(pid, &st, 0) != pid)
		return fail(r, "waitpid");
	if (o->write)
		r->verified = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return r->verified ? 0 : call_failed(r, "verify");
}

/* K concurrent children each run pvr (tests that descendants are traced). */
static int do_fork_pvr(const struct opts *o, struct res *r)
{
	static struct res kids[MAX_CHILDREN];
	int rp[2], started = 0, ok = 0;

	r->mode = o->write ? "write" : "read";
	if (pipe(rp))
		return fail(r, "pipe");
	fflush(stdout);
	call_begin(r);
	for (; started < o->children; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			fail(r, "fork");
			break;
		}
		if (pid == 0) {
			struct res k = res_new();

			close(rp[0]);
			do_pvr(o, &k);
			_exit(write(rp[1], &k, sizeof(k)) == sizeof(k) ? 0 : 1);
		}
	}
	close(rp[1]);
	while (r->nkids < started && read_full(rp[0], &kids[r->nkids], sizeof(kids[0])))
		ok += !kids[r->nkids++].failed;
	while (wait(NULL) > 0 || errno == EINTR)
		;
	errno = 0;
	call_end(r, ok);
	r->kids = kids;
	extra(r, "started", started);
	extra(r, "ok_children", ok);
	return r->failed || ok == o->children ? 0 : call_failed(r, "child");
}

/* ---- uring: IORING_REGISTER_BUFFERS -> FOLL_PIN | FOLL_LONGTERM ----------- */

static int do_uring(const struct opts *o, struct res *r)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct iovec iov = { map_pages(o->pages, true), o->pages * pg };
	struct io_uring_params p = { 0 };
	struct pinstat mid;
	int fd, uerr, ml = 0;
	long un;

	/* Registered buffers count against RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		ml = errno;
		perror("pinload: setrlimit(RLIMIT_MEMLOCK, unlimited)");
	}
	extra(r, "memlock_errno", ml);
	if (!iov.iov_base)
		return fail(r, "mmap");
	fd = syscall(__NR_io_uring_setup, 8, &p);
	if (fd < 0)	/* EPERM: sysctl kernel.io_uring_disabled */
		return fail(r, "io_uring_setup");
	call_begin(r);
	call_end(r, syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1));
	if (r->ret)
		return call_failed(r, "register");
	mid = r->p1;	/* pins outstanding while registered: */
	extra(r, "pins_held", mid.acq < 0 || r->p0.acq < 0 ? -1
	      : (mid.acq - mid.rel) - (r->p0.acq - r->p0.rel));
	sleep_ms(o->keep_ms);
	un = syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	uerr = un ? errno : 0;
	r->p1 = pinstat_now();
	close(fd);
	extra(r, "unregister_ret", un);
	extra(r, "unregister_errno", uerr);
	errno = uerr;
	return un ? fail(r, "unregister") : 0;
}

/* ---- vmsplice: pages referenced into a pipe (FOLL_GET, not pins) -------- */

static int do_vmsplice(const struct opts *o, struct res *r)
{
	size_t len = o->pages * pg;
	char *buf = map_pages(o->pages, true), *back;
	struct iovec iov = { buf, len };
	int pfd[2], size;
	ssize_t n;

	r->mode = o->drain ? "drain" : "close";
	if (!buf)
		return fail(r, "mmap");
	if (pipe(pfd))
		return fail(r, "pipe");
	/* One pipe_buffer slot per page. Above fs.pipe-max-size needs CAP_SYS_RESOURCE. */
	size = fcntl(pfd[1], F_SETPIPE_SZ, (int)len);
	extra(r, "pipe_size", size);
	if (size < 0)
		return fail(r, "F_SETPIPE_SZ");
	pat_fill(buf, 0, o->pages, SEED_LOCAL);
	/* NONBLOCK: a pipe that is too small must fail, not wait for a reader. */
	call_begin(r);
	while (iov.iov_len) {
		n = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
	}
	call_end(r, len - iov.iov_len);
	if (iov.iov_len)
		return call_failed(r, "vmsplice");
	sleep_ms(o->hold_ms);
	if (o->drain) {
		/* pipe_read() drops each page's reference as it empties a buffer. */
		back = map_pages(o->pages, true);
		if (!back || !read_full(pfd[0], back, len))
			return fail(r, "read");
		r->verified = pat_ok(back, o->pages, SEED_LOCAL);
	}
	/* --close: free_pipe_info() drops the references still in the pipe. */
	close(pfd[0]);
	close(pfd[1]);
	r->p1 = pinstat_now();
	return r->verified == 0 ? call_failed(r, "verify") : 0;
}

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

static int do_odirect(const struct opts *o, struct res *r)
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

static int do_sleep(const struct opts *o, struct res *r)
{
	call_begin(r);
	sleep_ms(o->ms);
	call_end(r, 0);
	return 0;
}

/* ---- command line ------------------------------------------------------- */

struct workload {
	const char *name;
	int (*run)(const struct opts *o, struct res *r);
	unsigned int required, allowed;
	long max_pages;
	const char *args, *help;
};

static const struct workload workloads[] = {
	{ "pvr", do_pvr, O_PAGES, O_PAGES | O_HOLD | O_WRITE, MAX_PAGES,
	  "--pages N [--hold-ms MS] [--write]",
	  "process_vm_readv (--write: writev) of N pages of a child: short-term\n"
	  "\tpins. --hold-ms: local buffer under userfaultfd, 1st fault waits MS" },
	{ "fork-pvr", do_fork_pvr, O_PAGES | O_CHILDREN,
	  O_PAGES | O_CHILDREN | O_HOLD | O_WRITE, MAX_PAGES,
	  "--pages N --children K [--hold-ms MS] [--write]",
	  "K concurrent children each run pvr" },
	{ "uring", do_uring, O_PAGES, O_PAGES | O_KEEP, MAX_PAGES,
	  "--pages N [--keep-ms MS]",
	  "io_uring buffer register, keep MS, unregister: long-term pins" },
	{ "vmsplice", do_vmsplice, O_PAGES, O_PAGES | O_DRAIN | O_CLOSE | O_HOLD,
	  MAX_PIPE_PAGES, "--pages N [--drain|--close] [--hold-ms MS]",
	  "vmsplice N pages into a pipe (FOLL_GET refs), wait MS, read or close" },
	{ "odirect", do_odirect, O_DEV | O_PAGES, O_DEV | O_PAGES | O_WRITE | O_HOLD,
	  MAX_PAGES, "--dev PATH --pages N [--write] [--hold-ms MS]",
	  "one O_DIRECT pread (--write: pwrite) of N pages at offset 0.\n"
	  "\t--hold-ms (N >= 2): GUP holds page 0 while page 1 faults for MS" },
	{ "sleep", do_sleep, O_MS, O_MS, 0, "--ms MS", "sleep MS milliseconds" },
};

#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static const struct option long_opts[] = {
	{ "pages", required_argument, NULL, O_PAGES },
	{ "hold-ms", required_argument, NULL, O_HOLD },
	{ "keep-ms", required_argument, NULL, O_KEEP },
	{ "write", no_argument, NULL, O_WRITE },
	{ "drain", no_argument, NULL, O_DRAIN },
	{ "close", no_argument, NULL, O_CLOSE },
	{ "dev", required_argument, NULL, O_DEV },
	{ "ms", required_argument, NULL, O_MS },
	{ "children", required_argument, NULL, O_CHILDREN },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int usage(FILE *f, int rc)
{
	fprintf(f, "Usage: pinload WORKLOAD [options]\n"
		"Prints one JSON object on stdout. Exit 0 ok, 1 failed, 2 usage.\n\n");
	for (size_t i = 0; i < NWORKLOADS; i++)
		fprintf(f, "  %s %s\n\t%s\n", workloads[i].name, workloads[i].args,
			workloads[i].help);
	fprintf(f, "\nBuffers: anonymous, MADV_NOHUGEPAGE, touched before use.\n"
		"Ranges: --pages 1..%d (vmsplice: ..%d), --children 1..%d,\n"
		"        --hold-ms, --keep-ms, --ms 0..%d\n",
		MAX_PAGES, MAX_PIPE_PAGES, MAX_CHILDREN, MAX_MS);
	return rc;
}

static const char *opt_name(int val)
{
	for (const struct option *p = long_opts; p->name; p++)
		if (p->val == val)
			return p->name;
	return "?";
}

static bool parse_long(int val, const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (!errno && end != s && !*end && *out >= lo && *out <= hi)
		return true;
	fprintf(stderr, "pinload: --%s: want an integer in %ld..%ld, got '%s'\n",
		opt_name(val), lo, hi, s);
	return false;
}

/* Returns -1 to go on and run *w, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o, const struct workload **w)
{
	const char *name = argc > 1 ? argv[1] : "";
	bool ok = true;
	int c;

	*o = (struct opts){ .hold_ms = -1 };
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		return usage(stdout, 0);
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (!strcmp(name, workloads[i].name))
			*w = &workloads[i];
	if (!*w) {
		fprintf(stderr, "pinload: %s workload '%s'\n", *name ? "unknown" : "no", name);
		return usage(stderr, 2);
	}
	opterr = 0;	/* getopt sees argv + 1, so its optind - 1 is our argv[optind] */
	while (ok && (c = getopt_long(argc - 1, argv + 1, ":h", long_opts, NULL)) != -1) {
		if (c == 'h')
			return usage(stdout, 0);
		if (c == '?' || c == ':') {
			fprintf(stderr, "pinload: %s '%s'\n", c == '?' ? "unknown option"
				: "missing value for", argv[optind]);
			return 2;
		}
		if (!((*w)->allowed & c)) {
			fprintf(stderr, "pinload: %s takes no --%s\n", name, opt_name(c));
			return 2;
		}
		o->seen |= c;
		if (c == O_PAGES)
			ok = parse_long(c, optarg, 1, (*w)->max_pages, &o->pages);
		else if (c == O_HOLD)
			ok = parse_long(c, optarg, 0, MAX_MS, &o->hold_ms);
		else if (c == O_KEEP)
			ok = parse_long(c, optarg, 0, MAX_MS, &o->keep_ms);
		else if (c == O_MS)
			ok = parse_long(c, optarg, 0, MAX_MS, &o->ms);
		else if (c == O_CHILDREN)
			ok = parse_long(c, optarg, 1, MAX_CHILDREN, &o->children);
		else if (c == O_DEV)
			o->dev = optarg;
		o->write |= c == O_WRITE;
		o->drain |= c == O_DRAIN;
	}
	if (!ok)
		return 2;
	if (optind < argc - 1) {
		fprintf(stderr, "pinload: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	if ((o->seen & (*w)->required) != (*w)->required) {
		fprintf(stderr, "pinload: usage: pinload %s %s\n", name, (*w)->args);
		return 2;
	}
	if ((o->seen & O_DRAIN) && (o->seen & O_CLOSE)) {
		fprintf(stderr, "pinload: --drain and --close exclude each other\n");
		return 2;
	}
	if ((*w)->run == do_odirect && o->hold_ms >= 0 && o->pages < 2) {
		fprintf(stderr, "pinload: odirect --hold-ms needs --pages >= 2\n");
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	struct res r = res_new();
	struct opts o;
	int rc;

	pg = sysconf(_SC_PAGESIZE);
	rc = parse_args(argc, argv, &o, &w);
	if (rc >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	w->run(&o, &r);
	return emit(w->name, &o, &r);
}
