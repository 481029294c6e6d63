// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Migration failures (src/migrate.c, src/output_migrate.c): unmoved folios
 * attributed to pipe and pin holds, interleaved lists, failed long-term pins
 * and their syscall's errno, memory offline, bounds, live text and NDJSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "hooks.h"
#include "migrate.h"

#define SEC 1000000000ULL
#define F(i) (0xffffea0000100000ULL + (__u64)(i) * 0x40)
#define PIPE_A 0xffff888000a00000ULL	/* ino 7001 */
#define PIPE_B 0xffff888000b00000ULL	/* ino 7002 */
#define CMA_PFN 0x80010ULL		/* inside the CMA range of the place */
#define EQ(a, b) assert_int_equal(a, b)
#define idx(a, i) json_object_array_get_idx(a, i)

struct fx {
	struct place pl;
	struct stackfmt sf;
	struct holds h;
	struct pintable *pins;
	struct migrate m;
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

static int setup(void **state)
{
	struct pintable_opts po = { 0 };
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->pl = (struct place){ .zone_known = true, .movable = 3, .nzones = 5, .ncma = 1,
		.zone_names = { "DMA", "DMA32", "Normal", "Movable", "Device" },
		.cma = { { .name = "reserved", .base_pfn = 0x80000, .count = 0x1000 } } };
	x->sf.map_fd = -1;
	assert_int_equal(holds_init(&x->h, &x->sf), 0);
	assert_non_null(x->pins = pintable_new(&po));
	assert_int_equal(migrate_init(&x->m, &x->pl, &x->sf, x->pins, &x->h), 0);
	fx_output(x, OUT_TEXT);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	migrate_free(&x->m);
	pintable_free(x->pins);
	holds_free(&x->h);
	fclose(x->f);
	free(x->buf);
	free(x);
	return 0;
}

/* An event of thread @tid: 10 the writer, 40 memhp, 31 (pid 30) and others "migrator". */
static struct pt_event ev(__u8 type, __u32 tid, __u64 ts)
{
	struct pt_event e = { .type = type, .pid = tid == 31 ? 30 : tid, .tid = tid, .ts_ns = ts,
			      .stack_id = -1, .pfn = PT_PFN_UNKNOWN, .zone = PT_ZONE_UNKNOWN };

	strcpy(e.comm, tid == 10 ? "writer" : tid == 40 ? "memhp" : "migrator");
	return e;
}

static void vmsplice(struct fx *x, __u64 folio, __u64 pipe, __u64 ino, __u64 ts)
{
	struct pt_event e = ev(PT_EV_GRAB, 10, ts);

	e.pt_flags = PT_F_GET | PT_F_PIPE, e.folio = folio, e.refs = 1;
	e.holder = pipe, e.holder_id = ino;
	holds_event(&x->h, &x->o, &e);
}

static void mpage(struct fx *x, __u64 id, __u64 folio, __u64 pfn, __u8 zone)
{
	struct pt_event e = ev(PT_EV_MIGRATE_PAGE, 31, 4 * SEC);

	e.addr = id, e.folio = folio, e.pfn = pfn, e.zone = zone, e.nr_req = 7;
	migrate_event(&x->m, &x->o, &e);
}

/* MIGRATE_FAIL of MR_LONGTERM_PIN (7), mode 1, 2 pages moved. */
static void mfail(struct fx *x, __u64 id, __u32 listed, __s64 failed, __u64 ts)
{
	struct pt_event e = ev(PT_EV_MIGRATE_FAIL, 31, ts);

	e.addr = id, e.nr_req = 7, e.holder = 1, e.refs = listed, e.ret = failed, e.dur_ns = 2;
	migrate_event(&x->m, &x->o, &e);
}

/* PIN_FAIL (-ENOMEM, 16 pages) of @tid, or SYSCALL (io_uring_register, -ENOMEM). */
static void pin_fail(struct fx *x, __u8 type, __u32 tid, __u64 ts)
{
	struct pt_event e = ev(type, tid, ts);

	e.ret = -12, e.api = PT_HOOK_PIN_USER_PAGES_FAST, e.addr = 0x7f0000000000ULL;
	e.nr_req = type == PT_EV_SYSCALL ? SYS_io_uring_register : 16;
	migrate_event(&x->m, &x->o, &e);
}

/* F1..F4 in pipe ino 7001, F5 pinned long term, F6 (CMA) held by nobody: failure 7. */
static void scenario(struct fx *x)
{
	struct pin_owner ow = { .pid = 20, .tid = 20, .comm = "pinner", .stack_id = -1,
				.api = PT_HOOK_PIN_USER_PAGES, .pt_flags = PT_F_PIN | PT_F_LONGTERM,
				.pfn = 0x2000 };

	for (int i = 1; i <= 4; i++)
		vmsplice(x, F(i), PIPE_A, 7001, 1 * SEC);
	assert_int_equal(pintable_pin(x->pins, F(5), 1, &ow, 2 * SEC), 0);
	for (int i = 1; i <= 4; i++)
		mpage(x, 7, F(i), 0x1000 + i, 3);
	mpage(x, 7, F(5), 0x2000, 2);
	mpage(x, 7, F(6), CMA_PFN, PT_ZONE_UNKNOWN);
	mfail(x, 7, 6, 6, 5 * SEC);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay ? hay : "(null)");
}

