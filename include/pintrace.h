/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pintrace event ABI: the one header shared by the BPF programs (bpf/) and
 * the loader (src/). Fixed-width types only, no pointers, explicit padding,
 * and static size checks so that both compilers agree on every layout.
 */
#ifndef PINTRACE_H
#define PINTRACE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define PT_COMM_LEN 16

/*
 * Every traced kernel function has one id. The loader's declarative hook
 * table (src/hooks.c) maps each id to kernel symbols and program shapes;
 * events carry the id of the hook that produced them (and, for grabs, the
 * id of the outermost GUP API the task was in).
 */
enum pt_hook {
	PT_HOOK_NONE = 0,
	/* pin/ref chokepoints ("grabs"): every successful grab is an event */
	PT_HOOK_TRY_GRAB_PAGE,		/* <= 6.9: bool/int (page, flags) */
	PT_HOOK_TRY_GRAB_FOLIO_PAGE,	/* <= 6.9: folio *(page, refs, flags), fast path */
	PT_HOOK_TRY_GRAB_FOLIO,		/* >= 6.10: int (folio, refs, flags), slow path */
	PT_HOOK_TRY_GRAB_FOLIO_FAST,	/* >= 6.10: folio *(page, refs, flags) */
	PT_HOOK_FOLIO_ADD_PIN,		/* >= 6.5: void (folio) */
	PT_HOOK_FOLIO_ADD_PINS,		/* >= 6.13: int (folio, pins) */
	PT_HOOK_MEMFD_PIN_FOLIOS,	/* >= 6.11: long (memfd, start, end, folios, max, off) */
	/* unpins */
	PT_HOOK_GUP_PUT_FOLIO,		/* void (folio, refs, flags) */
	PT_HOOK_UNPIN_USER_PAGE,	/* void (page): inlines gup_put_folio on some builds */
	PT_HOOK_UNPIN_FOLIO,		/* void (folio) */
	PT_HOOK_UNPIN_USER_FOLIO,	/* void (folio, npages) */
	/* GUP entry points: API attribution and call results */
	PT_HOOK_PIN_USER_PAGES,
	PT_HOOK_PIN_USER_PAGES_FAST,
	PT_HOOK_PIN_USER_PAGES_FAST_ONLY,
	PT_HOOK_PIN_USER_PAGES_REMOTE,
	PT_HOOK_PIN_USER_PAGES_UNLOCKED,
	PT_HOOK_GET_USER_PAGES,
	PT_HOOK_GET_USER_PAGES_FAST,
	PT_HOOK_GET_USER_PAGES_FAST_ONLY,
	PT_HOOK_GET_USER_PAGES_REMOTE,
	PT_HOOK_GET_USER_PAGES_UNLOCKED,
	PT_HOOK_GUP_LONGTERM_LOCKED,	/* static: long-term migration result */
	PT_HOOK_GUP_FAST_FALLBACK,	/* internal_get_user_pages_fast / gup_fast_fallback */
	/* page references held by pipes (vmsplice) */
	PT_HOOK_VMSPLICE,		/* the syscall wrapper: __do_sys_vmsplice is notrace */
	PT_HOOK_PIPE_BUF_RELEASE,	/* page_cache_pipe_buf_release: read, splice out, close */
	PT_HOOK_PIPE_BUF_GET,		/* generic_pipe_buf_get: tee takes another reference */
	PT_HOOK_TEE,			/* the tee syscall: which pipe those references go to */
	/* page references held by skb frags (sockets) */
	PT_HOOK_ZEROCOPY_SG,		/* __zerocopy_sg_from_iter: MSG_ZEROCOPY user pages */
	PT_HOOK_SKB_APPEND_PAGEFRAGS,	/* >= 6.5: splice to a socket, get_page per new frag */
	PT_HOOK_TCP_SENDPAGES,		/* <= 6.4: do_tcp_sendpages, splice to TCP */
	PT_HOOK_SPLICE,			/* the splice syscall: which socket gets the pages */
	PT_HOOK_SKB_RELEASE_DATA,	/* frags dropped when the skb data is freed */
	PT_HOOK_PSKB_EXPAND_HEAD,	/* unclone: the private copy takes frag refs */
	PT_HOOK_SKB_TRY_COALESCE,	/* rx coalesce of a cloned skb: frag refs taken */
	PT_HOOK_SKB_COPY_UBUFS,		/* zerocopy frags copied (local delivery): refs dropped */
	PT_HOOK_ZEROCOPY_DONE,		/* msg_zerocopy_callback/_complete: completion queued */
	/* migration: why pages could not be moved, and which */
	PT_HOOK_MIGRATE_START,		/* tracepoint mm_migrate_pages_start: mode, reason */
	PT_HOOK_MIGRATE_END,		/* tracepoint mm_migrate_pages: succeeded, failed */
	PT_HOOK_PUTBACK,		/* putback_movable_pages: the folios that did not move */
	PT_HOOK_OFFLINE_PAGES,		/* offline_pages: memory hot-unplug of a block */
	PT_HOOK_ALLOC_CONTIG,		/* alloc_contig_range(_noprof): CMA, gigantic pages */
	PT_HOOK_SYS_EXIT,		/* tracepoint sys_exit: the errno a failed pin caused */
	PT_HOOK_CMA_BUSY,		/* tracepoint cma_alloc_busy_retry: a window that would not isolate */
	PT_HOOK_CMA_FINISH,		/* tracepoint cma_alloc_finish: a CMA allocation that failed */
	/* process tree following for `pintrace run` */
	PT_HOOK_SCHED_FORK,
	PT_HOOK_SCHED_EXIT,
	PT_HOOK__MAX,
};

