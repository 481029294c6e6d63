// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the pin table.
 * cc -Iinclude -Isrc tests/unit/test_pintable.c src/pintable.c -lcmocka
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pintable.h"
#include "pintable_model.h"

#define F(n)	(0xffffea0000000000ULL + (__u64)(n) * 64)	/* vmemmap-like */

static void on_match(const struct unpin_match *m, void *ctx)
{
	struct obs o = { .kind = 'm', .folio = m->folio, .refs = m->refs,
			 .ns = m->hold_ns, .cls = m->cls, .pre = m->preexisting };

	assert_true(m->preexisting == (m->owner == NULL));
	assert_true(m->refs > 0);
	if (m->owner) {
		o.pid = m->owner->pid;
		o.tid = m->owner->tid;
		o.pt_flags = m->owner->pt_flags;
	}
	log_push(ctx, &o);
}

static void on_held(__u64 folio, const struct pin_owner *own, __u32 refs,
		    __u64 t0, __u64 age, void *ctx)
{
	struct obs o = { .kind = 'h', .folio = folio, .pid = own->pid,
			 .tid = own->tid, .pt_flags = own->pt_flags,
			 .refs = refs, .ns = age };

	(void)t0;
	log_push(ctx, &o);
}

static struct pin_owner owner(__u32 pid, __u32 tid, __u32 flags)
{
	struct pin_owner o = { .pid = pid, .tid = tid, .pt_flags = PT_F_PIN | flags,
			       .api = PT_HOOK_PIN_USER_PAGES_FAST,
			       .hook = PT_HOOK_TRY_GRAB_FOLIO };

	strcpy(o.comm, "test");
	return o;
}

static void check_invariants(const struct pintable *t)
{
	struct pintable_stats st;

	pintable_get_stats(t, &st);
	assert_int_equal(st.pin_refs, st.matched_refs + st.outstanding_refs +
				      st.table_full_refs);
	assert_int_equal(st.unpin_refs, st.matched_refs + st.preexisting_refs);
	assert_true(st.folios <= st.outstanding_records);
	assert_true(st.outstanding_records <= st.outstanding_refs);
}

static struct pintable *new_table(__u64 min_hold, size_t max)
{
	struct pintable_opts o = { .min_hold_ns = min_hold, .max_records = max };
	struct pintable *t = pintable_new(&o);

	assert_non_null(t);
	return t;
}

static void pin(struct pintable *t, __u64 folio, __u32 refs, __u32 pid,
		__u32 tid, __u32 flags, __u64 ts)
{
	struct pin_owner o = owner(pid, tid, flags);

	assert_int_equal(pintable_pin(t, folio, refs, &o, ts), 0);
}

/* A matched (not preexisting) portion of record @tid. */
static void expect(const struct obs *o, __u32 tid, __u32 refs, int cls,
		   __u64 hold)
{
	assert_false(o->pre);
	assert_int_equal(o->tid, tid);
	assert_int_equal(o->refs, refs);
	assert_int_equal(o->cls, cls);
	assert_int_equal(o->ns, hold);
}

/*
 * Per-test table and callback log, freed by fx_teardown() even when an
 * assertion fails, so valgrind runs stay meaningful on failures too.
 */
struct fx {
	struct pintable *t;
	struct rec_log l;
};

static struct fx *fx_new(void **state, __u64 min_hold, size_t max)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	f->t = new_table(min_hold, max);
	return f;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f) {
		pintable_free(f->t);
		free(f->l.v);
		free(f);
	}
	return 0;
}

#define FX(min_hold, max)						\
	struct fx *f = fx_new(state, min_hold, max);			\
	struct pintable *t = f->t;					\
	struct rec_log *l = &f->l

