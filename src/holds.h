/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_HOLDS_H
#define PT_HOLDS_H

#include <json-c/json.h>
#include "output.h"
#include "pintable.h"
#include "stacks.h"

/*
 * Page references held by pipes (vmsplice, tee) and by skb frags (sockets:
 * MSG_ZEROCOPY, splice): who put each page there and since when, matched to
 * the holder's release of it. Two pin tables keyed by folio: pipe releases
 * are matched by holder (a page in two pipes is released by each), skb
 * releases by folio alone (the freeing skb is often not the one that took
 * the reference: clones, coalescing).
 */
struct holds {
	struct pintable *pipes, *skbs;
	const struct stackfmt *stacks;	/* may be NULL: no stacks in reports */
	__u64 taken, added, released;	/* pipes: vmsplice refs, tee refs, releases */
	__u64 skb_taken, skb_moved, skb_released;
	__u64 skb_from_pipe;		/* skb holds whose page came from a followed pipe */
	__u64 sampled_pipe, sampled_skb; /* releases found by the refcount sampler */
	__u64 zc_done, zc_copied;	/* MSG_ZEROCOPY completions, of which copied */
	__u64 samples;			/* sampler passes */
	__u64 sampled_more;		/* folios with holders not seen, last pass */
	struct pt_sample last;		/* the last pass */
};

int holds_init(struct holds *h, const struct stackfmt *stacks);
void holds_free(struct holds *h);
/* HOLD, RELEASE, ZC_DONE and GRAB events with PT_F_PIPE; others are ignored. */
void holds_event(struct holds *h, struct output *o, const struct pt_event *e);
/* A sampler pass finished (its corrections came as RELEASE events before). */
void holds_sampled(struct holds *h, const struct pt_sample *s);
bool holds_any(const struct holds *h);

/* Exit summary: counts, sampler, and the leak section (holds >= min_age_ns). */
void holds_report_text(struct holds *h, FILE *f, __u64 now_ns, __u64 min_age_ns);
void holds_report_json(struct holds *h, json_object *summary, __u64 now_ns, __u64 min_age_ns);
/* Only the leak section (pintrace leaks). */
void holds_leaks_text(struct holds *h, FILE *f, __u64 now_ns, __u64 min_age_ns);
json_object *holds_leaks_json(struct holds *h, __u64 now_ns, __u64 min_age_ns);

#endif
