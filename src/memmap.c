// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where a physical page lives; the interface and the kernel formats it
 * relies on are described in memmap.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "memmap.h"

#define CMA_MAX_RANGES 64	/* the kernel allows 8 (CMA_MAX_RANGES); leave room */

/* Decimal u64 with optional surrounding whitespace and nothing else. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	s += strspn(s, " \t\n");
	if (!isdigit((unsigned char)*s))	/* strtoull would take "-1" */
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end[strspn(end, " \t\n")] ? -EINVAL : 0;
}

/* "Node 0, zone   Normal": fills node and name, or fails on anything else. */
static int parse_zone_header(const char *line, struct mm_zone *z)
{
	char name[sizeof(z->name)];
	int node, end = 0;

	/* the last test rejects a name too long for the buffer, or junk after it */
	if (sscanf(line, "Node %d, zone %15s%n", &node, name, &end) != 2 || node < 0 ||
	    line[end + strspn(line + end, " \t\n")])
		return -EINVAL;
	*z = (struct mm_zone){ .node = node, .start_pfn = MM_PFN_UNKNOWN };
	snprintf(z->name, sizeof(z->name), "%s", name);
	return 0;
}

/* One "key value" line of the current zone; unknown keys are skipped. */
static void parse_zone_field(const char *line, struct mm_zone *z)
{
	char key[32], val[32];
	uint64_t v;

	if (sscanf(line, " %31s %31s", key, val) != 2 || parse_u64(val, &v))
		return;
	if (!strcmp(key, "spanned"))
		z->spanned = v;
	else if (!strcmp(key, "present"))
		z->present = v;
	else if (!strcmp(key, "managed"))
		z->managed = v;
	else if (!strcmp(key, "start_pfn:"))
		z->start_pfn = v;
}

int zoneinfo_parse(FILE *f, struct mm_zone *out, int max)
{
	struct mm_zone *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	int n = 0, err = 0;

	if (!f || !out || max < 0)
		return -EINVAL;
	while (getline(&line, &cap, f) >= 0) {
		if (!strncmp(line, "Node ", 5)) {
			struct mm_zone z;

			cur = NULL;
			if (parse_zone_header(line, &z))
				continue;
			if (n == max) {
				err = -ENOSPC;
				break;
			}
			out[n] = z;
			cur = &out[n++];
		} else if (cur) {
			parse_zone_field(line, cur);
		}
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	return err ? err : n ? n : -ENODATA;
}

int zoneinfo_find(const struct mm_zone *z, int n, uint64_t pfn, int *idx_out, int max)
{
	int i, found = 0;

	if ((!z && n > 0) || (!idx_out && max > 0) || max < 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		/* written as a difference so that start + spanned cannot overflow */
		if (z[i].start_pfn == MM_PFN_UNKNOWN || pfn < z[i].start_pfn ||
		    pfn - z[i].start_pfn >= z[i].spanned)
			continue;
		if (found == max)
			return -ENOSPC;
		idx_out[found++] = i;
	}
	return found;
}

int mm_zone_index(const char *zoneinfo_name, const char *const *enum_names, int n_enum)
{
	int i;

	if (!zoneinfo_name || !*zoneinfo_name || (!enum_names && n_enum > 0))
		return -EINVAL;
	for (i = 0; i < n_enum; i++) {
		const char *e = enum_names[i] ? enum_names[i] : "";

		e += strncasecmp(e, "ZONE_", 5) ? 0 : 5;
		if (!strcasecmp(e, zoneinfo_name))
			return i;
	}
	return -ENOENT;
}

int mm_zones_width(int nr_zones)
{
	int w = 0;

	while (w < 31 && (1 << w) < nr_zones)
		w++;
	return w;
}

int zone_shift_solve(uint64_t flags, int node, int zone_idx, int zones_width,
		     int max_nodes_shift, int *shift_out)
{
	int n, shift, found = 0, best = -1;

	if (!shift_out || zones_width < 1 || zones_width > 8 || node < 0 ||
	    zone_idx < 0 || zone_idx >= (1 << zones_width) ||
	    max_nodes_shift < 0 || max_nodes_shift > 64 - zones_width - 1)
		return -EINVAL;
	for (n = 0; n <= max_nodes_shift; n++) {
		uint64_t zone, nid;

		shift = 64 - n - zones_width;
		zone = (flags >> shift) & ((1ULL << zones_width) - 1);
		nid = n ? flags >> (64 - n) : 0;	/* >> 64 is undefined */
		if (zone == (uint64_t)zone_idx && nid == (uint64_t)node) {
			found++;
			best = shift;
		}
	}
	if (found != 1)
		return found ? -EEXIST : -ENOENT;
	*shift_out = best;
	return 0;
}

/*
 * One config file: 0..N from it, -1 when it does not tell. Only whole lines
 * are looked at: gzgets() splits a line longer than the buffer, and its
 * tail must not be read as a line of its own.
 */
static int kconfig_file(const char *path)
{
	char line[512];
	bool at_start = true;
	int ret = -1;
	gzFile gz;

	gz = gzopen(path, "rb");	/* reads plain text files as well */
	if (!gz)
		return -1;
	while (ret < 0 && gzgets(gz, line, sizeof(line))) {
		bool whole = at_start;
		uint64_t v;

		at_start = strchr(line, '\n') != NULL;
		if (!whole)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "# CONFIG_NUMA is not set"))
			ret = 0;
		else if (!strncmp(line, "CONFIG_NODES_SHIFT=", 19) &&
			 !parse_u64(line + 19, &v) && v <= 16)
			ret = (int)v;
	}
	gzclose(gz);
	return ret;
}

int kconfig_nodes_shift(const char *const *paths, int npaths)
{
	int i, v;

	for (i = 0; paths && i < npaths; i++) {
		if (paths[i] && (v = kconfig_file(paths[i])) >= 0)
			return v;
	}
	return -1;
}

int kconfig_default_paths(struct kconfig_paths *kp, const char *release)
{
	struct utsname u;
	int i;

	if (!kp)
		return -EINVAL;
	if (!release) {
		if (uname(&u))
			return -errno;
		release = u.release;
	}
	snprintf(kp->buf[0], sizeof(kp->buf[0]), "/proc/config.gz");
	snprintf(kp->buf[1], sizeof(kp->buf[1]), "/boot/config-%s", release);
	snprintf(kp->buf[2], sizeof(kp->buf[2]), "/lib/modules/%s/config", release);
	for (i = 0; i < KCONFIG_NPATHS; i++)
		kp->path[i] = kp->buf[i];
	return KCONFIG_NPATHS;
}

int pagemap_pfn(int pagemap_fd, const void *addr, uint64_t *pfn)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t e;
	ssize_t r;

	if (!pfn || psize <= 0)
		return -EINVAL;
	/* one 64-bit entry per virtual page */
	r = pread(pagemap_fd, &e, sizeof(e), (off_t)((uintptr_t)addr / psize * sizeof(e)));
	if (r < 0)
		return -errno;
	if (r != sizeof(e))
		return -EIO;
	if (!(e >> 63))		/* bit 63: present (bit 62, swapped, is not) */
		return -ENOENT;
	e &= (1ULL << 55) - 1;	/* bits 0-54: PFN */
	if (!e)
		return -EPERM;
	*pfn = e;
	return 0;
}

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
	return parse_u64(buf, v);
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