enum pt_event_type {
	PT_EV_GRAB = 1,		/* a pin (FOLL_PIN) or reference (FOLL_GET) was taken */
	PT_EV_UNPIN = 2,	/* a pin was dropped */
	PT_EV_CALL = 3,		/* a GUP API call returned */
	PT_EV_HOLD = 4,		/* a holder (pipe) took another reference on a tracked page */
	PT_EV_RELEASE = 5,	/* a holder dropped its reference on a tracked page */
	PT_EV_ZC_DONE = 6,	/* MSG_ZEROCOPY completion: sends [addr, addr + refs) */
	PT_EV_MIGRATE_PAGE = 7,	/* a folio migration could not move (before MIGRATE_FAIL) */
	PT_EV_MIGRATE_FAIL = 8,	/* a migrate_pages() call left folios unmoved */
	PT_EV_PIN_FAIL = 9,	/* a long-term pin failed (__gup_longterm_locked < 0) */
	PT_EV_SYSCALL = 10,	/* the syscall in which a long-term pin failed returned */
	PT_EV_RANGE = 11,	/* memory offline / alloc_contig_range returned */
	PT_EV_CMA = 12,		/* CMA: a busy window was retried, or the allocation failed */
};

/*
 * Field use of the migration records (the rest as for every event):
 *   MIGRATE_PAGE  folio, pfn, zone; refs = folio _refcount; nr_req = reason
 *                 (enum migrate_reason); addr = failure id
 *   MIGRATE_FAIL  nr_req = reason; holder = mode; refs = folios listed
 *                 before it; ret = pages failed; dur_ns = pages migrated;
 *                 addr = failure id; gup_flags = failures of this task
 *                 not detailed since its last report (rate limit);
 *                 pt_flags PT_F_TRUNCATED: more folios than listed
 *   PIN_FAIL      ret = -errno; addr, nr_req, gup_flags: the long-term
 *                 request; api: the GUP API it came through; refs: grabs
 *                 the kernel refused (page not long-term pinnable), folio,
 *                 pfn, zone: the first of them (the page, not its head)
 *   SYSCALL       ret = syscall return; nr_req = syscall number
 *   RANGE         hook = OFFLINE_PAGES or ALLOC_CONTIG; addr = first pfn;
 *                 nr_req = pages; ret = result
 *   CMA           hook = CMA_BUSY (addr = first pfn of the busy window) or
 *                 CMA_FINISH (a failed allocation; addr = pfn the kernel
 *                 reports); nr_req = pages; ret = -errno (FINISH);
 *                 area: the CMA area's name (first 15 bytes)
 */

