/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * GUP: pins and references taken at the per-folio grab chokepoints, pins
 * dropped at gup_put_folio and the unpin wrappers that inline it, and the
 * GUP entry points that give each grab its API, request and result.
 */
#ifndef PT_GUP_BPF_H
#define PT_GUP_BPF_H

/* The GUP API call a task is in; the outermost one names its grabs. */
struct gup_ctx {
	__u64 addr;
	__u64 nr;
	__u64 flags;
	__u64 t0;
	__u64 sp;	/* stack address at the outermost entry: see api_enter() */
	__u8  api;
	__u8  depth;
	__u8  has_stack;	/* stack_id is the call's (first grab's) stack */
	__u8  __pad;
	__s32 stack_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u32);
	__type(value, struct gup_ctx);
} gup_ctxs SEC(".maps");

/*
 * The folio an unpin wrapper is dropping. Newer builds inline gup_put_folio
 * into unpin_user_page/unpin_folio/unpin_user_folio, older ones tail-call
 * it: the wrapper reports, and gup_put_folio of that same folio by that
 * task stays quiet, so each unpin is counted once either way. Scoped to the
 * folio so that a stale guard (a missed return) or an unrelated unpin in an
 * interrupt cannot hide other unpins. Keyed by task, not per-CPU:
 * unpin_user_pages_dirty_lock can sleep; but tid 0 is every CPU's idle task
 * (block I/O completions unpin there), so that one is keyed per CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u64);
	__type(value, __u64);
} unpin_guard SEC(".maps");

static __always_inline __u64 guard_key(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return tid ? tid : (1ULL << 32) | bpf_get_smp_processor_id();
}

static __always_inline __u32 pt_flags_of(__u64 gup_flags)
{
	__u32 f = 0;

	if (gup_flags & cfg.foll_pin)
		f |= PT_F_PIN;
	if (gup_flags & cfg.foll_get)
		f |= PT_F_GET;
	if (gup_flags & cfg.foll_longterm)
		f |= PT_F_LONGTERM;
	if (gup_flags & cfg.foll_write)
		f |= PT_F_WRITE;
	return f;
}

/* The stack of the API call c (walked at its first grab), or of this grab. */
static __always_inline __s32 call_stack(struct gup_ctx *c, enum pt_hook hook, void *ctx)
{
	__s32 id;

	/* the walk is most of a grab's cost: --no-stacks trades it for counts alone */
	if (cfg.no_stacks)
		return -1;
	if (c && c->has_stack)
		return c->stack_id;
	id = event_stack(hook, ctx);
	if (c && id >= 0) {
		c->stack_id = id;
		c->has_stack = 1;
	}
	return id;
}

#include "agg.bpf.h"

/*
 * A successful grab of refs on a page or folio. Only FOLL_PIN and FOLL_GET
 * grabs take references; anything else (FOLL_GET|FOLL_PIN both clear) is a
 * no-op in the kernel too.
 */
