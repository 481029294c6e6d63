// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reference model of the pin table for the randomized tests in
 * test_pintable.c, and the flat observation log that both the table's
 * callbacks and the model write to. Static functions in a header: each
 * tests/unit/test_*.c is built as one program, so test_pintable.c includes
 * this instead of linking a second object.
 */
#ifndef PINTABLE_MODEL_H
#define PINTABLE_MODEL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pintable.h"

/* One observed callback, whichever kind; kept flat to compare sequences. */
struct obs {
	__u64 folio;
	__u64 ns;		/* hold_ns, age_ns or t0 */
	__u32 pid, tid;		/* tid identifies the record in these tests */
	__u32 pt_flags;
	__u32 refs;
	__u32 cls;
	__u8 kind;		/* 'm' match, 'h' held, 'o' outstanding */
	__u8 pre;
	__u16 zero;		/* no implicit padding: sequences compare by memcmp */
};
_Static_assert(sizeof(struct obs) == 40, "struct obs has padding");

struct rec_log {
	struct obs *v;
	size_t n, cap;
};

static void log_push(struct rec_log *l, const struct obs *o)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = *o;
}

/*
 * Reference model: a flat array of live records in arrival order, searched
 * linearly. Obviously correct, hopelessly slow, exactly the same policy.
 */
struct mrec {
	__u64 folio, t0;
	__u32 pid, tid, flags, refs;
	bool reported;
};

struct model {
	struct mrec *r;
	size_t n, max;
	__u64 min_hold;
	struct pintable_stats st;
};

static int model_pin(struct model *m, __u64 folio, __u32 refs, __u32 pid,
		     __u32 tid, __u32 flags, __u64 ts)
{
	m->st.pin_refs += refs;
	if (m->n == m->max) {
		m->st.table_full_refs += refs;
		return -ENOSPC;
	}
	m->r[m->n++] = (struct mrec){ folio, ts, pid, tid, PT_F_PIN | flags,
				      refs, false };
	return 0;
}

static void model_take(struct model *m, size_t i, __u32 *left, __u64 ts,
		       struct rec_log *l)
{
	struct mrec *r = &m->r[i];
	__u32 take = r->refs < *left ? r->refs : *left;
	struct obs o = { .kind = 'm', .folio = r->folio, .pid = r->pid,
			 .tid = r->tid, .pt_flags = r->flags, .refs = take,
			 .ns = ts > r->t0 ? ts - r->t0 : 0 };

	o.cls = r->flags & PT_F_LONGTERM ? PIN_CLASS_LONGTERM :
		(r->reported || o.ns >= m->min_hold) ? PIN_CLASS_HELD_LONG :
		PIN_CLASS_SHORT;
	log_push(l, &o);
	r->refs -= take;
	*left -= take;
	m->st.matched_refs += take;
}

static void model_unpin(struct model *m, __u64 folio, __u32 refs, __u32 pid,
			__u64 ts, struct rec_log *l)
{
	__u32 left = refs;
	size_t i, j;

	m->st.unpin_refs += refs;
	for (i = 0; i < m->n && left; i++)
		if (m->r[i].folio == folio && m->r[i].refs && m->r[i].pid == pid)
			model_take(m, i, &left, ts, l);
	for (i = 0; i < m->n && left; i++)
		if (m->r[i].folio == folio && m->r[i].refs)
			model_take(m, i, &left, ts, l);
	for (i = j = 0; i < m->n; i++)
		if (m->r[i].refs)
			m->r[j++] = m->r[i];
	m->n = j;
	if (left) {
		struct obs o = { .kind = 'm', .folio = folio, .refs = left,
				 .pre = true };

		log_push(l, &o);
		m->st.preexisting_refs += left;
	}
}

static void model_scan(struct model *m, __u64 now, struct rec_log *l)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		struct mrec *r = &m->r[i];
		struct obs o = { .kind = 'h', .folio = r->folio, .pid = r->pid,
				 .tid = r->tid, .pt_flags = r->flags,
				 .refs = r->refs };

		if (r->reported || (r->flags & PT_F_LONGTERM) ||
		    now - r->t0 < m->min_hold)
			continue;
		r->reported = true;
		o.ns = now - r->t0;
		log_push(l, &o);
		m->st.held_long_reported++;
	}
}

#endif /* PINTABLE_MODEL_H */