static void test_basic(void **state)
{
	FX(1000, 0);
	struct pintable_stats st;

	pin(t, F(1), 3, 10, 11, 0, 100);
	pintable_get_stats(t, &st);
	assert_int_equal(st.folios, 1);
	assert_int_equal(st.outstanding_refs, 3);
	assert_int_equal(pintable_unpin(t, F(1), 3, 10, 150, on_match, l), 0);
	assert_int_equal(l->n, 1);
	expect(&l->v[0], 11, 3, PIN_CLASS_SHORT, 50);
	assert_int_equal(l->v[0].folio, F(1));
	pintable_get_stats(t, &st);
	assert_int_equal(st.folios, 0);
	assert_int_equal(st.outstanding_records, 0);
	assert_int_equal(st.matched_refs, 3);
	check_invariants(t);
	assert_string_equal(pin_class_name(PIN_CLASS_SHORT), "short");
	assert_string_equal(pin_class_name(PIN_CLASS_HELD_LONG), "held-long");
	assert_string_equal(pin_class_name(PIN_CLASS_LONGTERM), "longterm");
}

/* Same folio pinned by two processes; a third task unpins. */
static void test_multi_owner(void **state)
{
	FX(1000000, 0);

	pin(t, F(7), 1, 1, 101, 0, 10);
	pin(t, F(7), 1, 2, 201, 0, 20);
	pin(t, F(7), 1, 1, 102, 0, 30);
	pin(t, F(8), 1, 2, 202, 0, 35);	/* another folio: untouched */
	/* pid 2 unpins: its own pin, though pid 1's is older */
	pintable_unpin(t, F(7), 1, 2, 40, on_match, l);
	assert_int_equal(l->n, 1);
	expect(&l->v[0], 201, 1, PIN_CLASS_SHORT, 20);
	/* a kworker (pid 99) unpins the rest: oldest first */
	pintable_unpin(t, F(7), 2, 99, 50, on_match, l);
	assert_int_equal(l->n, 3);
	expect(&l->v[1], 101, 1, PIN_CLASS_SHORT, 40);
	expect(&l->v[2], 102, 1, PIN_CLASS_SHORT, 20);
	check_invariants(t);
	l->n = 0;
	pintable_unpin(t, F(8), 1, 2, 60, on_match, l);
	assert_int_equal(l->n, 1);
	expect(&l->v[0], 202, 1, PIN_CLASS_SHORT, 25);
}

/* Same pid first (oldest first), then spill to the oldest of the others. */
static void test_same_pid_preference(void **state)
{
	FX(1000000, 0);

	pin(t, F(1), 2, 1, 1, 0, 10);
	pin(t, F(1), 2, 2, 2, 0, 20);
	pin(t, F(1), 2, 3, 3, 0, 30);
	pin(t, F(1), 1, 2, 4, 0, 40);
	pin(t, F(1), 2, 1, 5, 0, 50);
	/* pid 2 unpins 5: records 2 (2 refs), 4 (1), then oldest others 1, 5 */
	pintable_unpin(t, F(1), 5, 2, 100, on_match, l);
	assert_int_equal(l->n, 3);
	expect(&l->v[0], 2, 2, PIN_CLASS_SHORT, 80);
	expect(&l->v[1], 4, 1, PIN_CLASS_SHORT, 60);
	expect(&l->v[2], 1, 2, PIN_CLASS_SHORT, 90);
	/* left: 3 (2 refs), 5 (2 refs); pid 1 unpins 1 -> record 5 */
	pintable_unpin(t, F(1), 1, 1, 110, on_match, l);
	assert_int_equal(l->n, 4);
	expect(&l->v[3], 5, 1, PIN_CLASS_SHORT, 60);
	/* pid 3 unpins 3: record 3 (2), then record 5 (1) */
	pintable_unpin(t, F(1), 3, 3, 120, on_match, l);
	assert_int_equal(l->n, 6);
	expect(&l->v[4], 3, 2, PIN_CLASS_SHORT, 90);
	expect(&l->v[5], 5, 1, PIN_CLASS_SHORT, 70);
	check_invariants(t);
}

