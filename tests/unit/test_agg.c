// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the loader's side of in-kernel aggregation (src/agg.c),
 * the summary's aggregated counters, and the BPF log2 against hist_slot().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "hist.h"
#include "summary.h"
#include "../../bpf/log2.bpf.h"

static void test_log2_matches_hist_slot(void **state)
{
	__u64 v = 1;

	(void)state;
	assert_int_equal(log2_u64(0), hist_slot(0));
	for (unsigned int k = 0; k < 64; k++) {
		__u64 p = 1ULL << k;

		assert_int_equal(log2_u64(p), hist_slot(p));
		assert_int_equal(log2_u64(p - 1), hist_slot(p - 1));
		assert_int_equal(log2_u64(p + 1), hist_slot(p + 1));
	}
	assert_int_equal(log2_u64(UINT64_MAX), 63);
	for (int i = 0; i < 100000; i++) {	/* an LCG walk over the whole range */
		v = v * 6364136223846793005ULL + 1442695040888963407ULL;
		assert_int_equal(log2_u64(v >> (i % 64)), hist_slot(v >> (i % 64)));
	}
}

static void test_unpin_splits_promoted(void **state)
{
	struct agg a;

	(void)state;
	assert_int_equal(agg_init(&a, -1, -1, -1, 1000), 0);
	assert_false(agg_pending(&a));
	assert_int_equal(agg_scan(&a, 0, true, NULL, NULL), 0);
	agg_promoted(&a, 0x1000, 3);
	agg_promoted(&a, 0x1000, 1);
	assert_int_equal(agg_promoted_refs(&a, 0x1000), 4);
	assert_int_equal(agg_unpin(&a, 0x1000, 2), 2);
	/* 2 promoted left; an unpin of 5: 2 were in the table, 3 never were */
	assert_int_equal(agg_unpin(&a, 0x1000, 5), 2);
	assert_int_equal(agg_promoted_refs(&a, 0x1000), 0);
	assert_int_equal(agg_unpin(&a, 0x2000, 1), 0);
	assert_int_equal(a.promoted_refs, 4);
	assert_int_equal(a.pair_refs, 8);
	assert_int_equal(a.unseen_refs, 4);
	assert_int_equal(a.used, 0);
	agg_free(&a);
}

/* Random promotions and unpins on many folios against a plain array. */
static void test_table_against_model(void **state)
{
	enum { N = 3000 };
	static __u32 model[N];
	struct agg a;
	__u64 x = 42;

	(void)state;
	memset(model, 0, sizeof(model));
	assert_int_equal(agg_init(&a, -1, -1, -1, 0), 0);
	for (int i = 0; i < 200000; i++) {
		__u64 f;
		__u32 r;
		int k;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (int)((x >> 33) % N);
		/* struct page addresses: 64-byte steps in one region */
		f = 0xffffea0000000000ULL + (__u64)k * 64;
		r = (__u32)((x >> 20) % 4) + 1;
		if ((x >> 60) & 1) {
			agg_promoted(&a, f, r);
			model[k] += r;
		} else {
			__u32 want = model[k] < r ? model[k] : r;

			assert_int_equal(agg_unpin(&a, f, r), want);
			model[k] -= want;
		}
		if (i % 9973 == 0)
			for (int j = 0; j < N; j++)
				assert_int_equal(agg_promoted_refs(&a, 0xffffea0000000000ULL +
								   (__u64)j * 64), model[j]);
	}
	size_t live = 0;

	for (int j = 0; j < N; j++)
		live += model[j] != 0;
	assert_int_equal(a.used, live);
	agg_free(&a);
}

