// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace diff: loading runs, limits, the comparison, the command line.
 * Fixtures: tests/fixtures/diff/ (summaries written by report_json for
 * a 6.12 plan: io_uring fixed buffers, O_DIRECT, process_vm_readv;
 * regressed.ndjson adds a vfio-style long-term pinner that leaks, and
 * 128 more io_uring pins).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "diff.h"
#include "frames.h"
#include "opts.h"

#define FIX "tests/fixtures/diff/"

static void load(const char *path, struct diff_run *r)
{
	char err[512];
	int ret = diff_load_file(path, r, err, sizeof(err));

	if (ret)
		fail_msg("%s: %s", path, err);
}

/* Compare two fixture files under @spec (NULL: defaults). */
static size_t compare(const char *b, const char *n, const char *spec, __u64 min_count,
		      struct diff_run *rb, struct diff_run *rn, struct diff_result *res)
{
	struct diff_limits l;
	char err[256];

	diff_limits_default(&l);
	l.min_count = min_count;
	if (spec)
		assert_int_equal(diff_limits_parse(spec, &l, err, sizeof(err)), 0);
	load(b, rb);
	load(n, rn);
	assert_int_equal(diff_compare(rb, rn, &l, res), 0);
	return res->regressions;
}

static void done(struct diff_run *rb, struct diff_run *rn, struct diff_result *res)
{
	diff_result_free(res);
	diff_run_free(rb);
	diff_run_free(rn);
}

/* The item of @metric whose label (API or stack) contains @what (NULL: any). */
static const struct diff_item *find(const struct diff_result *res, const char *metric,
				    const char *what)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct diff_item *it = &res->items[i];
		const char *label = it->counts ? it->counts->label :
				    it->holder ? it->holder->label : it->cls ? it->cls : "";

		if (!strcmp(it->metric, metric) && (!what || strstr(label, what)))
			return it;
	}
	return NULL;
}

static void test_unchanged(void **state)
{
	struct diff_run b, n;
	struct diff_result res;

	assert_int_equal(compare(FIX "base.ndjson", FIX "base.ndjson", NULL, 0, &b, &n, &res), 0);
	/* the fixture is what report_json writes: every part was read */
	assert_true(b.has_apis && b.has_stacks && b.has_hold && b.has_holders);
	assert_int_equal(b.val[DS_PINS], 4864);
	assert_int_equal(b.val[DS_LONGTERM], 256);
	assert_int_equal(b.nstacks, 3);
	assert_true(b.has[DS_MIGRATE_FAIL] && b.has[DS_LOST] && b.has[DS_LEAKS]);
	for (size_t i = 0; i < res.n; i++)
		assert_int_not_equal(res.items[i].verdict, DV_REGRESSION);
	done(&b, &n, &res);
	/* the summary object alone, pretty-printed, is the same run */
	assert_int_equal(compare(FIX "base.ndjson", FIX "base-summary.json", NULL, 0, &b, &n, &res),
			 0);
	assert_int_equal(n.val[DS_PINS], 4864);
	assert_int_equal(n.nstacks, 3);
	done(&b, &n, &res);
}

static void test_regression(void **state)
{
	struct diff_run b, n;
	struct diff_result res;
	const struct diff_item *it;

	assert_true(compare(FIX "base.ndjson", FIX "regressed.ndjson", NULL, 0, &b, &n, &res) > 0);
	it = find(&res, "pins", NULL);
	assert_non_null(it);
	assert_int_equal(it->verdict, DV_REGRESSION);	/* +13% > 10% */
	it = find(&res, "long-term pins", NULL);
	assert_int_equal(it->base, 256);
	assert_int_equal(it->new, 896);
	assert_int_equal(it->verdict, DV_REGRESSION);
	/* the new pinner: its API, its stack (by callers), its leak */
	it = find(&res, "stack pins", "vfio_pin_pages_remote");
	assert_non_null(it);
	assert_int_equal(it->key, DK_NEW_STACKS);
	assert_string_equal(it->note, "new stack");
	assert_string_equal(it->counts->api, "pin_user_pages");
	assert_int_equal(it->verdict, DV_REGRESSION);
	assert_int_equal(find(&res, "API pins", "pin_user_pages")->key, DK_NEW_APIS);
	assert_int_equal(find(&res, "API long-term pins", "pin_user_pages_fast")->verdict,
			 DV_REGRESSION);
	it = find(&res, "left at exit", NULL);
	assert_int_equal(it->new, 8);
	assert_int_equal(it->verdict, DV_REGRESSION);
	it = find(&res, "new leak holder", "pin_user_pages");
	assert_non_null(it);
	assert_int_equal(it->verdict, DV_REGRESSION);
	/* longer holds: the long-term p99 moved up four log2 buckets */
	it = find(&res, "hold p99", "longterm");
	assert_int_equal(it->new / it->base, 16);
	assert_int_equal(it->verdict, DV_REGRESSION);
	assert_int_equal(find(&res, "hold p50", "short")->verdict, DV_OK);
	/* O_DIRECT pins did not change: not a regression */
	assert_int_equal(find(&res, "stack pins", "iov_iter_extract_pages")->verdict, DV_OK);
	done(&b, &n, &res);
}

