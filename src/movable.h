/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_MOVABLE_H
#define PT_MOVABLE_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "output.h"
#include "pintable.h"
#include "place.h"
#include "stacks.h"

/*
 * Holds that keep memory from moving: flagged when a page of ZONE_MOVABLE
 * or of a CMA area is
 *  - long-term pinned and still pinned when the pinning call returned: the
 *    kernel should have migrated it first (a kernel bug, or a stable window
 *    that skipped the migration);
 *  - held past --min-hold by a short-term pin, a pipe or an skb: it blocks
 *    memory offline and CMA allocations just the same.
 * Flags are grouped per holder (kind, process, API or pipe/socket, stack):
 * one line when a group is first flagged, its totals in the exit summary.
 */
enum mov_kind {
	MOV_LONGTERM_PIN,
	MOV_HELD_PIN,
	MOV_HELD_PIPE,
	MOV_HELD_SKB,
};

#define MOV_MAX_GROUPS	256
#define MOV_MAX_CANDS	(64 * 1024)

struct mov_group {
	enum mov_kind kind;
	struct pin_owner owner;		/* the first flagged hold */
	__u64 first_ns;			/* when the group was first flagged */
	__u64 t0_ns;			/* start of its oldest hold */
	__u64 age_ns;			/* the longest a hold of it was seen held */
	__u32 pages, cma_pages;
	__u32 zone_pages[8];		/* 7: unknown zone */
	bool shown;			/* its live line was printed */
};

struct mov_cand {
	__u32 tid;
	__u64 folio;
	__u64 ts_ns;
	struct pin_owner owner;
};

struct movable {
	const struct place *pl;
	const struct stackfmt *sf;
	struct mov_cand *cands;		/* long-term pins on unpinnable pages, call not returned yet */
	size_t ncands, cap;
	__u64 cands_dropped;
	struct mov_group groups[MOV_MAX_GROUPS];
	size_t ngroups;
	__u64 groups_more;		/* flagged holds beyond MOV_MAX_GROUPS groups */
	__u64 flagged_pages;
};

void movable_init(struct movable *mv, const struct place *pl, const struct stackfmt *sf);
void movable_free(struct movable *mv);
/* A grab (GRAB event): long-term pins on unpinnable pages become candidates. */
void movable_grab(struct movable *mv, const struct pt_event *e, const struct pin_owner *ow);
/* A GUP call returned (CALL event): its candidates still pinned are flagged. */
void movable_call(struct movable *mv, struct output *o, const struct pt_event *e,
		  const struct pintable *pins);
/* A hold reached --min-hold: flagged when its page is movable or CMA. */
void movable_held(struct movable *mv, enum mov_kind kind, __u64 folio,
		  const struct pin_owner *ow, __u64 t0_ns, __u64 now_ns);
/* Print the groups flagged since the last flush (live output). */
void movable_flush(struct movable *mv, struct output *o);

void movable_report_text(const struct movable *mv, FILE *f, __u64 now_ns);
json_object *movable_report_json(const struct movable *mv, __u64 now_ns);

#endif
