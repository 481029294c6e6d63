// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the exit summary aggregation.
 * cc -Iinclude -Isrc tests/unit/test_summary.c src/summary.c src/hist.c -lcmocka
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "summary.h"

static struct pt_event grab(__u32 pid, const char *comm, __u8 api, __u8 hook,
			    __u32 flags, __u32 refs)
{
	struct pt_event e = { .type = PT_EV_GRAB, .hook = hook, .api = api,
			      .pt_flags = flags, .pid = pid, .tid = pid,
			      .refs = refs, .folio = 0xffffea0000001000ULL };

	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	return e;
}

static struct pt_event call(__u32 pid, __u8 hook, __u64 nr_req, __s64 ret,
			    __u64 dur)
{
	struct pt_event e = { .type = PT_EV_CALL, .hook = hook, .pid = pid,
			      .tid = pid, .nr_req = nr_req, .ret = ret,
			      .dur_ns = dur };

	strcpy(e.comm, "caller");
	return e;
}

static void setup_summary(struct summary *s)
{
	assert_int_equal(summary_init(s), 0);
}

struct api_seen {
	unsigned int n;
	__u8 keys[8];
	struct summary_api a[8];
};

static void collect_api(__u8 key, const struct summary_api *a, void *ctx)
{
	struct api_seen *seen = ctx;

	assert_true(seen->n < 8);
	seen->keys[seen->n] = key;
	seen->a[seen->n++] = *a;
}

static void test_api_counts(void **state)
{
	struct summary s;
	struct pt_event e;
	struct api_seen seen = { 0 };
	const struct summary_totals *tot;

	(void)state;
	setup_summary(&s);
	e = grab(1, "fio", PT_HOOK_PIN_USER_PAGES_FAST, PT_HOOK_TRY_GRAB_FOLIO,
		 PT_F_PIN, 4);
	summary_grab(&s, &e);
	e.pt_flags = PT_F_PIN | PT_F_LONGTERM;
	e.refs = 2;
	summary_grab(&s, &e);
	/* a FOLL_GET grab under another API */
	e = grab(1, "fio", PT_HOOK_GET_USER_PAGES, PT_HOOK_TRY_GRAB_PAGE,
		 PT_F_GET, 1);
	summary_grab(&s, &e);
	/* outside any API: attributed to the chokepoint hook */
	e = grab(2, "iou-wrk", PT_HOOK_NONE, PT_HOOK_FOLIO_ADD_PINS, PT_F_PIN, 8);
	summary_grab(&s, &e);
	e = grab(2, "iou-wrk", PT_HOOK_NONE, PT_HOOK_FOLIO_ADD_PINS, 0, 1);
	summary_grab(&s, &e);

	summary_foreach_api(&s, collect_api, &seen);
	assert_int_equal(seen.n, 3);
	/* id order */
	assert_int_equal(seen.keys[0], PT_HOOK_FOLIO_ADD_PINS);
	assert_int_equal(seen.a[0].pin_grabs, 1);
	assert_int_equal(seen.a[0].pin_refs, 8);
	assert_int_equal(seen.keys[1], PT_HOOK_PIN_USER_PAGES_FAST);
	assert_int_equal(seen.a[1].pin_grabs, 2);
	assert_int_equal(seen.a[1].pin_refs, 6);
	assert_int_equal(seen.a[1].longterm_pin_refs, 2);
	assert_int_equal(seen.a[1].get_grabs, 0);
	assert_int_equal(seen.keys[2], PT_HOOK_GET_USER_PAGES);
	assert_int_equal(seen.a[2].get_grabs, 1);
	assert_int_equal(seen.a[2].get_refs, 1);
	assert_int_equal(seen.a[2].pin_grabs, 0);

	tot = summary_totals(&s);
	assert_int_equal(tot->grabs, 5);
	assert_int_equal(tot->pin_refs, 14);
	assert_int_equal(tot->get_refs, 1);
	assert_int_equal(tot->unflagged_grabs, 1);
	summary_free(&s);
}

