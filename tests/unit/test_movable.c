// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Holds on movable and CMA memory (src/movable.c, place_unpinnable() of
 * src/place.c): a hand-made struct place (no BPF), long-term pins still held
 * when their call returned, long holds by pipes, grouping, the live records
 * and the exit summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "hooks.h"
#include "movable.h"

#define SEC 1000000000ULL
#define F(i) (0xffffea0000100000ULL + (__u64)(i) * 0x40)
#define PIPE_A 0xffff888000a00000ULL	/* ino 7001 */
#define PIPE_B 0xffff888000b00000ULL	/* ino 7002 */
#define CMA_BASE 0x80000ULL
#define CMA_PFN 0x80010ULL
#define idx(a, i) json_object_array_get_idx(a, i)
#define EQ(a, b) assert_int_equal(a, b)

struct fx {
	struct place pl;
	struct stackfmt sf;
	struct pintable *pins;
	struct movable mv;
	struct output o;
	FILE *f;
	char *buf;
	size_t len;
};

static void fx_output(struct fx *x, enum out_fmt fmt)
{
	if (x->f)
		fclose(x->f), free(x->buf);
	x->buf = NULL;
	assert_non_null(x->f = open_memstream(&x->buf, &x->len));
	out_init(&x->o, x->f, fmt, true, NULL, 0);
}

/* Zones as on x86 with a Movable zone, and one CMA area. */
static struct place make_place(void)
{
	return (struct place){ .zone_known = true, .movable = 3, .nzones = 5, .ncma = 1,
		.zone_names = { "DMA", "DMA32", "Normal", "Movable", "Device" },
		.cma = { { .name = "reserved", .base_pfn = CMA_BASE, .count = 0x1000 } } };
}

static int setup(void **state)
{
	struct pintable_opts po = { 0 };
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->pl = make_place();
	x->sf.map_fd = -1;
	assert_non_null(x->pins = pintable_new(&po));
	movable_init(&x->mv, &x->pl, &x->sf);
	fx_output(x, OUT_JSON);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	movable_free(&x->mv);
	pintable_free(x->pins);
	fclose(x->f);
	free(x->buf);
	free(x);
	return 0;
}

/* The owner the loader records for a grab (as holds.c/trace.c do). */
static struct pin_owner owner(const struct pt_event *e)
{
	struct pin_owner ow = { .pid = e->pid, .tid = e->tid, .api = e->api, .hook = e->hook,
				.pt_flags = e->pt_flags, .gup_flags = e->gup_flags,
				.holder = e->holder, .holder_id = e->holder_id,
				.stack_id = e->stack_id, .origin_stack_id = -1,
				.pfn = e->pfn, .zone = e->zone };

	memcpy(ow.comm, e->comm, sizeof(ow.comm));
	return ow;
}

/* A long-term pin by tid @tid, recorded in the pin table, offered to movable_grab(). */
static void grab(struct fx *x, __u32 tid, __u32 flags, __u64 folio, __u64 pfn, __u8 zone,
		 __u64 ts)
{
	struct pt_event e = { .type = PT_EV_GRAB, .hook = PT_HOOK_TRY_GRAB_FOLIO,
			      .api = PT_HOOK_PIN_USER_PAGES, .pt_flags = flags, .pid = tid,
			      .tid = tid, .ts_ns = ts, .folio = folio, .refs = 1, .stack_id = -1,
			      .gup_flags = 0x10001, .pfn = pfn, .zone = zone };
	struct pin_owner ow;

	strcpy(e.comm, "gup");
	ow = owner(&e);
	assert_int_equal(pintable_pin(x->pins, folio, 1, &ow, ts), 0);
	movable_grab(&x->mv, &e, &ow);
}

static void call(struct fx *x, __u32 tid, __s64 ret, __u64 ts)
{
	struct pt_event e = { .type = PT_EV_CALL, .hook = PT_HOOK_PIN_USER_PAGES, .pid = tid,
			      .tid = tid, .ts_ns = ts, .ret = ret, .stack_id = -1 };

	movable_call(&x->mv, &x->o, &e, x->pins);
}

static struct pin_owner pipe_owner(__u32 pid, __u64 pipe, __u64 ino, __u8 zone)
{
	struct pin_owner ow = { .pid = pid, .tid = pid, .pt_flags = PT_F_GET | PT_F_PIPE,
				.hook = PT_HOOK_VMSPLICE, .holder = pipe, .holder_id = ino,
				.stack_id = -1, .origin_stack_id = -1, .pfn = 0x1000,
				.zone = zone };