static void test_within_tolerance(void **state)
{
	struct diff_run b, n;
	struct diff_result res;
	const struct diff_item *it;

	/* other offsets and clone numbers (a rebuilt kernel), +5% on one stack */
	assert_int_equal(compare(FIX "base.ndjson", FIX "rebuilt.ndjson", NULL, 0, &b, &n, &res), 0);
	it = find(&res, "stack pins", "iov_iter_extract_pages");
	assert_non_null(it);
	assert_int_equal(it->base, 4096);
	assert_int_equal(it->new, 4300);
	assert_int_equal(it->verdict, DV_OK);
	/* process_vm_rw_single_vec.constprop.0 vs .constprop.1: one stack */
	it = find(&res, "stack pins", "process_vm_rw_single_vec");
	assert_int_equal(it->key, DK_STACK);
	assert_int_equal(it->base, it->new);
	done(&b, &n, &res);
	/* limits loose enough for the regressed run: every check passes */
	assert_int_equal(compare(FIX "base.ndjson", FIX "regressed.ndjson",
				 "pins=15%,longterm=off,api=off,stack=100%,new-apis=1,new-stacks=1,"
				 "hold-p99=off,leaks=8,new-leaks=1", 0, &b, &n, &res), 0);
	done(&b, &n, &res);
	/* and one notch tighter fails again */
	assert_int_equal(compare(FIX "base.ndjson", FIX "regressed.ndjson",
				 "pins=15%,longterm=off,api=off,stack=100%,new-apis=1,new-stacks=1,"
				 "hold-p99=off,leaks=7,new-leaks=1", 0, &b, &n, &res), 1);
	done(&b, &n, &res);
}

static const char small_base[] =
	"{\"type\":\"summary\",\"pins\":{\"acquired_refs\":3},"
	"\"by_api\":[{\"api\":\"pin_user_pages_fast\",\"pin_refs\":3,\"longterm_pin_refs\":0}],"
	"\"by_stack\":[{\"api\":\"pin_user_pages_fast\",\"stack\":[\"io_pin_pages+0x8d\"],"
	"\"pin_grabs\":3,\"pin_refs\":3,\"longterm_pin_refs\":0}],\"by_stack_omitted\":%d,"
	"\"hold_hist_ns\":{\"short\":[{\"min\":%llu,\"max\":%llu,\"count\":10}]}}";

static void load_small(struct diff_run *r, int omitted, unsigned long long lo)
{
	char buf[1024], err[256];

	snprintf(buf, sizeof(buf), small_base, omitted, lo, 2 * lo - 1);
	if (diff_load_mem(buf, strlen(buf), "mem", r, err, sizeof(err)))
		fail_msg("%s", err);
}