static void test_calls(void **state)
{
	struct summary s;
	struct pt_event e;
	struct api_seen seen = { 0 };
	const struct log2_hist *h;

	(void)state;
	setup_summary(&s);
	e = call(1, PT_HOOK_PIN_USER_PAGES_FAST, 16, 16, 1000);
	summary_call(&s, &e);
	e = call(1, PT_HOOK_PIN_USER_PAGES_FAST, 16, 5, 2000);	/* short */
	summary_call(&s, &e);
	e = call(1, PT_HOOK_PIN_USER_PAGES_FAST, 16, 0, 3000);	/* short, 0 */
	summary_call(&s, &e);
	e = call(1, PT_HOOK_PIN_USER_PAGES_FAST, 16, -14, 4000); /* -EFAULT */
	summary_call(&s, &e);
	summary_foreach_api(&s, collect_api, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.a[0].calls, 4);
	assert_int_equal(seen.a[0].call_failures, 1);
	assert_int_equal(seen.a[0].call_short, 2);
	assert_int_equal(seen.a[0].pages_req, 64);
	assert_int_equal(seen.a[0].pages_ret, 21);
	assert_int_equal(summary_totals(&s)->calls, 4);
	assert_int_equal(summary_totals(&s)->call_failures, 1);
	assert_int_equal(summary_totals(&s)->call_short, 2);
	h = summary_call_hist(&s);
	assert_int_equal(h->count, 4);
	assert_int_equal(h->sum, 10000);
	summary_free(&s);
}

struct procs_seen {
	unsigned int n;
	struct summary_proc p[16];
};

static void collect_proc(const struct summary_proc *p, void *ctx)
{
	struct procs_seen *seen = ctx;

	if (seen->n < 16)
		seen->p[seen->n] = *p;
	seen->n++;
}

static void test_unpin_classes(void **state)
{
	struct pin_owner o = { .pid = 7, .api = PT_HOOK_PIN_USER_PAGES,
			       .hook = PT_HOOK_TRY_GRAB_FOLIO, .pt_flags = PT_F_PIN };
	struct unpin_match m = { .owner = &o, .folio = 0x1000 };
	struct procs_seen procs = { 0 };
	struct api_seen seen = { 0 };
	struct summary s;

	(void)state;
	setup_summary(&s);
	strcpy(o.comm, "qemu");
	m.refs = 3, m.hold_ns = 100, m.cls = PIN_CLASS_SHORT;
	summary_unpin_match(&s, &m);
	m.refs = 1, m.hold_ns = 5000000000ULL, m.cls = PIN_CLASS_HELD_LONG;
	summary_unpin_match(&s, &m);
	m.refs = 2, m.hold_ns = 9000000000ULL, m.cls = PIN_CLASS_LONGTERM;
	summary_unpin_match(&s, &m);
	m.owner = NULL, m.preexisting = true, m.refs = 5, m.hold_ns = 0;
	m.cls = PIN_CLASS_SHORT;
	summary_unpin_match(&s, &m);

	summary_foreach_api(&s, collect_api, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.keys[0], PT_HOOK_PIN_USER_PAGES);
	assert_int_equal(seen.a[0].unpin_refs[PIN_CLASS_SHORT], 3);
	assert_int_equal(seen.a[0].unpin_refs[PIN_CLASS_HELD_LONG], 1);
	assert_int_equal(seen.a[0].unpin_refs[PIN_CLASS_LONGTERM], 2);
	assert_int_equal(summary_totals(&s)->preexisting_refs, 5);
	assert_int_equal(summary_totals(&s)->unpin_refs[PIN_CLASS_SHORT], 3);
	assert_int_equal(summary_hold_hist(&s, PIN_CLASS_SHORT)->count, 1);
	assert_int_equal(summary_hold_hist(&s, PIN_CLASS_SHORT)->max, 100);
	assert_int_equal(summary_hold_hist(&s, PIN_CLASS_HELD_LONG)->count, 1);
	assert_int_equal(summary_hold_hist(&s, PIN_CLASS_LONGTERM)->min,
			 9000000000ULL);
	assert_null(summary_hold_hist(&s, PIN_CLASS__MAX));
	/* the owner process got the unpins, under its comm */
	assert_int_equal(summary_nr_procs(&s), 1);
	assert_int_equal(summary_foreach_proc(&s, collect_proc, &procs), 0);
	assert_int_equal(procs.n, 1);
	assert_int_equal(procs.p[0].pid, 7);
	assert_string_equal(procs.p[0].comm, "qemu");
	assert_int_equal(procs.p[0].unpin_refs[PIN_CLASS_SHORT], 3);
	assert_int_equal(procs.p[0].unpin_refs[PIN_CLASS_HELD_LONG], 1);
	assert_int_equal(procs.p[0].unpin_refs[PIN_CLASS_LONGTERM], 2);
	summary_free(&s);
}