/* cma_alloc_busy_retry of the window at @pfn, area "reserved", at @ts. */
static void busy(struct fx *x, __u64 pfn, __u64 ts)
{
	struct pt_event e = ev(PT_EV_CMA, 40, ts);

	e.hook = PT_HOOK_CMA_BUSY, e.addr = pfn, e.nr_req = 16;
	strcpy(e.area, "reserved");
	migrate_event(&x->m, &x->o, &e);
}

/*
 * A busy CMA window: every page of it is looked up by pfn (vmemmap +
 * pfn * sizeof(struct page)); only holders found are reported. The same
 * window again is only counted until MIG_CMA_REDETAIL_NS has passed,
 * another window is detailed at once; a failed cma_alloc is a range.
 */
static void test_cma(void **state)
{
	struct fx *x = *state;
	struct pt_event e;

	x->pl.pfn_known = true;
	x->pl.vmemmap = 0xffffea0000000000ULL;
	x->pl.page_size = 64;
	vmsplice(x, x->pl.vmemmap + (CMA_PFN + 3) * 64, PIPE_A, 7001, 1 * SEC);
	vmsplice(x, x->pl.vmemmap + (CMA_PFN + 5) * 64, PIPE_A, 7001, 1 * SEC);
	busy(x, CMA_PFN, 2 * SEC);
	EQ(x->m.nfails, 1);
	EQ(x->m.fails[0].reason, MIG_REASON_CMA_BUSY);
	EQ(x->m.fails[0].listed, 2);
	EQ(x->m.fails[0].nholders, 1);
	EQ(x->m.fails[0].holders[0].pages, 2);
	EQ(x->m.fails[0].unknown, 0);
	busy(x, CMA_PFN, 2 * SEC + SEC / 2);
	busy(x, CMA_PFN, 3 * SEC);
	EQ(x->m.nfails, 1);
	busy(x, CMA_PFN + 16, 3 * SEC);		/* another window: detailed at once */
	EQ(x->m.nfails, 2);
	EQ(x->m.fails[1].listed, 0);
	busy(x, CMA_PFN, 2 * SEC + MIG_CMA_REDETAIL_NS);	/* detailed again */
	EQ(x->m.nfails, 3);
	EQ(x->m.fails[2].suppressed, 2);	/* the two retries in between */
	EQ(x->m.cma_busy, 5);
	EQ(x->m.nwindows, 2);
	EQ(x->m.windows[0].retries, 4);
	EQ(x->m.windows[0].fail, 2);
	EQ(x->m.windows[1].retries, 1);
	e = ev(PT_EV_CMA, 40, 3 * SEC);
	e.hook = PT_HOOK_CMA_FINISH, e.addr = 0, e.nr_req = 1024, e.ret = -16;
	strcpy(e.area, "hugetlb0");
	migrate_event(&x->m, &x->o, &e);
	EQ(x->m.nranges, 1);
	EQ(x->m.cma_alloc_fails, 1);
	fflush(x->f);
	assert_contains(x->buf, "!! CMA window busy (area reserved) in memhp/40: pfn 0x80010 +16 pages "
			"could not be isolated; 2 of them held by holds pintrace follows\n");
	assert_contains(x->buf, "held by pipe ino 7001: 2 pages");
	assert_contains(x->buf, "(busy 2 more times since it was last detailed, only counted)");
	assert_contains(x->buf, "!! cma_alloc (area hugetlb0) of pfn 0x0 +1024 pages by memhp/40 "
			"failed: -16 (EBUSY)");
	migrate_report_text(&x->m, x->f, NULL, 20 * SEC);
	fflush(x->f);
	assert_contains(x->buf, "busy CMA windows 2)");
	assert_contains(x->buf, "CMA: 1 allocation failed; 5 busy-window retries in 2 windows\n");
	assert_contains(x->buf, "  area reserved pfn 0x80010 +16 pages: busy 4 times (allocating: "
			"memhp/40); 2 pages held by holds pintrace follows\n");
	assert_contains(x->buf, "  area reserved pfn 0x80020 +16 pages: busy 1 time (allocating: "
			"memhp/40); 0 pages held by holds pintrace follows\n");
}

