// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where a physical page lives (src/memmap.c), against tests/fixtures/memmap/:
 *   zoneinfo-6.1-numa.txt     Debian 6.1.0-56-amd64 under QEMU, 6 GiB,
 *                             numa=fake=2 movablecore=1G: node 1 holds
 *                             Normal and, above it, Movable
 *   zoneinfo-6.12-movable.txt Debian 6.12.118+deb13-amd64, 6 GiB,
 *                             movablecore=1G, one node
 *   zoneinfo-6.12-device.txt  the same with 16 GiB of ZONE_DEVICE memory
 *                             (pmem): spanned, not present, no start_pfn
 *   zoneinfo-6.18.txt         a 6.18.44 host: empty Movable and Device zones
 *   zoneinfo-malformed.txt    bad headers, bad numbers, a NUL, a truncated end
 *   config-6.1-amd64          the first 500 lines of Debian's 6.1 config
 *   config-6.12-nonuma        Debian's 6.12 config head with NUMA turned off
 *   config-truncated          a config cut off before its NUMA section
 *   config-malformed          settings that must not be believed
 *   cma-single/               CMA debugfs as 6.1 to 6.14 lay it out
 *                             (mm/cma_debug.c: <area>/base_pfn, count, ...)
 *   cma-multi/                the 6.15+ layout: <area>/ranges/<N>/base_pfn
 *                             and bitmap, base_pfn and bitmap symlinks to
 *                             ranges/0; a 3-range hugetlb_cma area
 * Files debugfs prints with "%llu\n" (DEFINE_DEBUGFS_ATTRIBUTE) hold one
 * decimal and a newline; bitmaps are debugfs u32 arrays, "%u" words joined
 * by spaces and ended by a newline. Gzip configs, odd CMA trees and pagemap
 * files are built in a temporary directory; the host's own files are read
 * where they exist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <cmocka.h>
#include "memmap.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif
#define FIX FIXTURES "/memmap/"
#define MAXZ 64

static const char *const x86_zones[] = {
	"ZONE_DMA", "ZONE_DMA32", "ZONE_NORMAL", "ZONE_MOVABLE", "ZONE_DEVICE", "__MAX_NR_ZONES",
};

static int parse(const char *name, struct mm_zone *z, int max)
{
	FILE *f = fopen(name, "r");
	int n;

	if (!f)
		fail_msg("%s: %s", name, strerror(errno));
	n = zoneinfo_parse(f, z, max);
	fclose(f);
	return n;
}

static void assert_zone(const struct mm_zone *z, int node, const char *name, uint64_t start,
			uint64_t spanned, uint64_t present, uint64_t managed)
{
	assert_int_equal(z->node, node);
	assert_string_equal(z->name, name);
	assert_true(z->start_pfn == start);
	assert_true(z->spanned == spanned);
	assert_true(z->present == present);
	assert_true(z->managed == managed);
}

/* The one zone of Z that can hold PFN, or -1 (asserting there are not two). */
static int one_zone(const struct mm_zone *z, int n, uint64_t pfn)
{
	int idx[4], m = zoneinfo_find(z, n, pfn, idx, 4);

	assert_true(m == 0 || m == 1);
	return m ? idx[0] : -1;
}

/* A fresh temporary directory, removed by rmtree(). */
static void tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/pintrace-memmap-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(buf));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write TEXT (NULL: a directory) at ROOT/REL, creating the parents. */
static void put(const char *root, const char *rel, const char *text)
{
	char path[4096], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	if (!text) {
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A 6.15+ range: ranges/R/base_pfn and a bitmap of WORDS zero words. */
static void put_range(const char *root, const char *area, int r, uint64_t base, int words)
{
	char rel[256], text[64], *bm = calloc(words + 2, 2);
	int i;

	assert_non_null(bm);
	for (i = 0; i < words; i++)
		strcat(bm, i + 1 < words ? "0 " : "0\n");
	snprintf(rel, sizeof(rel), "%s/ranges/%d/base_pfn", area, r);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)base);
	put(root, rel, text);
	snprintf(rel, sizeof(rel), "%s/ranges/%d/bitmap", area, r);
	if (words >= 0)
		put(root, rel, bm);
	free(bm);
}

static void put_area(const char *root, const char *area, uint64_t count, int opb)
{
	char rel[256], text[64];

	snprintf(rel, sizeof(rel), "%s/count", area);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)count);
	put(root, rel, text);
	snprintf(rel, sizeof(rel), "%s/order_per_bit", area);
	snprintf(text, sizeof(text), "%d\n", opb);
	put(root, rel, text);
}

