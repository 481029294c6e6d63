// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload: where a buffer's pages physically are (PFN and zone), the
 * migration counters, and a pipe that holds references to a buffer.
 *
 * Nothing here is assumed: a page that is not present, a PFN the kernel
 * hides (pagemap shows PFN 0 without CAP_SYS_ADMIN) or a PFN outside every
 * zone span is reported as such ("absent", "hidden", "unknown").
 */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#define MAX_SPANS	64	/* nodes x zones */
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)	/* bits 0-54 */

static struct span {
	char name[16];
	uint64_t start, end;	/* [start_pfn, start_pfn + spanned) */
} spans[MAX_SPANS];
static int nspans = -1;		/* -1: /proc/zoneinfo not read (yet) */

/*
 * /proc/zoneinfo: "Node N, zone NAME", then (in this order on 6.1 and
 * 6.12) "spanned S" among the page counts and "start_pfn: P" at the end of
 * the zone's section. Empty zones (spanned 0) are left out. Spans are
 * re-read on every call: offlining and onlining memory can move them.
 */
static int zones_load(void)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256], name[16];
	unsigned long long v;
	struct span *z = NULL;
	int node;

	nspans = 0;
	if (!f) {
		perror("pinload: /proc/zoneinfo");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %15s", &node, name) == 2) {
			z = nspans < MAX_SPANS ? &spans[nspans++] : NULL;
			if (z) {
				memset(z, 0, sizeof(*z));
				snprintf(z->name, sizeof(z->name), "%s", name);
			}
		} else if (z && sscanf(line, " spanned %llu", &v) == 1) {
			z->end = v;	/* a length until start_pfn comes */
		} else if (z && sscanf(line, " start_pfn: %llu", &v) == 1) {
			z->start = v;
			z->end += v;
		}
	}
	fclose(f);
	return 0;
}

/* Zone name of a PFN, "unknown" outside every span, "multi" if several. */
const char *pfn_zone(uint64_t pfn)
{
	const char *hit = NULL;

	if (nspans < 0)
		zones_load();
	for (int i = 0; i < nspans; i++) {
		if (pfn < spans[i].start || pfn >= spans[i].end)
			continue;
		if (hit && strcmp(hit, spans[i].name))
			return "multi";
		hit = spans[i].name;
	}
	return hit ? hit : "unknown";
}

/* Pages spanned by zones called name (all nodes), from a fresh read. */
uint64_t zone_spanned(const char *name)
{
	uint64_t sum = 0;

	zones_load();
	for (int i = 0; i < nspans; i++)
		if (!strcmp(spans[i].name, name))
			sum += spans[i].end - spans[i].start;
	return sum;
}

/* pfn[i]: PFN of page i of buf, PFN_ABSENT if not present, 0 if hidden. */
int buf_pfns(const char *buf, size_t n, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	off_t off = (off_t)((uintptr_t)buf / pg * sizeof(uint64_t));
	bool ok = fd >= 0 && pread(fd, pfn, n * sizeof(*pfn), off) == (ssize_t)(n * sizeof(*pfn));

	if (fd >= 0)
		close(fd);
	if (!ok) {
		perror("pinload: /proc/self/pagemap");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		pfn[i] = pfn[i] & PM_PRESENT ? pfn[i] & PM_PFN_MASK : PFN_ABSENT;
	return 0;
}

/*
 * Adds zkey: {"Movable":256} (pages of buf per zone, in order of first
 * appearance) and pkey: [lowest,highest] PFN of the present pages (null
 * if none). Both are "null" if pagemap cannot be read. The strings stay
 * allocated until exit (emit() prints them).
 */
void zone_report(struct res *r, const char *buf, size_t n, const char *zkey,
		 const char *pkey)
{
	uint64_t *pfn = malloc(n * sizeof(*pfn)), lo = UINT64_MAX, hi = 0;
	const char *name[MAX_SPANS + 4];
	size_t cnt[MAX_SPANS + 4];
	char *zs = malloc(64 + (MAX_SPANS + 4) * 40), *ps = malloc(64);
	int nn = 0, len = 0;

	if (!pfn || !zs || !ps || buf_pfns(buf, n, pfn)) {
		extra_json(r, zkey, "null");
		extra_json(r, pkey, "null");
		free(pfn);
		free(zs);
		free(ps);
		return;
	}
	zones_load();
	for (size_t i = 0; i < n; i++) {
		const char *z = pfn[i] == PFN_ABSENT ? "absent" : !pfn[i] ? "hidden"
				: pfn_zone(pfn[i]);
		int k = 0;

		if (pfn[i] != PFN_ABSENT && pfn[i]) {
			lo = pfn[i] < lo ? pfn[i] : lo;
			hi = pfn[i] > hi ? pfn[i] : hi;
		}
		while (k < nn && strcmp(name[k], z))
			k++;
		if (k == nn) {
			name[nn] = z;
			cnt[nn++] = 0;
		}
		cnt[k]++;
	}
	len += sprintf(zs + len, "{");
	for (int k = 0; k < nn; k++)
		len += sprintf(zs + len, "%s\"%s\":%zu", k ? "," : "", name[k], cnt[k]);
	sprintf(zs + len, "}");
	if (lo <= hi)
		sprintf(ps, "[%llu,%llu]", (unsigned long long)lo, (unsigned long long)hi);
	else
		strcpy(ps, "null");
	extra_json(r, zkey, zs);
	extra_json(r, pkey, ps);
	free(pfn);
}

/*
 * pgmigrate_* are VM events: /proc/vmstat sums the per-CPU counters when it
 * is read, so unlike nr_foll_pin_* no fold is needed. System-wide.
 */
struct migstat migstat_now(void)
{
	struct migstat m = { -1, -1 };
	FILE *f = fopen("/proc/vmstat", "re");
	char line[128];

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "pgmigrate_success %lld", &m.ok);
		sscanf(line, "pgmigrate_fail %lld", &m.fail);
	}
	if (f)
		fclose(f);
	return m;
}