static void test_sum_vals_and_hists(void **state)
{
	struct pt_agg_val v[3] = {
		{ .count = 1, .refs = 2, .unpin_refs = 1 },
		{ .count = 4, .refs = 8, .unpin_refs = 9, .pages_ret = 5, .short_calls = 1,
		  .comm = "pinload" },
		{ .count = 2, .refs = 2, .comm = "other" },
	};
	struct pt_agg_hist h[2] = {};
	struct log2_hist want = {}, got;
	struct pt_agg_val s;
	__u64 samples[] = { 0, 1, 5, 900, 1u << 20, 3, 77 };

	(void)state;
	agg_sum_vals(v, 3, &s);
	assert_int_equal(s.count, 7);
	assert_int_equal(s.refs, 12);
	assert_int_equal(s.unpin_refs, 10);
	assert_int_equal(s.pages_ret, 5);
	assert_int_equal(s.short_calls, 1);
	assert_string_equal(s.comm, "pinload");	/* the first CPU that has one */
	/* what agg_hist_add() does per CPU, against hist_add() */
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct pt_agg_hist *c = &h[i % 2];
		__u64 val = samples[i];

		c->slots[log2_u64(val)]++;
		if (!c->count || val < c->min)
			c->min = val;
		if (val > c->max)
			c->max = val;
		c->count++;
		c->sum += val;
		hist_add(&want, val);
	}
	agg_sum_hists(h, 2, &got);
	assert_memory_equal(&got, &want, sizeof(got));
	/* a CPU with no samples leaves min alone */
	memset(&h[1], 0, sizeof(h[1]));
	h[1].count = 0;
	agg_sum_hists(h, 2, &got);
	assert_int_equal(got.min, 0);
	assert_int_equal(got.count, h[0].count);
}

static void count_stacks(const struct summary_stack *st, void *ctx)
{
	__u64 *n = ctx;

	n[0]++;
	n[1] += st->pin_refs;
}

static void test_summary_adds(void **state)
{
	struct summary s;
	const struct summary_totals *t;
	__u64 st[2] = {};

	(void)state;
	assert_int_equal(summary_init(&s), 0);
	summary_add_pins(&s, 10, "pinload", PT_HOOK_PIN_USER_PAGES_REMOTE, PT_HOOK_TRY_GRAB_FOLIO,
			 7, 3, 64, 60);
	summary_add_pins(&s, 10, "pinload", PT_HOOK_PIN_USER_PAGES_REMOTE, PT_HOOK_TRY_GRAB_FOLIO,
			 8, 1, 16, 16);
	/* an unpin-only key (its pins were counted under another key): no stack row */
	summary_add_pins(&s, 11, "kworker", PT_HOOK_NONE, PT_HOOK_GUP_PUT_FOLIO, -1, 0, 0, 4);
	summary_add_calls(&s, 10, "pinload", PT_HOOK_PIN_USER_PAGES_REMOTE, 4, 80, 80, 0);
	summary_add_calls(&s, 10, "pinload", PT_HOOK_PIN_USER_PAGES_REMOTE, 1, 10, 3, 1);
	t = summary_totals(&s);
	assert_int_equal(t->grabs, 4);
	assert_int_equal(t->pin_refs, 80);
	assert_int_equal(t->unpin_refs[PIN_CLASS_SHORT], 80);
	assert_int_equal(t->calls, 5);
	assert_int_equal(t->call_short, 1);
	assert_int_equal(t->call_failures, 0);
	assert_int_equal(s.api[PT_HOOK_PIN_USER_PAGES_REMOTE].pin_refs, 80);
	assert_int_equal(s.api[PT_HOOK_PIN_USER_PAGES_REMOTE].pages_ret, 83);
	assert_int_equal(s.api[PT_HOOK_PIN_USER_PAGES_REMOTE].pages_req, 90);
	assert_int_equal(summary_foreach_stack(&s, 10, count_stacks, st), 0);	/* none left over */
	assert_int_equal(st[0], 2);
	assert_int_equal(st[1], 80);
	assert_int_equal(summary_nr_procs(&s), 2);
	summary_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2_matches_hist_slot),
		cmocka_unit_test(test_unpin_splits_promoted),
		cmocka_unit_test(test_table_against_model),
		cmocka_unit_test(test_sum_vals_and_hists),
		cmocka_unit_test(test_summary_adds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