static void test_zoneinfo_6_18(void **state)
{
	struct mm_zone z[MAXZ];

	assert_int_equal(parse(FIX "zoneinfo-6.18.txt", z, MAXZ), 5);
	assert_zone(&z[0], 0, "DMA", 1, 4095, 3998, 3840);
	assert_zone(&z[1], 0, "DMA32", 4096, 1044480, 782336, 772917);
	assert_zone(&z[2], 0, "Normal", 1048576, 5505024, 5505024, 5394266);
	/* empty zones print no start_pfn */
	assert_zone(&z[3], 0, "Movable", MM_PFN_UNKNOWN, 0, 0, 0);
	assert_zone(&z[4], 0, "Device", MM_PFN_UNKNOWN, 0, 0, 0);
	assert_int_equal(one_zone(z, 5, 0), -1);
	assert_int_equal(one_zone(z, 5, 1), 0);
	assert_int_equal(one_zone(z, 5, 4095), 0);
	assert_int_equal(one_zone(z, 5, 4096), 1);
	assert_int_equal(one_zone(z, 5, 1048575), 1);
	assert_int_equal(one_zone(z, 5, 1048576), 2);
	assert_int_equal(one_zone(z, 5, 1048576 + 5505024 - 1), 2);
	assert_int_equal(one_zone(z, 5, 1048576 + 5505024), -1);
}

static void test_zoneinfo_6_1_numa(void **state)
{
	struct mm_zone z[MAXZ];
	int idx[2];

	assert_int_equal(parse(FIX "zoneinfo-6.1-numa.txt", z, MAXZ), 10);
	assert_zone(&z[0], 0, "DMA", 1, 4095, 3998, 3840);
	assert_zone(&z[1], 0, "DMA32", 4096, 782304, 782304, 753523);
	assert_zone(&z[2], 0, "Normal", MM_PFN_UNKNOWN, 0, 0, 0);
	assert_zone(&z[6], 1, "DMA32", MM_PFN_UNKNOWN, 0, 0, 0);
	assert_zone(&z[7], 1, "Normal", 1048576, 524288, 524288, 512970);
	assert_zone(&z[8], 1, "Movable", 1572864, 262144, 262144, 249545);
	assert_zone(&z[9], 1, "Device", MM_PFN_UNKNOWN, 0, 0, 0);
	/* movablecore=: Movable starts where Normal ends */
	assert_int_equal(one_zone(z, 10, 1572863), 7);
	assert_int_equal(one_zone(z, 10, 1572864), 8);
	assert_int_equal(one_zone(z, 10, 1835007), 8);
	assert_int_equal(one_zone(z, 10, 1835008), -1);
	/* node 0 ends below 4 GiB: the PCI hole belongs to no zone */
	assert_int_equal(one_zone(z, 10, 786399), 1);
	assert_int_equal(one_zone(z, 10, 786400), -1);
	assert_int_equal(zoneinfo_find(z, 10, 1572864, idx, 0), -ENOSPC);
	assert_int_equal(zoneinfo_find(z, 10, 1572864, idx, 2), 1);
}

static void test_zoneinfo_6_12_movable(void **state)
{
	struct mm_zone z[MAXZ];
	int i;

	assert_int_equal(parse(FIX "zoneinfo-6.12-movable.txt", z, MAXZ), 5);
	assert_zone(&z[1], 0, "DMA32", 4096, 1044480, 782304, 756313);
	assert_zone(&z[2], 0, "Normal", 1048576, 524288, 524288, 524288);
	assert_zone(&z[3], 0, "Movable", 1572864, 262144, 262144, 234108);
	/* a span includes its holes: "can be in", the page's flags decide */
	assert_int_equal(one_zone(z, 5, 900000), 1);
	assert_int_equal(one_zone(z, 5, 1572863), 2);
	assert_int_equal(one_zone(z, 5, 1572864), 3);
	for (i = 0; i < 5; i++)
		assert_int_equal(mm_zone_index(z[i].name, x86_zones, 6), i);
}

static void test_zoneinfo_device(void **state)
{
	struct mm_zone z[MAXZ];
	uint64_t pfn;

	assert_int_equal(parse(FIX "zoneinfo-6.12-device.txt", z, MAXZ), 5);
	assert_zone(&z[4], 0, "Device", MM_PFN_UNKNOWN, 4194304, 0, 0);
	/* its start is not printed, so no PFN is ever placed in it */
	for (pfn = 0; pfn < (64ULL << 20); pfn += 4093)
		assert_true(one_zone(z, 5, pfn) != 4);
}