static void test_procs_sorted(void **state)
{
	struct procs_seen seen = { 0 };
	struct summary s;
	struct pt_event e;

	(void)state;
	setup_summary(&s);
	e = grab(10, "small", 0, PT_HOOK_TRY_GRAB_FOLIO, PT_F_PIN, 1);
	summary_grab(&s, &e);
	e = grab(20, "big", 0, PT_HOOK_TRY_GRAB_FOLIO, PT_F_PIN, 100);
	summary_grab(&s, &e);
	e = grab(30, "getter", 0, PT_HOOK_TRY_GRAB_PAGE, PT_F_GET, 50);
	summary_grab(&s, &e);
	e = grab(0, "swapper/0", 0, PT_HOOK_TRY_GRAB_FOLIO, PT_F_PIN, 5);
	summary_grab(&s, &e);	/* pid 0 is a process like any other */
	/* comm changes on exec: the latest one is kept */
	e = grab(10, "small-exec", 0, PT_HOOK_TRY_GRAB_FOLIO, PT_F_PIN, 2);
	summary_grab(&s, &e);
	e = call(20, PT_HOOK_PIN_USER_PAGES, 1, -1, 10);
	summary_call(&s, &e);

	assert_int_equal(summary_foreach_proc(&s, collect_proc, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.p[0].pid, 20);
	assert_int_equal(seen.p[0].pin_refs, 100);
	assert_int_equal(seen.p[0].calls, 1);
	assert_int_equal(seen.p[0].call_failures, 1);
	assert_string_equal(seen.p[0].comm, "caller");
	assert_int_equal(seen.p[1].pid, 0);
	assert_int_equal(seen.p[1].pin_refs, 5);
	assert_int_equal(seen.p[2].pid, 10);
	assert_int_equal(seen.p[2].pin_refs, 3);
	assert_int_equal(seen.p[2].pin_grabs, 2);
	assert_string_equal(seen.p[2].comm, "small-exec");
	assert_int_equal(seen.p[3].pid, 30);	/* 0 pins, 50 refs */
	assert_int_equal(seen.p[3].get_refs, 50);
	assert_null(summary_proc_other(&s, NULL));
	summary_free(&s);
}

static void test_proc_overflow(void **state)
{
	const __u32 n = SUMMARY_MAX_PROCS + 100;
	struct procs_seen seen = { 0 };
	const struct summary_proc *other;
	__u64 other_events = 0, sum = 0;
	struct summary s;
	struct pt_event e;
	__u32 pid;

	(void)state;
	setup_summary(&s);
	for (pid = 1; pid <= n; pid++) {
		e = grab(pid, "p", 0, PT_HOOK_TRY_GRAB_FOLIO, PT_F_PIN, pid);
		summary_grab(&s, &e);
	}
	/* a known process still gets its own entry once the table is full */
	e = grab(1, "p", 0, PT_HOOK_TRY_GRAB_FOLIO, PT_F_PIN, 1);
	summary_grab(&s, &e);

	assert_int_equal(summary_nr_procs(&s), SUMMARY_MAX_PROCS);
	other = summary_proc_other(&s, &other_events);
	assert_non_null(other);
	assert_int_equal(other_events, 100);
	assert_int_equal(other->pin_grabs, 100);
	assert_string_equal(other->comm, "other");
	/* nothing lost: per-process + other == total */
	assert_int_equal(summary_foreach_proc(&s, collect_proc, &seen), 0);
	assert_int_equal(seen.n, SUMMARY_MAX_PROCS);
	for (pid = 1; pid <= SUMMARY_MAX_PROCS; pid++)
		sum += pid;
	assert_int_equal(sum + 1 + other->pin_refs, summary_totals(&s)->pin_refs);
	assert_int_equal(seen.p[0].pid, SUMMARY_MAX_PROCS);	/* most pins */
	summary_free(&s);
}

struct stack_seen {
	unsigned int n;
	struct summary_stack st[16];
};

static void collect_stack(const struct summary_stack *st, void *ctx)
{
	struct stack_seen *seen = ctx;

	assert_true(seen->n < 16);
	seen->st[seen->n++] = *st;
}

static struct pt_event stack_grab(__u8 api, __s32 stack_id, __u32 flags, __u32 refs)
{
	struct pt_event e = grab(7, "fio", api, PT_HOOK_TRY_GRAB_FOLIO_FAST, flags, refs);

	e.stack_id = stack_id;
	return e;
}

static void test_stack_counts(void **state)
{
	struct summary s;
	struct pt_event e;
	struct stack_seen seen = { 0 };

	(void)state;
	setup_summary(&s);
	/* (api, stack 5): two grabs, one long-term */
	e = stack_grab(PT_HOOK_PIN_USER_PAGES_FAST, 5, PT_F_PIN, 4);
	summary_grab(&s, &e);
	e = stack_grab(PT_HOOK_PIN_USER_PAGES_FAST, 5, PT_F_PIN | PT_F_LONGTERM, 16);
	summary_grab(&s, &e);
	/* same stack id under another API is another key */
	e = stack_grab(PT_HOOK_PIN_USER_PAGES, 5, PT_F_PIN, 2);
	summary_grab(&s, &e);
	/* every failed stackid (-EEXIST, -EFAULT) is one "no stack" key */
	e = stack_grab(PT_HOOK_PIN_USER_PAGES, -17, PT_F_PIN, 1);
	summary_grab(&s, &e);
	e = stack_grab(PT_HOOK_PIN_USER_PAGES, -14, PT_F_PIN, 1);
	summary_grab(&s, &e);
	/* FOLL_GET references and unflagged grabs are not pins */
	e = stack_grab(PT_HOOK_PIN_USER_PAGES, 9, PT_F_GET, 64);
	summary_grab(&s, &e);
	e = stack_grab(PT_HOOK_PIN_USER_PAGES, 9, 0, 64);
	summary_grab(&s, &e);
	/* outside any API: the chokepoint hook is the key, as in by_api */
	e = stack_grab(PT_HOOK_NONE, 5, PT_F_PIN, 3);
	summary_grab(&s, &e);

	assert_int_equal(summary_nr_stacks(&s), 4);
	assert_int_equal(summary_foreach_stack(&s, 16, collect_stack, &seen), 0);
	assert_int_equal(seen.n, 4);
	/* by pin_refs descending */
	assert_int_equal(seen.st[0].api, PT_HOOK_PIN_USER_PAGES_FAST);
	assert_int_equal(seen.st[0].stack_id, 5);
	assert_int_equal(seen.st[0].pin_grabs, 2);
	assert_int_equal(seen.st[0].pin_refs, 20);
	assert_int_equal(seen.st[0].longterm_pin_refs, 16);
	assert_int_equal(seen.st[1].api, PT_HOOK_TRY_GRAB_FOLIO_FAST);
	assert_int_equal(seen.st[1].pin_refs, 3);
	/* 2 refs each: pin_grabs (2 before 1) decides */
	assert_int_equal(seen.st[2].api, PT_HOOK_PIN_USER_PAGES);
	assert_int_equal(seen.st[2].stack_id, -1);
	assert_int_equal(seen.st[2].pin_grabs, 2);
	assert_int_equal(seen.st[3].stack_id, 5);
	assert_int_equal(seen.st[3].longterm_pin_refs, 0);
	assert_null(summary_stack_other(&s));
	summary_free(&s);
}

static void test_stack_top_and_overflow(void **state)
{
	struct summary s;
	struct pt_event e;
	struct stack_seen seen = { 0 };
	__u64 listed = 0, total = 0;
	const struct summary_stack *other;
	__s32 id;

	(void)state;
	setup_summary(&s);
	/* stack i has i refs; 10 keys beyond the bound */
	for (id = 1; id <= SUMMARY_MAX_STACKS + 10; id++) {
		e = stack_grab(PT_HOOK_PIN_USER_PAGES_FAST, id, PT_F_PIN, (__u32)id);
		summary_grab(&s, &e);
		total += (__u32)id;
	}
	/* a known key still counts once the table is full */
	e = stack_grab(PT_HOOK_PIN_USER_PAGES_FAST, 1, PT_F_PIN | PT_F_LONGTERM, 1);
	summary_grab(&s, &e);
	total++;

	assert_int_equal(summary_nr_stacks(&s), SUMMARY_MAX_STACKS);
	other = summary_stack_other(&s);
	assert_non_null(other);
	assert_int_equal(other->pin_grabs, 10);
	/* top 3 of 1024: the rest is reported as omitted */
	assert_int_equal(summary_foreach_stack(&s, 3, collect_stack, &seen),
			 SUMMARY_MAX_STACKS - 3);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.st[0].stack_id, SUMMARY_MAX_STACKS);
	assert_int_equal(seen.st[2].stack_id, SUMMARY_MAX_STACKS - 2);
	/* nothing lost: listed + omitted + overflow == all pins */
	for (id = 1; id <= SUMMARY_MAX_STACKS; id++)
		listed += (__u32)id;
	assert_int_equal(listed + 1 + other->pin_refs, total);
	assert_int_equal(summary_totals(&s)->pin_refs, total);
	summary_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_counts),
		cmocka_unit_test(test_stack_top_and_overflow),
		cmocka_unit_test(test_api_counts),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_unpin_classes),
		cmocka_unit_test(test_procs_sorted),
		cmocka_unit_test(test_proc_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
