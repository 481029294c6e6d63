/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Migration failures and the pages behind them.
 *
 * The kernel says only *that* migrate_pages() failed (the mm_migrate_pages
 * tracepoint, pgmigrate_fail). Which folios did not move is visible for a
 * moment afterwards: migrate_pages() splices every folio it could not move
 * back onto the caller's list, and every caller (long-term pinning, memory
 * offline, alloc_contig_range, compaction) then hands that list to
 * putback_movable_pages(). So: the tracepoints give the reason and the
 * counts, the entry of putback_movable_pages() gives the folios, in the
 * task that migrated. User space looks the folios up in its tables of holds
 * and names who holds each one.
 *
 * A failing migration is often retried in a loop (memory offline retries
 * until it succeeds or is signalled), so detailed reports are rate-limited
 * per task; every failure is still counted, per reason, in migrate_stats.
 *
 * Long-term pin failures come from __gup_longterm_locked's return value
 * (gup.bpf.h); the syscall the pinning task was in is then followed to its
 * return so that the errno the process saw is reported too.
 */
#ifndef PT_MIGRATE_BPF_H
#define PT_MIGRATE_BPF_H

#define PT_MIG_MAX_FOLIOS	4096
#define PT_PF_KTHREAD		0x00200000	/* include/linux/sched.h, the same since 2.6 */
#define PT_MIG_REPORT_NS	1000000000ULL	/* one detailed failure per task per second */

struct mig_ctx {
	__u64 last_report;	/* when this task's last failure was detailed */
	__u64 suppressed;	/* failures since then that were only counted */
	__u64 succeeded;
	__u64 failed;
	__u32 reason;
	__u32 mode;
	__u8  pending;		/* failed folios are on their way to putback */
	__u8  __pad[7];
};

/* By task: migrate_pages() runs synchronously in the task that asked. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u32);
	__type(value, struct mig_ctx);
} mig_ctxs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PT_MIGRATE_REASONS);
	__type(key, __u32);
	__type(value, struct pt_migrate_stats);
} migrate_stats SEC(".maps");

/* Tasks whose long-term pin failed in the current syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u32);
	__type(value, __u8);
} pin_failed SEC(".maps");

/* Entries in pin_failed: sys_exit does nothing else while it is 0. */
__u64 pin_failed_count = 0;
/* Failure ids: pair the MIGRATE_PAGE records with their MIGRATE_FAIL. */
__u64 mig_seq = 0;

static __always_inline struct pt_migrate_stats *mig_stats(__u32 reason)
{
	__u32 key = reason < PT_MIGRATE_REASONS ? reason : PT_MIGRATE_REASONS - 1;

	return bpf_map_lookup_elem(&migrate_stats, &key);
}

SEC("?tp_btf/mm_migrate_pages_start")
int BPF_PROG(mig_start, int mode, int reason)
{
	PT_NOOP_GUARD();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mig_ctx *c = bpf_map_lookup_elem(&mig_ctxs, &tid);
	struct mig_ctx n = {};

	STAT_INC(PT_HOOK_MIGRATE_START, hits);
	if (!c) {
		if (bpf_map_update_elem(&mig_ctxs, &tid, &n, BPF_ANY)) {
			STAT_INC(PT_HOOK_MIGRATE_START, map_full);
			return 0;
		}
		c = bpf_map_lookup_elem(&mig_ctxs, &tid);
		if (!c)
			return 0;
	}
	c->reason = reason;
	c->mode = mode;
	c->pending = 0;
	return 0;
}

/*
 * (succeeded, failed, thp_succeeded, thp_failed, thp_split, [large_folio_split
 * from 6.12,] mode, reason): only the first two are read, at offsets every
 * version shares; the reason came with mm_migrate_pages_start.
 */
SEC("?tp_btf/mm_migrate_pages")
int mig_end(unsigned long long *ctx)
{
	PT_NOOP_GUARD();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mig_ctx *c = bpf_map_lookup_elem(&mig_ctxs, &tid);
	__u64 succeeded = ctx[0], failed = ctx[1];
	struct pt_migrate_stats *st;

	if (!c)
		return 0;	/* started before we attached */
	STAT_INC(PT_HOOK_MIGRATE_END, hits);
	st = mig_stats(c->reason);
	if (st) {
		st->calls++;
		st->pages_moved += succeeded;
		st->pages_failed += failed;
		if (failed)
			st->failures++;
	}
	c->succeeded = succeeded;
	c->failed = failed;
	c->pending = failed > 0;
	return 0;
}