static void test_zoneinfo_overlap(void **state)
{
	/* nodes that interleave: node 0's Normal spans node 1's memory */
	struct mm_zone z[] = {
		{ .node = 0, .name = "Normal", .start_pfn = 1048576, .spanned = 2097152 },
		{ .node = 1, .name = "Normal", .start_pfn = 2097152, .spanned = 1048576 },
		{ .node = 1, .name = "Movable", .start_pfn = UINT64_MAX - 10, .spanned = 100 },
	};
	int idx[3] = { -1, -1, -1 };

	assert_int_equal(zoneinfo_find(z, 3, 2200000, idx, 3), 2);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 1);
	assert_int_equal(zoneinfo_find(z, 3, 2200000, idx, 1), -ENOSPC);
	assert_int_equal(zoneinfo_find(z, 3, 1048576, idx, 3), 1);
	assert_int_equal(zoneinfo_find(z, 3, 3145727, idx, 3), 2);
	assert_int_equal(zoneinfo_find(z, 3, 3145728, idx, 3), 0);
	/* start + spanned overflows: no wrap-around to low PFNs */
	assert_int_equal(zoneinfo_find(z, 3, UINT64_MAX - 1, idx, 3), 1);
	assert_int_equal(idx[0], 2);
	assert_int_equal(zoneinfo_find(z, 3, 5, idx, 3), 0);
	assert_int_equal(zoneinfo_find(NULL, 0, 5, idx, 3), 0);
	assert_int_equal(zoneinfo_find(NULL, 3, 5, idx, 3), -EINVAL);
	assert_int_equal(zoneinfo_find(z, 3, 5, NULL, 3), -EINVAL);
}

static void test_zoneinfo_malformed(void **state)
{
	struct mm_zone z[MAXZ];
	int i;

	assert_int_equal(parse(FIX "zoneinfo-malformed.txt", z, MAXZ), 4);
	assert_zone(&z[0], 0, "DMA", 1, 4095, 3998, 3840);
	/* -5, 2^64 and 12abc are ignored; the NUL ends what C sees of its line */
	assert_zone(&z[1], 0, "DMA32", 4096, 1044480, 782336, 0);
	assert_zone(&z[2], 0, "Normal", MM_PFN_UNKNOWN, 262144, 0, 0);
	assert_zone(&z[3], 1, "Movable", MM_PFN_UNKNOWN, 0, 0, 0);
	/* lines under a bad header are nobody's */
	for (i = 0; i < 4; i++) {
		assert_true(z[i].spanned < 5 || z[i].spanned > 999);
		assert_true(z[i].start_pfn != 12345);
	}
}

static void test_zoneinfo_errors(void **state)
{
	struct mm_zone z[MAXZ];
	FILE *f;

	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(zoneinfo_parse(f, z, MAXZ), -ENODATA);
	fputs("nr_free_pages 12\n        spanned  5\n", f);
	rewind(f);
	assert_int_equal(zoneinfo_parse(f, z, MAXZ), -ENODATA);
	fclose(f);
	assert_int_equal(parse(FIX "zoneinfo-6.1-numa.txt", z, 4), -ENOSPC);
	assert_string_equal(z[3].name, "Movable");
	/* a directory opens, and every read of it fails */
	f = fopen(FIX, "r");
	if (f) {
		assert_int_equal(zoneinfo_parse(f, z, MAXZ), -EIO);
		fclose(f);
	}
	assert_int_equal(zoneinfo_parse(NULL, z, MAXZ), -EINVAL);
	f = tmpfile();
	assert_int_equal(zoneinfo_parse(f, NULL, MAXZ), -EINVAL);
	assert_int_equal(zoneinfo_parse(f, z, -1), -EINVAL);
	fclose(f);
}

static void test_zoneinfo_host(void **state)
{
	struct mm_zone z[1024];
	int n, i, with_start = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f) {
		print_message("# /proc/zoneinfo not readable here, skipped\n");
		skip();
	}
	n = zoneinfo_parse(f, z, 1024);
	fclose(f);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		with_start += z[i].start_pfn != MM_PFN_UNKNOWN;
		assert_true(z[i].present <= z[i].spanned);
		assert_true(z[i].managed <= z[i].present);
	}
	assert_true(with_start > 0);
	print_message("# /proc/zoneinfo: %d zones, %d populated\n", n, with_start);
}