/* 6.1: try_grab_folio refused a CMA page and the pin failed without migrating: that is why. */
static void test_pin_refused(void **state)
{
	struct fx *x = *state;
	struct pt_event e = ev(PT_EV_PIN_FAIL, 10, 1 * SEC);

	e.ret = -12, e.api = PT_HOOK_PIN_USER_PAGES, e.addr = 0x7f0000000000ULL, e.nr_req = 8192;
	e.refs = 1, e.pfn = CMA_PFN, e.zone = 1;
	migrate_event(&x->m, &x->o, &e);
	EQ(x->m.nfails, 1);
	EQ(x->m.fails[0].pin_refused, 1);
	fflush(x->f);
	assert_contains(x->buf, "!! long-term pin failed in writer/10: pin_user_pages of 8192 pages at "
			"0x7f0000000000 returned -12 (ENOMEM)\n     the kernel refused 1 page as not "
			"long-term pinnable, the first at pfn 0x80010 (CMA area reserved), and migrated "
			"nothing: that is why\n");
}

static json_object *get(json_object *j, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(j, key, &v))
		fail_msg("no key '%s' in %s", key, json_object_to_json_string(j));
	return v;
}

/* The @n-th (0-based) stream record of @type; the caller puts it. */
static json_object *record(struct fx *x, const char *type, int n)
{
	fflush(x->f);
	for (char *p = x->buf, *nl; p && *p; p = nl + 1) {
		json_object *r;

		assert_non_null(nl = strchr(p, '\n'));
		*nl = '\0';
		r = json_tokener_parse(p);
		*nl = '\n';
		assert_non_null(r);
		if (!strcmp(json_object_get_string(get(r, "type")), type) && n-- == 0)
			return r;
		json_object_put(r);
	}
	fail_msg("no record %s in:\n%s", type, x->buf);
	return NULL;
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

static void assert_fail(const struct mig_failure *f, __u64 id, __u32 listed, __u32 unknown,
			__u32 nholders)
{
	EQ(f->id, id); EQ(f->listed, listed); EQ(f->unknown, unknown); EQ(f->nholders, nholders);
}

static void assert_holder(const struct mig_holder *h, enum holder_kind k, __u32 pages,
			  __u32 pid, __u64 ino, __u64 t0)
{
	EQ(h->kind, k); EQ(h->pages, pages); EQ(h->owner.pid, pid);
	EQ(h->owner.holder_id, ino); EQ(h->t0_ns, t0);
}

static void test_attribution(void **state)
{
	struct fx *x = *state;
	struct mig_failure *f = &x->m.fails[0];

	scenario(x);
	EQ(x->m.nfails, 1); EQ(x->m.fails_total, 1); EQ(x->m.npending, 0);
	assert_fail(f, 7, 6, 1, 2);
	EQ(f->tid, 31); EQ(f->reason, 7); EQ(f->mode, 1); EQ(f->failed, 6); EQ(f->moved, 2);
	EQ(f->cma_pages, 1); EQ(f->holders_more, 0);
	EQ(f->zone_pages[3], 4); EQ(f->zone_pages[2], 1); EQ(f->zone_pages[7], 1);
	EQ(f->zone_pages[0] + f->zone_pages[1] + f->zone_pages[4], 0);
	assert_holder(&f->holders[0], HOLDER_PIPE, 4, 10, 7001, 1 * SEC);
	EQ(f->holders[0].owner.holder, PIPE_A);
	assert_holder(&f->holders[1], HOLDER_PIN, 1, 20, 0, 2 * SEC);
	assert_false(f->pin_failed);
}

static void test_interleaved(void **state)
{
	struct fx *x = *state;
	struct mig_failure *f = x->m.fails;

	vmsplice(x, F(1), PIPE_A, 7001, SEC);
	vmsplice(x, F(3), PIPE_A, 7001, SEC);
	vmsplice(x, F(2), PIPE_B, 7002, SEC);
	vmsplice(x, F(4), PIPE_B, 7002, SEC);
	mpage(x, 7, F(1), 1, 3);
	mpage(x, 8, F(2), 2, 3);
	mpage(x, 7, F(3), 3, 3);
	mpage(x, 8, F(4), 4, 2);
	mpage(x, 8, F(9), 5, 2);	/* nobody holds it */
	mfail(x, 8, 3, 3, 5 * SEC);
	EQ(x->m.nfails, 1);
	assert_fail(&f[0], 8, 3, 1, 1);
	EQ(f[0].zone_pages[3], 1); EQ(f[0].zone_pages[2], 2);
	assert_holder(&f[0].holders[0], HOLDER_PIPE, 2, 10, 7002, SEC);
	EQ(x->m.npending, 2);	/* failure 7's, in order */
	EQ(x->m.pending[0].id, 7); EQ(x->m.pending[0].folio, F(1)); EQ(x->m.pending[1].folio, F(3));
	mfail(x, 7, 2, 2, 6 * SEC);
	EQ(x->m.nfails, 2); EQ(x->m.npending, 0);
	assert_fail(&f[1], 7, 2, 0, 1);
	assert_holder(&f[1].holders[0], HOLDER_PIPE, 2, 10, 7001, SEC);
}

static void test_pin_fail_link(void **state)
{
	struct fx *x = *state;
	struct mig_failure *f = &x->m.fails[0];

	scenario(x);
	pin_fail(x, PT_EV_PIN_FAIL, 31, 5 * SEC + SEC / 2);
	EQ(x->m.nfails, 1); EQ(x->m.pin_fails, 1); EQ(x->m.pin_fails_unrelated, 0);
	assert_true(f->pin_failed);
	EQ(f->pin_ret, -12); EQ(f->pin_api, PT_HOOK_PIN_USER_PAGES_FAST); EQ(f->pin_nr, 16);
	pin_fail(x, PT_EV_SYSCALL, 99, 6 * SEC);	/* another thread's syscall */
	assert_false(f->sys_known);
	pin_fail(x, PT_EV_SYSCALL, 31, 6 * SEC);
	assert_true(f->sys_known);
	EQ(f->sys_nr, SYS_io_uring_register); EQ(f->sys_ret, -12);
	/* another task, no migration failure before it */
	pin_fail(x, PT_EV_PIN_FAIL, 77, 7 * SEC);
	EQ(x->m.nfails, 2); EQ(x->m.pin_fails, 2); EQ(x->m.pin_fails_unrelated, 1);
	EQ(x->m.fails[1].reason, ~0u); EQ(x->m.fails[1].tid, 77);
	assert_true(x->m.fails[1].pin_failed);
	/* the same task again: its failure already has its pin failure */
	pin_fail(x, PT_EV_PIN_FAIL, 31, 8 * SEC);
	EQ(x->m.pin_fails_unrelated, 2);
	/* more than 10 s after a failure: unrelated */
	mfail(x, 10, 0, 1, 20 * SEC);
	pin_fail(x, PT_EV_PIN_FAIL, 31, 31 * SEC);
	assert_false(x->m.fails[3].pin_failed);
	EQ(x->m.pin_fails_unrelated, 3); EQ(x->m.nfails, 5);
}

static void test_text(void **state)
{
	struct fx *x = *state;

	scenario(x);
	pin_fail(x, PT_EV_PIN_FAIL, 31, 5 * SEC + SEC / 2);
	fflush(x->f);
	assert_contains(x->buf, "!! migration failed (longterm_pin) in migrator/30: 6 pages not "
				"moved, 2 moved; 6 folios listed (Normal 1, Movable 4, zone ? 1, "
				"CMA 1)\n");
	assert_contains(x->buf, "     held by pipe ino 7001: 4 pages, vmspliced by writer/10, "
				"4.00s before\n");
	assert_contains(x->buf, "     held by a long-term pin: 1 pages (oldest at pfn 0x2000), pin_user_pages by "
				"pinner/20, 3.00s before\n");
	assert_contains(x->buf, "     1 pages: holder not seen");
	assert_contains(x->buf, "!! long-term pin failed in migrator/30: pin_user_pages_fast of "
				"16 pages at 0x7f0000000000 returned -12 (ENOMEM): the migration "
				"failure above is why\n");
	assert_null(strstr(x->buf, "io_uring_register"));
	pin_fail(x, PT_EV_SYSCALL, 31, 6 * SEC);
	pin_fail(x, PT_EV_PIN_FAIL, 77, 7 * SEC);
	fflush(x->f);
	assert_contains(x->buf, "!! migrator/30 got -12 (ENOMEM) from io_uring_register: its "
				"long-term pin failed\n");
	assert_contains(x->buf, "!! long-term pin failed in migrator/77: pin_user_pages_fast of 16 "
				"pages at 0x7f0000000000 returned -12 (ENOMEM) (no migration failure "
				"seen before it)\n");
}

static void test_json(void **state)
{
	struct fx *x = *state;
	json_object *r, *h;

	fx_output(x, OUT_JSON);
	scenario(x);
	pin_fail(x, PT_EV_PIN_FAIL, 31, 5 * SEC + SEC / 2);
	pin_fail(x, PT_EV_SYSCALL, 31, 6 * SEC);
	pin_fail(x, PT_EV_PIN_FAIL, 77, 7 * SEC);

	r = record(x, "migrate_fail", 0);
	assert_fields(r, "{\"id\":7,\"ts_ns\":5000000000,\"reason\":\"longterm_pin\",\"pid\":30,"
			 "\"pages_failed\":6,\"pages_moved\":2,\"folios_listed\":6,\"cma_pages\":1,"
			 "\"holder_not_seen\":1,\"holders_more\":0,"
			 "\"zones\":{\"Normal\":1,\"Movable\":4,\"unknown\":1}}");
	h = get(r, "holders");
	EQ(json_object_array_length(h), 2);
	assert_fields(idx(h, 0), "{\"kind\":\"pipe\",\"pages\":4,\"ino\":7001,\"pid\":10,"
				 "\"comm\":\"writer\",\"held_ns\":4000000000}");
	assert_fields(idx(h, 1), "{\"kind\":\"pin\",\"pages\":1,\"pid\":20,\"longterm\":true,"
				 "\"api\":\"pin_user_pages\",\"held_ns\":3000000000}");
	json_object_put(r);
	r = record(x, "pin_fail", 0);
	assert_fields(r, "{\"migrate_fail_id\":7,\"ret\":-12,\"nr_pages\":16,\"tid\":31,"
			 "\"api\":\"pin_user_pages_fast\",\"addr\":\"0x7f0000000000\"}");
	json_object_put(r);
	r = record(x, "pin_fail_errno", 0);
	assert_fields(r, "{\"syscall\":\"io_uring_register\",\"ret\":-12,\"migrate_fail_id\":7,"
			 "\"ts_ns\":6000000000}");
	json_object_put(r);
	r = record(x, "pin_fail", 1);	/* the unrelated one */
	assert_fields(r, "{\"tid\":77,\"migrate_fail_id\":null}");
	json_object_put(r);
}

static void test_ranges(void **state)
{
	struct fx *x = *state;
	struct pt_migrate_stats st[PT_MIGRATE_REASONS] = { 0 };
	json_object *j, *a;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < 2; i++) {
		struct pt_event e = ev(PT_EV_RANGE, 40, (3 + i) * SEC);

		e.hook = PT_HOOK_OFFLINE_PAGES, e.addr = 0x80000, e.nr_req = 32768, e.ret = i ? 0 : -4;
		migrate_event(&x->m, &x->o, &e);
	}
	fflush(x->f);
	assert_string_equal(x->buf, "!! memory offline of pfn 0x80000 +32768 pages by memhp/40 "
				    "failed: -4 (EINTR)\n-- memory offline of pfn 0x80000 +32768 "
				    "pages by memhp/40 succeeded\n");
	EQ(x->m.nranges, 2); EQ(x->m.ranges_total, 2);
	st[2] = (struct pt_migrate_stats){ .calls = 5, .failures = 3, .pages_failed = 10,
					   .pages_moved = 20, .reported = 1, .suppressed = 2 };
	j = migrate_report_json(&x->m, st, 10 * SEC);
	a = get(j, "ranges");
	EQ(json_object_array_length(a), 2);
	assert_fields(idx(a, 0), "{\"op\":\"memory_offline\",\"ret\":-4,\"pages\":32768,"
				 "\"pfn\":\"0x80000\",\"pid\":40,\"comm\":\"memhp\"}");
	assert_fields(idx(a, 1), "{\"op\":\"memory_offline\",\"ret\":0}");
	EQ(json_object_object_length(get(j, "by_reason")), 1);
	assert_fields(j, "{\"by_reason\":{\"memory_hotplug\":{\"calls\":5,\"failures\":3,"
			 "\"pages_failed\":10,\"pages_moved\":20,\"detailed\":1,\"only_counted\":2}},"
			 "\"failures\":[],\"failures_total\":0}");
	json_object_put(j);

	f = open_memstream(&buf, &len);
	migrate_report_text(&x->m, f, st, 10 * SEC);
	fclose(f);
	assert_contains(buf, "Migration failures: 0 (long-term pin failures 0, busy CMA windows 0)\n");
	assert_contains(buf, "  memory_hotplug   5 migrations, 3 failed (10 pages unmoved, 20 "
			     "moved); 1 detailed, 2 only counted\n");
	assert_contains(buf, "memory offline pfn 0x80000 +32768 pages by memhp/40: failed -4 (EINTR)\n");
	assert_contains(buf, "memory offline pfn 0x80000 +32768 pages by memhp/40: succeeded\n");
	free(buf);
}