static __always_inline int on_grab(enum pt_hook hook, __u8 backend, void *ctx, __u64 head,
				   __u32 refs, __u64 gup_flags, __u32 extra)
{
	__u32 flags = pt_flags_of(gup_flags) | extra;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vms_ctx *v = NULL;
	struct gup_ctx *c;
	struct pt_event *e;

	if (!(flags & (PT_F_PIN | PT_F_GET)) || !head || !refs)
		return 0;
	/* the loader calibrating (src/place.c): its own page, recorded, never reported */
	if (calib_tid && tid == calib_tid) {
		calib_grab = head;
		return 0;
	}
	if (!task_selected(tgid))
		return 0;
	if ((flags & PT_F_PIN) && is_zero_page(head))
		return 0;
	STAT_INC(hook, hits);
	/* a plain reference may be ignored below (--no-refs): no lookup for it yet */
	c = flags & PT_F_PIN ? bpf_map_lookup_elem(&gup_ctxs, &tid) : NULL;
	/* memfd_pin_folios pins long-term (udmabuf, iommufd) with FOLL_PIN alone */
	if (c && c->api == PT_HOOK_MEMFD_PIN_FOLIOS)
		flags |= PT_F_LONGTERM;
	/* short-term pins are matched and counted here; long-term ones are news */
	if (cfg.aggregate && (flags & (PT_F_PIN | PT_F_LONGTERM)) == PT_F_PIN) {
		struct grab g = { .head = head, .gup_flags = gup_flags, .refs = refs, .flags = flags };

		if (pin_take(hook, ctx, c, &g))
			return 0;
	}
	if ((flags & PT_F_PIN) && filter_active())
		folio_count_add(&held, hook, head, refs);
	/* a reference taken by vmsplice() is held by the pipe from now on */
	if ((flags & PT_F_GET) && (v = vmsplice_ctx())) {
		flags |= PT_F_PIPE;
		folio_count_add(&pipe_held, hook, head, refs);
		/* one pipe buffer per page: a large folio's grab counts refs pages */
		for (__u32 k = 0; k < VMS_BATCH; k++) {
			if (k >= refs)
				break;
			v->last[v->grabs % VMS_BATCH] = head;
			v->grabs++;
		}
		if (refs > VMS_BATCH)
			v->grabs += refs - VMS_BATCH;
	}
	if (!(flags & (PT_F_PIN | PT_F_PIPE)) && !cfg.trace_refs)
		return 0;
	if (!(flags & PT_F_PIN))
		c = bpf_map_lookup_elem(&gup_ctxs, &tid);

	e = event_reserve(hook, PT_EV_GRAB, backend);
	if (!e)
		return 0;
	if (v) {
		e->holder = v->pipe;
		e->holder_id = v->ino;
	}
	if (folio_is_large(head))
		flags |= PT_F_LARGE;
	e->folio = head;
	e->refs = refs;
	e->gup_flags = gup_flags;
	e->pt_flags = flags;
	if (c) {
		e->api = c->api;
		e->nr_req = c->nr;
		e->addr = c->addr;
	}
	/*
	 * Stacks cost ~1 us: only for what may be held for long, which any
	 * pin may be (a short-term pin held past --min-hold on movable memory
	 * is flagged with its stack); plain references only into pipes. One
	 * walk per API call: its grabs share the callers, and a 1024-page
	 * pin_user_pages() would otherwise walk the stack 1024 times.
	 */
	if (e->pt_flags & (PT_F_PIN | PT_F_PIPE))
		e->stack_id = call_stack(c, hook, ctx);
	event_submit(e, hook);
	return 0;
}

/* A pin dropped: only FOLL_PIN puts are unpins (FOLL_GET puts are GUP undo). */
static __always_inline int on_unpin(enum pt_hook hook, __u8 backend, __u64 head, __u32 refs)
{
	struct pt_event *e;
	__u32 flags = 0;

	if (!head || !refs || is_zero_page(head))
		return 0;
	/* pins the kernel side matched (default mode) end there */
	if (cfg.aggregate && !(refs = pin_drop(hook, backend, head, refs)))
		return 0;
	if (filter_active()) {
		if (!folio_count_sub(&held, head, refs)) {
			STAT_INC(hook, untracked);
			return 0;
		}
		flags |= PT_F_TRACKED;
	}
	STAT_INC(hook, hits);
	e = event_reserve(hook, PT_EV_UNPIN, backend);
	if (!e)
		return 0;
	e->folio = head;
	e->refs = refs;
	e->gup_flags = cfg.foll_pin;
	e->pt_flags = flags | PT_F_PIN;
	event_submit(e, hook);
	return 0;
}

/*
 * A long-term pin grab the kernel refused. 6.1's try_grab_folio refuses a
 * FOLL_LONGTERM pin of a page that is not long-term pinnable (CMA, ZONE_MOVABLE)
 * on every path, and follow_hugetlb_page turns that into -ENOMEM without any
 * migration: the refused page is the only trace of why such a pin failed.
 * Refusals outside __gup_longterm_locked (GUP-fast falling back) are normal.
 */