static void test_zone_index(void **state)
{
	static const char *const x86_32[] = { "ZONE_DMA", "ZONE_NORMAL", "ZONE_HIGHMEM", "ZONE_MOVABLE" };
	static const char *const s390[] = { "ZONE_DMA", "ZONE_NORMAL", "ZONE_MOVABLE", "__MAX_NR_ZONES" };
	static const char *const holes[] = { NULL, "dma32", "ZONE_Normal" };

	assert_int_equal(mm_zone_index("DMA", x86_zones, 6), 0);
	assert_int_equal(mm_zone_index("DMA32", x86_zones, 6), 1);
	assert_int_equal(mm_zone_index("Normal", x86_zones, 6), 2);
	assert_int_equal(mm_zone_index("Movable", x86_zones, 6), 3);
	assert_int_equal(mm_zone_index("Device", x86_zones, 6), 4);
	assert_int_equal(mm_zone_index("HighMem", x86_zones, 6), -ENOENT);
	assert_int_equal(mm_zone_index("Device", x86_zones, 4), -ENOENT);
	assert_int_equal(mm_zone_index("HighMem", x86_32, 4), 2);
	assert_int_equal(mm_zone_index("Movable", x86_32, 4), 3);
	/* without DMA32 every later zone moves down */
	assert_int_equal(mm_zone_index("Normal", s390, 4), 1);
	assert_int_equal(mm_zone_index("Movable", s390, 4), 2);
	assert_int_equal(mm_zone_index("DMA32", holes, 3), 1);
	assert_int_equal(mm_zone_index("normal", holes, 3), 2);
	assert_int_equal(mm_zone_index("", x86_zones, 6), -EINVAL);
	assert_int_equal(mm_zone_index(NULL, x86_zones, 6), -EINVAL);
	assert_int_equal(mm_zone_index("DMA", NULL, 6), -EINVAL);
	assert_int_equal(mm_zone_index("DMA", NULL, 0), -ENOENT);

	assert_int_equal(mm_zones_width(0), 0);
	assert_int_equal(mm_zones_width(1), 0);
	assert_int_equal(mm_zones_width(2), 1);
	assert_int_equal(mm_zones_width(3), 2);
	assert_int_equal(mm_zones_width(4), 2);
	assert_int_equal(mm_zones_width(5), 3);	/* x86_64 Debian: ZONES_WIDTH 3 */
	assert_int_equal(mm_zones_width(8), 3);
	assert_int_equal(mm_zones_width(9), 4);
}

/*
 * page->flags words as dump_page() printed them in public kernel bug
 * reports from x86_64 distribution-like configs (NODES_SHIFT 10, 5 zones:
 * zone at bit 51, node at 54, LAST_CPUPID at 30-50).
 */
static const struct { uint64_t flags; int node, zone, shift; } real_words[] = {
	{ 0x17ffffc0000000ULL, 0, 2, 51 },	/* node=0|zone=2|lastcpupid=0x1fffff */
	{ 0x17ffffc0010200ULL, 0, 2, 51 },	/* slab|head|node=0|zone=2|... */
	{ 0x1fffffc0001000ULL, 0, 3, 51 },	/* reserved|node=0|zone=3|... */
	{ 0xfffffc0010200ULL, 0, 1, 51 },	/* slab|head|node=0|zone=1|... */
	{ 0x57ffffc0800000ULL, 1, 2, 51 },	/* hwpoison|node=1|zone=2|... */
	/* other configs: one and two node bits fewer */
	{ 0x1fffff80010200ULL, 0, 1, 52 },	/* slab|head|node=0|zone=1|... */
	{ 0x3fffff00004000ULL, 0, 1, 53 },	/* reserved|node=0|zone=1|... */
};

static void test_shift_real_words(void **state)
{
	size_t i;
	int shift;

	for (i = 0; i < sizeof(real_words) / sizeof(real_words[0]); i++) {
		shift = -1;
		assert_int_equal(zone_shift_solve(real_words[i].flags, real_words[i].node,
						  real_words[i].zone, 3, 10, &shift), 0);
		assert_int_equal(shift, real_words[i].shift);
		assert_int_equal((real_words[i].flags >> shift) & 7, real_words[i].zone);
	}
}

/* Random bits below the zone field: LRU generation, cpupid, page flags. */
static uint64_t low_bits(int below)
{
	uint64_t r = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();

	return r & ((1ULL << below) - 1);
}

static void test_shift_random_low_bits(void **state)
{
	static const int nodes[] = { 1, 2, 3, 511, 1023 };
	int i, zone, k, shift;

	srand(20251125);
	for (i = 0; i < 20000; i++) {
		uint64_t low = low_bits(51);

		/* Debian 6.1 x86_64: NODES_SHIFT 10, ZONES_WIDTH 3 */
		for (zone = 1; zone <= 4; zone++) {
			shift = -1;
			assert_int_equal(zone_shift_solve(((uint64_t)zone << 51) | low, 0, zone,
							  3, 10, &shift), 0);
			assert_int_equal(shift, 51);
		}
		/* any zone, DMA included, on a node other than 0 */
		for (k = 0; k < 5; k++) {
			zone = i % 5;
			shift = -1;
			assert_int_equal(zone_shift_solve(((uint64_t)nodes[k] << 54) |
							  ((uint64_t)zone << 51) | low,
							  nodes[k], zone, 3, 10, &shift), 0);
			assert_int_equal(shift, 51);
		}
		/* !NUMA: no node bits, zone at the very top */
		assert_int_equal(zone_shift_solve((2ULL << 61) | low_bits(61), 0, 2, 3, 10, &shift), 0);
		assert_int_equal(shift, 61);
		/* 4 zones (ZONES_WIDTH 2), NODES_SHIFT 2, node 1 */
		assert_int_equal(zone_shift_solve((1ULL << 62) | (3ULL << 60) | low_bits(60),
						  1, 3, 2, 10, &shift), 0);
		assert_int_equal(shift, 60);
	}
}

