// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pin table implementation.
 *
 * Layout, chosen for millions of events per second on one core:
 *  - folios live in an open-addressing (linear probing) hash table; a slot
 *    holds the head/tail of the folio's record list, so a lookup touches one
 *    cache line in the common case. Deletion uses backward shift, so there
 *    are no tombstones and probe chains never degrade over a long trace.
 *  - records live in one array (the pool) and are linked by 32-bit indices,
 *    never pointers, so the pool can grow with realloc(). Freed records go
 *    to a free list: in steady state pin/unpin never call malloc.
 *  - records that may still become "held long" are also on an intrusive
 *    FIFO in arrival order, so pintable_scan_held() only looks at the front.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pintable.h"
#include "util.h"

#define NIL UINT32_MAX

#define INIT_SLOTS	1024u
#define INIT_RECS	1024u

struct pin_rec {
	struct pin_owner owner;
	__u64 folio;		/* needed by the held scan, which has no slot */
	__u64 t0_ns;
	__u32 refs;		/* refs remaining; 0 while on the free list */
	__u32 next;		/* next record of the folio, or free list link */
	__u32 fifo_prev;	/* held-scan FIFO links, valid while in_fifo */
	__u32 fifo_next;
	bool in_fifo;
	bool reported;		/* reported by pintable_scan_held() */
};

struct folio_slot {
	__u64 folio;
	__u32 head;		/* oldest record; NIL marks an empty slot */
	__u32 tail;		/* newest record: pins append here */
	/*
	 * While !mixed every record of the folio has the same match key (owner
	 * pid, or holder with match_holder) == key. Then the
	 * "same pid first" pass of an unpin is the same as plain oldest-first
	 * and is skipped, which keeps unpins O(1) for the common big folio that
	 * one process pins page by page (hundreds of records on one folio).
	 */
	__u64 key;
	__u32 mixed;
};

struct pintable {
	struct pintable_opts opts;
	struct folio_slot *slots;
	size_t slot_mask;		/* slot count - 1 (power of two) */
	struct pin_rec *recs;
	size_t rec_cap;			/* allocated records */
	size_t rec_used;		/* high-water mark: recs[rec_used..] never used */
	__u32 free_head;
	__u32 fifo_head;		/* oldest not-yet-reported short-term record */
	__u32 fifo_tail;
	struct pintable_stats st;
};

const char *pin_class_name(enum pin_class cls)
{
	switch (cls) {
	case PIN_CLASS_SHORT:		return "short";
	case PIN_CLASS_HELD_LONG:	return "held-long";
	case PIN_CLASS_LONGTERM:	return "longterm";
	default:			return "unknown";
	}
}

static struct folio_slot *slots_alloc(size_t n)
{
	struct folio_slot *s = malloc(n * sizeof(*s));

	if (!s)
		return NULL;
	/* all-ones: head == NIL, i.e. every slot empty */
	memset(s, 0xff, n * sizeof(*s));
	return s;
}

/* Index of @folio's slot, or of the empty slot where it would go. */
/* What releases are matched by first: the process, or the holding object. */
static __u64 owner_key(const struct pintable *t, const struct pin_owner *o)
{
	return t->opts.match_holder ? o->holder : o->pid;
}

static size_t slot_probe(const struct pintable *t, __u64 folio)
{
	size_t i = folio_hash(folio) & t->slot_mask;

	while (t->slots[i].head != NIL && t->slots[i].folio != folio)
		i = (i + 1) & t->slot_mask;
	return i;
}

static int slots_grow(struct pintable *t)
{
	size_t old_n = t->slot_mask + 1, new_n = old_n * 2, i;
	struct folio_slot *old = t->slots, *s;

	if (new_n < old_n || new_n > SIZE_MAX / sizeof(*s))
		return -ENOMEM;
	s = slots_alloc(new_n);
	if (!s)
		return -ENOMEM;
	t->slots = s;
	t->slot_mask = new_n - 1;
	for (i = 0; i < old_n; i++) {
		if (old[i].head == NIL)
			continue;
		t->slots[slot_probe(t, old[i].folio)] = old[i];
	}
	free(old);
	return 0;
}

