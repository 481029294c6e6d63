// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload workload offline: memory hot-remove of a ZONE_MOVABLE memory
 * block that holds our buffer while a pipe holds references to the
 * buffer's pages (first attempt: must fail), then after draining the pipe
 * (second attempt: must succeed), then online again. How the attempts are
 * bounded: see memblock.c.
 */
#include "pinload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define LATER_MS	20000	/* limit of the 2nd offline and of the online */
#define FILL_MAX	65536	/* pages (256 MiB) searched for a usable block */

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/*
 * js gets {"B":pages,...} for the n PFNs. Returns the usable block (see
 * block_usable()) that holds most of them, *npages of them, or -1; *most is
 * the block that holds most of them, usable or not.
 */
static long pick_block(const uint64_t *pfn, size_t n, long long bsize, long *npages,
		       long *most, char *js)
{
	long long *b = malloc(n * sizeof(*b));
	long best = -1, mostn = 0, m = 0, len = 0;
	struct blk_info bi;

	*npages = 0;
	*most = -1;
	for (size_t i = 0; b && i < n; i++)
		if (pfn[i] && pfn[i] != PFN_ABSENT)
			b[m++] = (long long)(pfn[i] * pg / bsize);
	if (b)
		qsort(b, m, sizeof(*b), cmp_ll);
	len += sprintf(js, "{");
	for (long i = 0, j; i < m; i = j) {
		for (j = i; j < m && b[j] == b[i]; j++)
			;
		len += sprintf(js + len, "%s\"%lld\":%ld", i ? "," : "", b[i], j - i);
		if (j - i > mostn) {
			*most = (long)b[i];
			mostn = j - i;
		}
		if (j - i > *npages && block_usable((long)b[i], bsize, &bi)) {
			best = (long)b[i];
			*npages = j - i;
		}
	}
	sprintf(js + len, "}");
	free(b);
	if (best < 0)
		*npages = mostn;
	return best;
}

/*
 * The buffer: the first n-page chunk of one big mapping, touched chunk by
 * chunk, whose most populated block is usable; failing that, the chunk
 * with most pages in a usable block; failing that, the last one. Free
 * pages go out roughly from low to high addresses, and memory onlined
 * again goes to the tail of the free lists, so the first chunks often land
 * in the mixed block or in one with the kernel image. The chunks not used
 * stay allocated while searching (the next one gets other frames) and are
 * unmapped after. *blk, *bpages, *most: see pick_block().
 */
static char *find_buffer(struct res *r, size_t n, long long bsize, uint64_t *pfn,
			 char *js, long *blk, long *bpages, long *most)
{
	size_t chunks = FILL_MAX / n ? FILL_MAX / n : 1, len = n * pg, i, fb = 0;
	char *area = mmap(NULL, chunks * len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), *c;
	long fbn = 0;

	/* DONTFORK: the writer children must not map (and reference) our pages */
	if (area == MAP_FAILED || madvise(area, chunks * len, MADV_DONTFORK) ||
	    (madvise(area, chunks * len, MADV_NOHUGEPAGE) && errno != EINVAL))
		return NULL;
	for (i = 0; i < chunks; i++) {
		memset(area + i * len, 0x5a, len);
		if (buf_pfns(area + i * len, n, pfn))
			return NULL;
		*blk = pick_block(pfn, n, bsize, bpages, most, js);
		if (*blk >= 0 && *blk == *most)	/* a chunk across two blocks: go on */
			break;
		if (*blk >= 0 && *bpages > fbn) {
			fb = i;
			fbn = *bpages;
		}
	}
	if (i == chunks) {	/* the fallback, or the last chunk as it is */
		i = fbn ? fb : chunks - 1;
		if (buf_pfns(area + i * len, n, pfn))
			return NULL;
		*blk = pick_block(pfn, n, bsize, bpages, most, js);
	}
	c = area + i * len;
	extra(r, "filler_pages", (long long)(i * n));
	if (c > area)
		munmap(area, c - area);
	if (i + 1 < chunks)
		munmap(c + len, (chunks - i - 1) * len);
	return c;
}

/* Report the chosen block; no usable block: the most populated one. */
static int check_block(struct res *r, long blk, long most, long long bsize)
{
	struct blk_info bi;
	bool ok = block_usable(blk >= 0 ? blk : most, bsize, &bi);
	char path[96];

	extra_str(r, "valid_zones", bi.vz);
	/* removable: always 1 since 53cdc1cb29e8 (2020, kept for ABI): no proof */
	extra(r, "removable", atoi(sysfs_str(block_file(path, blk >= 0 ? blk : most,
							"removable"))));
	extra_str(r, "block_zone", bi.zone);
	extra(r, "block_unmovable", bi.unmovable);
	extra_str(r, "state_before", bi.st);
	if (ok)
		return 0;
	fprintf(stderr, "pinload: no online Movable block without reserved pages holds our"
		" pages (%d MiB searched); memory%ld: %s, valid_zones '%s', zoneinfo %s,"
		" %ld reserved or hole pages (-1: not checked)\n",
		FILL_MAX / 256, most, bi.st, bi.vz, bi.zone, bi.unmovable);
	errno = 0;
	return fail(r, "no-usable-block");
}

