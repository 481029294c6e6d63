// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CMA areas where debugfs does not list them: the boot-log parser
 * (cma_from_log, src/memmap.c), the data-symbol lookup that finds
 * cma_areas (ksyms_data_lookup, src/ksyms.c) and the naming of boot-log
 * ranges by the cma tracepoints (place_cma_name, src/place.c). The log
 * lines are the ones Debian's arm64 kernels print under QEMU (6.1.192,
 * 6.12.117, -m 3072 cma=64M hugetlb_cma=1G).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "ksyms.h"
#include "memmap.h"
#include "place.h"

#define MAXC 8

static int parse(const char *log, struct mm_cma *c, int max)
{
	memset(c, 0x5a, sizeof(*c) * (size_t)(max > 0 ? max : 0));
	return cma_from_log(log, strlen(log), 12, c, max);
}

static void check_range(const struct mm_cma *c, const char *name, uint64_t base, uint64_t count)
{
	assert_string_equal(c->name, name);
	assert_int_equal(c->base_pfn, base);
	assert_int_equal(c->count, count);
	assert_true(c->exact);
}

/* 6.1: mm/cma.c prints "Reserved %ld MiB at %pa" */
static void test_log_6_1(void **state)
{
	struct mm_cma c[MAXC];

	assert_int_equal(parse("cma: Reserved 64 MiB at 0x000000007ac00000\n", c, MAXC), 1);
	check_range(&c[0], "cma@0x7ac00000", 0x7ac00, 64 * 256);
}

/* 6.12 adds " on node %d" */
static void test_log_6_12(void **state)
{
	struct mm_cma c[MAXC];

	assert_int_equal(parse("cma: Reserved 64 MiB at 0x000000007aa00000 on node -1", c, MAXC), 1);
	check_range(&c[0], "cma@0x7aa00000", 0x7aa00, 16384);
}

/* dmesg's time prefix, the syslog level klogctl gives, and both */
static void test_log_prefixes(void **state)
{
	struct mm_cma c[MAXC];

	assert_int_equal(parse("[    0.000000] cma: Reserved 64 MiB at 0x000000007ac00000\n",
			       c, MAXC), 1);
	check_range(&c[0], "cma@0x7ac00000", 0x7ac00, 16384);
	assert_int_equal(parse("<6>cma: Reserved 1024 MiB at 0x0000000080000000 on node 0\n",
			       c, MAXC), 1);
	check_range(&c[0], "cma@0x80000000", 0x80000, 262144);
	assert_int_equal(parse("<6>[    0.000000] cma: Reserved 32 MiB at 0x0000000040000000\r\n",
			       c, MAXC), 1);
	check_range(&c[0], "cma@0x40000000", 0x40000, 8192);
}

/* device-tree pools (kernel/dma/contiguous.c), with and without "cma: " */
static void test_log_dt_pool(void **state)
{
	struct mm_cma c[MAXC];

	assert_int_equal(parse("[    0.000000] Reserved memory: created CMA memory pool at "
			       "0x000000001ac00000, size 320 MiB\n", c, MAXC), 1);
	check_range(&c[0], "cma@0x1ac00000", 0x1ac00, 320 * 256);
	assert_int_equal(parse("<6>cma: Reserved memory: created CMA memory pool at "
			       "0x0000000037000000, size 256 MiB\n", c, MAXC), 1);
	check_range(&c[0], "cma@0x37000000", 0x37000, 256 * 256);
}