void migstat_report(struct res *r, struct migstat a, struct migstat b,
		    const char *okkey, const char *failkey)
{
	extra(r, okkey, a.ok < 0 || b.ok < 0 ? -1 : b.ok - a.ok);
	extra(r, failkey, a.fail < 0 || b.fail < 0 ? -1 : b.fail - a.fail);
}

/*
 * Pipe big enough for n pages (one pipe_buffer slot each). Above
 * fs.pipe-max-size F_SETPIPE_SZ needs CAP_SYS_RESOURCE; if it says EPERM
 * we raise the sysctl (root only) and report its old value.
 */
static int pipe_sized(struct res *r, int fd, size_t len)
{
	int size = fcntl(fd, F_SETPIPE_SZ, (int)len), sfd, was = 0;
	char v[32];
	ssize_t got;

	if (size < 0 && errno == EPERM) {
		sfd = open("/proc/sys/fs/pipe-max-size", O_RDWR | O_CLOEXEC);
		got = sfd >= 0 ? read(sfd, v, sizeof(v) - 1) : -1;
		if (got > 0) {
			v[got] = 0;
			was = atoi(v);
			snprintf(v, sizeof(v), "%zu", len);
			if (pwrite(sfd, v, strlen(v), 0) > 0)
				extra(r, "pipe_max_size_was", was);
		}
		if (sfd >= 0)
			close(sfd);
		size = fcntl(fd, F_SETPIPE_SZ, (int)len);
	}
	extra(r, "pipe_size", size);
	return size;
}

/*
 * vmsplice() all n pages of buf into a new pipe that nobody reads: each page
 * gets one extra reference (FOLL_GET, no SPLICE_F_GIFT) held by the pipe
 * until it is read or closed. That reference is what makes migration of the
 * page fail (folio_migrate_mapping: refcount != expected).
 */
int pipe_hold(struct res *r, int pfd[2], char *buf, size_t n)
{
	struct iovec iov = { buf, n * pg };
	ssize_t k;

	if (pipe2(pfd, O_CLOEXEC))
		return fail(r, "pipe");
	if (pipe_sized(r, pfd[1], n * pg) < 0)
		return fail(r, "F_SETPIPE_SZ");
	/* NONBLOCK: a pipe that is too small must fail, not wait for a reader. */
	while (iov.iov_len) {
		k = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		iov.iov_base = (char *)iov.iov_base + k;
		iov.iov_len -= k;
	}
	extra(r, "pipe_pages", (long long)((n * pg - iov.iov_len) / pg));
	if (iov.iov_len) {
		fprintf(stderr, "pinload: vmsplice queued %zu of %zu bytes\n",
			n * pg - iov.iov_len, n * pg);
		return fail(r, "vmsplice");
	}
	return 0;
}
