// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* In-kernel aggregation, the loader's side: see agg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agg.h"
#include "util.h"

#define INIT_SLOTS 256u

struct agg_slot {
	__u64 folio;	/* 0: empty (no struct page lives at 0) */
	__u32 refs;
};

struct agg_cand {
	__u64 folio;
	struct pt_pin p;
	__u32 refs;
};

int agg_init(struct agg *a, int pins_fd, int agg_fd, int hist_fd, __u64 promote_ns)
{
	memset(a, 0, sizeof(*a));
	a->pins_fd = pins_fd;
	a->agg_fd = agg_fd;
	a->hist_fd = hist_fd;
	a->promote_ns = promote_ns;
	a->ncpu = pins_fd >= 0 ? libbpf_num_possible_cpus() : 1;
	if (a->ncpu <= 0)
		return a->ncpu ? a->ncpu : -EINVAL;
	a->slots = calloc(INIT_SLOTS, sizeof(*a->slots));
	if (!a->slots)
		return -ENOMEM;
	a->mask = INIT_SLOTS - 1;
	return 0;
}

void agg_free(struct agg *a)
{
	free(a->slots);
	a->slots = NULL;
}

static struct agg_slot *slot_find(const struct agg *a, __u64 folio)
{
	for (size_t i = folio_hash(folio) & a->mask;; i = (i + 1) & a->mask) {
		if (a->slots[i].folio == folio)
			return &a->slots[i];
		if (!a->slots[i].folio)
			return NULL;
	}
}

static int grow(struct agg *a)
{
	size_t n = (a->mask + 1) * 2;
	struct agg_slot *s = calloc(n, sizeof(*s)), *old = a->slots;
	size_t old_n = a->mask + 1;

	if (!s)
		return -ENOMEM;
	a->slots = s;
	a->mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		size_t j;

		if (!old[i].folio)
			continue;
		for (j = folio_hash(old[i].folio) & a->mask; s[j].folio; j = (j + 1) & a->mask)
			;
		s[j] = old[i];
	}
	free(old);
	return 0;
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void slot_delete(struct agg *a, struct agg_slot *victim)
{
	size_t i = victim - a->slots, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & a->mask;
		if (!a->slots[j].folio)
			break;
		home = folio_hash(a->slots[j].folio) & a->mask;
		/* may the entry at j move to the hole at i? (home not in (i, j]) */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			a->slots[i] = a->slots[j];
			i = j;
		}
	}
	a->slots[i].folio = 0;
	a->slots[i].refs = 0;
	a->used--;
}

void agg_promoted(struct agg *a, __u64 folio, __u32 refs)
{
	struct agg_slot *s;
	size_t i;

	a->promoted_refs += refs;
	s = slot_find(a, folio);
	if (s) {
		s->refs += refs;
		return;
	}
	/* at most half full; without memory the refs count as never promoted */
	if ((a->used + 1) * 2 > a->mask + 1 && grow(a))
		return;
	for (i = folio_hash(folio) & a->mask; a->slots[i].folio; i = (i + 1) & a->mask)
		;
	a->slots[i].folio = folio;
	a->slots[i].refs = refs;
	a->used++;
}

__u32 agg_promoted_refs(const struct agg *a, __u64 folio)
{
	const struct agg_slot *s = slot_find(a, folio);

	return s ? s->refs : 0;
}

__u32 agg_unpin(struct agg *a, __u64 folio, __u32 refs)
{
	struct agg_slot *s = slot_find(a, folio);
	__u32 took = 0;

	a->pair_refs += refs;
	if (s) {
		took = s->refs < refs ? s->refs : refs;
		s->refs -= took;
		if (!s->refs)
			slot_delete(a, s);
	}
	a->unseen_refs += refs - took;
	return took;
}

static int cand_cmp(const void *pa, const void *pb)
{
	const struct agg_cand *x = pa, *y = pb;

	if (x->p.t0 != y->p.t0)
		return x->p.t0 < y->p.t0 ? -1 : 1;
	return x->folio < y->folio ? -1 : x->folio > y->folio;
}

/*
 * The loader's pin table reports held-long pins by scanning its records in
 * arrival order, so promotions arrive oldest first.
 */
static long promote_all(struct agg *a, struct agg_cand *c, size_t n, agg_promote_fn cb,
			void *ctx)
{
	long refs = 0;

	qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n; i++) {
		cb(c[i].folio, &c[i].p, c[i].refs, ctx);
		agg_promoted(a, c[i].folio, c[i].refs);
		refs += c[i].refs;
	}
	return refs;
}

/* The refs of @p not yet in the table, 0 if none or too young. */
static __u32 unpromoted(const struct agg *a, __u64 folio, const struct pt_pin *p, __u64 now,
			bool all)
{
	__u32 have = agg_promoted_refs(a, folio);

	if (p->refs <= 0 || (__u64)p->refs <= have)
		return 0;
	if (!all && (p->t0 > now || now - p->t0 < a->promote_ns))
		return 0;
	return (__u32)((__u64)p->refs - have);
}

