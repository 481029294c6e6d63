// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --fail-on / --max-lost: parsing, evaluation on summary data, exit status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "opts.h"
#include "report.h"
#include "util.h"
#include "verdict.h"

static int parse(struct pt_opts *o, char *err, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return opts_parse(argc, argv, o, err, 256);
}

static void test_parse(void **state)
{
	char *a1[] = { "pintrace", "run", "--fail-on", "leak,migrate-fail", "--", "true", NULL };
	char *a2[] = { "pintrace", "run", "--fail-on", "all", "--", "true", NULL };
	char *a3[] = { "pintrace", "run", "--max-lost", "7", "--", "true", NULL };
	char *a4[] = { "pintrace", "run", "--fail-on", "leak,,bogus", "--", "true", NULL };
	char *a5[] = { "pintrace", "run", "--max-lost", "-1", "--", "true", NULL };
	char *a6[] = { "pintrace", "check", "--fail-on", "leak", NULL };
	char *a7[] = { "pintrace", "run", "--fail-on", "", "--", "true", NULL };
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, a1), 0);
	assert_int_equal(o.fail_on, (1u << FAIL_LEAK) | (1u << FAIL_MIGRATE));
	assert_int_equal(parse(&o, err, a2), 0);
	assert_int_equal(o.fail_on, (1u << FAIL__MAX) - 1);
	/* a tolerance implies the condition */
	assert_int_equal(parse(&o, err, a3), 0);
	assert_int_equal(o.fail_on, 1u << FAIL_LOST);
	assert_int_equal(o.max_lost, 7);
	assert_int_equal(parse(&o, err, a4), -EINVAL);
	assert_non_null(strstr(err, "'bogus'"));
	assert_int_equal(parse(&o, err, a5), -EINVAL);
	assert_int_equal(parse(&o, err, a6), -EINVAL);
	assert_int_equal(parse(&o, err, a7), -EINVAL);
}

/* A report with @refs pins outstanding and nothing else. */
static void empty_report(struct report *r, struct migrate *m, struct movable *mv)
{
	memset(r, 0, sizeof(*r));
	memset(m, 0, sizeof(*m));
	movable_init(mv, NULL, NULL);
	r->mig = m;
	r->mov = mv;
	r->exit_status = 0;
}

static void test_eval(void **state)
{
	struct mig_failure fails[3] = {};
	struct movable mv;
	struct migrate m;
	struct report r;
	struct verdict v = { .mask = (1u << FAIL__MAX) - 1 };

	empty_report(&r, &m, &mv);
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, 0);
	assert_int_equal(verdict_exit(&v, 42), 42);	/* the command's status */

	/* leak: pins outstanding at exit */
	r.pts.outstanding_refs = 16;
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, 1u << FAIL_LEAK);
	assert_int_equal(v.count[FAIL_LEAK], 16);
	assert_int_equal(verdict_exit(&v, 0), EXIT_FINDINGS);
	r.pts.outstanding_refs = 0;

	/* held-long */
	r.pts.held_long_reported = 2;
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, 1u << FAIL_HELD_LONG);
	r.pts.held_long_reported = 0;

	/* long-term pins left on movable and CMA memory, counted apart */
	mv.groups[0] = (struct mov_group){ .kind = MOV_LONGTERM_PIN, .pages = 5, .cma_pages = 2 };
	mv.groups[1] = (struct mov_group){ .kind = MOV_HELD_PIPE, .pages = 9 };
	mv.ngroups = 2;
	verdict_eval(&v, &r);
	assert_int_equal(v.count[FAIL_LONGTERM_MOVABLE], 3);
	assert_int_equal(v.count[FAIL_LONGTERM_CMA], 2);
	assert_int_equal(v.hit, (1u << FAIL_LONGTERM_MOVABLE) | (1u << FAIL_LONGTERM_CMA));
	mv.ngroups = 0;

	/*
	 * migrate-fail, filtered (run): only failures with a followed holder
	 * or a failed pin of ours; system-wide: every failure.
	 */
	fails[0].nholders = 0;			/* someone else's compaction */
	fails[1].nholders = 1;			/* our pipe blocked it */
	fails[2].pin_failed = true;		/* our long-term pin failed */
	m.fails = fails;
	m.nfails = 3;
	m.fails_total = 3;
	r.filtered = true;
	verdict_eval(&v, &r);
	assert_int_equal(v.count[FAIL_MIGRATE], 2);
	r.filtered = false;
	verdict_eval(&v, &r);
	assert_int_equal(v.count[FAIL_MIGRATE], 3);
	m.nfails = 1;
	r.filtered = true;
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, 0);
	m.nfails = 0;
	m.fails_total = 0;

	/* lost: over the tolerance, and it wins over findings */
	r.bad_records = 3;
	v.max_lost = 3;
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, 0);
	r.bad_records = 4;
	r.pts.outstanding_refs = 1;
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, (1u << FAIL_LOST) | (1u << FAIL_LEAK));
	assert_int_equal(verdict_exit(&v, 0), EXIT_LOST);

	/* only the conditions asked for count */
	v.mask = 1u << FAIL_HELD_LONG;
	verdict_eval(&v, &r);
	assert_int_equal(v.hit, 0);
	assert_int_equal(verdict_exit(&v, 9), 9);
	movable_free(&mv);
}

static void test_render(void **state)
{
	struct verdict v = { .mask = (1u << FAIL_LEAK) | (1u << FAIL_LOST), .hit = 1u << FAIL_LEAK,
			     .count = { [FAIL_LEAK] = 16 }, .max_lost = 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *j, *x;

	verdict_text(&v, f);
	fclose(f);
	assert_non_null(strstr(buf, "Verdict (--fail-on): FAIL\n"));
	assert_non_null(strstr(buf, "  !!  leak              16 pins and holds left at exit\n"));
	assert_non_null(strstr(buf, "  ok  lost              0 lost events or state updates (allowed: 0)\n"));
	free(buf);
	j = verdict_json(&v);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "result")), "fail");
	x = json_object_object_get(j, "hit");
	assert_int_equal(json_object_array_length(x), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(x, 0)), "leak");
	x = json_object_object_get(j, "counts");
	assert_int_equal(json_object_get_int64(json_object_object_get(x, "leak")), 16);
	assert_null(json_object_object_get(x, "held-long"));
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