static __always_inline void grab_refused(__u64 page, __u64 gup_flags)
{
	__u64 want = cfg.foll_pin | cfg.foll_longterm;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lt_args *a;

	if ((gup_flags & want) != want || !(a = bpf_map_lookup_elem(&lt_ctxs, &tid)))
		return;
	if (!a->refused++)
		a->refused_page = page;
}

/* try_grab_page(page, flags): bool (<= 6.1) or 0/-errno (6.2 .. 6.9). */
static __always_inline int grab_page_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	bool ok = cfg.grab_page_ret_bool ? (__u8)h->ret != 0 : (int)h->ret == 0;

	if (!ok) {
		grab_refused(h->a[0], h->a[1]);
		return 0;
	}
	return on_grab(hook, be, h->ctx, page_head(h->a[0]), 1, h->a[1], 0);
}

/* try_grab_folio(page, refs, flags) (<= 6.9), try_grab_folio_fast: folio or NULL. */
static __always_inline int grab_ret_folio_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	if (!h->ret) {
		grab_refused(h->a[0], h->a[2]);
		return 0;
	}
	return on_grab(hook, be, h->ctx, (__u64)h->ret, (__u32)h->a[1], h->a[2], 0);
}

/* try_grab_folio(folio, refs, flags) (>= 6.10): 0 or -errno. */
static __always_inline int grab_folio_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	if ((int)h->ret != 0) {
		grab_refused(h->a[0], h->a[2]);
		return 0;
	}
	return on_grab(hook, be, h->ctx, h->a[0], (__u32)h->a[1], h->a[2], 0);
}

/* folio_add_pin(folio): one more pin on an already pinned folio, no flags. */
static __always_inline int add_pin_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	return on_grab(hook, be, h->ctx, h->a[0], 1, cfg.foll_pin, PT_F_NOFLAGS);
}

/* folio_add_pins(folio, pins): 0 or -errno. */
static __always_inline int add_pins_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	if ((int)h->ret != 0)
		return 0;
	return on_grab(hook, be, h->ctx, h->a[0], (__u32)h->a[1], cfg.foll_pin, PT_F_NOFLAGS);
}

/* gup_put_folio(folio, refs, flags) */
static __always_inline int put_folio_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u64 key = guard_key(), *g;

	if (!(h->a[2] & cfg.foll_pin))
		return 0;
	g = bpf_map_lookup_elem(&unpin_guard, &key);
	if (g && *g == h->a[0])
		return 0;	/* the wrapper around us reported it */
	return on_unpin(hook, be, h->a[0], (__u32)h->a[1]);
}

static __always_inline void guard_raise(enum pt_hook hook, __u64 folio)
{
	__u64 key = guard_key();

	if (bpf_map_update_elem(&unpin_guard, &key, &folio, BPF_ANY))
		STAT_INC(hook, map_full);
}

static __always_inline int unpin_wrapper_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u64 key = guard_key();

	bpf_map_delete_elem(&unpin_guard, &key);
	return 0;
}

/* unpin_user_page(page) */
static __always_inline int unpin_page_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u64 folio = page_head(h->a[0]);

	guard_raise(hook, folio);
	return on_unpin(hook, be, folio, 1);
}

/* unpin_folio(folio) */
static __always_inline int unpin_folio_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	guard_raise(hook, h->a[0]);
	return on_unpin(hook, be, h->a[0], 1);
}

/* unpin_user_folio(folio, npages) */
static __always_inline int unpin_user_folio_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	guard_raise(hook, h->a[0]);
	return on_unpin(hook, be, h->a[0], (__u32)h->a[1]);
}

/*
 * @sp is an address in the probe's stack frame (its ctx): a call nested in
 * the API runs deeper, at a lower address, or at the same one when the API
 * tail-jumps into it (pin_user_pages_fast -> gup_fast_fallback). A context
 * whose entry was below the current frame belongs to a call whose return
 * we missed (kretprobe maxactive, or attached mid-call): replace it, and
 * count it.
 */