/* pt_event.pt_flags: kernel FOLL_* bits normalised by the BPF side */
#define PT_F_PIN	(1u << 0)	/* FOLL_PIN */
#define PT_F_GET	(1u << 1)	/* FOLL_GET */
#define PT_F_LONGTERM	(1u << 2)	/* FOLL_LONGTERM */
#define PT_F_WRITE	(1u << 3)	/* FOLL_WRITE */
#define PT_F_LARGE	(1u << 4)	/* folio is large (PG_head) */
#define PT_F_NOFLAGS	(1u << 5)	/* hook carries no gup_flags (folio_add_pin[s]) */
#define PT_F_TRACKED	(1u << 6)	/* unpin matched a pin seen by the BPF filter */
#define PT_F_PIPE	(1u << 7)	/* reference taken for (or held by) a pipe */
#define PT_F_DROPPED	(1u << 8)	/* RELEASE: vmsplice put a page it could not queue */
#define PT_F_SKB	(1u << 9)	/* reference held by an skb frag (a socket) */
#define PT_F_ZEROCOPY	(1u << 10)	/* MSG_ZEROCOPY: user pages straight into frags */
#define PT_F_SAMPLED	(1u << 11)	/* RELEASE: the refcount sampler found it gone */
#define PT_F_COPIED	(1u << 12)	/* ZC_DONE: the kernel copied instead (SO_EE_CODE_ZEROCOPY_COPIED) */
#define PT_F_MOVED	(1u << 13)	/* HOLD: another skb took refs on frags (unclone, coalesce) */
#define PT_F_TRUNCATED	(1u << 14)	/* MIGRATE_FAIL: not every unmoved folio was listed */
/*
 * UNPIN of a pin the kernel side matched itself (the pins map, default
 * mode), held >= promote_ns. pid, tid, comm: the unpinning task, as in
 * every UNPIN; the pin's owner: ret = its tgid << 32 | tid, holder and
 * holder_id = its comm (16 bytes), api, stack_id and gup_flags; nr_req =
 * the hook that took the pin; addr = when (t0 of the folio's oldest pin);
 * dur_ns = the hold.
 */
#define PT_F_AGG	(1u << 15)

/* pt_event.zone when the zone of the page is not known (not calibrated) */
#define PT_ZONE_UNKNOWN	0xff
/* pt_event.pfn when the page frame number is not known (no vmemmap_base) */
#define PT_PFN_UNKNOWN	(~0ULL)

/*
 * Version of struct pt_event's layout and field meanings, stored in
 * recordings (--record): bump it with any change a replay would misread.
 */
#define PT_EVENT_ABI	1

struct pt_event {
	__u8  type;		/* enum pt_event_type */
	__u8  hook;		/* enum pt_hook that produced the event */
	__u8  api;		/* outermost GUP API hook of the task, or PT_HOOK_NONE */
	__u8  backend;		/* enum pt_backend of the producing program */
	__u32 pt_flags;		/* PT_F_* */
	__u32 pid;		/* tgid, initial pid namespace */
	__u32 tid;
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 folio;		/* head struct page address (GRAB, UNPIN) */
	__u32 refs;		/* pins/refs taken or dropped (GRAB, UNPIN) */
	__s32 stack_id;		/* kernel stack in the stacks map, < 0: none */
	__u64 gup_flags;	/* raw kernel FOLL_* bits as passed */
	__u64 nr_req;		/* pages requested from the API (GRAB: of the API call);
				 * PT_F_SKB: family << 32 | local port << 16 | remote port */
	__s64 ret;		/* CALL: return value */
	__u64 addr;		/* CALL: start user address; PT_F_SKB (AF_INET): local
				 * address << 32 | remote address, network order;
				 * ZC_DONE: first completed send id */
	__u64 dur_ns;		/* CALL: time spent in the call */
	union {
		struct {
			__u64 holder;	 /* PT_F_PIPE: the pipe (struct pipe_inode_info
					  * address); PT_F_SKB: the socket (struct sock
					  * address), 0 if unknown */
			__u64 holder_id; /* the pipe's or socket's inode number, 0 if unknown */
		};
		char area[16];		/* CMA: the area's name as the tracepoint gives it */
	};
	char  comm[PT_COMM_LEN];
	__u64 pfn;		/* page frame number of folio, PT_PFN_UNKNOWN */
	__u8  zone;		/* zone index (enum zone_type) of folio, PT_ZONE_UNKNOWN */
	__u8  __pad[7];
};

enum pt_backend {
	PT_BACKEND_NONE = 0,
	PT_BACKEND_FENTRY = 1,	/* fentry/fexit (BPF trampoline) */
	PT_BACKEND_KPROBE = 2,	/* kprobe/kretprobe */
	PT_BACKEND_TP = 3,	/* tp_btf / raw tracepoint */
};

/* Per-hook counters, a per-CPU array indexed by enum pt_hook. */
struct pt_hook_stats {
	__u64 hits;		/* program invocations that passed the filters */
	__u64 events;		/* events submitted to the ring buffer */
	__u64 rb_drops;		/* ring buffer full: event lost */
	__u64 map_full;		/* a tracking map was full: state lost */
	__u64 stale;		/* entry state without its return (kretprobe miss) */
	__u64 untracked;	/* unpins of pins not taken by traced tasks (filtered) */
};

/*
 * Loader-provided configuration, written into .rodata before load. FOLL_*
 * values come from the running kernel's BTF or the legacy table (they were
 * renumbered in 6.3), never from the kernel version.
 */
