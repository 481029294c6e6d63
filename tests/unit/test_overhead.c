// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The overhead section of the summary: peak tracking, the program list,
 * and its JSON and text renderings from made-up numbers (no BPF, no root).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "opts.h"
#include "overhead.h"

static void test_peak(void **state)
{
	struct overhead ov;

	overhead_init(&ov);
	overhead_note_pending(&ov, 100, 0);
	assert_int_equal(ov.rb_peak, 100);
	overhead_note_pending(&ov, 150, 120);	/* less pending: the peak stays */
	assert_int_equal(ov.rb_peak, 100);
	overhead_note_pending(&ov, 4196, 96);
	assert_int_equal(ov.rb_peak, 4100);
	overhead_note_pending(&ov, 10, 20);	/* never negative */
	assert_int_equal(ov.rb_peak, 4100);
}

static void test_poll_unmapped(void **state)
{
	struct overhead ov;

	overhead_init(&ov);
	assert_int_equal(ov.stats_fd, -1);
	overhead_poll(&ov);
	overhead_poll(&ov);
	assert_int_equal(ov.polls, 2);
	assert_int_equal(ov.rb_peak, 0);
	overhead_free(&ov);	/* nothing to close or unmap */
}

static void test_progs(void **state)
{
	struct overhead ov;

	overhead_init(&ov);
	overhead_add_prog(&ov, "fexit_gup_put_folio", 1000, 50000);
	overhead_add_prog(&ov, "on_sys_exit", 90000, 4500000);
	overhead_add_prog(&ov, "kprobe_idle", 0, 0);	/* never ran: not listed */
	overhead_add_prog(&ov, "b_tie", 10, 50000);
	overhead_sort_progs(&ov);
	assert_int_equal(ov.nprogs, 3);
	assert_string_equal(ov.progs[0].name, "on_sys_exit");
	/* equal run time: by name */
	assert_string_equal(ov.progs[1].name, "b_tie");
	assert_string_equal(ov.progs[2].name, "fexit_gup_put_folio");
	assert_int_equal(ov.total_run_cnt, 91010);
	assert_int_equal(ov.total_run_time_ns, 4600000);
}

static void test_progs_capped(void **state)
{
	struct overhead ov;

	overhead_init(&ov);
	for (int i = 0; i < OVH_MAX_PROGS + 5; i++)
		overhead_add_prog(&ov, "p", 1, 10);
	/* the list is bounded, the totals are not */
	assert_int_equal(ov.nprogs, OVH_MAX_PROGS);
	assert_int_equal(ov.total_run_cnt, OVH_MAX_PROGS + 5);
	assert_int_equal(ov.total_run_time_ns, 10 * (OVH_MAX_PROGS + 5));
}

static void test_stats_names(void **state)
{
	assert_string_equal(overhead_stats_name(OVH_STATS_ENABLED), "enabled");
	assert_string_equal(overhead_stats_name(OVH_STATS_ALREADY), "already_enabled");
	assert_string_equal(overhead_stats_name(OVH_STATS_OFF), "off");
	assert_string_equal(overhead_stats_name(OVH_STATS_UNAVAILABLE), "unavailable");
}

static void add_map(struct overhead *ov, const char *name, __u32 max, __u64 n, bool counted)
{
	struct ovh_map *m = &ov->maps[ov->nmaps++];

	snprintf(m->name, sizeof(m->name), "%s", name);
	m->max_entries = max;
	m->entries = n;
	m->counted = counted;
}

/* A session's worth of numbers: 7 programs ran, one table filling, one not counted. */
static void fake(struct overhead *ov)
{
	static const char *names[] = { "a1", "a2", "a3", "a4", "a5", "a6", "a7" };

	overhead_init(ov);
	ov->stats = OVH_STATS_ENABLED;
	for (int i = 0; i < 7; i++)
		overhead_add_prog(ov, names[i], 3, 244 * (i + 1));
	overhead_sort_progs(ov);
	ov->rb_size = 4 << 20;
	ov->rb_peak = 1 << 20;
	ov->polls = 1234;
	ov->rss_peak_kib = 20480;
	add_map(ov, "held", 262144, 200000, true);
	add_map(ov, "gup_ctxs", 16384, 3, true);
	add_map(ov, "pipe_held", 262144, 5000, false);
}

