// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CMA areas without BPF (the interface is in memmap.h): debugfs
 * (/sys/kernel/debug/cma, single- and multi-range layouts), the boot log's
 * "cma: Reserved" lines, and lookups by PFN. src/place.c tries these and
 * the kernel's own cma_areas table (read with BPF) in turn.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "memmap.h"

#define CMA_MAX_RANGES 64	/* the kernel allows 8 (CMA_MAX_RANGES); leave room */

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* A debugfs attribute ("%llu\n") at PATH under DFD. */
static int read_u64_at(int dfd, const char *path, uint64_t *v)
{
	char buf[64];
	ssize_t r;
	int fd;

	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, sizeof(buf) - 1);
	r = r < 0 ? -errno : r;
	close(fd);
	if (r < 0)
		return (int)r;
	buf[r] = 0;
	return mm_parse_u64(buf, v);
}

/* Words of a debugfs u32 array ("%u %u ... %u\n"; empty when it has none). */
static int64_t count_words_at(int dfd, const char *path)
{
	char buf[16384];
	int64_t words = 0, err = 0;
	bool in_word = false;
	ssize_t r = 0, i;
	int fd;

	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (!err && (r = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < r && !err; i++) {
			if (isdigit((unsigned char)buf[i])) {
				words += !in_word;
				in_word = true;
			} else if (buf[i] == ' ' || buf[i] == '\n') {
				in_word = false;
			} else {
				err = -EINVAL;
			}
		}
	}
	if (!err && r < 0)
		err = -errno;
	close(fd);
	return err ? err : words;
}

/*
 * Range sizes of a multi-range area (6.15+), which the kernel does not
 * publish. What mm/cma.c guarantees: ranges are numbered by ascending base
 * and do not overlap, so a range ends at or before the next one starts;
 * each range's bitmap holds count >> order_per_bit bits rounded up to whole
 * u32 words, so W words mean a size in ((W-1)*32, W*32] bits (a range
 * size is a multiple of 2^order_per_bit pages, so at least one bit more
 * than (W-1)*32); and the sizes add up to the area's count. Each range gets
 * the largest size these allow: min(its own bound, count minus the least
 * the others can hold). The result is exact when those add up to count,
 * which is what hugetlb_cma's ranges (multiples of 1 GiB with
 * order_per_bit 9: whole words) always give.
 */
static int size_ranges(struct mm_cma *c, const int64_t *words, int nr,
		       uint64_t total, unsigned int opb)
{
	uint64_t lo[CMA_MAX_RANGES], hi[CMA_MAX_RANGES], sum_lo = 0, sum = 0;
	uint64_t bit = 1ULL << opb;
	int r;

	if (nr == 1) {		/* the old layout's case: count is the range's */
		c[0].count = total;
		c[0].exact = true;
		return 0;
	}
	for (r = 0; r < nr; r++) {
		lo[r] = words[r] > 0 ? ((uint64_t)words[r] - 1) * 32 * bit + bit : 0;
		hi[r] = words[r] >= 0 ? (uint64_t)words[r] * 32 * bit : UINT64_MAX;
		if (r + 1 < nr && c[r + 1].base_pfn > c[r].base_pfn &&
		    c[r + 1].base_pfn - c[r].base_pfn < hi[r])
			hi[r] = c[r + 1].base_pfn - c[r].base_pfn;
		if (lo[r] > hi[r])
			return -EINVAL;
		sum_lo += lo[r];
	}
	if (sum_lo > total)
		return -EINVAL;
	for (r = 0; r < nr; r++) {
		uint64_t room = total - (sum_lo - lo[r]);

		c[r].count = hi[r] < room ? hi[r] : room;
		sum += c[r].count;
	}
	for (r = 0; r < nr; r++)
		c[r].exact = sum == total;
	return 0;
}

/*
 * One area, either layout: ranges/<N>/base_pfn (6.15+) or base_pfn (one
 * range). Returns the entries added to OUT.
 */