long agg_scan(struct agg *a, __u64 now_ns, bool all, agg_promote_fn cb, void *ctx)
{
	struct agg_cand *c = NULL, *nc;
	size_t n = 0, cap = 0;
	__u64 key, next;
	struct pt_pin p;
	long ret;
	int err;

	if (a->pins_fd < 0)
		return 0;
	for (err = bpf_map_get_next_key(a->pins_fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(a->pins_fd, &key, &next)) {
		__u32 refs;

		key = next;
		/* gone meanwhile (unpinned): nothing to promote */
		if (bpf_map_lookup_elem(a->pins_fd, &key, &p))
			continue;
		refs = unpromoted(a, key, &p, now_ns, all);
		if (!refs)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nc = realloc(c, cap * sizeof(*c));
			if (!nc) {
				free(c);
				a->scan_errors++;
				return -ENOMEM;
			}
			c = nc;
		}
		c[n++] = (struct agg_cand){ .folio = key, .p = p, .refs = refs };
	}
	/*
	 * ENOENT ends the walk. A key deleted under us restarts it from the
	 * first key (the kernel's behaviour), which only costs time.
	 */
	if (err != -ENOENT)
		a->scan_errors++;
	ret = promote_all(a, c, n, cb, ctx);
	free(c);
	return ret;
}

long agg_promote_folio(struct agg *a, __u64 folio, agg_promote_fn cb, void *ctx)
{
	struct agg_cand c = { .folio = folio };

	if (a->pins_fd < 0 || bpf_map_lookup_elem(a->pins_fd, &folio, &c.p))
		return 0;
	c.refs = unpromoted(a, folio, &c.p, 0, true);
	return c.refs ? promote_all(a, &c, 1, cb, ctx) : 0;
}

bool agg_pending(const struct agg *a)
{
	__u64 k;

	return a->pins_fd >= 0 && !bpf_map_get_next_key(a->pins_fd, NULL, &k);
}

void agg_sum_vals(const struct pt_agg_val *v, int ncpu, struct pt_agg_val *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ncpu; i++) {
		out->count += v[i].count;
		out->refs += v[i].refs;
		out->unpin_refs += v[i].unpin_refs;
		out->pages_ret += v[i].pages_ret;
		out->short_calls += v[i].short_calls;
		/* only the CPU that created the key wrote a comm */
		if (!out->comm[0] && v[i].comm[0])
			memcpy(out->comm, v[i].comm, sizeof(out->comm));
	}
	out->comm[PT_COMM_LEN - 1] = '\0';
}

void agg_sum_hists(const struct pt_agg_hist *v, int ncpu, struct log2_hist *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ncpu; i++) {
		struct log2_hist h = { .count = v[i].count, .sum = v[i].sum, .min = v[i].min,
				       .max = v[i].max };

		memcpy(h.slots, v[i].slots, sizeof(h.slots));
		hist_merge(out, &h);
	}
}

int agg_merge(struct agg *a, struct summary *s)
{
	struct pt_agg_hist *hv = NULL;
	struct pt_agg_val *v, sum;
	struct log2_hist h[PT_AGG_HISTS];
	struct pt_agg_key key, next;
	int err = 0;

	if (a->agg_fd < 0)
		return 0;
	v = calloc(a->ncpu, sizeof(*v));
	hv = calloc(a->ncpu, sizeof(*hv));
	if (!v || !hv) {
		free(v);
		free(hv);
		return -ENOMEM;
	}
	/*
	 * Calls first, pins last: a process's name is the latest one merged,
	 * and a call key may date from before exec (execve's own GUP calls,
	 * under the shell's name), a pin key rarely.
	 */
	for (int pass = PT_AGG_CALLS; pass >= PT_AGG_PINS && !err; pass--) {
		for (err = bpf_map_get_next_key(a->agg_fd, NULL, &next); !err;
		     err = bpf_map_get_next_key(a->agg_fd, &key, &next)) {
			key = next;
			if (key.kind != pass || bpf_map_lookup_elem(a->agg_fd, &key, v))
				continue;
			agg_sum_vals(v, a->ncpu, &sum);
			if (key.kind == PT_AGG_PINS)
				summary_add_pins(s, key.tgid, sum.comm, key.api, key.hook,
						 key.stack_id, sum.count, sum.refs, sum.unpin_refs);
			else
				summary_add_calls(s, key.tgid, sum.comm, key.api, sum.count,
						  sum.refs, sum.pages_ret, sum.short_calls);
		}
		err = err == -ENOENT ? 0 : err;
	}
	for (__u32 i = 0; i < PT_AGG_HISTS; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		if (!bpf_map_lookup_elem(a->hist_fd, &i, hv))
			agg_sum_hists(hv, a->ncpu, &h[i]);
	}
	summary_add_hists(s, &h[PT_AGG_HIST_HOLD], &h[PT_AGG_HIST_CALL]);
	free(v);
	free(hv);
	return err;
}