/* lines that look alike and are not an area */
static void test_log_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n\n\n",
		"cma: Failed to reserve 1024 MiB on node 0\n",
		"hugetlb_cma: reservation failed: err -12\n",
		"Reserved 64 MiB at 0x000000007ac00000\n",		/* no "cma: " */
		"crashkernel: Reserved 64 MiB at 0x000000007ac00000\n",
		"cma: Reserved 0 MiB at 0x000000007ac00000\n",
		"cma: Reserved -1 MiB at 0x000000007ac00000\n",
		"cma: Reserved 64 MiB at 0x7ac00000 and more\n",
		"cma: Reserved 64 MiB at\n",
		"cma: Reserved memory: created CMA memory pool at 0x1000, size 64 MiB!\n",
		"cma: Reserved 64 KiB at 0x000000007ac00000\n",
		"[ 0.000000 cma: Reserved 64 MiB at 0x000000007ac00000\n",	/* no ']' */
		"<x>cma: Reserved 64 MiB at 0x000000007ac00000\n",
	};
	struct mm_cma c[MAXC];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = parse(bad[i], c, MAXC);

		if (n)
			fail_msg("accepted: %s", bad[i]);
	}
	/* a line longer than the parser's buffer is skipped, the next one read */
	{
		char big[2048];

		memset(big, 'x', 1000);
		snprintf(big + 1000, sizeof(big) - 1000,
			 "\ncma: Reserved 64 MiB at 0x000000007ac00000\n");
		assert_int_equal(parse(big, c, MAXC), 1);
		check_range(&c[0], "cma@0x7ac00000", 0x7ac00, 16384);
	}
	/* no NUL in LEN: the length is what counts */
	assert_int_equal(cma_from_log("cma: Reserved 64 MiB at 0x7ac00000XYZ",
				      sizeof("cma: Reserved 64 MiB at 0x7ac00000") - 1, 12, c, MAXC), 1);
	assert_int_equal(cma_from_log(NULL, 0, 12, c, MAXC), 0);
	assert_int_equal(cma_from_log(NULL, 4, 12, c, MAXC), -EINVAL);
	assert_int_equal(cma_from_log("", 0, 12, NULL, 1), -EINVAL);
	assert_int_equal(cma_from_log("", 0, 3, c, MAXC), -EINVAL);
}

/*
 * The two areas of arm64 6.1 with hugetlb_cma=1G, among the lines around
 * them, sorted by base; the same area logged twice counts once. 64 KiB
 * pages (shift 16) give other frame numbers.
 */
static void test_log_two_areas(void **state)
{
	static const char log[] =
		"<6>[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]\n"
		"<6>[    0.000000] hugetlb_cma: reserve 1024 MiB, up to 1024 MiB per node\n"
		"<6>[    0.000000] cma: Reserved 1024 MiB at 0x00000000bf800000\n"
		"<6>[    0.000000] cma: Reserved 64 MiB at 0x000000007ac00000\n"
		"<6>[    0.000000] Zone ranges:\n"
		"<6>[    0.000000] cma: Reserved 64 MiB at 0x000000007ac00000\n"
		"<4>[    0.123456] random: crng init done";
	struct mm_cma c[MAXC];

	assert_int_equal(parse(log, c, MAXC), 2);
	check_range(&c[0], "cma@0x7ac00000", 0x7ac00, 16384);
	check_range(&c[1], "cma@0xbf800000", 0xbf800, 262144);
	assert_int_equal(cma_from_log(log, sizeof(log) - 1, 16, c, MAXC), 2);
	assert_int_equal(c[0].base_pfn, 0x7ac0);
	assert_int_equal(c[0].count, 64 * 16);
	assert_int_equal(c[1].base_pfn, 0xbf80);
}