struct pt_cfg {
	__u32 foll_write;
	__u32 foll_get;
	__u32 foll_pin;
	__u32 foll_longterm;
	__u32 filter_tgid;	/* -p: only this tgid (0: any) */
	__u8  filter_tree;	/* only tgids in the traced_tgids map (run mode) */
	__u8  filter_comm;	/* -n: only tasks whose comm equals comm[] */
	__u8  trace_refs;	/* emit FOLL_GET grabs as events, not only counts */
	__u8  grab_page_ret_bool; /* try_grab_page returns bool (<= 6.1), else int 0/-errno */
	char  comm[PT_COMM_LEN];
	__u8  cma_finish_errno;	/* cma_alloc_finish has its errorno argument (6.6+) */
	__u8  noop;		/* benchmark floor: every hook program returns at once */
	__u8  aggregate;	/* count short-term pins and calls in maps (not --stream) */
	__u8  no_stacks;	/* --no-stacks: pins and references get no stack */
	__u32 __pad2;
	/*
	 * aggregate: an unpin of a pin held at least this long is sent as an
	 * UNPIN with PT_F_AGG; the loader copies pins of that age from the
	 * pins map into its table. Below it, both ends are only counted.
	 */
	__u64 promote_ns;
};

#define PT_MAX_TRACKED_FOLIOS	(256 * 1024)
#define PT_MAX_TASKS		(16 * 1024)
#define PT_RINGBUF_DEFAULT	(4 * 1024 * 1024)
#define PT_MAX_STACKS		(16 * 1024)
#define PT_STACK_DEPTH		32

/*
 * Result of one pass of the refcount sampler (a raw_tp program run on
 * demand with BPF_PROG_TEST_RUN): tracked holds checked against the
 * folios' real reference counts. Corrections are also sent as RELEASE
 * events with PT_F_SAMPLED so that the loader's tables follow.
 */
struct pt_sample {
	__u64 folios;		/* tracked folios examined (pipe and skb holds) */
	__u64 agree;		/* external refs == tracked holds */
	__u64 more;		/* external refs > tracked: holders we did not see */
	__u64 corrected;	/* folios with fewer refs than tracked: a missed release */
	__u64 corrected_refs;	/* holds dropped by those corrections */
	__u64 skipped;		/* large folios: no exact expected count */
	__u64 busy;		/* locked pages (migration, reclaim): in flux, not judged */
	__u64 suspect;		/* fewer refs than tracked for the first time: confirmed next pass */
};

/*
 * Migration outcomes per enum migrate_reason (a per-CPU array): every
 * failure is counted here, detailed or rate-limited.
 */
#define PT_MIGRATE_REASONS	16
struct pt_migrate_stats {
	__u64 calls;		/* migrate_pages() calls that finished */
	__u64 failures;		/* calls that left pages unmoved */
	__u64 pages_failed;
	__u64 pages_moved;
	__u64 reported;		/* failures detailed with their folios */
	__u64 suppressed;	/* failures only counted (rate limit per task) */
};

/*
 * Calibration (a raw_tp program run once with BPF_PROG_TEST_RUN): the
 * struct page of a page frame whose number user space knows from
 * /proc/self/pagemap, to check vmemmap_base and find the zone bits.
 */
struct pt_calib {
	__u64 pfn;		/* in */
	__u64 guess;		/* in: vmemmap base to try if the kernel exports none */
	__u64 vmemmap_base;	/* out: the exported one, else guess */
	__u64 page;		/* out: vmemmap_base + pfn * sizeof(struct page) */
	__u64 flags;		/* out: page->flags, raw */
	__u64 mapping;		/* out: page->mapping (bit 0: anonymous) */
	__u64 index;		/* out: folio->index (anonymous: the virtual page number) */
	__s64 refcount;		/* out */
	__u32 page_size;	/* out: sizeof(struct page) */
	__s32 err;		/* out: 0, or the failed read's error */
	__u8  exported;		/* out: vmemmap_base came from the kernel (kallsyms) */
	__u8  use_guess;	/* in: try guess even if the kernel exports a base */
	__u8  __pad[6];
};

/*
 * The kernel's CMA areas (cma_areas[], mm/cma.h), read once by a raw_tp
 * program run with BPF_PROG_TEST_RUN when debugfs does not list them. The
 * loader finds both data symbols in kallsyms (CONFIG_KALLSYMS_ALL).
 */