/* Backward-shift deletion: keeps probe chains intact without tombstones. */
static void slot_delete(struct pintable *t, size_t i)
{
	size_t mask = t->slot_mask, j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (t->slots[j].head == NIL)
			break;
		k = folio_hash(t->slots[j].folio) & mask;
		/* slot j may fill hole i iff its home k is not in (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	memset(&t->slots[i], 0xff, sizeof(t->slots[i]));
	t->st.folios--;
}

static int rec_alloc(struct pintable *t, __u32 *idx)
{
	struct pin_rec *r;
	size_t n;

	if (t->free_head != NIL) {
		*idx = t->free_head;
		t->free_head = t->recs[*idx].next;
		return 0;
	}
	if (t->rec_used == t->rec_cap) {
		if (t->rec_cap >= t->opts.max_records)
			return -ENOSPC;
		n = t->rec_cap * 2;
		if (n > t->opts.max_records)
			n = t->opts.max_records;
		r = realloc(t->recs, n * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->recs = r;
		t->rec_cap = n;
	}
	*idx = (__u32)t->rec_used++;
	return 0;
}

static void rec_release(struct pintable *t, __u32 idx)
{
	t->recs[idx].refs = 0;
	t->recs[idx].next = t->free_head;
	t->free_head = idx;
}

static void fifo_append(struct pintable *t, __u32 idx)
{
	struct pin_rec *r = &t->recs[idx];

	r->fifo_prev = t->fifo_tail;
	r->fifo_next = NIL;
	if (t->fifo_tail != NIL)
		t->recs[t->fifo_tail].fifo_next = idx;
	else
		t->fifo_head = idx;
	t->fifo_tail = idx;
	r->in_fifo = true;
}

static void fifo_unlink(struct pintable *t, __u32 idx)
{
	struct pin_rec *r = &t->recs[idx];

	if (!r->in_fifo)
		return;
	if (r->fifo_prev != NIL)
		t->recs[r->fifo_prev].fifo_next = r->fifo_next;
	else
		t->fifo_head = r->fifo_next;
	if (r->fifo_next != NIL)
		t->recs[r->fifo_next].fifo_prev = r->fifo_prev;
	else
		t->fifo_tail = r->fifo_prev;
	r->in_fifo = false;
}

struct pintable *pintable_new(const struct pintable_opts *o)
{
	struct pintable *t;

	/* record indices are 32-bit with NIL reserved */
	if (o && o->max_records >= NIL) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (o)
		t->opts = *o;
	if (!t->opts.max_records)
		t->opts.max_records = PINTABLE_DEFAULT_MAX_RECORDS;
	t->rec_cap = t->opts.max_records < INIT_RECS ?
		     t->opts.max_records : INIT_RECS;
	t->recs = malloc(t->rec_cap * sizeof(*t->recs));
	t->slots = slots_alloc(INIT_SLOTS);
	if (!t->recs || !t->slots) {
		pintable_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->slot_mask = INIT_SLOTS - 1;
	t->free_head = NIL;
	t->fifo_head = NIL;
	t->fifo_tail = NIL;
	return t;
}

void pintable_free(struct pintable *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->recs);
	free(t);
}

int pintable_pin(struct pintable *t, __u64 folio, __u32 refs,
		 const struct pin_owner *own, __u64 ts_ns)
{
	struct folio_slot *s;
	struct pin_rec *r;
	size_t si;
	__u32 idx;
	int err;

	if (!refs)
		return 0;
	t->st.pin_refs += refs;

	err = rec_alloc(t, &idx);
	if (err)
		goto full;

	si = slot_probe(t, folio);
	if (t->slots[si].head == NIL) {
		/* new folio: keep the load factor under 0.7 for short probes */
		if ((t->st.folios + 1) * 10 > (t->slot_mask + 1) * 7) {
			err = slots_grow(t);
			if (err) {
				rec_release(t, idx);
				goto full;
			}
			si = slot_probe(t, folio);
		}
		s = &t->slots[si];
		s->folio = folio;
		s->head = idx;
		s->key = owner_key(t, own);
		s->mixed = 0;
		t->st.folios++;
	} else {
		s = &t->slots[si];
		t->recs[s->tail].next = idx;
		if (s->key != owner_key(t, own))
			s->mixed = 1;
	}
	s->tail = idx;

	r = &t->recs[idx];
	r->owner = *own;
	r->folio = folio;
	r->t0_ns = ts_ns;
	r->refs = refs;
	r->next = NIL;
	r->in_fifo = false;
	r->reported = false;
	/* declared long-term pins are expected to be held: never "held long" */
	if (!(own->pt_flags & PT_F_LONGTERM))
		fifo_append(t, idx);

	t->st.outstanding_refs += refs;
	t->st.outstanding_records++;
	return 0;

full:
	t->st.table_full_refs += refs;
	return err;
}

static enum pin_class rec_class(const struct pintable *t,
				const struct pin_rec *r, __u64 hold_ns)
{
	if (r->owner.pt_flags & PT_F_LONGTERM)
		return PIN_CLASS_LONGTERM;
	/* once reported as held long, the unpin must agree with the report */
	if (r->reported || hold_ns >= t->opts.min_hold_ns)
		return PIN_CLASS_HELD_LONG;
	return PIN_CLASS_SHORT;
}

/*
 * Consume up to *left refs from record idx (whose predecessor in the folio
 * list is prev, NIL if it is the head). Returns the record that follows it.
 */