static void test_min_count_and_holds(void **state)
{
	static const char newer[] =
		"{\"type\":\"summary\",\"pins\":{\"acquired_refs\":5},"
		"\"by_api\":[{\"api\":\"pin_user_pages_fast\",\"pin_refs\":3}],"
		"\"by_stack\":[{\"api\":\"pin_user_pages_fast\",\"stack\":[\"io_pin_pages+0x8d\"],"
		"\"pin_refs\":3},{\"api\":\"pin_user_pages_fast\",\"stack\":[\"blk_foo+0x1\"],"
		"\"pin_refs\":2}],\"hold_hist_ns\":{\"short\":[{\"min\":4096,\"max\":8191,\"count\":10}]}}";
	struct diff_run b, n;
	struct diff_result res;
	struct diff_limits l;
	char err[256];

	diff_limits_default(&l);
	load_small(&b, 0, 2048);
	assert_int_equal(diff_load_mem(newer, strlen(newer), "new", &n, err, sizeof(err)), 0);
	/* 3 -> 5 pins is +67%; a 2-pin stack is new; p50 2us -> 4us is one bucket */
	assert_int_equal(diff_compare(&b, &n, &l, &res), 0);
	assert_int_equal(res.regressions, 2);
	assert_int_equal(find(&res, "pins", NULL)->verdict, DV_REGRESSION);
	assert_int_equal(find(&res, "stack pins", "blk_foo")->verdict, DV_REGRESSION);
	assert_int_equal(find(&res, "hold p50", "short")->verdict, DV_OK);
	diff_result_free(&res);
	/* tiny counters: --min-count 8 ignores them, absolute limits still judge */
	l.min_count = 8;
	assert_int_equal(diff_compare(&b, &n, &l, &res), 0);
	assert_int_equal(res.regressions, 0);
	assert_int_equal(find(&res, "pins", NULL)->verdict, DV_IGNORED);
	assert_int_equal(find(&res, "stack pins", "blk_foo")->verdict, DV_IGNORED);
	diff_result_free(&res);
	diff_run_free(&b);
	/* two buckets up is 4x: over the default 2x */
	l.min_count = 0;
	load_small(&b, 0, 1024);
	assert_int_equal(diff_compare(&b, &n, &l, &res), 0);
	assert_int_equal(res.regressions, 4);
	assert_int_equal(find(&res, "hold p50", "short")->verdict, DV_REGRESSION);
	assert_int_equal(find(&res, "hold p99", "short")->verdict, DV_REGRESSION);
	diff_result_free(&res);
	diff_run_free(&b);
	/* BASE listed only its top stacks: a NEW stack below its smallest may be one it left out */
	load_small(&b, 5, 2048);
	assert_int_equal(diff_compare(&b, &n, &l, &res), 0);
	assert_int_equal(res.regressions, 1);
	assert_int_equal(find(&res, "stack pins", "blk_foo")->verdict, DV_INFO);
	diff_result_free(&res);
	diff_run_free(&b);
	diff_run_free(&n);
}