	strcpy(ow.comm, "writer");
	return ow;
}

static json_object *get(json_object *j, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(j, key, &v))
		fail_msg("no key '%s' in %s", key, json_object_to_json_string(j));
	return v;
}

/* Every key of the JSON object @want has the same value in @r. */
static void assert_fields(json_object *r, const char *want)
{
	json_object *w = json_tokener_parse(want);

	assert_non_null(w);
	json_object_object_foreach(w, k, v) {
		json_object *a = get(r, k);

		if (!json_object_equal(a, v))
			fail_msg("%s: %s, want %s in %s", k, json_object_to_json_string(a),
				 json_object_to_json_string(v), json_object_to_json_string(r));
	}
	json_object_put(w);
}

/* The stream's records, parsed: an array (the caller puts it). */
static json_object *records(struct fx *x)
{
	json_object *a = json_object_new_array();

	fflush(x->f);
	for (char *p = x->buf, *nl; p && *p; p = nl + 1) {
		assert_non_null(nl = strchr(p, '\n'));
		*nl = '\0';
		json_object_array_add(a, json_tokener_parse(p));
		*nl = '\n';
		assert_non_null(idx(a, json_object_array_length(a) - 1));
	}
	return a;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay ? hay : "(null)");
}

static void test_unpinnable(void **state)
{
	struct place pl = make_place();
	bool cma = true;

	(void)state;
	assert_true(place_unpinnable(&pl, 0x1000, 3, &cma));
	assert_false(cma);
	assert_false(place_unpinnable(&pl, 0x1000, 2, &cma));
	assert_false(place_unpinnable(&pl, 0x1000, 4, &cma));
	assert_false(place_unpinnable(&pl, 0x1000, PT_ZONE_UNKNOWN, &cma));
	assert_false(place_unpinnable(&pl, PT_PFN_UNKNOWN, 2, &cma));
	assert_false(cma);
	assert_true(place_unpinnable(&pl, CMA_PFN, 2, &cma));
	assert_true(cma);
	assert_true(place_unpinnable(&pl, CMA_BASE, PT_ZONE_UNKNOWN, &cma));
	assert_true(cma);
	assert_false(place_unpinnable(&pl, CMA_BASE + 0x1000, 2, &cma));	/* just past it */
	assert_false(cma);
	assert_false(place_unpinnable(&pl, CMA_BASE - 1, 2, &cma));
	pl.zone_known = false;
	assert_false(place_unpinnable(&pl, 0x1000, 3, &cma));
	assert_true(place_unpinnable(&pl, CMA_PFN, 3, &cma));	/* CMA needs no zone */
	assert_true(cma);
	pl.zone_known = true;
	pl.movable = -1;
	assert_false(place_unpinnable(&pl, 0x1000, 3, &cma));
	assert_string_equal(place_zone_name(&pl, 3), "Movable");
	assert_string_equal(place_zone_name(&pl, 0), "DMA");
	assert_string_equal(place_zone_name(&pl, 5), "?");
	assert_string_equal(place_zone_name(&pl, PT_ZONE_UNKNOWN), "?");
	assert_string_equal(place_zone_name(NULL, 3), "?");
}