static void test_shift_ambiguous(void **state)
{
	int i, shift = 1234;

	/* a ZONE_DMA page on node 0 reads as zone 0 at every shift from 51 up */
	assert_int_equal(zone_shift_solve(0x7ffffc0000800ULL, 0, 0, 3, 10, &shift), -EEXIST);
	for (i = 0; i < 1000; i++)
		assert_int_equal(zone_shift_solve(low_bits(51), 0, 0, 3, 10, &shift), -EEXIST);
	assert_int_equal(shift, 1234);
	/* with only NODES_SHIFT 0 allowed, nothing is left to confuse */
	assert_int_equal(zone_shift_solve(low_bits(51), 0, 0, 3, 0, &shift), 0);
	assert_int_equal(shift, 61);
}

static void test_shift_errors(void **state)
{
	int shift = 1234;

	/* the word says node 0, zone 2 */
	assert_int_equal(zone_shift_solve(0x17ffffc0000000ULL, 1, 2, 3, 10, &shift), -ENOENT);
	assert_int_equal(zone_shift_solve(0x17ffffc0000000ULL, 0, 3, 3, 10, &shift), -ENOENT);
	/* NODES_SHIFT 10 is not tried */
	assert_int_equal(zone_shift_solve(0x17ffffc0000000ULL, 0, 2, 3, 9, &shift), -ENOENT);
	assert_int_equal(shift, 1234);
	assert_int_equal(zone_shift_solve(0, 0, 2, 0, 10, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0, 0, 2, 9, 10, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0, 0, 8, 3, 10, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0, 0, -1, 3, 10, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0, -1, 2, 3, 10, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0, 0, 2, 3, -1, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0, 0, 2, 3, 61, &shift), -EINVAL);
	assert_int_equal(zone_shift_solve(0x17ffffc0000000ULL, 0, 2, 3, 10, NULL), -EINVAL);
	/* the widest search allowed still works */
	assert_int_equal(zone_shift_solve(0x17ffffc0000000ULL, 0, 2, 3, 60, &shift), 0);
	assert_int_equal(shift, 51);
}

static int nodes_shift(const char *a, const char *b, const char *c)
{
	const char *p[] = { a, b, c };

	return kconfig_nodes_shift(p, 3);
}

static void test_kconfig_plain(void **state)
{
	const char *one[] = { FIX "config-6.1-amd64" };

	assert_int_equal(kconfig_nodes_shift(one, 1), 10);
	assert_int_equal(nodes_shift(FIX "config-6.12-nonuma", NULL, NULL), 0);
	assert_int_equal(nodes_shift(FIX "config-truncated", NULL, NULL), -1);
	assert_int_equal(nodes_shift(FIX "config-malformed", NULL, NULL), -1);
	assert_int_equal(nodes_shift(FIX "zoneinfo-6.18.txt", FIX, "/nonexistent/config"), -1);
	/* the first file that tells wins */
	assert_int_equal(nodes_shift("/nonexistent/config", FIX "config-truncated",
				     FIX "config-6.12-nonuma"), 0);
	assert_int_equal(nodes_shift(FIX "config-malformed", FIX "config-6.1-amd64",
				     FIX "config-6.12-nonuma"), 10);
	assert_int_equal(kconfig_nodes_shift(one, 0), -1);
	assert_int_equal(kconfig_nodes_shift(NULL, 3), -1);
}

/* Gzip SRC into DST as /proc/config.gz is; returns the compressed size. */
static long gzip_file(const char *src, const char *dst)
{
	char buf[4096];
	size_t n;
	struct stat st;
	FILE *in = fopen(src, "r");
	gzFile out = gzopen(dst, "wb9");

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(gzwrite(out, buf, n), (int)n);
	fclose(in);
	assert_int_equal(gzclose(out), Z_OK);
	assert_int_equal(stat(dst, &st), 0);
	return st.st_size;
}

static void test_kconfig_gzip(void **state)
{
	static const char gz_junk[] = "\x1f\x8b\x08\x00garbage\nCONFIG_NODES_SHIFT=3\n";
	char dir[256], gz[300], cut[300], junk[300];
	long size;
	FILE *f;

	tmpdir(dir, sizeof(dir));
	snprintf(gz, sizeof(gz), "%s/config.gz", dir);
	snprintf(cut, sizeof(cut), "%s/cut.gz", dir);
	snprintf(junk, sizeof(junk), "%s/junk.gz", dir);
	size = gzip_file(FIX "config-6.1-amd64", gz);
	assert_int_equal(nodes_shift(gz, NULL, NULL), 10);
	/* a gzip stream cut in half: its NUMA section is gone */
	gzip_file(FIX "config-6.1-amd64", cut);
	assert_int_equal(truncate(cut, size * 2 / 5), 0);
	assert_int_equal(nodes_shift(cut, gz, NULL), 10);
	assert_int_equal(nodes_shift(cut, NULL, NULL), -1);
	/* a gzip header followed by garbage */
	f = fopen(junk, "w");
	assert_non_null(f);
	fwrite(gz_junk, 1, sizeof(gz_junk) - 1, f);
	fclose(f);
	assert_int_equal(nodes_shift(junk, NULL, NULL), -1);
	gzip_file(FIX "config-6.12-nonuma", gz);
	assert_int_equal(nodes_shift(junk, cut, gz), 0);
	rmtree(dir);
}