static void test_limits_parse(void **state)
{
	static const char *const bad[] = {
		"", "pins", "pins=", "bogus=1", "pins=10%%", "pins=-1", "pins=1e3", "pins=inf",
		"pins=nan", "pins=0x10", "pins=1.2.3", "pins=.5", "pins=10%,", ",pins=1",
		"pins=1,,stack=2", "new-stacks=10%", "new-apis=2x", "hold-p99=5", "hold-p50=0.5x",
		"pins= 1", "PINS=1", "pins=10 %",
	};
	struct diff_limits l;
	char err[256], buf[32];

	diff_limits_default(&l);
	assert_int_equal(l.l[DK_PINS].kind, LIM_PCT);
	assert_string_equal(diff_limit_str(&l.l[DK_PINS], buf, sizeof(buf)), "+10%");
	assert_string_equal(diff_limit_str(&l.l[DK_HOLD_P99], buf, sizeof(buf)), "2x");
	assert_string_equal(diff_limit_str(&l.l[DK_LEAKS], buf, sizeof(buf)), "+0");
	assert_int_equal(diff_limits_parse("pins=12.5%,longterm=3,hold-p99=4x,stack=off", &l,
					   err, sizeof(err)), 0);
	assert_int_equal(l.l[DK_PINS].kind, LIM_PCT);
	assert_true(l.l[DK_PINS].v == 12.5);
	assert_int_equal(l.l[DK_LONGTERM].kind, LIM_ABS);
	assert_true(l.l[DK_LONGTERM].v == 3);
	assert_int_equal(l.l[DK_HOLD_P99].kind, LIM_FACTOR);
	assert_int_equal(l.l[DK_STACK].kind, LIM_OFF);
	assert_int_equal(diff_limits_parse("new-stacks=2", &l, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (diff_limits_parse(bad[i], &l, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(err[0]);
	}
	diff_limits_parse("bogus=1", &l, err, sizeof(err));
	assert_non_null(strstr(err, "unknown --threshold key 'bogus'"));
	for (int k = 0; k < DK__MAX; k++)
		assert_int_equal(diff_key_parse(diff_key_name(k)), k);
}

/* Inputs that must be refused with a message naming the input and the problem. */
static void test_malformed(void **state)
{
	static const struct { const char *in, *msg; } cases[] = {
		{ "", "empty" },
		{ " \n\t\n", "empty" },
		{ "pins: 3\n", "not JSON" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":3}", "truncated" },
		{ "[1,2]", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "42", "not a JSON object" },
		{ "{\"type\":\"attach\",\"schema_version\":1}", "no \"summary\" record" },
		{ "{\"type\":\"attach\",\"schema_version\":999}\n"
		  "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":3}}", "schema_version 999" },
		{ "{\"type\":\"attach\",\"schema_version\":\"1\"}", "schema_version: expected" },
		{ "{\"type\":7}", "\"type\": expected a string" },
		{ "{\"type\":\"summary\"}", "pins: missing" },
		{ "{\"type\":\"summary\",\"pins\":[]}", "pins: expected object" },
		{ "{\"type\":\"summary\",\"pins\":{}}", "pins.acquired_refs: missing" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":-1}}", "negative count" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1.5}}", "expected a count, got double" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"by_api\":{}}",
		  "by_api: expected array" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"by_api\":[{\"pin_refs\":1}]}",
		  "by_api[0].api: missing" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"by_stack\":"
		  "[{\"api\":\"x\",\"stack\":[\"a\",3]}]}", "by_stack[0].stack[1]: expected a string" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"hold_hist_ns\":"
		  "{\"short\":[{\"min\":\"1\"}]}}", "hold_hist_ns.short[0].min" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"leaks\":{\"holders\":[{}]}}",
		  "leaks.holders[0].kind: missing" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"migration\":"
		  "{\"failures_total\":true}}", "migration.failures_total" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},\"loss\":3}", "loss: expected object" },
		{ "{'type':'summary'}", "not JSON" },
		{ "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1},}", "not JSON" },
		{ "{\"type\":\"summary\",\"x\":\"\xff\xfe\"}", "not JSON" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		  "not JSON" },
		{ "{\"a\":1}\n{\"b\":2}", "no \"summary\" record" },
	};
	struct diff_run r;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (diff_load_mem(cases[i].in, strlen(cases[i].in), "in.json", &r, err, sizeof(err)) !=
		    -EINVAL)
			fail_msg("case %zu accepted: %s", i, cases[i].in);
		if (strncmp(err, "in.json: ", 9) || !strstr(err, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
		assert_null(r.apis);
		assert_null(r.stacks);
	}
	/* a NUL byte inside the input is not JSON either */
	assert_int_equal(diff_load_mem("{\"type\":\"su\0mmary\"}", 19, "nul", &r, err, sizeof(err)),
			 -EINVAL);
	/* the fixtures of the host tests */
	assert_int_equal(diff_load_file(FIX "wrong-type.json", &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pins.acquired_refs: expected a count, got string"));
	assert_int_equal(diff_load_file(FIX "future-schema.ndjson", &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 1: schema_version 99"));
	assert_int_equal(diff_load_file(FIX "not-json.ndjson", &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2: truncated"));
	assert_int_equal(diff_load_file(FIX "no-summary.ndjson", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(diff_load_file(FIX "missing.ndjson", &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing.ndjson: cannot open: No such file"));
	assert_int_equal(diff_load_file(FIX, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot read: Is a directory"));
}

static void test_stream(void **state)
{
	/* the last summary counts; records may span lines; unknown types pass */
	static const char in[] =
		"{\"type\":\"attach\",\"schema_version\":1}\r\n"
		"{\"type\":\"summary\",\"pins\":{\"acquired_refs\":1}}\n"
		"{\"type\":\"future_record\",\"x\":[1,2]}{\"type\":\"pin\"}\n"
		"{\"type\":\"summary\",\n \"pins\":{\"acquired_refs\":7},\"by_api\":[],\n"
		" \"by_stack\":[{\"api\":\"a\",\"stack\":[\"f+0x1\"],\"pin_refs\":2},"
		"{\"api\":\"a\",\"stack\":[\"f+0x2\"],\"pin_refs\":3}]}\n";
	/* a bare summary without "type" (hand-made) */
	static const char bare[] = "{\"pins\":{\"acquired_refs\":9,\"outstanding_refs\":1}}";
	struct diff_run r;
	char err[256];

	assert_int_equal(diff_load_mem(in, strlen(in), "s", &r, err, sizeof(err)), 0);
	assert_int_equal(r.val[DS_PINS], 7);
	assert_true(r.has_apis);
	assert_int_equal(r.napis, 0);
	/* f+0x1 and f+0x2 are one stack after stripping offsets */
	assert_int_equal(r.nstacks, 1);
	assert_int_equal(r.stacks[0].pin_refs, 5);
	assert_string_equal(r.stacks[0].frames_str, "f");
	assert_false(r.has_stacks && r.stacks_omitted);
	assert_false(r.has[DS_MIGRATE_FAIL]);
	diff_run_free(&r);
	assert_int_equal(diff_load_mem(bare, strlen(bare), "b", &r, err, sizeof(err)), 0);
	assert_int_equal(r.val[DS_PINS], 9);
	assert_int_equal(r.val[DS_LEAKS], 1);
	diff_run_free(&r);
}

static void test_missing_parts(void **state)
{
	/* an older summary: no by_api, by_stack, migration...: shown, not judged */
	static const char old[] = "{\"type\":\"summary\",\"pins\":{\"acquired_refs\":4864}}";
	struct diff_run b, n;
	struct diff_result res;
	struct diff_limits l;
	char err[256];
	const struct diff_item *it;

	diff_limits_default(&l);
	assert_int_equal(diff_load_mem(old, strlen(old), "old", &b, err, sizeof(err)), 0);
	load(FIX "base.ndjson", &n);
	assert_int_equal(diff_compare(&b, &n, &l, &res), 0);
	assert_int_equal(res.regressions, 0);
	it = find(&res, "by_stack", NULL);
	assert_non_null(it);
	assert_int_equal(it->verdict, DV_INFO);
	assert_string_equal(it->note, "not in BASE: not compared");
	assert_int_equal(find(&res, "migration failures", NULL)->verdict, DV_INFO);
	done(&b, &n, &res);
}

static void test_frames(void **state)
{
	static const char *const gup[] = { "try_grab_folio_fast+0x5", "gup_fast_fallback+0xb4",
					   "pin_user_pages_fast+0x2f", "io_pin_pages+0x8d" };
	char buf[64];

	assert_string_equal(frame_stable("io_pin_pages+0x8d", buf, sizeof(buf)), "io_pin_pages");
	assert_string_equal(frame_stable("vaddr_get_pfns+0x7a [vfio_iommu_type1]", buf, sizeof(buf)),
			    "vaddr_get_pfns [vfio_iommu_type1]");
	assert_string_equal(frame_stable("process_vm_rw_single_vec.constprop.0+0xd4", buf,
					 sizeof(buf)), "process_vm_rw_single_vec");
	assert_string_equal(frame_stable("0xffffffffc0a81234", buf, sizeof(buf)), "?");
	assert_string_equal(frame_stable("0xnothex", buf, sizeof(buf)), "0xnothex");
	assert_string_equal(frame_stable("bare", buf, sizeof(buf)), "bare");
	assert_string_equal(frame_stable("", buf, sizeof(buf)), "");
	assert_string_equal(frame_stable(".weird+0x1", buf, sizeof(buf)), ".weird");
	assert_true(frame_internal("__gup_longterm_locked+0x2b8"));
	assert_false(frame_internal("iov_iter_extract_pages+0x11e"));
	assert_int_equal(frames_first_caller(gup, 4), 3);
	assert_int_equal(frames_first_caller(gup, 3), 0);	/* all GUP: the innermost */
}

static void test_cli(void **state)
{
	char *ok[] = { "diff", "-o", "json", "-t", "pins=5%", "--threshold", "stack=off,lost=2",
		       "--min-count", "16", "a", "b", NULL };
	char *few[] = { "diff", "a", NULL };
	char *many[] = { "diff", "a", "b", "c", NULL };
	char *bad_key[] = { "diff", "-t", "pinz=1", "a", "b", NULL };
	char *bad_min[] = { "diff", "--min-count", "-1", "a", "b", NULL };
	char *bad_out[] = { "diff", "-o", "yaml", "a", "b", NULL };
	char *unknown[] = { "diff", "--frobnicate", "a", "b", NULL };
	char *top[] = { "pintrace", "diff", "--bogus-is-diffs-business", NULL };
	struct diff_opts o;
	struct pt_opts po;
	char err[256];

	assert_int_equal(diff_opts_parse(11, ok, &o, err, sizeof(err)), 0);
	assert_true(o.json);
	assert_int_equal(o.lim.l[DK_PINS].kind, LIM_PCT);
	assert_true(o.lim.l[DK_PINS].v == 5);
	assert_int_equal(o.lim.l[DK_STACK].kind, LIM_OFF);
	assert_true(o.lim.l[DK_LOST].v == 2);
	assert_int_equal(o.lim.min_count, 16);
	assert_string_equal(o.base, "a");
	assert_string_equal(o.new, "b");
	assert_int_equal(diff_opts_parse(2, few, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs two files"));
	assert_int_equal(diff_opts_parse(4, many, &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(diff_opts_parse(5, bad_key, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'pinz'"));
	assert_int_equal(diff_opts_parse(5, bad_min, &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(diff_opts_parse(5, bad_out, &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(diff_opts_parse(4, unknown, &o, err, sizeof(err)), -EINVAL);
	/* the top-level parser hands diff's options to diff */
	assert_int_equal(opts_parse(3, top, &po, err, sizeof(err)), 0);
	assert_int_equal(po.cmd, CMD_DIFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_regression),
		cmocka_unit_test(test_within_tolerance),
		cmocka_unit_test(test_min_count_and_holds),
		cmocka_unit_test(test_limits_parse),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_missing_parts),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
