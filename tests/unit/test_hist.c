// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the log2 histogram.
 * cc -Iinclude -Isrc tests/unit/test_hist.c src/hist.c -lcmocka
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"

static void test_slot_edges(void **state)
{
	unsigned int k;

	(void)state;
	assert_int_equal(hist_slot(0), 0);
	assert_int_equal(hist_slot(1), 0);
	assert_int_equal(hist_slot(2), 1);
	assert_int_equal(hist_slot(3), 1);
	assert_int_equal(hist_slot(4), 2);
	assert_int_equal(hist_slot(7), 2);
	assert_int_equal(hist_slot(8), 3);
	assert_int_equal(hist_slot(1ULL << 63), 63);
	assert_int_equal(hist_slot(UINT64_MAX), 63);
	for (k = 1; k < 64; k++) {
		assert_int_equal(hist_slot(1ULL << k), k);
		assert_int_equal(hist_slot((1ULL << k) - 1), k - 1);
	}
}

struct bucket {
	__u64 lo, hi, count;
};

struct buckets {
	struct bucket b[64];
	unsigned int n;
};

static void collect(__u64 lo, __u64 hi, __u64 count, void *ctx)
{
	struct buckets *bs = ctx;

	assert_true(bs->n < 64);
	bs->b[bs->n++] = (struct bucket){ lo, hi, count };
}

static void test_add_and_foreach(void **state)
{
	struct log2_hist h = { 0 };
	struct buckets bs = { .n = 0 };
	static const __u64 vals[] = { 0, 1, 2, 3, 4, 1ULL << 63, UINT64_MAX };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		hist_add(&h, vals[i]);
	assert_int_equal(h.count, 7);
	assert_int_equal(h.min, 0);
	assert_int_equal(h.max, UINT64_MAX);
	assert_int_equal(h.sum, UINT64_MAX);	/* saturated, not wrapped */
	assert_int_equal(h.slots[0], 2);
	assert_int_equal(h.slots[1], 2);
	assert_int_equal(h.slots[2], 1);
	assert_int_equal(h.slots[63], 2);

	hist_foreach_nonzero(&h, collect, &bs);
	assert_int_equal(bs.n, 4);
	assert_int_equal(bs.b[0].lo, 0);
	assert_int_equal(bs.b[0].hi, 1);
	assert_int_equal(bs.b[0].count, 2);
	assert_int_equal(bs.b[1].lo, 2);
	assert_int_equal(bs.b[1].hi, 3);
	assert_int_equal(bs.b[1].count, 2);
	assert_int_equal(bs.b[2].lo, 4);
	assert_int_equal(bs.b[2].hi, 7);
	assert_int_equal(bs.b[2].count, 1);
	assert_int_equal(bs.b[3].lo, 1ULL << 63);
	assert_int_equal(bs.b[3].hi, UINT64_MAX);
	assert_int_equal(bs.b[3].count, 2);
}

static void test_min_max_avg(void **state)
{
	struct log2_hist h = { 0 };

	(void)state;
	assert_int_equal(hist_avg(&h), 0);
	hist_add(&h, 500);
	assert_int_equal(h.min, 500);	/* not the zeroed min */
	assert_int_equal(h.max, 500);
	hist_add(&h, 100);
	hist_add(&h, 900);
	assert_int_equal(h.min, 100);
	assert_int_equal(h.max, 900);
	assert_int_equal(h.sum, 1500);
	assert_int_equal(hist_avg(&h), 500);
}

static void test_merge(void **state)
{
	struct log2_hist a = { 0 }, b = { 0 }, all = { 0 }, empty = { 0 };
	unsigned int seed = 3, i;
	__u64 v;

	(void)state;
	for (i = 0; i < 1000; i++) {
		v = (__u64)rand_r(&seed) << (rand_r(&seed) % 32);
		hist_add(i & 1 ? &a : &b, v);
		hist_add(&all, v);
	}
	hist_merge(&a, &b);
	assert_memory_equal(&a, &all, sizeof(a));
	/* merging an empty one must not clobber min with its zero */
	hist_merge(&a, &empty);
	assert_memory_equal(&a, &all, sizeof(a));
	/* merging into an empty one copies */
	hist_merge(&empty, &all);
	assert_memory_equal(&empty, &all, sizeof(all));
}

static void test_fmt(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 0), "0ns");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 999), "999ns");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 1000), "1.00us");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 1024), "1.02us");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 65536), "65.5us");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 524288), "524us");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 999700), "1.00ms");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 1ULL << 30), "1.07s");
	assert_string_equal(hist_fmt_ns(buf, sizeof(buf), 3600000000000ULL),
			    "3600s");
	hist_fmt_ns(buf, sizeof(buf), UINT64_MAX);
	assert_string_equal(buf, "18446744074s");
}

static char *print_to_string(const struct log2_hist *h, const char *label)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	assert_non_null(f);
	hist_print(f, h, label);
	fclose(f);
	return s;
}

static void test_print(void **state)
{
	struct log2_hist h = { 0 };
	int i, lines = 0;
	char *s, *p;

	(void)state;
	s = print_to_string(&h, "ns");
	assert_string_equal(s, "  count 0\n");
	free(s);

	for (i = 0; i < 8; i++)
		hist_add(&h, 1500);		/* [1.02us, 2.05us) */
	hist_add(&h, 5000);			/* [4.10us, 8.19us) */
	s = print_to_string(&h, "ns");
	assert_string_equal(s,
		"  count 9, min 1.50us, avg 1.89us, max 5.00us\n"
		"  [1.02us, 2.05us)            8 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"  [2.05us, 4.10us)            0 |                                        |\n"
		"  [4.10us, 8.19us)            1 |@@@@@                                   |\n");
	free(s);

	/* another unit: raw numbers, labelled */
	s = print_to_string(&h, "pages");
	assert_string_equal(s,
		"  count 9, min 1500, avg 1888, max 5000 pages\n"
		"  [1024, 2048)                8 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"  [2048, 4096)                0 |                                        |\n"
		"  [4096, 8192)                1 |@@@@@                                   |\n");
	free(s);

	/* edge slots render without overflow */
	memset(&h, 0, sizeof(h));
	hist_add(&h, 0);
	hist_add(&h, UINT64_MAX);
	s = print_to_string(&h, NULL);
	assert_non_null(strstr(s, "[0ns, 2ns)"));
	assert_non_null(strstr(s, ", inf)"));
	/* the 62 empty slots in between are shown */
	for (p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 64);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_edges),
		cmocka_unit_test(test_add_and_foreach),
		cmocka_unit_test(test_min_max_avg),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