/* A single-owner folio: FIFO order across records of one pid. */
static void test_fifo(void **state)
{
	FX(1000000, 0);
	__u32 i;

	for (i = 0; i < 10; i++)
		pin(t, F(3), 1, 5, 100 + i, 0, i);
	for (i = 0; i < 10; i++) {
		/* alternate unpinners: same pid or a kworker, always FIFO */
		pintable_unpin(t, F(3), 1, i & 1 ? 5 : 77, 100, on_match, l);
		assert_int_equal(l->n, i + 1);
		expect(&l->v[i], 100 + i, 1, PIN_CLASS_SHORT, 100 - i);
	}
	check_invariants(t);
}

static void collect_outstanding(__u64 folio, const struct pin_owner *own,
				__u32 refs, __u64 t0, void *ctx)
{
	struct obs o = { .kind = 'o', .folio = folio, .pid = own->pid,
			 .tid = own->tid, .refs = refs, .ns = t0 };

	log_push(ctx, &o);
}

static void test_partial_unpin(void **state)
{
	FX(1000000, 0);
	struct rec_log out = { 0 };
	struct pintable_stats st;

	pin(t, F(2), 5, 1, 1, 0, 10);
	pintable_unpin(t, F(2), 2, 1, 20, on_match, l);
	assert_int_equal(l->n, 1);
	expect(&l->v[0], 1, 2, PIN_CLASS_SHORT, 10);
	pintable_foreach_outstanding(t, collect_outstanding, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].refs, 3);
	assert_int_equal(out.v[0].folio, F(2));
	assert_int_equal(out.v[0].ns, 10);
	pintable_get_stats(t, &st);
	assert_int_equal(st.outstanding_refs, 3);
	assert_int_equal(st.outstanding_records, 1);
	pintable_unpin(t, F(2), 3, 9, 30, on_match, l);
	assert_int_equal(l->n, 2);
	expect(&l->v[1], 1, 3, PIN_CLASS_SHORT, 20);
	pintable_get_stats(t, &st);
	assert_int_equal(st.outstanding_records, 0);
	assert_int_equal(st.folios, 0);
	check_invariants(t);
	free(out.v);
}

static void test_preexisting(void **state)
{
	FX(1000, 0);
	struct pintable_stats st;

	/* unknown folio: reported once, never dropped */
	pintable_unpin(t, F(9), 4, 1, 10, on_match, l);
	assert_int_equal(l->n, 1);
	assert_true(l->v[0].pre);
	assert_int_equal(l->v[0].refs, 4);
	assert_int_equal(l->v[0].folio, F(9));
	/* more refs dropped than pinned: the rest is preexisting, one report */
	pin(t, F(9), 2, 1, 1, 0, 20);
	pintable_unpin(t, F(9), 5, 1, 30, on_match, l);
	assert_int_equal(l->n, 3);
	expect(&l->v[1], 1, 2, PIN_CLASS_SHORT, 10);
	assert_true(l->v[2].pre);
	assert_int_equal(l->v[2].refs, 3);
	/* refs == 0 is nothing at all */
	pintable_unpin(t, F(9), 0, 1, 40, on_match, l);
	assert_int_equal(l->n, 3);
	/* a NULL callback still accounts */
	pintable_unpin(t, F(10), 1, 1, 50, NULL, NULL);
	pintable_get_stats(t, &st);
	assert_int_equal(st.preexisting_refs, 8);
	assert_int_equal(st.matched_refs, 2);
	assert_int_equal(st.unpin_refs, 10);
	check_invariants(t);
}

static void test_table_full(void **state)
{
	FX(1000, 4);
	struct pin_owner o = owner(1, 1, 0);
	struct pintable_stats st;
	int i;

	for (i = 0; i < 4; i++)
		pin(t, F(i), 1, 1, 1, 0, 10);
	assert_int_equal(pintable_pin(t, F(100), 7, &o, 20), -ENOSPC);
	/* also full for a folio already present */
	assert_int_equal(pintable_pin(t, F(0), 2, &o, 20), -ENOSPC);
	pintable_get_stats(t, &st);
	assert_int_equal(st.table_full_refs, 9);
	assert_int_equal(st.pin_refs, 13);
	assert_int_equal(st.outstanding_records, 4);
	check_invariants(t);
	/* the rejected pin's unpin is preexisting, not lost */
	pintable_unpin(t, F(100), 7, 1, 30, on_match, l);
	assert_int_equal(l->n, 1);
	assert_true(l->v[0].pre);
	/* a freed record is reused */
	pintable_unpin(t, F(0), 1, 1, 40, on_match, l);
	assert_int_equal(pintable_pin(t, F(200), 1, &o, 50), 0);
	assert_int_equal(pintable_pin(t, F(201), 1, &o, 50), -ENOSPC);
	check_invariants(t);
}

