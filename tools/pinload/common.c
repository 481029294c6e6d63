// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pinload: shared helpers, FOLL_PIN vmstat counters, JSON output. */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

size_t pg;	/* page size: every count here is in these pages */

/* ---- helpers ------------------------------------------------------------ */

struct res res_new(void)
{
	return (struct res){ .verified = -1, .ret = -1,
			     .p0 = { -1, -1 }, .p1 = { -1, -1 } };
}

/* Record the failing step with the current errno; returns -1. */
int fail(struct res *r, const char *step)
{
	r->failed = step;
	r->err = errno;
	return -1;
}

static void extra_add(struct res *r, const char *key, char kind, long long val,
		      const char *str)
{
	if (r->nextra < MAX_EXTRA) {
		r->extra[r->nextra].key = key;
		r->extra[r->nextra].kind = kind;
		r->extra[r->nextra].str = str;
		r->extra[r->nextra++].val = val;
	}
}

void extra(struct res *r, const char *key, long long val) { extra_add(r, key, 'i', val, NULL); }
void extra_bool(struct res *r, const char *key, bool val) { extra_add(r, key, 'b', val, NULL); }
void extra_str(struct res *r, const char *key, const char *val) { extra_add(r, key, 's', 0, val); }
void extra_json(struct res *r, const char *key, const char *json) { extra_add(r, key, 'j', 0, json); }

double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

	while (ms > 0 && nanosleep(&t, &t) && errno == EINTR)
		;
}

bool read_full(int fd, void *p, size_t n)
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
char *map_pages(size_t n, bool touch)
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
void pat_fill(char *p, size_t first_page, size_t n, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p, base = first_page * (pg / 8);

	for (size_t i = 0; i < n * (pg / 8); i++)
		w[i] = pat_word(seed, base + i);
}

/* n pages at p hold pattern pages first_page.. */
bool pat_ok_at(const char *p, size_t first_page, size_t n, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t base = first_page * (pg / 8);

	for (size_t i = 0; i < n * (pg / 8); i++)
		if (w[i] != pat_word(seed, base + i))
			return false;
	return true;
}

/* Every word at p is that of pattern seed1 or seed2 (a mix of the two). */
bool pat_ok_either(const char *p, size_t first_page, size_t n, uint64_t seed1,
		   uint64_t seed2)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t base = first_page * (pg / 8);

	for (size_t i = 0; i < n * (pg / 8); i++)
		if (w[i] != pat_word(seed1, base + i) && w[i] != pat_word(seed2, base + i))
			return false;
	return true;
}

bool pat_ok(const char *p, size_t n, uint64_t seed)
{
	return pat_ok_at(p, 0, n, seed);
}

/*
 * FOLL_PIN counters, in refs units (one per small page). They are per-CPU
 * node stats that reach /proc/vmstat only past a threshold or once a
 * second, so fold them first through vm.stat_refresh (root only); without
 * that the deltas are unreliable and we report -1. The counters are global:
 * other processes add noise. FOLL_GET references never move them.
 */
struct pinstat pinstat_now(void)
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
void call_begin(struct res *r)
{
	r->p0 = pinstat_now();
	r->ms = now_ms();
	errno = 0;
}

void call_end(struct res *r, long long ret)
{
	r->err = errno;	/* arguments are evaluated first: errno of the call */
	r->ret = ret;
	r->ms = now_ms() - r->ms;
	r->p1 = pinstat_now();
}

/* The call under test (or the check of its data) failed: keep r->err. */
int call_failed(struct res *r, const char *step)
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
	for (int i = 0; i < r->nextra; i++) {
		if (r->extra[i].kind == 's')
			j_str(r->extra[i].key, r->extra[i].str ? r->extra[i].str : "");
		else if (r->extra[i].kind == 'j') {
			j_key(r->extra[i].key);
			fputs(r->extra[i].str ? r->extra[i].str : "null", stdout);
		}
		else if (r->extra[i].kind == 'b')
			j_bool(r->extra[i].key, r->extra[i].val);
		else
			j_int(r->extra[i].key, r->extra[i].val);
	}
	j_int("ret", r->ret);
	j_int("errno", r->err);
	j_key("duration_ms");
	printf("%.3f", r->ms);
	if (r->verified >= 0)
		j_bool("verified", r->verified);
	if (r->failed)
		j_str("failed_at", r->failed);
}

int emit(const char *workload, const struct opts *o, const struct res *r)
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
	if (o->seen & O_NETNS)
		j_bool("netns", true);
	if (o->seen & O_REWRITE)
		j_bool("rewrite", true);
	if (o->seen & O_RCVBUF)
		j_int("rcvbuf_arg", o->rcvbuf);
	if (o->seen & O_PIPE)
		j_bool("pipe", true);
	if (o->seen & O_OFFLINE_MS)
		j_int("offline_ms", o->offline_ms);
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
