/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pin table: user-space bookkeeping that matches every unpin event to the
 * pin(s) it releases and classifies how long each pin was held.
 *
 * The kernel does not tell us which pin an unpin releases: gup_put_folio()
 * only knows the folio and a count. So the table keeps, per folio, the list
 * of pin records still outstanding and applies a matching policy (same pid
 * first, then oldest). Everything is bounded by max_records and every ref is
 * accounted for somewhere in the stats, so that
 *
 *   pin_refs   == matched_refs + outstanding_refs + table_full_refs
 *   unpin_refs == matched_refs + preexisting_refs
 *
 * hold at all times (tests check it).
 */
#ifndef PINTRACE_PINTABLE_H
#define PINTRACE_PINTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "pintrace.h"

#define PINTABLE_DEFAULT_MAX_RECORDS	(1u << 20)

/* Who took a pin; copied from the grab event into each record. */
struct pin_owner {
	__u32 pid;		/* tgid */
	__u32 tid;
	char  comm[PT_COMM_LEN];
	__u8  api;		/* enum pt_hook: outermost GUP API, or PT_HOOK_NONE */
	__u8  hook;		/* enum pt_hook: chokepoint that took the pin */
	__u32 pt_flags;		/* PT_F_*; PT_F_LONGTERM: declared long-term pin */
	__u64 gup_flags;	/* raw kernel FOLL_* bits */
	__u64 holder;		/* object holding the ref (pipe, socket), 0 for GUP pins */
	__u64 holder_id;	/* its user-visible id (pipe or socket inode number) */
	__u64 tuple_addr;	/* sockets: pt_event.addr and .nr_req (4-tuple) */
	__u64 tuple_ports;
	__s32 stack_id;		/* kernel stack of the take, < 0: none */
	/*
	 * Where the page came from (skb holds spliced from a pipe): the pipe
	 * hold it had when the socket took it. origin_pid == 0: none.
	 */
	__s32 origin_stack_id;
	__u32 origin_pid;
	char  origin_comm[PT_COMM_LEN];
	__u64 origin_holder_id;	/* the pipe's inode number */
	__u64 origin_t0_ns;	/* when the page went into that pipe */
	__u64 pfn;		/* where the page is (PT_PFN_UNKNOWN) */
	__u8  zone;		/* zone index, PT_ZONE_UNKNOWN */
};

enum pin_class {
	PIN_CLASS_SHORT = 0,	/* released before min_hold_ns */
	PIN_CLASS_HELD_LONG,	/* not declared long-term, yet held >= min_hold_ns */
	PIN_CLASS_LONGTERM,	/* declared FOLL_LONGTERM: long holds are expected */
	PIN_CLASS__MAX,
};

const char *pin_class_name(enum pin_class cls);

struct pintable_opts {
	__u64 min_hold_ns;	/* HELD_LONG threshold (0: every hold is long) */
	size_t max_records;	/* 0: PINTABLE_DEFAULT_MAX_RECORDS */
	/*
	 * Match releases by owner.holder instead of owner.pid: a page in two
	 * pipes (tee) is released by each pipe for its own reference.
	 */
	bool match_holder;
};

/* One consumed portion of an unpin. */
struct unpin_match {
	const struct pin_owner *owner;	/* NULL when preexisting */
	__u32 refs;
	__u64 hold_ns;			/* 0 when preexisting */
	enum pin_class cls;		/* PIN_CLASS_SHORT when preexisting */
	bool preexisting;		/* pin taken before tracing (or not stored) */
	__u64 folio;
};

struct pintable_stats {
	__u64 pin_refs;			/* refs offered to pintable_pin() */
	__u64 unpin_refs;		/* refs offered to pintable_unpin() */
	__u64 matched_refs;		/* unpinned refs matched to a record */
	__u64 preexisting_refs;		/* unpinned refs that matched nothing */
	__u64 outstanding_refs;		/* refs still held (now) */
	__u64 outstanding_records;	/* records alive (now) */
	__u64 folios;			/* folios with records (now) */
	__u64 table_full_refs;		/* pin refs not stored: table full/ENOMEM */
	__u64 held_long_reported;	/* records reported by pintable_scan_held() */
};

/*
 * Callbacks run while the table is being walked or modified: they must not
 * call back into the same table. The owner pointer is only valid during the
 * call (it points into the record, which may be freed right after).
 */
typedef void (*pintable_match_fn)(const struct unpin_match *m, void *ctx);
typedef void (*pintable_held_fn)(__u64 folio, const struct pin_owner *owner,
				 __u32 refs_remaining, __u64 t0_ns,
				 __u64 age_ns, void *ctx);
typedef void (*pintable_outstanding_fn)(__u64 folio,
					const struct pin_owner *owner,
					__u32 refs_remaining, __u64 t0_ns,
					void *ctx);

struct pintable;

/* NULL with errno set: ENOMEM, or EINVAL if max_records >= UINT32_MAX. */
struct pintable *pintable_new(const struct pintable_opts *o);
void pintable_free(struct pintable *t);

/*
 * Record @refs pins of @folio by @own at @ts_ns. Returns 0, -ENOSPC when
 * max_records are in use or -ENOMEM when growing failed; in both error cases
 * the refs are counted in table_full_refs (and their unpin will later show
 * up as preexisting). refs == 0 is a no-op.
 */
int pintable_pin(struct pintable *t, __u64 folio, __u32 refs,
		 const struct pin_owner *own, __u64 ts_ns);

/*
 * Release @refs pins of @folio, unpinned by task group @unpin_key (or, with
 * match_holder, by holder @unpin_key) at @ts_ns. Records of that key are consumed first (oldest first), then the oldest
 * records of any owner; @cb (may be NULL) is called for each consumed
 * portion, and once more with preexisting=true for refs matching nothing.
 * Never fails: returns 0 (refs == 0 is a no-op).
 */
int pintable_unpin(struct pintable *t, __u64 folio, __u32 refs,
		   __u64 unpin_key, __u64 ts_ns, pintable_match_fn cb, void *ctx);

/*
 * Report (once per record) each outstanding non-long-term record whose age
 * reached min_hold_ns at @now_ns. Cost is proportional to the number of
 * records reported plus one: records are scanned in arrival order and the
 * scan stops at the first record that is still too young.
 */
void pintable_scan_held(struct pintable *t, __u64 now_ns, pintable_held_fn cb,
			void *ctx);

/* Every outstanding record, folio by folio (oldest record first per folio). */
void pintable_foreach_outstanding(struct pintable *t,
				  pintable_outstanding_fn cb, void *ctx);

/*
 * The oldest outstanding record of @folio (its start time in *t0_ns), or
 * NULL. Valid until the table is next modified.
 */
const struct pin_owner *pintable_oldest(const struct pintable *t, __u64 folio, __u64 *t0_ns);

void pintable_get_stats(const struct pintable *t, struct pintable_stats *st);

/* Change the HELD_LONG threshold (records already scanned stay reported). */
void pintable_set_min_hold(struct pintable *t, __u64 min_hold_ns);

#endif /* PINTRACE_PINTABLE_H */
