/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * In-kernel aggregation (the default mode). A short-term pin costs a hash
 * update at the grab and a delete at the unpin, and reaches the loader only
 * as counts: per owner, API and stack (agg), and a log2 histogram of its
 * hold time (agg_hist). Pins that live long enough to matter (promote_ns,
 * half of --min-hold) leave the kernel: the loader copies them out of the
 * pins map while they are held, and their unpin comes as an UNPIN record
 * with PT_F_AGG that carries the owner. --stream turns all of this off.
 */
#ifndef PT_AGG_BPF_H
#define PT_AGG_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PT_AGG_KEYS);
	__type(key, struct pt_agg_key);
	__type(value, struct pt_agg_val);
} agg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PT_AGG_HISTS);
	__type(key, __u32);
	__type(value, struct pt_agg_hist);
} agg_hist SEC(".maps");

/* Pins matched in the kernel, by folio. Also the run/-p/-n filter's record. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TRACKED_FOLIOS);
	__type(key, __u64);
	__type(value, struct pt_pin);
} pins SEC(".maps");

#include "log2.bpf.h"

static __always_inline void agg_hist_add(__u32 idx, __u64 v)
{
	struct pt_agg_hist *h = bpf_map_lookup_elem(&agg_hist, &idx);

	if (!h)
		return;
	h->slots[log2_u64(v) & 63]++;
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

/*
 * The counters of key k, created on first use. NULL when the map is full:
 * the caller then sends the event instead, so nothing goes uncounted.
 */
static __always_inline struct pt_agg_val *agg_slot(struct pt_agg_key *k)
{
	struct pt_agg_val *v = bpf_map_lookup_elem(&agg, k);
	struct pt_agg_val z = {};

	if (v)
		return v;
	bpf_get_current_comm(z.comm, sizeof(z.comm));
	/* EEXIST: another CPU created it meanwhile; then the lookup finds it */
	bpf_map_update_elem(&agg, k, &z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&agg, k);
}

/* A grab, as one argument: BPF subprograms take at most five. */
struct grab {
	__u64 head;
	__u64 gup_flags;
	__u32 refs;
	__u32 flags;
};

/*
 * A short-term pin of refs on head, counted and kept in the pins map.
 * False when a map is full: the caller sends it as an event instead.
 * Not inlined: one copy for every grab hook keeps the verifier's work flat.
 */
static __noinline bool pin_take(enum pt_hook hook, void *ctx, struct gup_ctx *c,
				const struct grab *g)
{
	__u64 head = g->head;
	__u32 refs = g->refs;
	__u64 id = bpf_get_current_pid_tgid();
	struct pt_agg_key k = { .tgid = id >> 32, .hook = hook, .kind = PT_AGG_PINS };
	struct pt_agg_val *a;
	struct pt_pin *p, n = {};
	__u64 fl;

	if (c)
		k.api = c->api;
	k.stack_id = call_stack(c, hook, ctx);
	a = agg_slot(&k);
	if (!a)
		return false;
	p = bpf_map_lookup_elem(&pins, &head);
	if (!p) {
		fl = page_flags_raw(head);
		n.t0 = bpf_ktime_get_ns();
		n.refs = refs;
		n.gup_flags = g->gup_flags;
		n.pfn = folio_pfn(head);
		n.tgid = id >> 32;
		n.tid = (__u32)id;
		n.pt_flags = g->flags;
		if (fl & (1ULL << bpf_core_enum_value(enum pageflags, PG_head)))
			n.pt_flags |= PT_F_LARGE;
		n.stack_id = k.stack_id;
		bpf_get_current_comm(n.comm, sizeof(n.comm));
		n.api = k.api;
		n.hook = hook;
		n.zone = flags_zone(fl);
		if (!bpf_map_update_elem(&pins, &head, &n, BPF_NOEXIST))
			goto counted;
		p = bpf_map_lookup_elem(&pins, &head);	/* created meanwhile */
		if (!p)
			return false;
	}
	__sync_fetch_and_add(&p->refs, refs);
counted:
	a->count++;
	a->refs += refs;
	return true;
}