static void test_kconfig_paths(void **state)
{
	struct kconfig_paths kp;
	struct utsname u;
	int v;

	assert_int_equal(kconfig_default_paths(&kp, "6.1.0-56-amd64"), KCONFIG_NPATHS);
	assert_string_equal(kp.path[0], "/proc/config.gz");
	assert_string_equal(kp.path[1], "/boot/config-6.1.0-56-amd64");
	assert_string_equal(kp.path[2], "/lib/modules/6.1.0-56-amd64/config");
	assert_int_equal(kconfig_default_paths(NULL, NULL), -EINVAL);
	assert_int_equal(uname(&u), 0);
	assert_int_equal(kconfig_default_paths(&kp, NULL), KCONFIG_NPATHS);
	assert_non_null(strstr(kp.path[1], u.release));
	v = kconfig_nodes_shift(kp.path, KCONFIG_NPATHS);
	assert_true(v >= -1 && v <= 16);
	print_message("# this kernel (%s): CONFIG_NODES_SHIFT %d\n", u.release, v);
#ifdef __x86_64__
	/* x86 configs always say either NODES_SHIFT=N or NUMA is not set */
	if (access("/proc/config.gz", R_OK) == 0)
		assert_true(v >= 0);
#endif
}

static void test_pagemap_synthetic(void **state)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t e[5] = {
		(1ULL << 63) | 0x1234,			/* present */
		0,					/* never touched */
		1ULL << 63,				/* present, PFN hidden */
		(1ULL << 62) | (0x42ULL << 5) | 2,	/* swapped: offset and type */
		(1ULL << 63) | (1ULL << 61) | (0x3fULL << 55) | ((1ULL << 55) - 1),
	};
	char dir[256], path[300];
	uint64_t pfn = 0;
	int fd;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/pagemap", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, e, sizeof(e)), sizeof(e));
	/* the offset within the page does not matter */
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)123, &pfn), 0);
	assert_true(pfn == 0x1234);
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)(ps + ps - 1), &pfn), -ENOENT);
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)(2 * ps), &pfn), -EPERM);
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)(3 * ps + 8), &pfn), -ENOENT);
	/* flag bits 55-62 are not part of the PFN */
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)(4 * ps), &pfn), 0);
	assert_true(pfn == (1ULL << 55) - 1);
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)(5 * ps), &pfn), -EIO);
	assert_int_equal(pagemap_pfn(fd, (void *)(uintptr_t)123, NULL), -EINVAL);
	close(fd);
	assert_int_equal(pagemap_pfn(-1, (void *)(uintptr_t)123, &pfn), -EBADF);
	rmtree(dir);
}

static void test_pagemap_live(void **state)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct mm_zone z[1024];
	uint64_t pfn = 0;
	int fd, r, n, idx[8];
	char *p;
	FILE *f;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0) {
		print_message("# /proc/self/pagemap not readable here, skipped\n");
		skip();
	}
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	madvise(p, 2 * ps, MADV_NOHUGEPAGE);
	p[0] = 1;
	assert_int_equal(pagemap_pfn(fd, p + ps, &pfn), -ENOENT);
	r = pagemap_pfn(fd, p + 10, &pfn);
	if (r == -EPERM) {
		print_message("# PFNs hidden (no CAP_SYS_ADMIN)\n");
	} else {
		assert_int_equal(r, 0);
		assert_true(pfn > 0);
		f = fopen("/proc/zoneinfo", "r");
		if (f) {
			n = zoneinfo_parse(f, z, 1024);
			fclose(f);
			assert_true(n > 0);
			assert_true(zoneinfo_find(z, n, pfn, idx, 8) >= 1);
			print_message("# a fresh anonymous page: PFN %#llx, zone %s of node %d\n",
				      (unsigned long long)pfn, z[idx[0]].name, z[idx[0]].node);
		}
	}
	munmap(p, 2 * ps);
	close(fd);
}

static int load(const char *dir, struct mm_cma *c, int max, char *why)
{
	return cma_load(dir, c, max, why, 256);
}

static void assert_cma(const struct mm_cma *c, const char *name, uint64_t base, uint64_t count)
{
	assert_string_equal(c->name, name);
	assert_true(c->base_pfn == base);
	assert_true(c->count == count);
	assert_true(c->exact);
}

