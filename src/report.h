/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_REPORT_H
#define PT_REPORT_H

#include "agg.h"
#include "holds.h"
#include "migrate.h"
#include "movable.h"
#include "output.h"
#include "overhead.h"
#include "pintable.h"
#include "session.h"
#include "summary.h"
#include "verdict.h"

/* Everything the exit summary reports, gathered by the tracer. */
struct report {
	const struct summary *sum;
	struct pintable *table;
	struct holds *holds;
	const struct migrate *mig;		/* migration failures (may be NULL) */
	const struct movable *mov;		/* holds on movable/CMA memory (may be NULL) */
	const struct place *place;
	const struct stackfmt *stacks;		/* symbolizes by_stack (may be NULL) */
	const struct verdict *verdict;		/* --fail-on (may be NULL) */
	const struct overhead *ovh;		/* pintrace's own cost (may be NULL) */
	const struct agg *agg;			/* in-kernel matching (NULL: --stream, replay) */
	bool no_stacks;				/* --no-stacks: pins and references have none */
	struct pt_migrate_stats mstats[PT_MIGRATE_REASONS];
	struct pintable_stats pts;
	struct hook_counters hc[PT_HOOK__MAX];
	const struct plan *plan;
	bool vmstat_ok;
	long long vm_acquired, vm_released;	/* deltas over the session */
	bool filtered;				/* -p/-n/run: vmstat counts everyone */
	__u64 now_ns;
	__u64 min_age_ns;			/* holds this old are leaks */
	__u64 elapsed_ns;
	__u64 bad_records;			/* ring buffer records of the wrong size */
	int exit_status;			/* run: CMD's exit status, else -1 */
};

/* Total of every kind of loss: any non-zero value makes results incomplete. */
__u64 report_lost(const struct report *r);
void report_print(struct output *o, const struct report *r);

/* Pins per (API, stack) (report_stacks.c): the "by_stack" JSON list, the top stacks as text. */
void report_stacks_json(json_object *summary, const struct summary *s,
			const struct stackfmt *sf);
void report_stacks_text(FILE *f, const struct summary *s, const struct stackfmt *sf);

#endif