/* An unpin of a pin held >= promote_ns: the loader learns both ends now. */
static __always_inline void pin_pair_send(enum pt_hook hook, __u8 be, const struct pt_pin *o,
					  __u64 head, __u32 refs, __u64 hold)
{
	struct pt_event *e = event_reserve(hook, PT_EV_UNPIN, be);

	if (!e)
		return;
	/* the owner (include/pintrace.h, PT_F_AGG); the task fields stay the unpinner's */
	e->ret = (__s64)((__u64)o->tgid << 32 | o->tid);
	__builtin_memcpy(&e->holder, o->comm, sizeof(o->comm));
	e->api = o->api;
	e->nr_req = o->hook;
	e->folio = head;
	e->refs = refs;
	e->stack_id = o->stack_id;
	e->gup_flags = o->gup_flags;
	e->pt_flags = o->pt_flags | PT_F_PIN | PT_F_AGG;
	e->addr = o->t0;
	e->dur_ns = hold;
	event_submit(e, hook);
}

/*
 * An unpin of head: the refs the pins map held are taken from it, counted
 * as a short hold or sent with their owner. Returns the refs it did not
 * hold, which go the event way (pins taken before tracing, long-term pins).
 */
static __noinline __u32 pin_drop(enum pt_hook hook, __u8 be, __u64 head, __u32 refs)
{
	struct pt_pin *p = bpf_map_lookup_elem(&pins, &head);
	struct pt_agg_key k = { .kind = PT_AGG_PINS };
	struct pt_agg_val *a;
	struct pt_pin o;
	__u64 hold;
	__s64 old;
	__u32 took;

	if (!p)
		return refs;
	old = __sync_fetch_and_add(&p->refs, -(__s64)refs);
	/*
	 * Copied before the delete: a preallocated element is reused at once.
	 * The clock is read after the decrement: if the loader's copy of this
	 * entry (taken at an age >= promote_ns) still had these refs, this
	 * hold is older still, so they come back as an UNPIN, never silently.
	 */
	o = *p;
	hold = bpf_ktime_get_ns() - o.t0;
	if (old <= refs)
		bpf_map_delete_elem(&pins, &head);
	took = old <= 0 ? 0 : old < refs ? old : refs;
	if (!took)
		return refs;
	STAT_INC(hook, hits);
	k.tgid = o.tgid;
	k.stack_id = o.stack_id;
	k.api = o.api;
	k.hook = o.hook;
	if (hold < cfg.promote_ns && (a = agg_slot(&k))) {
		a->unpin_refs += took;
		agg_hist_add(PT_AGG_HIST_HOLD, hold);
	} else {
		pin_pair_send(hook, be, &o, head, took, hold);
	}
	return refs - took;
}

/* A GUP call that returned: counted unless the loader needs to see it. */
static __always_inline bool call_count(enum pt_hook hook, const struct gup_ctx *o, __s64 ret,
				       __u64 dur)
{
	struct pt_agg_key k = {
		.tgid = bpf_get_current_pid_tgid() >> 32, .stack_id = -1,
		.api = hook, .hook = hook, .kind = PT_AGG_CALLS,
	};
	struct pt_agg_val *a;

	/* failures, and long-term calls (checked against their pins' zones), go out */
	if (ret < 0 || (o->flags & cfg.foll_longterm) || hook == PT_HOOK_MEMFD_PIN_FOLIOS)
		return false;
	a = agg_slot(&k);
	if (!a)
		return false;
	a->count++;
	a->refs += o->nr;
	a->pages_ret += ret;
	if ((__u64)ret < o->nr)
		a->short_calls++;
	agg_hist_add(PT_AGG_HIST_CALL, dur);
	return true;
}

#endif /* PT_AGG_BPF_H */