static void test_held_long_once(void **state)
{
	FX(1000, 0);
	struct pintable_stats st;

	pin(t, F(1), 2, 1, 1, 0, 100);		/* A */
	pin(t, F(2), 1, 1, 2, 0, 600);		/* B */
	pin(t, F(3), 1, 1, 3, 0, 2000);		/* C */
	pin(t, F(4), 1, 1, 4, 0, 2100);		/* D: unpinned early */
	pintable_unpin(t, F(4), 1, 1, 2200, on_match, l);
	assert_int_equal(l->n, 1);
	expect(&l->v[0], 4, 1, PIN_CLASS_SHORT, 100);
	l->n = 0;

	pintable_scan_held(t, 1099, on_held, l);	/* A is 999 old */
	assert_int_equal(l->n, 0);
	pintable_scan_held(t, 1100, on_held, l);	/* exactly the threshold */
	assert_int_equal(l->n, 1);
	assert_int_equal(l->v[0].kind, 'h');
	assert_int_equal(l->v[0].tid, 1);
	assert_int_equal(l->v[0].refs, 2);
	assert_int_equal(l->v[0].ns, 1000);
	pintable_scan_held(t, 1500, on_held, l);	/* A again? no */
	assert_int_equal(l->n, 1);
	pintable_scan_held(t, 1600, on_held, l);	/* B */
	assert_int_equal(l->n, 2);
	assert_int_equal(l->v[1].tid, 2);
	pintable_scan_held(t, 1000000ULL, on_held, l);	/* C only: D is gone */
	assert_int_equal(l->n, 3);
	assert_int_equal(l->v[2].tid, 3);
	pintable_scan_held(t, 10000000ULL, on_held, l);
	assert_int_equal(l->n, 3);
	pintable_get_stats(t, &st);
	assert_int_equal(st.held_long_reported, 3);

	/* the reported A is held-long at unpin, even with a skewed ts */
	l->n = 0;
	pintable_unpin(t, F(1), 1, 1, 500, on_match, l);
	expect(&l->v[0], 1, 1, PIN_CLASS_HELD_LONG, 400);
	pintable_unpin(t, F(1), 1, 1, 10000000ULL, on_match, l);
	expect(&l->v[1], 1, 1, PIN_CLASS_HELD_LONG, 9999900);
	/* a partially unpinned record is not reported a second time */
	pin(t, F(5), 3, 1, 5, 0, 20000000ULL);
	pintable_unpin(t, F(5), 1, 1, 20000000ULL + 10, on_match, l);
	expect(&l->v[2], 5, 1, PIN_CLASS_SHORT, 10);
	l->n = 0;
	pintable_scan_held(t, 30000000ULL, on_held, l);
	pintable_scan_held(t, 40000000ULL, on_held, l);
	assert_int_equal(l->n, 1);	/* E, with what is left of it */
	assert_int_equal(l->v[0].tid, 5);
	assert_int_equal(l->v[0].refs, 2);
	check_invariants(t);
}

/* Unpin class by hold time alone: strictly below vs at the threshold. */
static void test_class_threshold(void **state)
{
	FX(1000, 0);

	pin(t, F(1), 1, 1, 1, 0, 100);
	pin(t, F(2), 1, 1, 2, 0, 100);
	pintable_unpin(t, F(1), 1, 1, 1099, on_match, l);
	pintable_unpin(t, F(2), 1, 1, 1100, on_match, l);
	expect(&l->v[0], 1, 1, PIN_CLASS_SHORT, 999);
	expect(&l->v[1], 2, 1, PIN_CLASS_HELD_LONG, 1000);
	/* out-of-order unpin (ts before t0) is a 0 hold, not a huge one */
	pin(t, F(3), 1, 1, 3, 0, 5000);
	pintable_unpin(t, F(3), 1, 1, 4000, on_match, l);
	expect(&l->v[2], 3, 1, PIN_CLASS_SHORT, 0);
}