/* more areas than room: -ENOSPC, and what fits is kept */
static void test_log_too_many(void **state)
{
	char log[4096] = "";
	struct mm_cma c[MAXC];
	size_t l = 0;

	for (int i = 0; i < MAXC + 3; i++)
		l += (size_t)snprintf(log + l, sizeof(log) - l,
				      "cma: Reserved 2 MiB at 0x%016llx\n",
				      (unsigned long long)(MAXC + 3 - i) << 21);
	assert_int_equal(parse(log, c, MAXC), -ENOSPC);
	for (int i = 0; i < MAXC; i++) {
		assert_int_equal(c[i].count, 512);
		if (i)
			assert_true(c[i].base_pfn > c[i - 1].base_pfn);
	}
	assert_int_equal(parse(log, c, 0), -ENOSPC);
	assert_int_equal(parse("cma: Reserved 2 MiB at 0x200000\n", c, 1), 1);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/pt-test-kallsyms-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* data symbols of vmlinux only: not text, not a module's, not a zero address */
static void test_ksyms_data(void **state)
{
	static const char *const names[] = { "cma_areas", "cma_area_count", "vmemmap_base" };
	unsigned long long a[3];
	char *path = write_tmp(
		"ffffffc080010000 T cma_areas\n"			/* text: not it */
		"ffffffc0827a1000 b cma_areas\t[some_mod]\n"		/* a module's */
		"ffffffc0827a2e48 B cma_areas\n"
		"ffffffc0827a2e40 B cma_area_count\n"
		"ffffffc0827a2e50 B cma_areas\n"			/* first one wins */
		"0000000000000000 D vmemmap_base\n"
		"garbage line\n");

	assert_int_equal(ksyms_data_lookup(path, names, a, 3), 2);
	assert_int_equal(a[0], 0xffffffc0827a2e48ULL);
	assert_int_equal(a[1], 0xffffffc0827a2e40ULL);
	assert_int_equal(a[2], 0);
	unlink(path);
	free(path);
	assert_int_equal(ksyms_data_lookup("/nonexistent/kallsyms", names, a, 3), -ENOENT);
	assert_int_equal(a[0], 0);
}

/* a tracepoint names a boot-log range once; other sources' names stay */
static void test_place_cma_name(void **state)
{
	static const char log[] = "cma: Reserved 64 MiB at 0x7ac00000\n"
				  "cma: Reserved 1024 MiB at 0xbf800000\n";
	struct place p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(cma_from_log(log, sizeof(log) - 1, 12, p.cma, 4), 2);
	p.ncma = 2;
	p.cma_unnamed = 3;
	p.cma_source = PLACE_CMA_BOOT_LOG;
	snprintf(p.how_cma, sizeof(p.how_cma), "2 range(s) from the boot log");
	place_cma_name(&p, 0x1000, "nowhere");		/* in no range */
	place_cma_name(&p, 0xbf800 + 5, "");
	assert_string_equal(p.cma[1].name, "cma@0xbf800000");
	place_cma_name(&p, 0xbf800 + 5, "hugetlb0");
	assert_string_equal(p.cma[1].name, "hugetlb0");
	place_cma_name(&p, 0xbf800, "other");		/* once */
	assert_string_equal(p.cma[1].name, "hugetlb0");
	place_cma_name(&p, 0x7ac00, "reserved");
	assert_string_equal(p.cma[0].name, "reserved");
	assert_int_equal(p.cma_unnamed, 0);
	assert_string_equal(p.how_cma, "2 range(s) from the boot log; names from the cma tracepoints");

	memset(&p, 0, sizeof(p));			/* kallsyms: named by the kernel */
	p.ncma = 1;
	snprintf(p.cma[0].name, sizeof(p.cma[0].name), "reserved");
	p.cma[0].base_pfn = 0xf8600;
	p.cma[0].count = 16384;
	place_cma_name(&p, 0xf8600, "x");
	assert_string_equal(p.cma[0].name, "reserved");
	assert_string_equal(p.how_cma, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_6_1),
		cmocka_unit_test(test_log_6_12),
		cmocka_unit_test(test_log_prefixes),
		cmocka_unit_test(test_log_dt_pool),
		cmocka_unit_test(test_log_garbage),
		cmocka_unit_test(test_log_two_areas),
		cmocka_unit_test(test_log_too_many),
		cmocka_unit_test(test_ksyms_data),
		cmocka_unit_test(test_place_cma_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