static void report_write(struct res *r, const struct wres *w, const char *end,
			 const char *rk, const char *ek, const char *mk)
{
	extra_str(r, end, w->end);
	if (rk)
		extra(r, rk, w->ret);
	if (ek)
		extra(r, ek, w->err);
	if (mk)
		extra(r, mk, (long long)(w->ms + 0.5));
}

int do_offline(const struct opts *o, struct res *r)
{
	long limit = o->seen & O_OFFLINE_MS ? o->offline_ms : 3000;
	size_t n = o->pages, len = n * pg;
	uint64_t *pfn = malloc(n * sizeof(*pfn));
	char *js = malloc(n * 48 + 8), *back = malloc(len), *buf;
	long blk = -1, most = -1, bpages = 0, left = 0;
	const char *online_as = "online_movable", *final;
	char state[96], path[96];
	struct migstat m0, m1;
	struct wres w1, w2, w3;
	long long bsize;
	int pfd[2];

	r->mode = "pipe-held";
	if (!pfn || !js || !back)
		return fail(r, "malloc");
	/* Searching for a usable block (find_buffer) is pointless without it. */
	extra(r, "movable_spanned", (long long)zone_spanned("Movable"));
	if (!zone_spanned("Movable")) {
		fprintf(stderr, "pinload: no ZONE_MOVABLE (boot with movablecore=)\n");
		errno = 0;
		return fail(r, "no-movable-zone");
	}
	bsize = strtoll(sysfs_str(MEMDIR "/block_size_bytes"), NULL, 16);	/* hex */
	extra(r, "block_size", bsize);
	if (bsize <= 0)
		return fail(r, "block_size_bytes");
	buf = find_buffer(r, n, bsize, pfn, js, &blk, &bpages, &most);
	if (!buf)
		return fail(r, "mmap");
	if (most < 0) {
		fprintf(stderr, "pinload: pagemap shows no PFNs (needs CAP_SYS_ADMIN)\n");
		errno = 0;
		return fail(r, "pagemap-pfn");
	}
	zone_report(r, buf, n, "zones_before", "pfns_before");
	extra_json(r, "blocks", js);
	extra(r, "block", blk >= 0 ? blk : most);
	extra(r, "block_pages", bpages);
	if (check_block(r, blk, most, bsize) || pipe_hold(r, pfd, buf, n))
		return -1;
	block_file(state, blk, "state");

	m0 = migstat_now();
	call_begin(r);
	w1 = state_write(state, "offline", limit);
	errno = w1.err;
	call_end(r, w1.ret);
	m1 = migstat_now();
	report_write(r, &w1, "offline1_end", NULL, NULL, NULL);
	extra_str(r, "state_after_offline1", sysfs_str(state));
	migstat_report(r, m0, m1, "offline1_pgmigrate_success", "offline1_pgmigrate_fail");

	sleep_ms(o->hold_ms);
	/* pipe_read() drops each page's reference as it empties a buffer. */
	extra(r, "drained", read_full(pfd[0], back, len) ? (long long)len : -1);
	r->verified = !memcmp(buf, back, len);
	close(pfd[0]);
	close(pfd[1]);

	m0 = migstat_now();
	w2 = state_write(state, "offline", LATER_MS);
	m1 = migstat_now();
	report_write(r, &w2, "offline2_end", "offline2_ret", "offline2_errno", "offline2_ms");
	extra_str(r, "state_after_offline2", sysfs_str(state));
	migstat_report(r, m0, m1, "offline2_pgmigrate_success", "offline2_pgmigrate_fail");
	/* Our pages were migrated out of the block before it went offline. */
	if (buf_pfns(buf, n, pfn))
		left = -1;
	for (size_t i = 0; left >= 0 && i < n; i++)
		left += pfn[i] && pfn[i] != PFN_ABSENT && (long)(pfn[i] * pg / bsize) == blk;
	extra(r, "block_pages_after", left);
	zone_report(r, buf, n, "zones_after", "pfns_after");

	/* Back into ZONE_MOVABLE; plain "online" if the kernel refuses that. */
	w3 = state_write(state, online_as, LATER_MS);
	if (w3.ret < 0 && w3.err == EINVAL)
		w3 = state_write(state, online_as = "online", LATER_MS);
	extra_str(r, "online_as", online_as);
	report_write(r, &w3, "online_end", "online_ret", "online_errno", NULL);
	extra_str(r, "state_final", final = sysfs_str(state));
	extra_str(r, "valid_zones_final", sysfs_str(block_file(path, blk, "valid_zones")));

	/* Exit 0 only for: held pages block the offline, drained ones do not. */
	if (w1.ret >= 0)
		return call_failed(r, "offline1-succeeded");
	if (w2.ret < 0)
		return call_failed(r, "offline2");
	if (w3.ret < 0 || strcmp(final, "online"))
		return call_failed(r, "online");
	return r->verified ? 0 : call_failed(r, "verify");
}