static __u32 rec_consume(struct pintable *t, struct folio_slot *s, __u32 prev,
			 __u32 idx, __u32 *left, __u64 ts_ns,
			 pintable_match_fn cb, void *ctx)
{
	struct pin_rec *r = &t->recs[idx];
	__u32 take = r->refs < *left ? r->refs : *left, next = r->next;
	struct unpin_match m;

	m.owner = &r->owner;
	m.refs = take;
	/* events from different CPUs can arrive slightly out of order */
	m.hold_ns = ts_ns > r->t0_ns ? ts_ns - r->t0_ns : 0;
	m.cls = rec_class(t, r, m.hold_ns);
	m.preexisting = false;
	m.folio = r->folio;
	if (cb)
		cb(&m, ctx);

	*left -= take;
	r->refs -= take;
	t->st.matched_refs += take;
	t->st.outstanding_refs -= take;
	if (r->refs)
		return next;

	if (prev == NIL)
		s->head = next;
	else
		t->recs[prev].next = next;
	if (s->tail == idx)
		s->tail = prev;
	fifo_unlink(t, idx);
	rec_release(t, idx);
	t->st.outstanding_records--;
	return next;
}

int pintable_unpin(struct pintable *t, __u64 folio, __u32 refs,
		   __u64 unpin_key, __u64 ts_ns, pintable_match_fn cb, void *ctx)
{
	__u32 left = refs, idx, prev, next;
	struct folio_slot *s;
	struct unpin_match m;
	size_t si;

	if (!refs)
		return 0;
	t->st.unpin_refs += refs;

	si = slot_probe(t, folio);
	s = &t->slots[si];
	if (s->head != NIL) {
		/* pass 1: the unpinning process's own pins, oldest first */
		if (s->mixed) {
			prev = NIL;
			for (idx = s->head; idx != NIL && left; idx = next) {
				if (owner_key(t, &t->recs[idx].owner) != unpin_key) {
					next = t->recs[idx].next;
					prev = idx;
					continue;
				}
				/*
				 * Either idx is freed (prev stays) or it
				 * keeps refs because left reached 0 (done).
				 */
				next = rec_consume(t, s, prev, idx, &left,
						   ts_ns, cb, ctx);
			}
		}
		/* pass 2: whoever pinned first (kworkers, IRQ completions...) */
		while (left && s->head != NIL)
			rec_consume(t, s, NIL, s->head, &left, ts_ns, cb, ctx);
		if (s->head == NIL)
			slot_delete(t, si);
	}

	if (left) {
		m.owner = NULL;
		m.refs = left;
		m.hold_ns = 0;
		m.cls = PIN_CLASS_SHORT;
		m.preexisting = true;
		m.folio = folio;
		t->st.preexisting_refs += left;
		if (cb)
			cb(&m, ctx);
	}
	return 0;
}

void pintable_scan_held(struct pintable *t, __u64 now_ns, pintable_held_fn cb,
			void *ctx)
{
	struct pin_rec *r;
	__u32 idx;
	__u64 age;

	/*
	 * The FIFO is in arrival order, which is t0 order up to the small
	 * cross-CPU reordering of the ring buffer; a record overtaken that way
	 * is merely reported one scan later.
	 */
	while ((idx = t->fifo_head) != NIL) {
		r = &t->recs[idx];
		age = now_ns > r->t0_ns ? now_ns - r->t0_ns : 0;
		if (age < t->opts.min_hold_ns)
			break;
		fifo_unlink(t, idx);
		r->reported = true;
		t->st.held_long_reported++;
		if (cb)
			cb(r->folio, &r->owner, r->refs, r->t0_ns, age, ctx);
	}
}

void pintable_foreach_outstanding(struct pintable *t,
				  pintable_outstanding_fn cb, void *ctx)
{
	const struct pin_rec *r;
	size_t i;
	__u32 idx;

	for (i = 0; i <= t->slot_mask; i++) {
		for (idx = t->slots[i].head; idx != NIL; idx = r->next) {
			r = &t->recs[idx];
			cb(r->folio, &r->owner, r->refs, r->t0_ns, ctx);
		}
	}
}

const struct pin_owner *pintable_oldest(const struct pintable *t, __u64 folio, __u64 *t0_ns)
{
	size_t i = slot_probe(t, folio);
	const struct pin_rec *r;

	if (t->slots[i].head == NIL)
		return NULL;
	r = &t->recs[t->slots[i].head];
	if (t0_ns)
		*t0_ns = r->t0_ns;
	return &r->owner;
}

void pintable_get_stats(const struct pintable *t, struct pintable_stats *st)
{
	*st = t->st;
}

void pintable_set_min_hold(struct pintable *t, __u64 min_hold_ns)
{
	t->opts.min_hold_ns = min_hold_ns;
}
