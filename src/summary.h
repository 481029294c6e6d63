/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Aggregation for the exit summary. Nothing here prints: the output code
 * walks the data with the accessors below and maps hook ids to names.
 *
 * Attribution: a grab or a matched unpin is counted under the owner's API
 * key, the outermost GUP API hook (pt_event.api) or, when the pin was taken
 * outside any traced API (e.g. folio_add_pin from io_uring), the chokepoint
 * hook itself. A call result is counted under the hook that returned.
 * Matched unpins are counted for the process that took the pin, not for the
 * task that dropped it (often a kworker); preexisting unpins have no owner
 * and only appear in the totals.
 */
#ifndef PINTRACE_SUMMARY_H
#define PINTRACE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include "pintrace.h"
#include "hist.h"
#include "pintable.h"

#define SUMMARY_MAX_PROCS	4096
#define SUMMARY_API_KEYS	256	/* every __u8 hook id: no range checks */
/*
 * Distinct (API, stack) keys of pin grabs. A workload pins from a handful
 * of call sites; a bound keeps a pathological one (JIT, fuzzers) from
 * growing the table: grabs of further keys are only counted.
 */
#define SUMMARY_MAX_STACKS	1024

struct summary_api {
	__u64 pin_grabs;		/* grab events with PT_F_PIN */
	__u64 pin_refs;			/* pins taken (sum of refs) */
	__u64 longterm_pin_refs;	/* of which PT_F_LONGTERM */
	__u64 get_grabs;		/* grab events with PT_F_GET */
	__u64 get_refs;			/* FOLL_GET references taken */
	__u64 unpin_refs[PIN_CLASS__MAX]; /* matched unpins by class */
	__u64 calls;			/* API calls that returned */
	__u64 call_failures;		/* ret < 0 */
	__u64 call_short;		/* 0 <= ret < nr_req */
	__u64 pages_req;		/* sum of nr_req */
	__u64 pages_ret;		/* sum of ret > 0 */
};

struct summary_proc {
	__u32 pid;
	char  comm[PT_COMM_LEN];	/* latest seen: exec changes it */
	__u64 pin_grabs;
	__u64 pin_refs;
	__u64 get_grabs;
	__u64 get_refs;
	__u64 unpin_refs[PIN_CLASS__MAX]; /* of this process's pins, by class */
	__u64 calls;
	__u64 call_failures;
};

struct summary_totals {
	__u64 grabs;
	__u64 pin_refs;
	__u64 get_refs;
	__u64 unflagged_grabs;		/* neither PT_F_PIN nor PT_F_GET */
	__u64 unpin_refs[PIN_CLASS__MAX]; /* matched unpins by class */
	__u64 preexisting_refs;		/* unpins of pins taken before tracing */
	__u64 calls;
	__u64 call_failures;
	__u64 call_short;
};

/* Pins taken per (API key, kernel stack): who pins, from where. */
struct summary_stack {
	__u8  api;			/* API key, as in summary_foreach_api() */
	__s32 stack_id;			/* in the BPF stack map; < 0: no stack */
	__u64 pin_grabs;
	__u64 pin_refs;
	__u64 longterm_pin_refs;
};

struct summary_proc_slot;
struct summary_stack_slot;

struct summary {
	struct summary_api api[SUMMARY_API_KEYS];
	struct summary_totals tot;
	struct log2_hist hold[PIN_CLASS__MAX];	/* hold time by class */
	struct log2_hist call_dur;		/* API call durations */
	/* per-process table: open addressing keyed by pid, never shrinks */
	struct summary_proc_slot *procs;
	size_t proc_mask;		/* slot count - 1; slots >= 2 * max_procs */
	size_t nr_procs;
	size_t max_procs;
	/* everything about processes beyond max_procs lands here */
	struct summary_proc other;
	__u64 other_events;		/* events folded into other */
	/* per-stack table of pin grabs, same scheme as procs */
	struct summary_stack_slot *stacks;
	size_t stack_mask;
	size_t nr_stacks;
	size_t max_stacks;
	struct summary_stack stack_other;	/* pin grabs of keys beyond max_stacks */
};

int summary_init(struct summary *s);
void summary_free(struct summary *s);

void summary_grab(struct summary *s, const struct pt_event *e);
void summary_unpin_match(struct summary *s, const struct unpin_match *m);
void summary_call(struct summary *s, const struct pt_event *e);

/*
 * What the kernel counted itself (default mode, src/agg.c): pins of one
 * (owner, API, grab hook, stack) key with the refs unpinned within the
 * promotion age (short-term holds), calls of one (task, API) that
 * returned >= 0, and the histograms of those holds and calls.
 */
void summary_add_pins(struct summary *s, __u32 pid, const char *comm, __u8 api, __u8 hook,
		      __s32 stack_id, __u64 grabs, __u64 refs, __u64 unpin_refs);
void summary_add_calls(struct summary *s, __u32 pid, const char *comm, __u8 api, __u64 calls,
		       __u64 pages_req, __u64 pages_ret, __u64 short_calls);
void summary_add_hists(struct summary *s, const struct log2_hist *hold_short,
		       const struct log2_hist *calls);

typedef void (*summary_api_fn)(__u8 key, const struct summary_api *a,
			       void *ctx);
typedef void (*summary_proc_fn)(const struct summary_proc *p, void *ctx);

/* API keys with any activity, in id order. */
void summary_foreach_api(const struct summary *s, summary_api_fn cb,
			 void *ctx);
/*
 * Processes by pin_refs descending (then get_refs descending, then pid).
 * The overflow bucket is not included: see summary_proc_other(). Returns
 * 0 or -ENOMEM (it sorts a temporary array).
 */
int summary_foreach_proc(const struct summary *s, summary_proc_fn cb,
			 void *ctx);
/*
 * The overflow bucket (pid 0, comm "other") or NULL when no process
 * overflowed; @nr_events (may be NULL) gets the number of events it took.
 * Callers must report it: it is the part of the per-process view missing.
 */
const struct summary_proc *summary_proc_other(const struct summary *s,
					      __u64 *nr_events);
size_t summary_nr_procs(const struct summary *s);
const struct log2_hist *summary_hold_hist(const struct summary *s,
					  enum pin_class cls);
const struct log2_hist *summary_call_hist(const struct summary *s);
const struct summary_totals *summary_totals(const struct summary *s);

typedef void (*summary_stack_fn)(const struct summary_stack *st, void *ctx);
/*
 * The @max (API, stack) keys with the most pin_refs, descending (then
 * pin_grabs descending, then API and stack id). Returns how many keys were
 * left out, or -ENOMEM (it sorts a temporary array).
 */
long summary_foreach_stack(const struct summary *s, size_t max, summary_stack_fn cb,
			   void *ctx);
size_t summary_nr_stacks(const struct summary *s);
/*
 * Pin grabs whose key found no room (api and stack_id are meaningless
 * there), or NULL when none: the part of the per-stack view missing.
 */
const struct summary_stack *summary_stack_other(const struct summary *s);

#endif /* PINTRACE_SUMMARY_H */