static void test_longterm_left(void **state)
{
	struct fx *x = *state;
	struct mov_group *g = &x->mv.groups[0];
	json_object *a;

	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(1), 0x1000, 3, 1 * SEC);
	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(2), 0x1001, 3, 1 * SEC + SEC / 2);
	EQ(x->mv.ncands, 2);
	call(x, 51, 2, 2 * SEC);	/* another thread's call: nothing happens */
	EQ(x->mv.ncands, 2); EQ(x->mv.ngroups, 0);
	fflush(x->f);
	EQ(x->len, 0);
	call(x, 50, 2, 3 * SEC);
	EQ(x->mv.ncands, 0); EQ(x->mv.ngroups, 1); EQ(x->mv.flagged_pages, 2);
	EQ(g->kind, MOV_LONGTERM_PIN); EQ(g->pages, 2); EQ(g->cma_pages, 0);
	EQ(g->zone_pages[3], 2); EQ(g->owner.pid, 50); EQ(g->t0_ns, 1 * SEC);
	EQ(g->age_ns, 2 * SEC);
	assert_true(g->shown);
	a = records(x);
	EQ(json_object_array_length(a), 1);
	assert_fields(idx(a, 0), "{\"type\":\"longterm_movable\",\"kind\":\"longterm_pin\","
				 "\"pid\":50,\"pages\":2,\"cma_pages\":0,\"age_ns\":2000000000,"
				 "\"ts_ns\":3000000000,\"zones\":{\"Movable\":2},\"pfn\":\"0x1000\","
				 "\"api\":\"pin_user_pages\",\"gup_flags\":\"0x10001\"}");
	json_object_put(a);

	fx_output(x, OUT_TEXT);	/* the text rendering of the same group */
	g->shown = false;
	movable_flush(&x->mv, &x->o);
	fflush(x->f);
	assert_string_equal(x->buf, "!! long-term pin left on Movable memory: gup/50, pin_user_pages "
				    "(gup_flags 0x10001), 2 pages (pfn 0x1000), 2.00s: it should "
				    "have been migrated first\n");
}

static void test_longterm_not_left(void **state)
{
	struct fx *x = *state;

	/* unpinned (migrated) before the call returned */
	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(1), 0x1000, 3, 1 * SEC);
	EQ(x->mv.ncands, 1);
	pintable_unpin(x->pins, F(1), 1, 50, 1 * SEC + 10, NULL, NULL);
	call(x, 50, 1, 2 * SEC);
	EQ(x->mv.ncands, 0); EQ(x->mv.ngroups, 0); EQ(x->mv.flagged_pages, 0);
	/* not movable, not long-term, not a pin: never candidates */
	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(2), 0x1000, 2, 3 * SEC);
	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(3), 0x1000, PT_ZONE_UNKNOWN, 3 * SEC);
	grab(x, 50, PT_F_PIN, F(4), 0x1000, 3, 3 * SEC);
	grab(x, 50, PT_F_GET | PT_F_LONGTERM, F(5), 0x1000, 3, 3 * SEC);
	EQ(x->mv.ncands, 0);
	/* a failed call: whatever it pinned is not left */
	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(6), 0x1000, 3, 4 * SEC);
	call(x, 50, -14, 5 * SEC);
	EQ(x->mv.ncands, 0); EQ(x->mv.ngroups, 0);
	fflush(x->f);
	EQ(x->len, 0);
}

static void test_longterm_cma(void **state)
{
	struct fx *x = *state;

	fx_output(x, OUT_TEXT);
	grab(x, 60, PT_F_PIN | PT_F_LONGTERM, F(1), CMA_PFN, 2, 1 * SEC);
	call(x, 60, 1, 1 * SEC + 5000);
	EQ(x->mv.ngroups, 1); EQ(x->mv.groups[0].cma_pages, 1); EQ(x->mv.groups[0].zone_pages[2], 1);
	fflush(x->f);
	assert_contains(x->buf, "!! long-term pin left on CMA memory: gup/60, pin_user_pages "
				"(gup_flags 0x10001), 1 pages (pfn 0x80010), 5.0us:");
}