static void test_names(void **state)
{
	char b[24];

	(void)state;
	assert_string_equal(migrate_reason_name(7, b, sizeof(b)), "longterm_pin");
	assert_string_equal(migrate_reason_name(2, b, sizeof(b)), "memory_hotplug");
	assert_string_equal(migrate_reason_name(9, b, sizeof(b)), "damon");
	assert_string_equal(migrate_reason_name(42, b, sizeof(b)), "reason 42");
	assert_string_equal(syscall_name(SYS_io_uring_register, b, sizeof(b)), "io_uring_register");
	assert_string_equal(syscall_name(SYS_ioctl, b, sizeof(b)), "ioctl");
	assert_string_equal(syscall_name(99999, b, sizeof(b)), "syscall 99999");
}

static void test_bounds(void **state)
{
	struct fx *x = *state;

	fx_output(x, OUT_JSON);
	for (int i = 0; i < 20; i++) {	/* more holder groups than kept */
		vmsplice(x, F(100 + i), PIPE_A + (__u64)i * 0x1000, 8000 + i, SEC);
		mpage(x, 1, F(100 + i), 0x1000, 3);
	}
	mfail(x, 1, 20, 20, 2 * SEC);
	assert_fail(&x->m.fails[0], 1, 20, 0, MIG_MAX_HOLDERS);
	EQ(x->m.fails[0].holders_more, 20 - MIG_MAX_HOLDERS);
	for (int i = 0; i < MIG_MAX_RECORDS + 43; i++) {	/* more failures than kept */
		mpage(x, 1000 + i, F(i), 0x1000, 3);
		mfail(x, 1000 + i, 1, 1, 3 * SEC);
	}
	EQ(x->m.nfails, MIG_MAX_RECORDS); EQ(x->m.fails_total, MIG_MAX_RECORDS + 44);
	EQ(x->m.fails_unrecorded, 44); EQ(x->m.npending, 0);
	json_object_put(record(x, "migrate_fail", MIG_MAX_RECORDS + 43));	/* still live */
	pin_fail(x, PT_EV_PIN_FAIL, 555, 4 * SEC);	/* nothing kept: the spare record */
	EQ(x->m.fails_unrecorded, 45);
	assert_ptr_equal(x->m.last_pin, &x->m.lone), assert_true(x->m.lone.pin_failed);
	for (__u64 i = 0; i < MIG_MAX_PENDING + 10; i++)	/* more than can be buffered */
		mpage(x, 2, F(i), 0x1000, 3);
	EQ(x->m.npending, MIG_MAX_PENDING); EQ(x->m.pending_dropped, 10);
	mfail(x, 2, MIG_MAX_PENDING + 10, MIG_MAX_PENDING + 10, 5 * SEC);
	EQ(x->m.npending, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attribution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_fail_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_refused, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