#define PT_CMA_AREAS	16	/* areas read; cma_area_count is usually 1-3 */
#define PT_CMA_RANGES	8	/* CMA_MAX_RANGES of multi-range CMA; one range before */
struct pt_cma_area {
	char  name[64];		/* CMA_MAX_NAME */
	__u64 base_pfn[PT_CMA_RANGES];
	__u64 count[PT_CMA_RANGES];
	__u32 nranges;		/* ranges kept, at most PT_CMA_RANGES */
	__u32 kernel_nranges;	/* as the kernel says (multi-range CMA), else 1 */
};

struct pt_cma_read {
	__u64 areas;		/* in: address of cma_areas */
	__u64 count_addr;	/* in: address of cma_area_count */
	__u32 total;		/* out: cma_area_count */
	__u32 n;		/* out: areas read, at most PT_CMA_AREAS */
	__u32 stride;		/* out: sizeof(struct cma) */
	__s32 err;		/* out: 0, -ENOENT (no struct cma), or a failed read's */
	struct pt_cma_area area[PT_CMA_AREAS];
};
_Static_assert(sizeof(struct pt_cma_read) == 32 + PT_CMA_AREAS * 200, "pt_cma_read ABI size");

/*
 * In-kernel aggregation (the default; --stream sends every event instead).
 * Short-term pins are matched in the kernel (pins: folio -> struct pt_pin)
 * and counted per owner, API and stack (agg, per-CPU); only what may matter
 * later goes through the ring buffer: long-term pins, failed calls, unpins
 * of pins held >= promote_ns. Calls are counted per task and API.
 */
enum pt_agg_kind {
	PT_AGG_PINS = 1,	/* key: tgid, grab api/hook, stack; count = grabs */
	PT_AGG_CALLS = 2,	/* key: tgid, api (= hook), stack -1; count = calls */
};

struct pt_agg_key {
	__u32 tgid;
	__s32 stack_id;
	__u8  api;
	__u8  hook;
	__u8  kind;		/* enum pt_agg_kind */
	__u8  __pad[5];
};

struct pt_agg_val {
	__u64 count;		/* PINS: grabs; CALLS: calls that returned >= 0 */
	__u64 refs;		/* PINS: refs pinned; CALLS: pages requested */
	__u64 unpin_refs;	/* PINS: refs unpinned within promote_ns (short-term) */
	__u64 pages_ret;	/* CALLS: pages returned */
	__u64 short_calls;	/* CALLS: fewer pages than requested */
	char  comm[PT_COMM_LEN];	/* the task that created the key (per CPU: may be empty) */
};

/* agg_hist (per-CPU array) indices: log2 histograms, the loader's struct log2_hist */
enum pt_agg_hist_idx {
	PT_AGG_HIST_HOLD = 0,	/* hold times of pins unpinned within promote_ns */
	PT_AGG_HIST_CALL = 1,	/* durations of the counted calls */
	PT_AGG_HISTS,
};

struct pt_agg_hist {
	__u64 slots[64];	/* slot k: [2^k, 2^(k+1)); slot 0 also 0 */
	__u64 count;
	__u64 sum;
	__u64 min;		/* valid when count > 0 */
	__u64 max;
};

/* A folio's pins matched in the kernel: the first pin's owner, all refs. */
struct pt_pin {
	__u64 t0;		/* when its oldest outstanding pin was taken */
	__s64 refs;		/* pins outstanding */
	__u64 gup_flags;
	__u64 pfn;		/* PT_PFN_UNKNOWN */
	__u32 tgid;
	__u32 tid;
	__u32 pt_flags;
	__s32 stack_id;
	char  comm[PT_COMM_LEN];
	__u8  api;
	__u8  hook;
	__u8  zone;		/* PT_ZONE_UNKNOWN */
	__u8  __pad[5];
};

#define PT_AGG_KEYS	(16 * 1024)

_Static_assert(sizeof(struct pt_event) == 128, "pt_event ABI size");
_Static_assert(sizeof(struct pt_hook_stats) == 48, "pt_hook_stats ABI size");
_Static_assert(sizeof(struct pt_cfg) == 56, "pt_cfg ABI size");
_Static_assert(sizeof(struct pt_agg_key) == 16, "pt_agg_key ABI size");
_Static_assert(sizeof(struct pt_agg_val) == 56, "pt_agg_val ABI size");
_Static_assert(sizeof(struct pt_agg_hist) == 544, "pt_agg_hist ABI size");
_Static_assert(sizeof(struct pt_pin) == 72, "pt_pin ABI size");
_Static_assert(sizeof(struct pt_sample) == 64, "pt_sample ABI size");
_Static_assert(sizeof(struct pt_migrate_stats) == 48, "pt_migrate_stats ABI size");
_Static_assert(sizeof(struct pt_calib) == 80, "pt_calib ABI size");

#endif /* PINTRACE_H */