static void test_longterm(void **state)
{
	FX(1000, 0);

	pin(t, F(1), 1, 1, 1, PT_F_LONGTERM, 0);
	pin(t, F(1), 1, 1, 2, 0, 10);
	pintable_scan_held(t, 1000000000ULL, on_held, l);
	assert_int_equal(l->n, 1);		/* only the short-term one */
	assert_int_equal(l->v[0].tid, 2);
	pintable_scan_held(t, 2000000000ULL, on_held, l);
	assert_int_equal(l->n, 1);
	l->n = 0;
	pintable_unpin(t, F(1), 2, 1, 3000000000ULL, on_match, l);
	assert_int_equal(l->n, 2);
	expect(&l->v[0], 1, 1, PIN_CLASS_LONGTERM, 3000000000ULL);
	assert_int_equal(l->v[0].pt_flags & PT_F_LONGTERM, PT_F_LONGTERM);
	expect(&l->v[1], 2, 1, PIN_CLASS_HELD_LONG, 2999999990ULL);
	/* a short longterm hold is still longterm */
	pin(t, F(2), 1, 1, 3, PT_F_LONGTERM, 5000000000ULL);
	pintable_unpin(t, F(2), 1, 1, 5000000000ULL + 1, on_match, l);
	expect(&l->v[2], 3, 1, PIN_CLASS_LONGTERM, 1);
}

/* Enough folios to grow both the hash table and the pool many times. */
static void test_growth(void **state)
{
	FX(1000, 0);
	struct pintable_stats st;
	const __u32 n = 200000;
	__u32 i, j, *perm = malloc(n * sizeof(*perm)), tmp;
	unsigned int seed = 1;

	assert_non_null(perm);
	for (i = 0; i < n; i++) {
		pin(t, F(i), 1, i % 7, i, 0, i);
		perm[i] = i;
	}
	pintable_get_stats(t, &st);
	assert_int_equal(st.folios, n);
	for (i = n - 1; i > 0; i--) {
		j = (__u32)rand_r(&seed) % (i + 1);
		tmp = perm[i], perm[i] = perm[j], perm[j] = tmp;
	}
	/* random deletion order exercises backward-shift deletion */
	for (i = 0; i < n; i++) {
		l->n = 0;
		pintable_unpin(t, F(perm[i]), 1, 3, n, on_match, l);
		assert_int_equal(l->n, 1);
		assert_false(l->v[0].pre);
		assert_int_equal(l->v[0].tid, perm[i]);
	}
	pintable_get_stats(t, &st);
	assert_int_equal(st.folios, 0);
	assert_int_equal(st.outstanding_refs, 0);
	check_invariants(t);
	free(perm);
}

