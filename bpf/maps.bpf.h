/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Maps, loader configuration and the event emitter shared by every subsystem. */
#ifndef PT_MAPS_BPF_H
#define PT_MAPS_BPF_H

/* Written by the loader between open and load; constant to the verifier. */
const volatile struct pt_cfg cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PT_RINGBUF_DEFAULT);	/* resized by the loader */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PT_HOOK__MAX);
	__type(key, __u32);
	__type(value, struct pt_hook_stats);
} stats SEC(".maps");

/* tgids traced in `run` mode: the command and its descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/*
 * Folios pinned by traced tasks, with their outstanding pin refs. Only used
 * when a filter is active: an unpin may run in any context (a kworker tearing
 * down an io_uring, block I/O completion), so the unpinning task says nothing
 * about whose pin it drops; the folio does.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TRACKED_FOLIOS);
	__type(key, __u64);
	__type(value, __s64);
} held SEC(".maps");

/* Kernel stacks of the events that create holds (pipe, skb, long-term pins). */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, PT_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PT_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

static __always_inline struct pt_hook_stats *hook_stats(enum pt_hook hook)
{
	__u32 key = hook;

	return bpf_map_lookup_elem(&stats, &key);
}

#define STAT_INC(hook, field)					\
	do {							\
		struct pt_hook_stats *__s = hook_stats(hook);	\
		if (__s)					\
			__s->field++;				\
	} while (0)

static __always_inline bool filter_active(void)
{
	return cfg.filter_tgid || cfg.filter_tree || cfg.filter_comm;
}

static __always_inline bool comm_matches(void)
{
	char comm[PT_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < PT_COMM_LEN; i++) {
		if (comm[i] != cfg.comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* Is the current task one whose pins we report? */
static __always_inline bool task_selected(__u32 tgid)
{
	if (cfg.filter_tgid && tgid != cfg.filter_tgid)
		return false;
	if (cfg.filter_tree && !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return false;
	if (cfg.filter_comm && !comm_matches())
		return false;
	return true;
}

/* Reserve an event pre-filled with task identity; counts a drop on failure. */
static __always_inline struct pt_event *event_reserve(enum pt_hook hook, __u8 type,
						      __u8 backend)
{
	struct pt_event *e;
	__u64 id;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		STAT_INC(hook, rb_drops);
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	__builtin_memset(e, 0, sizeof(*e));
	e->stack_id = -1;
	e->type = type;
	e->hook = hook;
	e->backend = backend;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ts_ns = bpf_ktime_get_ns();
	e->pfn = PT_PFN_UNKNOWN;
	e->zone = PT_ZONE_UNKNOWN;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/* core.bpf.h: where e->folio lives (pfn, zone). */
static __always_inline void event_place(struct pt_event *e);

/*
 * The kernel stack of the current call. A full stack map is counted as
 * map_full (the same stack again still resolves: ids are hashes).
 */
static __always_inline __s32 event_stack(enum pt_hook hook, void *ctx)
{
	long id;

	if (!ctx)
		return -1;
	id = bpf_get_stackid(ctx, &stacks, BPF_F_FAST_STACK_CMP);
	if (id == -12)	/* -ENOMEM: the map is full */
		STAT_INC(hook, map_full);
	return id < 0 ? -1 : (__s32)id;
}

/*
 * Wake the loader only once an eighth of the ring is waiting: a wakeup per
 * record (irq_work, then the poller's task) cost a pin/unpin loop more than
 * the rest of the program under emulation. The loader drains the ring
 * after every poll timeout (POLL_MS) anyway. Computed without a branch:
 * one more branch per submit site multiplied the verifier's states past
 * its limit in the loops that submit.
 */
static __always_inline void event_submit(struct pt_event *e, enum pt_hook hook)
{
	__u64 avail, thresh;

	if (e->folio)
		event_place(e);
	avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	thresh = bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE) / 8;
	/* FORCE_WAKEUP (2) from an eighth on, else NO_WAKEUP (1) */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP - ((avail - thresh) >> 63));
	STAT_INC(hook, events);
}

/*
 * Per-folio reference counts in a hash map (held pins, pipe holds). An
 * insert can race with another CPU's: retry as an add. Full: counted.
 */
static __always_inline void folio_count_add(void *map, enum pt_hook hook, __u64 folio, __s64 refs)
{
	__s64 *v = bpf_map_lookup_elem(map, &folio);

	if (v) {
		__sync_fetch_and_add(v, refs);
		return;
	}
	if (bpf_map_update_elem(map, &folio, &refs, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(map, &folio);
		if (v)
			__sync_fetch_and_add(v, refs);
		else
			STAT_INC(hook, map_full);
	}
}

/* Drop refs; false if the folio is not counted here. Deleted at zero. */
static __always_inline bool folio_count_sub(void *map, __u64 folio, __s64 refs)
{
	__s64 *v = bpf_map_lookup_elem(map, &folio);

	if (!v)
		return false;
	if (__sync_fetch_and_add(v, -refs) <= refs)
		bpf_map_delete_elem(map, &folio);
	return true;
}

#endif /* PT_MAPS_BPF_H */