/* PFNs around [base, base + count) of entry I. */
static void assert_edges(const struct mm_cma *c, int n, int i)
{
	assert_int_equal(cma_find(c, n, c[i].base_pfn), i);
	assert_int_equal(cma_find(c, n, c[i].base_pfn + c[i].count - 1), i);
	assert_int_equal(cma_find(c, n, c[i].base_pfn + c[i].count), -1);
	assert_int_equal(cma_find(c, n, c[i].base_pfn - 1), -1);
}

static void test_cma_single(void **state)
{
	struct mm_cma c[16];
	char why[256] = "stale";

	assert_int_equal(load(FIX "cma-single", c, 16, why), 2);
	assert_string_equal(why, "");
	assert_cma(&c[0], "reserved", 1024000, 16384);
	assert_cma(&c[1], "hugetlb0", 2359296, 524288);
	assert_edges(c, 2, 0);
	assert_edges(c, 2, 1);
	assert_int_equal(cma_find(c, 2, 0), -1);
	assert_int_equal(cma_find(c, 2, UINT64_MAX), -1);
}

static void test_cma_multi(void **state)
{
	struct mm_cma c[16];
	char why[256];
	int i;

	assert_int_equal(load(FIX "cma-multi", c, 16, why), 5);
	assert_string_equal(why, "");
	assert_cma(&c[0], "reserved", 1024000, 16384);
	/* one entry per range, each the size its bitmap says (whole words) */
	assert_cma(&c[1], "hugetlb0", 1048576, 1048576);
	assert_cma(&c[2], "hugetlb0", 3145728, 524288);
	assert_cma(&c[3], "hugetlb0", 5242880, 262144);
	assert_cma(&c[4], "hugetlb1", 17039360, 524288);
	for (i = 0; i < 5; i++)
		assert_edges(c, 5, i);
	/* the gaps between one area's ranges are not CMA */
	assert_int_equal(cma_find(c, 5, 2097152), -1);
	assert_int_equal(cma_find(c, 5, 3145727), -1);
	assert_int_equal(cma_find(c, 5, 4000000), -1);
	/* too small an array */
	assert_int_equal(load(FIX "cma-multi", c, 3, why), -ENOSPC);
	assert_non_null(strstr(why, "more than 3 CMA ranges"));
	assert_int_equal(load(FIX "cma-single", c, 0, why), -ENOSPC);
}

static void test_cma_derived(void **state)
{
	struct mm_cma c[16];
	char dir[256], why[256];

	tmpdir(dir, sizeof(dir));
	/* order_per_bit 9: the next range's base and the total pin both sizes */
	put_area(dir, "gap", 512 + 8192, 9);
	put_range(dir, "gap", 0, 1048576, 1);
	put_range(dir, "gap", 1, 1048576 + 512, 1);
	/* 8192 + 262144 pages: the bitmaps allow 16384 + 262144 */
	put_area(dir, "loose", 8192 + 262144, 9);
	put_range(dir, "loose", 0, 2097152, 1);
	put_range(dir, "loose", 1, 4194304, 16);
	/* 512 + 1024 pages, order_per_bit 0, the second bitmap unreadable */
	put_area(dir, "nobitmap", 1536, 0);
	put_range(dir, "nobitmap", 0, 100000, 16);
	put_range(dir, "nobitmap", 1, 300000, -1);
	assert_int_equal(load(dir, c, 16, why), 6);
	/* an upper bound each: 16 words hold 481 to 512 pages, the rest can be bigger */
	assert_string_equal(c[0].name, "nobitmap");
	assert_true(c[0].base_pfn == 100000 && c[0].count == 512 && !c[0].exact);
	assert_string_equal(c[1].name, "nobitmap");
	assert_true(c[1].base_pfn == 300000 && c[1].count == 1536 - 481 && !c[1].exact);
	assert_cma(&c[2], "gap", 1048576, 512);
	assert_cma(&c[3], "gap", 1049088, 8192);
	assert_string_equal(c[4].name, "loose");
	assert_true(c[4].base_pfn == 2097152 && c[4].count == 16384 && !c[4].exact);
	assert_true(c[5].base_pfn == 4194304 && c[5].count == 262144 && !c[5].exact);
	/* sizes that cannot add up to count */
	put_area(dir, "gap", 100, 9);
	assert_int_equal(load(dir, c, 16, why), -EINVAL);
	assert_non_null(strstr(why, "cma/gap/ranges"));
	rmtree(dir);
}