static void test_json(void **state)
{
	static const char *keys[] = { "bpf_stats", "programs", "total_run_cnt",
				      "total_run_time_ns", "ringbuf", "maps",
				      "rss_peak_kib", "load_ns", "attach_ns" };
	struct overhead ov;
	json_object *j, *p, *m, *rb, *v;
	const char *s;

	fake(&ov);
	j = overhead_json(&ov);
	assert_int_equal(json_object_object_length(j), 9);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_true(json_object_object_get_ex(j, keys[i], NULL));
	assert_true(json_object_object_get_ex(j, "bpf_stats", &v));
	assert_string_equal(json_object_get_string(v), "enabled");
	assert_true(json_object_object_get_ex(j, "programs", &p));
	assert_int_equal(json_object_array_length(p), 7);
	p = json_object_array_get_idx(p, 0);
	assert_int_equal(json_object_object_length(p), 4);
	assert_true(json_object_object_get_ex(p, "name", &v));
	assert_string_equal(json_object_get_string(v), "a7");
	assert_true(json_object_object_get_ex(p, "run_cnt", &v));
	assert_int_equal(json_object_get_int64(v), 3);
	assert_true(json_object_object_get_ex(p, "run_time_ns", &v));
	assert_int_equal(json_object_get_int64(v), 1708);
	/* 1708 / 3, with one decimal in the text */
	assert_true(json_object_object_get_ex(p, "avg_ns", &v));
	assert_true(json_object_is_type(v, json_type_double));
	assert_string_equal(json_object_to_json_string(v), "569.3");
	assert_true(json_object_object_get_ex(j, "total_run_cnt", &v));
	assert_int_equal(json_object_get_int64(v), 21);
	assert_true(json_object_object_get_ex(j, "total_run_time_ns", &v));
	assert_int_equal(json_object_get_int64(v), 244 * 28);
	assert_true(json_object_object_get_ex(j, "ringbuf", &rb));
	assert_true(json_object_object_get_ex(rb, "size_bytes", &v));
	assert_int_equal(json_object_get_int64(v), 4 << 20);
	assert_true(json_object_object_get_ex(rb, "peak_pending_bytes", &v));
	assert_int_equal(json_object_get_int64(v), 1 << 20);
	assert_true(json_object_object_get_ex(rb, "polls", &v));
	assert_int_equal(json_object_get_int64(v), 1234);
	assert_true(json_object_object_get_ex(j, "maps", &m));
	assert_int_equal(json_object_array_length(m), 3);
	v = json_object_array_get_idx(m, 0);
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	assert_string_equal(s, "{\"name\":\"held\",\"max_entries\":262144,\"entries\":200000}");
	/* not counted in time: null, not the lower bound */
	v = json_object_array_get_idx(m, 2);
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	assert_string_equal(s, "{\"name\":\"pipe_held\",\"max_entries\":262144,\"entries\":null}");
	json_object_put(j);
}

/* The text rendering of ov, in a malloc'd string. */
static char *text_of(const struct overhead *ov)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	overhead_text(ov, f);
	fclose(f);
	return buf;
}

static void assert_has(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("no \"%s\" in:\n%s", what, text);
}

static void test_text(void **state)
{
	struct overhead ov;
	char *t;

	fake(&ov);
	t = text_of(&ov);
	assert_has(t, "Overhead:\n");
	assert_has(t, "  21 program runs, 0.007 ms in BPF (325 ns/run)\n");
	/* the top 5 by run time, the rest counted */
	assert_has(t, "  a7 ");
	assert_has(t, "  a3 ");
	assert_null(strstr(t, "  a2 "));
	assert_has(t, "(2 more programs ran)");
	assert_has(t, "ring buffer: peak 1.0 MiB pending of 4.0 MiB (25.0%), 1234 polls");
	assert_has(t, "maps over 50% full: held 200000/262144 (76%)\n");
	assert_null(strstr(t, "gup_ctxs"));
	assert_has(t, "maps not counted in time: pipe_held (>=5000)\n");
	free(t);
}

static void test_text_stats_states(void **state)
{
	struct overhead ov;
	char *t;

	overhead_init(&ov);
	ov.stats = OVH_STATS_OFF;
	t = text_of(&ov);
	assert_has(t, "BPF run-time stats off (--no-bpf-stats)");
	assert_null(strstr(t, "program runs"));
	free(t);

	ov.stats = OVH_STATS_UNAVAILABLE;
	ov.stats_err = -EPERM;
	t = text_of(&ov);
	assert_has(t, "BPF run-time stats unavailable: Operation not permitted (errno 1)");
	free(t);

	ov.stats = OVH_STATS_ALREADY;
	overhead_add_prog(&ov, "on_fork", 2, 200);
	t = text_of(&ov);
	assert_has(t, "2 program runs, 0.000 ms in BPF (100 ns/run); kernel.bpf_stats_enabled "
		   "was already 1\n");
	free(t);
}

static void test_opt_no_bpf_stats(void **state)
{
	char *deflt[] = { "pintrace", "-d", "1s", NULL };
	char *off[] = { "pintrace", "run", "--no-bpf-stats", "--", "true", NULL };
	struct pt_opts o;
	char err[256];

	assert_int_equal(opts_parse(3, deflt, &o, err, sizeof(err)), 0);
	assert_false(o.no_bpf_stats);
	assert_int_equal(opts_parse(5, off, &o, err, sizeof(err)), 0);
	assert_true(o.no_bpf_stats);
	assert_string_equal(o.argv[0], "true");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peak),
		cmocka_unit_test(test_poll_unmapped),
		cmocka_unit_test(test_progs),
		cmocka_unit_test(test_progs_capped),
		cmocka_unit_test(test_stats_names),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_stats_states),
		cmocka_unit_test(test_opt_no_bpf_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