static int load_area(int dfd, const char *dname, struct mm_cma *out, int max,
		     char *why, size_t wl)
{
	int64_t words[CMA_MAX_RANGES];
	uint64_t total, opb = 0, base;
	char name[sizeof(out->name)], path[64] = "count";
	struct stat st;
	int afd, nr, err;
	bool multi;

	/* unnamed areas are called "cma%d\n" by mm/cma.c: drop the newline */
	snprintf(name, sizeof(name), "%s", dname);
	name[strcspn(name, "\n")] = 0;
	for (nr = 0; name[nr]; nr++)
		name[nr] = iscntrl((unsigned char)name[nr]) ? '?' : name[nr];
	afd = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (afd < 0 && errno == ENOTDIR)	/* readdir said DT_UNKNOWN */
		return 0;
	if (afd < 0) {
		err = -errno;
		say(why, wl, "cma/%s: %s", name, strerror(-err));
		return err;
	}
	multi = !fstatat(afd, "ranges", &st, 0) && S_ISDIR(st.st_mode);
	err = read_u64_at(afd, path, &total);
	if (!err && multi && !(err = read_u64_at(afd, strcpy(path, "order_per_bit"), &opb)))
		err = opb > 30 ? -EINVAL : 0;
	for (nr = 0; !err && nr < (multi ? CMA_MAX_RANGES : 1); nr++) {
		snprintf(path, sizeof(path), multi ? "ranges/%d/base_pfn" : "base_pfn", nr);
		err = read_u64_at(afd, path, &base);
		if (err == -ENOENT && nr > 0) {
			err = 0;
			break;
		}
		if (!err && nr >= max)
			err = -ENOSPC;
		if (err)
			break;
		snprintf(path, sizeof(path), "ranges/%d/bitmap", nr);
		words[nr] = multi ? count_words_at(afd, path) : -1;	/* < 0: no bound */
		snprintf(out[nr].name, sizeof(out[nr].name), "%s", name);
		out[nr].base_pfn = base;
	}
	close(afd);
	if (!err && size_ranges(out, words, nr, total, (unsigned int)opb)) {
		say(why, wl, "cma/%s/ranges: sizes that cannot add up to count %llu",
		    name, (unsigned long long)total);
		return -EINVAL;
	}
	if (err && err != -ENOSPC)	/* cma_load() words that one */
		say(why, wl, "cma/%s/%s: %s", name, path,
		    err == -EINVAL ? "not a decimal number, or out of range" : strerror(-err));
	return err ? err : nr;
}

/* Why DIR is missing: is debugfs mounted at its parent at all? */
static void explain_missing(const char *dir, char *why, size_t wl)
{
	char parent[4096], *slash;
	struct dirent *e;
	bool empty = true;
	DIR *d;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else
		slash[slash == parent] = 0;	/* "/cma" has parent "/" */
	d = opendir(parent);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	if (d)
		closedir(d);
	/* an unmounted /sys/kernel/debug is an empty directory */
	if (!d || empty)
		say(why, wl, "%s is missing: debugfs is not mounted at %s (mount -t debugfs none %s)",
		    dir, parent, parent);
	else
		say(why, wl, "%s is missing: the kernel has no CMA or no CONFIG_CMA_DEBUGFS", dir);
}

static int cma_cmp(const void *a, const void *b)
{
	const struct mm_cma *x = a, *y = b;

	return x->base_pfn < y->base_pfn ? -1 : x->base_pfn > y->base_pfn;
}