static void test_cma_missing(void **state)
{
	struct mm_cma c[4];
	char dir[256], path[300], why[256];

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/debug/cma", dir);
	assert_int_equal(load(path, c, 4, why), 0);
	assert_non_null(strstr(why, "debugfs is not mounted"));
	put(dir, "debug", NULL);	/* an empty mount point */
	assert_int_equal(load(path, c, 4, why), 0);
	assert_non_null(strstr(why, "debugfs is not mounted"));
	put(dir, "debug/tracing/README", "");
	assert_int_equal(load(path, c, 4, why), 0);
	assert_non_null(strstr(why, "CONFIG_CMA_DEBUGFS"));
	put(dir, "debug/cma", NULL);
	assert_int_equal(load(path, c, 4, why), 0);
	assert_non_null(strstr(why, "no CMA areas"));
	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/debug/tracing/README", dir);
	assert_int_equal(load(path, c, 4, why), -ENOTDIR);
	assert_non_null(strstr(why, "README"));
	assert_int_equal(cma_load(NULL, c, 4, why, sizeof(why)), -EINVAL);
	assert_int_equal(cma_load(dir, NULL, 4, NULL, 0), -EINVAL);
	rmtree(dir);
}

static void test_cma_malformed(void **state)
{
	struct mm_cma c[4];
	char dir[256], why[256];

	tmpdir(dir, sizeof(dir));
	/* mm/cma.c names an unnamed area "cma%d\n"; a stray file is no area */
	put(dir, "cma3\n/base_pfn", "4096\n");
	put(dir, "cma3\n/count", "1024\n");
	put(dir, "stray", "1\n");
	assert_int_equal(load(dir, c, 4, why), 1);
	assert_cma(&c[0], "cma3", 4096, 1024);
	put(dir, "bad/base_pfn", "0x1000\n");
	put(dir, "bad/count", "1024\n");
	assert_int_equal(load(dir, c, 4, why), -EINVAL);
	assert_non_null(strstr(why, "cma/bad/base_pfn"));
	put(dir, "bad/base_pfn", "8192\n");
	put(dir, "bad/count", "");
	assert_int_equal(load(dir, c, 4, why), -EINVAL);
	assert_non_null(strstr(why, "cma/bad/count"));
	put(dir, "bad/count", "1024\n");
	assert_int_equal(load(dir, c, 4, why), 2);
	/* a multi-range area without ranges, and one without count */
	put(dir, "empty/ranges", NULL);
	put_area(dir, "empty", 1024, 0);
	assert_int_equal(load(dir, c, 4, why), -ENOENT);
	assert_non_null(strstr(why, "cma/empty/ranges/0/base_pfn"));
	rmtree(dir);
	tmpdir(dir, sizeof(dir));
	put_range(dir, "nocount", 0, 4096, 1);
	assert_int_equal(load(dir, c, 4, why), -ENOENT);
	assert_non_null(strstr(why, "cma/nocount/count"));
	put_area(dir, "nocount", 1024, 31);	/* 2^31 pages a bit: no kernel does that */
	assert_int_equal(load(dir, c, 4, why), -EINVAL);
	assert_non_null(strstr(why, "cma/nocount/order_per_bit"));
	put_area(dir, "nocount", 1024, 0);
	put(dir, "nocount/ranges/0/bitmap", "4294967295 12x\n");	/* no bound from it */
	assert_int_equal(load(dir, c, 4, why), 1);
	assert_cma(&c[0], "nocount", 4096, 1024);
	rmtree(dir);
}

static void test_cma_host(void **state)
{
	struct mm_cma c[64];
	char why[256];
	int n = cma_load(MM_CMA_DIR, c, 64, why, sizeof(why));

	print_message("# %s: %d ranges%s%s\n", MM_CMA_DIR, n, *why ? ": " : "", why);
	assert_true(n >= 0 || n == -EACCES || n == -EPERM);
	assert_true(n != 0 || *why);
	assert_int_equal(cma_find(NULL, 0, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zoneinfo_6_18),
		cmocka_unit_test(test_zoneinfo_6_1_numa),
		cmocka_unit_test(test_zoneinfo_6_12_movable),
		cmocka_unit_test(test_zoneinfo_device),
		cmocka_unit_test(test_zoneinfo_overlap),
		cmocka_unit_test(test_zoneinfo_malformed),
		cmocka_unit_test(test_zoneinfo_errors),
		cmocka_unit_test(test_zoneinfo_host),
		cmocka_unit_test(test_zone_index),
		cmocka_unit_test(test_shift_real_words),
		cmocka_unit_test(test_shift_random_low_bits),
		cmocka_unit_test(test_shift_ambiguous),
		cmocka_unit_test(test_shift_errors),
		cmocka_unit_test(test_kconfig_plain),
		cmocka_unit_test(test_kconfig_gzip),
		cmocka_unit_test(test_kconfig_paths),
		cmocka_unit_test(test_pagemap_synthetic),
		cmocka_unit_test(test_pagemap_live),
		cmocka_unit_test(test_cma_single),
		cmocka_unit_test(test_cma_multi),
		cmocka_unit_test(test_cma_derived),
		cmocka_unit_test(test_cma_missing),
		cmocka_unit_test(test_cma_malformed),
		cmocka_unit_test(test_cma_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