struct walk_ctx {
	__u64 head;		/* the list putback_movable_pages() got */
	__u64 node;		/* current list node */
	__u64 seq;
	__u32 reason;
	__u32 listed;
	__u8  backend;
	bool  more;		/* stopped before the end of the list (or a full ring buffer) */
};

static long walk_one(__u32 i, void *data)
{
	struct walk_ctx *w = data;
	struct list_head *node;
	struct page *pg;
	struct pt_event *e;
	__u64 folio;

	if (!w->node || w->node == w->head)
		return 1;
	/* locals: BPF_CORE_READ must not see fields of our own structs */
	node = (struct list_head *)w->node;
	folio = w->node - bpf_core_field_offset(struct page, lru);
	pg = (struct page *)folio;
	e = event_reserve(PT_HOOK_PUTBACK, PT_EV_MIGRATE_PAGE, w->backend);
	if (e) {
		e->folio = folio;
		e->refs = BPF_CORE_READ(pg, _refcount.counter);
		e->nr_req = w->reason;
		e->addr = w->seq;
		if (folio_is_large(folio))
			e->pt_flags |= PT_F_LARGE;
		event_submit(e, PT_HOOK_PUTBACK);
		w->listed++;
	}
	w->node = (__u64)BPF_CORE_READ(node, next);
	return 0;
}

/* putback_movable_pages(list): the folios the last migrate_pages() left. */
static __always_inline int putback_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mig_ctx *c = bpf_map_lookup_elem(&mig_ctxs, &tid);
	struct list_head *head = (struct list_head *)h->a[0];
	struct walk_ctx w = { .head = h->a[0], .backend = be };
	struct pt_migrate_stats *st;
	struct pt_event *e;
	__u64 now;

	if (!c || !c->pending)
		return 0;
	c->pending = 0;
	STAT_INC(hook, hits);
	st = mig_stats(c->reason);
	now = bpf_ktime_get_ns();
	if (c->last_report && now - c->last_report < PT_MIG_REPORT_NS) {
		c->suppressed++;
		if (st)
			st->suppressed++;
		return 0;
	}
	if (st)
		st->reported++;
	w.seq = __sync_fetch_and_add(&mig_seq, 1) + 1;
	w.reason = c->reason;
	w.node = (__u64)BPF_CORE_READ(head, next);
	bpf_loop(PT_MIG_MAX_FOLIOS, walk_one, &w, 0);
	w.more = w.node && w.node != w.head;

	e = event_reserve(hook, PT_EV_MIGRATE_FAIL, be);
	if (!e)
		return 0;
	e->nr_req = c->reason;
	e->holder = c->mode;
	e->refs = w.listed;
	e->ret = c->failed;
	e->dur_ns = c->succeeded;
	e->addr = w.seq;
	e->gup_flags = c->suppressed;
	if (w.more)
		e->pt_flags |= PT_F_TRUNCATED;
	e->stack_id = event_stack(hook, h->ctx);
	c->suppressed = 0;
	c->last_report = now;
	event_submit(e, hook);
	return 0;
}

/* offline_pages(start_pfn, nr_pages, zone, group), alloc_contig_range(start, end, ...) */
static __always_inline int range_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mig_ctx *c = bpf_map_lookup_elem(&mig_ctxs, &tid);
	struct pt_event *e;

	STAT_INC(hook, hits);
	e = event_reserve(hook, PT_EV_RANGE, be);
	if (!e)
		return 0;
	e->addr = h->a[0];
	e->nr_req = hook == PT_HOOK_ALLOC_CONTIG ? h->a[1] - h->a[0] : h->a[1];
	e->ret = (__s64)(int)h->ret;
	/* failures of the retry loop that were only counted */
	if (c) {
		e->gup_flags = c->suppressed;
		c->suppressed = 0;
		c->last_report = 0;
	}
	if (e->ret < 0)
		e->stack_id = event_stack(hook, h->ctx);
	event_submit(e, hook);
	return 0;
}

/*
 * __gup_longterm_locked(mm, start, nr_pages, pages, vmas|locked, gup_flags):
 * every slow GUP passes here; with FOLL_LONGTERM it migrates the pages off
 * ZONE_MOVABLE/CMA first, and a negative result is a failed long-term pin
 * (-ENOMEM: migration failed, -EBUSY: device-coherent). It is usually
 * nested in the API the caller used, so it keeps its own arguments.
 */
struct lt_args {
	__u64 addr;
	__u64 nr;
	__u64 flags;
	__u64 refused_page;	/* first grab the kernel refused in this call */
	__u32 refused;		/* grabs refused: pages not long-term pinnable */
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u32);
	__type(value, struct lt_args);
} lt_ctxs SEC(".maps");