static int obs_cmp_out(const void *a, const void *b)
{
	const struct obs *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void run_random(unsigned int seed, size_t max_records, __u32 nfolios,
		       __u32 npids, size_t nops, struct pintable_stats *out)
{
	struct pintable *t = new_table(5000, max_records);
	struct model m = { .max = max_records, .min_hold = 5000 };
	struct rec_log a = { 0 }, b = { 0 };
	struct pintable_stats st;
	__u32 tid = 0;
	__u64 now = 1;
	size_t op, i;
	int r;

	m.r = calloc(max_records, sizeof(*m.r));
	assert_non_null(m.r);
	for (op = 0; op < nops; op++) {
		__u64 folio = F((__u32)rand_r(&seed) % nfolios);
		__u32 pid = 1 + (__u32)rand_r(&seed) % npids;
		int dice = rand_r(&seed) % 100;

		now += (__u64)(rand_r(&seed) % 200);
		if (dice < 48) {
			__u32 refs = 1 + (__u32)rand_r(&seed) % 4;
			__u32 fl = rand_r(&seed) % 8 ? 0 : PT_F_LONGTERM;
			struct pin_owner o = owner(pid, ++tid, fl);

			r = pintable_pin(t, folio, refs, &o, now);
			assert_int_equal(r, model_pin(&m, folio, refs, pid,
						      tid, fl, now));
		} else if (dice < 96) {
			/* pid npids + 1 never pins: a kworker */
			__u32 refs = 1 + (__u32)rand_r(&seed) % 6;

			pid = 1 + (__u32)rand_r(&seed) % (npids + 1);
			pintable_unpin(t, folio, refs, pid, now, on_match, &a);
			model_unpin(&m, folio, refs, pid, now, &b);
		} else {
			pintable_scan_held(t, now, on_held, &a);
			model_scan(&m, now, &b);
		}
		assert_int_equal(a.n, b.n);
		if (a.n)
			assert_memory_equal(a.v, b.v, a.n * sizeof(*a.v));
		a.n = b.n = 0;
		if (op % 1024 == 0)
			check_invariants(t);
	}
	pintable_get_stats(t, &st);
	assert_int_equal(st.pin_refs, m.st.pin_refs);
	assert_int_equal(st.unpin_refs, m.st.unpin_refs);
	assert_int_equal(st.matched_refs, m.st.matched_refs);
	assert_int_equal(st.preexisting_refs, m.st.preexisting_refs);
	assert_int_equal(st.table_full_refs, m.st.table_full_refs);
	assert_int_equal(st.held_long_reported, m.st.held_long_reported);
	assert_int_equal(st.outstanding_records, m.n);
	check_invariants(t);

	/* what is left over is the same set of records */
	pintable_foreach_outstanding(t, collect_outstanding, &a);
	assert_int_equal(a.n, m.n);
	qsort(a.v, a.n, sizeof(*a.v), obs_cmp_out);
	for (i = 0; i < m.n; i++) {	/* model is in tid order */
		assert_int_equal(a.v[i].tid, m.r[i].tid);
		assert_int_equal(a.v[i].refs, m.r[i].refs);
		assert_int_equal(a.v[i].folio, m.r[i].folio);
		assert_int_equal(a.v[i].ns, m.r[i].t0);
	}
	*out = st;
	free(a.v);
	free(b.v);
	free(m.r);
	pintable_free(t);
}

/* The sequences must actually reach every path they are meant to check. */
static void check_coverage(const struct pintable_stats *st, bool full)
{
	assert_true(st->matched_refs > 0);
	assert_true(st->preexisting_refs > 0);
	assert_true(st->held_long_reported > 0);
	assert_true(st->outstanding_refs > 0);
	assert_true(full == (st->table_full_refs > 0));
}

/* few folios, few records: deep per-folio lists and frequent table-full */
static void test_random_small(void **state)
{
	struct pintable_stats st;
	unsigned int seed;

	(void)state;
	for (seed = 1; seed <= 8; seed++) {
		run_random(seed, 96, 24, 4, 40000, &st);
		check_coverage(&st, true);
	}
}

/* many folios: hash growth, collisions and deletions under load */
static void test_random_large(void **state)
{
	struct pintable_stats st;

	(void)state;
	run_random(42, 1 << 16, 4096, 16, 150000, &st);
	check_coverage(&st, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_basic, fx_teardown),
		cmocka_unit_test_teardown(test_multi_owner, fx_teardown),
		cmocka_unit_test_teardown(test_same_pid_preference, fx_teardown),
		cmocka_unit_test_teardown(test_fifo, fx_teardown),
		cmocka_unit_test_teardown(test_partial_unpin, fx_teardown),
		cmocka_unit_test_teardown(test_preexisting, fx_teardown),
		cmocka_unit_test_teardown(test_table_full, fx_teardown),
		cmocka_unit_test_teardown(test_held_long_once, fx_teardown),
		cmocka_unit_test_teardown(test_class_threshold, fx_teardown),
		cmocka_unit_test_teardown(test_longterm, fx_teardown),
		cmocka_unit_test_teardown(test_growth, fx_teardown),
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_random_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