static __always_inline int api_enter(enum pt_hook hook, __u64 sp, __u64 addr, __u64 nr,
				     __u64 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gup_ctx *c = bpf_map_lookup_elem(&gup_ctxs, &tid);
	struct gup_ctx n = {};

	if (c && sp <= c->sp) {
		/* Nested (pin_user_pages_fast -> __gup_longterm_locked): keep the outer API. */
		c->depth++;
		return 0;
	}
	if (c)
		STAT_INC(c->api, stale);
	n.addr = addr;
	n.nr = nr;
	n.flags = flags;
	n.t0 = bpf_ktime_get_ns();
	n.sp = sp;
	n.api = hook;
	n.depth = 1;
	if (bpf_map_update_elem(&gup_ctxs, &tid, &n, BPF_ANY))
		STAT_INC(hook, map_full);
	return 0;
}

static __always_inline int api_exit(enum pt_hook hook, __u8 be, struct hargs *h, bool ret_int)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gup_ctx *c = bpf_map_lookup_elem(&gup_ctxs, &tid);
	struct pt_event *e;
	struct gup_ctx o;
	__s64 ret;

	if (!c)
		return 0;
	if (c->depth > 1) {
		c->depth--;
		return 0;
	}
	o = *c;
	bpf_map_delete_elem(&gup_ctxs, &tid);
	if (o.api != hook || !task_selected(bpf_get_current_pid_tgid() >> 32))
		return 0;
	/* Reference-only APIs (futex, KVM, vmsplice) follow --no-refs. */
	if (!cfg.trace_refs && hook >= PT_HOOK_GET_USER_PAGES &&
	    hook <= PT_HOOK_GET_USER_PAGES_UNLOCKED)
		return 0;
	STAT_INC(hook, hits);
	/* the upper half of RAX is undefined after an int return: sign-extend */
	ret = ret_int ? (__s64)(int)h->ret : h->ret;
	if (cfg.aggregate && call_count(hook, &o, ret, bpf_ktime_get_ns() - o.t0))
		return 0;
	e = event_reserve(hook, PT_EV_CALL, be);
	if (!e)
		return 0;
	e->api = hook;
	e->addr = o.addr;
	e->nr_req = o.nr;
	e->gup_flags = o.flags;
	e->pt_flags = pt_flags_of(o.flags);
	e->ret = ret;
	e->dur_ns = bpf_ktime_get_ns() - o.t0;
	event_submit(e, hook);
	return 0;
}

static __always_inline int longterm_entry(enum pt_hook hk, __u8 be, struct hargs *h)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lt_args a = { .addr = h->a[1], .nr = h->a[2], .flags = h->a[5] };

	if ((a.flags & cfg.foll_longterm) && bpf_map_update_elem(&lt_ctxs, &tid, &a, BPF_ANY))
		STAT_INC(hk, map_full);
	return api_enter(hk, h->sp, a.addr, a.nr, a.flags);
}

static __always_inline int longterm_exit(enum pt_hook hk, __u8 be, struct hargs *h)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lt_args *a = bpf_map_lookup_elem(&lt_ctxs, &tid);
	struct gup_ctx *c;

	if (a) {
		struct lt_args args = *a;

		bpf_map_delete_elem(&lt_ctxs, &tid);
		if (h->ret < 0 && task_selected(bpf_get_current_pid_tgid() >> 32)) {
			c = bpf_map_lookup_elem(&gup_ctxs, &tid);
			pin_fail(hk, be, h, c ? c->api : hk, &args, pt_flags_of(args.flags));
		}
	}
	return api_exit(hk, be, h, false);
}

/*
 * Entry points, by argument positions (addr, nr, flags). FOLL_PIN is added
 * inside the pin_* APIs, so the flags here are the caller's.
 */
