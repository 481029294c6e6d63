/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The loader's side of in-kernel aggregation (bpf/agg.bpf.h).
 *
 * Short-term pins are matched in the kernel's pins map. A pin that stays
 * there for promote_ns is copied into the loader's pin table ("promoted")
 * so that held-long reports, leaks at exit and migration-failure holders
 * work as for streamed pins; its unpin then arrives as an UNPIN record with
 * PT_F_AGG. This module remembers how many refs of each folio were
 * promoted, so that such an unpin is split into the part the table holds
 * and the part it never saw (a pin that reached promote_ns between two
 * scans: its record is then both its pin and its unpin).
 *
 * Ordering, and why no ref is counted twice or lost: the BPF side
 * decrements an entry before reading the clock, and the loader reads the
 * clock before copying an entry, so refs the loader copied at an age >=
 * promote_ns always come back as an UNPIN record (see pin_drop()).
 */
#ifndef PINTRACE_AGG_H
#define PINTRACE_AGG_H

#include <stdbool.h>
#include <stddef.h>

#include "pintrace.h"
#include "summary.h"

struct agg_slot;

struct agg {
	int pins_fd, agg_fd, hist_fd;	/* -1: no session (tests, replay) */
	int ncpu;
	__u64 promote_ns;
	/* folio -> refs promoted and not yet unpinned: open addressing */
	struct agg_slot *slots;
	size_t mask;
	size_t used;
	__u64 promoted_refs;		/* refs copied into the pin table */
	__u64 pair_refs;		/* refs of PT_F_AGG unpins */
	__u64 unseen_refs;		/* of those, never promoted */
	__u64 scan_errors;
};

/* Called for each promotion: put @refs of @folio, owned as in @p, in the table. */
typedef void (*agg_promote_fn)(__u64 folio, const struct pt_pin *p, __u32 refs, void *ctx);

int agg_init(struct agg *a, int pins_fd, int agg_fd, int hist_fd, __u64 promote_ns);
void agg_free(struct agg *a);

/*
 * Promote the pins held at least promote_ns at @now_ns (every pin with
 * @all: the exit report). Entries are promoted oldest first. Returns the
 * number of refs promoted, or -errno.
 */
long agg_scan(struct agg *a, __u64 now_ns, bool all, agg_promote_fn cb, void *ctx);

/* Promote @folio's pins whatever their age (a migration could not move it). */
long agg_promote_folio(struct agg *a, __u64 folio, agg_promote_fn cb, void *ctx);

/*
 * An UNPIN with PT_F_AGG of @refs on @folio: returns how many of them were
 * promoted (are in the pin table); the rest the table never saw.
 */
__u32 agg_unpin(struct agg *a, __u64 folio, __u32 refs);

/* Account a promotion done by a caller (tests; agg_scan does it itself). */
void agg_promoted(struct agg *a, __u64 folio, __u32 refs);

/* Refs promoted for @folio and not unpinned. */
__u32 agg_promoted_refs(const struct agg *a, __u64 folio);

/* Whether the kernel still holds pins it matched (run mode waits for them). */
bool agg_pending(const struct agg *a);

/* Add what the kernel counted (pins, calls, histograms) to @s. Once, at exit. */
int agg_merge(struct agg *a, struct summary *s);

/* Fold per-CPU values (ncpu of each) into one: exposed for the tests. */
void agg_sum_vals(const struct pt_agg_val *v, int ncpu, struct pt_agg_val *out);
void agg_sum_hists(const struct pt_agg_hist *v, int ncpu, struct log2_hist *out);

#endif /* PINTRACE_AGG_H */