int cma_load(const char *dir, struct mm_cma *out, int max, char *why, size_t whylen)
{
	struct dirent *e;
	int n = 0, r = 0;
	DIR *d;

	say(why, whylen, "%s", "");
	if (!dir || (!out && max > 0) || max < 0) {
		say(why, whylen, "cma_load: bad arguments");
		return -EINVAL;
	}
	d = opendir(dir);
	if (!d && errno == ENOENT) {
		explain_missing(dir, why, whylen);
		return 0;
	}
	if (!d) {
		r = -errno;
		say(why, whylen, "%s: %s%s", dir, strerror(-r),
		    r == -EACCES ? " (debugfs is readable by root only)" : "");
		return r;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		r = load_area(dirfd(d), e->d_name, out + n, max - n, why, whylen);
		if (r == -ENOSPC)
			say(why, whylen, "%s: more than %d CMA ranges", dir, max);
		if (r < 0)
			break;
		n += r;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (!n)
		say(why, whylen, "%s: no CMA areas", dir);
	if (n > 1)
		qsort(out, n, sizeof(*out), cma_cmp);
	return n;
}

int cma_find(const struct mm_cma *c, int n, uint64_t pfn)
{
	int i;

	for (i = 0; c && i < n; i++)
		if (pfn >= c[i].base_pfn && pfn - c[i].base_pfn < c[i].count)
			return i;
	return -1;
}

void cma_sort(struct mm_cma *c, int n)
{
	if (c && n > 1)
		qsort(c, n, sizeof(*c), cma_cmp);
}

/* Past a "<6>" level and a "[    0.000000] " time, either or both. */
static const char *log_text(const char *s)
{
	const char *e;

	if (*s == '<') {
		for (e = s + 1; isdigit((unsigned char)*e); e++)
			;
		if (e > s + 1 && *e == '>')
			s = e + 1;
	}
	if (*s == '[' && (e = strchr(s, ']'))) {
		for (s = e + 1; *s == ' '; s++)
			;
	}
	return s;
}

/* One log line, NUL-terminated: the physical base and MiB of a CMA area it announces. */
static bool cma_log_line(const char *s, uint64_t *phys, uint64_t *mib)
{
	unsigned long long a = 0, m = 0;
	bool cma;
	int n = 0;

	s = log_text(s);
	cma = !strncmp(s, "cma: ", 5);
	if (cma)
		s += 5;
	/* mm/cma.c; "Reserved N MiB at" alone is too common a phrase without its prefix */
	if (cma && sscanf(s, "Reserved %llu MiB at 0x%llx%n", &m, &a, &n) == 2 && n &&
	    (!s[n] || !strncmp(s + n, " on node ", 9)))
		goto found;
	n = 0;
	if (sscanf(s, "Reserved memory: created CMA memory pool at 0x%llx, size %llu MiB%n",
		   &a, &m, &n) == 2 && n && !s[n])
		goto found;
	return false;
found:
	if (!m || m > (1ULL << 32))	/* also a "-1" that %llu took */
		return false;
	*phys = a;
	*mib = m;
	return true;
}

/* Add the area at PHYS unless it is there already; -ENOSPC when OUT is full. */
static int cma_log_add(struct mm_cma *out, int n, int max, uint64_t phys, uint64_t mib,
		       unsigned int page_shift)
{
	uint64_t base = phys >> page_shift;

	for (int i = 0; i < n; i++)
		if (out[i].base_pfn == base)
			return n;
	if (n >= max)
		return -ENOSPC;
	memset(&out[n], 0, sizeof(out[n]));
	snprintf(out[n].name, sizeof(out[n].name), "cma@0x%llx", (unsigned long long)phys);
	out[n].base_pfn = base;
	out[n].count = mib << (20 - page_shift);
	out[n].exact = true;
	return n + 1;
}

int cma_from_log(const char *log, size_t len, unsigned int page_shift, struct mm_cma *out,
		 int max)
{
	const char *p = log, *end = log + len, *nl;
	int n = 0, r = 0;
	char line[512];

	if ((!log && len) || (!out && max > 0) || max < 0 || page_shift < 9 || page_shift > 20)
		return -EINVAL;
	for (; p < end && r >= 0; p = nl ? nl + 1 : end) {
		size_t l = (size_t)(((nl = memchr(p, '\n', (size_t)(end - p))) ? nl : end) - p);
		uint64_t phys, mib;

		if (l >= sizeof(line))
			continue;	/* no announcement is that long */
		memcpy(line, p, l);
		while (l && isspace((unsigned char)line[l - 1]))
			l--;
		line[l] = '\0';
		if (cma_log_line(line, &phys, &mib) &&
		    (r = cma_log_add(out, n, max, phys, mib, page_shift)) >= 0)
			n = r;
	}
	cma_sort(out, n);
	return r < 0 ? r : n;
}