/* A long-term pin failed: report it, and follow the syscall to its return. */
static __always_inline void pin_fail(enum pt_hook hook, __u8 be, struct hargs *h, __u8 api,
				     const struct lt_args *a, __u32 pt_flags)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pt_event *e;
	__u8 one = 1;

	e = event_reserve(hook, PT_EV_PIN_FAIL, be);
	if (e) {
		e->api = api;
		e->addr = a->addr;
		e->nr_req = a->nr;
		e->gup_flags = a->flags;
		/* the first page the kernel would not pin long term (placed at submit) */
		e->folio = a->refused_page;
		e->refs = a->refused;
		e->pt_flags = pt_flags | PT_F_PIN | PT_F_LONGTERM;
		e->ret = (__s64)h->ret;
		e->stack_id = event_stack(hook, h->ctx);
		event_submit(e, hook);
	}
	/* kernel threads (io_uring workers, drivers) never return from a syscall */
	if (BPF_CORE_READ(task, flags) & PT_PF_KTHREAD)
		return;
	if (bpf_map_update_elem(&pin_failed, &tid, &one, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&pin_failed_count, 1);
}

#if defined(__TARGET_ARCH_x86)
#define PT_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define PT_SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#endif

SEC("?tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	PT_NOOP_GUARD();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pt_event *e;

	if (!pin_failed_count)
		return 0;
	if (bpf_map_delete_elem(&pin_failed, &tid))
		return 0;
	__sync_fetch_and_add(&pin_failed_count, -1);
	STAT_INC(PT_HOOK_SYS_EXIT, hits);
	e = event_reserve(PT_HOOK_SYS_EXIT, PT_EV_SYSCALL, PT_BACKEND_TP);
	if (!e)
		return 0;
	e->ret = ret;
	e->nr_req = PT_SYSCALL_NR(regs);
	event_submit(e, PT_HOOK_SYS_EXIT);
	return 0;
}

/*
 * CMA (only kernels with CONFIG_CMA have these tracepoints). Only the
 * arguments every version has at the same place are read: (name, pfn, page,
 * count, ...); cma_alloc_finish gained errorno (6th) in 6.6.
 */
static __always_inline int cma_event(enum pt_hook hook, void *ctx, __u64 name, __u64 pfn,
				     __u64 count, __s64 err)
{
	struct pt_event *e;

	STAT_INC(hook, hits);
	e = event_reserve(hook, PT_EV_CMA, PT_BACKEND_TP);
	if (!e)
		return 0;
	e->addr = pfn;
	e->nr_req = count;
	e->ret = err;
	/* the area by name: Debian arm64 6.1 exports no cma_areas to read ranges from */
	if (bpf_probe_read_kernel_str(e->area, sizeof(e->area), (void *)name) < 0)
		e->area[0] = 0;
	e->stack_id = event_stack(hook, ctx);
	event_submit(e, hook);
	return 0;
}

SEC("?tp_btf/cma_alloc_busy_retry")
int cma_busy(unsigned long long *ctx)
{
	PT_NOOP_GUARD();
	return cma_event(PT_HOOK_CMA_BUSY, ctx, ctx[0], ctx[1], ctx[3], 0);
}

SEC("?tp_btf/cma_alloc_finish")
int cma_finish(unsigned long long *ctx)
{
	PT_NOOP_GUARD();
	__s64 err = -12;	/* -ENOMEM: what cma_alloc() fails with before 6.6 */

	/*
	 * From 6.6 the result is the errorno argument. Where there is one it
	 * must decide: newer verifiers take tp_btf pointer arguments as
	 * trusted, hence non-NULL, and drop a "page == NULL" branch as dead
	 * code (Debian 6.12 did, and no failure was ever seen). The loader
	 * says which; the other branch is dead code for the verifier.
	 */
	if (cfg.cma_finish_errno) {
		err = (int)ctx[5];
		if (!err)
			return 0;
	} else if (ctx[2]) {
		return 0;	/* a page: the allocation worked */
	}
	return cma_event(PT_HOOK_CMA_FINISH, ctx, ctx[0], ctx[1], ctx[3], err);
}

PT_HOOK_ENTRY(putback, PT_HOOK_PUTBACK, 1, putback_entry)
PT_HOOK_EXIT(offline_pages, PT_HOOK_OFFLINE_PAGES, 2, range_exit)
PT_HOOK_EXIT(alloc_contig, PT_HOOK_ALLOC_CONTIG, 2, range_exit)

#endif /* PT_MIGRATE_BPF_H */