#define PT_API(name, hook, nargs, ai, ni, fi, ret_int)				\
static __always_inline int api_entry_##name(enum pt_hook hk, __u8 be,		\
					    struct hargs *h)			\
{										\
	return api_enter(hk, h->sp, h->a[ai], h->a[ni],				\
			 (fi) < 0 ? 0 : h->a[(fi) < 0 ? 0 : (fi)]);		\
}										\
static __always_inline int api_exit_##name(enum pt_hook hk, __u8 be,		\
					   struct hargs *h)			\
{										\
	return api_exit(hk, be, h, ret_int);					\
}										\
PT_HOOK_ENTRY_EXIT(name, hook, nargs, api_entry_##name, api_exit_##name)

PT_HOOK_EXIT(try_grab_page, PT_HOOK_TRY_GRAB_PAGE, 2, grab_page_exit)
PT_HOOK_EXIT(try_grab_folio_page, PT_HOOK_TRY_GRAB_FOLIO_PAGE, 3, grab_ret_folio_exit)
PT_HOOK_EXIT(try_grab_folio, PT_HOOK_TRY_GRAB_FOLIO, 3, grab_folio_exit)
PT_HOOK_EXIT(try_grab_folio_fast, PT_HOOK_TRY_GRAB_FOLIO_FAST, 3, grab_ret_folio_exit)
PT_HOOK_ENTRY(folio_add_pin, PT_HOOK_FOLIO_ADD_PIN, 1, add_pin_entry)
PT_HOOK_EXIT(folio_add_pins, PT_HOOK_FOLIO_ADD_PINS, 2, add_pins_exit)

PT_HOOK_ENTRY(gup_put_folio, PT_HOOK_GUP_PUT_FOLIO, 3, put_folio_entry)
PT_HOOK_ENTRY_EXIT(unpin_user_page, PT_HOOK_UNPIN_USER_PAGE, 1, unpin_page_entry, unpin_wrapper_exit)
PT_HOOK_ENTRY_EXIT(unpin_folio, PT_HOOK_UNPIN_FOLIO, 1, unpin_folio_entry, unpin_wrapper_exit)
PT_HOOK_ENTRY_EXIT(unpin_user_folio, PT_HOOK_UNPIN_USER_FOLIO, 2, unpin_user_folio_entry, unpin_wrapper_exit)

/* name, hook, args read, positions of (addr, nr, flags), returns int (not long) */
PT_API(pin_user_pages, PT_HOOK_PIN_USER_PAGES, 3, 0, 1, 2, false)
PT_API(pin_user_pages_fast, PT_HOOK_PIN_USER_PAGES_FAST, 3, 0, 1, 2, true)
PT_API(pin_user_pages_fast_only, PT_HOOK_PIN_USER_PAGES_FAST_ONLY, 3, 0, 1, 2, true)
PT_API(pin_user_pages_remote, PT_HOOK_PIN_USER_PAGES_REMOTE, 4, 1, 2, 3, false)
PT_API(pin_user_pages_unlocked, PT_HOOK_PIN_USER_PAGES_UNLOCKED, 4, 0, 1, 3, false)
PT_API(get_user_pages, PT_HOOK_GET_USER_PAGES, 3, 0, 1, 2, false)
PT_API(get_user_pages_fast, PT_HOOK_GET_USER_PAGES_FAST, 3, 0, 1, 2, true)
PT_API(get_user_pages_fast_only, PT_HOOK_GET_USER_PAGES_FAST_ONLY, 3, 0, 1, 2, true)
PT_API(get_user_pages_remote, PT_HOOK_GET_USER_PAGES_REMOTE, 4, 1, 2, 3, false)
PT_API(get_user_pages_unlocked, PT_HOOK_GET_USER_PAGES_UNLOCKED, 4, 0, 1, 3, false)
PT_API(memfd_pin_folios, PT_HOOK_MEMFD_PIN_FOLIOS, 5, 1, 4, -1, false)
PT_HOOK_ENTRY_EXIT(gup_longterm_locked, PT_HOOK_GUP_LONGTERM_LOCKED, 6, longterm_entry, longterm_exit)
PT_API(gup_fast_fallback, PT_HOOK_GUP_FAST_FALLBACK, 3, 0, 1, 2, true)

#endif /* PT_GUP_BPF_H */