static void test_held_pipes(void **state)
{
	struct fx *x = *state;
	struct pin_owner a = pipe_owner(10, PIPE_A, 7001, 3), b = pipe_owner(10, PIPE_B, 7002, 3);
	struct pin_owner n = pipe_owner(10, PIPE_A, 7001, 2);
	struct mov_group *g = x->mv.groups;
	json_object *arr;
	size_t len;

	movable_held(&x->mv, MOV_HELD_PIPE, F(1), &a, 1 * SEC, 5 * SEC);
	movable_held(&x->mv, MOV_HELD_PIPE, F(2), &a, SEC / 2, 5 * SEC);
	movable_held(&x->mv, MOV_HELD_PIPE, F(3), &a, 3 * SEC, 6 * SEC);
	movable_held(&x->mv, MOV_HELD_PIPE, F(4), &n, 0, 6 * SEC);	/* Normal: not flagged */
	EQ(x->mv.ngroups, 1); EQ(x->mv.flagged_pages, 3);
	EQ(g[0].kind, MOV_HELD_PIPE); EQ(g[0].pages, 3); EQ(g[0].age_ns, 4 * SEC + SEC / 2);
	EQ(g[0].t0_ns, SEC / 2); EQ(g[0].first_ns, 5 * SEC); EQ(g[0].zone_pages[3], 3);

	movable_flush(&x->mv, &x->o);
	arr = records(x);
	EQ(json_object_array_length(arr), 1);
	assert_fields(idx(arr, 0), "{\"type\":\"held_movable\",\"kind\":\"pipe\",\"pages\":3,"
				   "\"ino\":7001,\"pid\":10,\"age_ns\":4500000000,"
				   "\"ts_ns\":5000000000}");
	json_object_put(arr);
	len = x->len;
	movable_flush(&x->mv, &x->o);
	fflush(x->f);
	EQ(x->len, len);	/* nothing new */

	movable_held(&x->mv, MOV_HELD_PIPE, F(5), &b, 2 * SEC, 7 * SEC);
	EQ(x->mv.ngroups, 2); EQ(g[1].pages, 1); EQ(g[0].pages, 3);
	movable_flush(&x->mv, &x->o);
	arr = records(x);
	EQ(json_object_array_length(arr), 2);
	assert_fields(idx(arr, 1), "{\"type\":\"held_movable\",\"ino\":7002,\"pages\":1}");
	json_object_put(arr);

	fx_output(x, OUT_TEXT);	/* one line per new group */
	movable_held(&x->mv, MOV_HELD_PIPE, F(6), &a, 4 * SEC, 8 * SEC);	/* shown already */
	b.pid = 11;
	movable_held(&x->mv, MOV_HELD_PIPE, F(7), &b, 6 * SEC, 8 * SEC);
	movable_flush(&x->mv, &x->o);
	movable_flush(&x->mv, &x->o);
	fflush(x->f);
	assert_string_equal(x->buf, "!! pipe ino 7002 holds Movable memory: 1 pages vmspliced by "
				    "writer/11, held 2.00s: blocks offline and CMA\n");
	EQ(g[0].pages, 4); EQ(x->mv.ngroups, 3);
}

static void test_report(void **state)
{
	struct fx *x = *state;
	struct pin_owner a = pipe_owner(10, PIPE_A, 7001, 3);
	json_object *j, *g;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	grab(x, 50, PT_F_PIN | PT_F_LONGTERM, F(1), 0x1000, 3, 1 * SEC);
	call(x, 50, 1, 2 * SEC);
	movable_held(&x->mv, MOV_HELD_PIPE, F(2), &a, 1 * SEC, 5 * SEC);
	movable_held(&x->mv, MOV_HELD_PIPE, F(3), &a, 2 * SEC, 5 * SEC);
	j = movable_report_json(&x->mv, 10 * SEC);
	assert_fields(j, "{\"flagged_pages\":3,\"pages_not_grouped\":0,\"pins_not_checked\":0}");
	g = get(j, "groups");
	EQ(json_object_array_length(g), 2);
	assert_fields(idx(g, 0), "{\"kind\":\"longterm_pin\",\"pages\":1,\"age_ns\":1000000000}");
	assert_fields(idx(g, 1), "{\"kind\":\"pipe\",\"pages\":2,\"age_ns\":4000000000,"
				 "\"ino\":7001,\"zones\":{\"Movable\":2}}");
	json_object_put(j);

	f = open_memstream(&buf, &len);
	movable_report_text(&x->mv, f, 10 * SEC);
	fclose(f);
	assert_contains(buf, "Holds on movable/CMA memory: 3 pages flagged in 2 groups\n");
	assert_contains(buf, "  !! long-term pin left on Movable memory: gup/50");
	assert_contains(buf, "  !! pipe ino 7001 holds Movable memory: 2 pages vmspliced by "
			     "writer/10, held 4.00s");
	free(buf);
}

static void test_bounds(void **state)
{
	struct fx *x = *state;

	for (__u32 i = 0; i < MOV_MAX_GROUPS + 4; i++) {
		struct pin_owner o = pipe_owner(1000 + i, PIPE_A, 7001, 3);

		movable_held(&x->mv, MOV_HELD_PIPE, F(i), &o, 0, SEC);
	}
	EQ(x->mv.ngroups, MOV_MAX_GROUPS); EQ(x->mv.groups_more, 4);
	EQ(x->mv.flagged_pages, MOV_MAX_GROUPS + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpinnable),
		cmocka_unit_test_setup_teardown(test_longterm_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longterm_not_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longterm_cma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_pipes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
