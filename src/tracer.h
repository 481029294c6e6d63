/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The record pipeline shared by live tracing (trace.c) and replay: ring
 * buffer records through the pin table, the hold tables, the summary and
 * the migration/movable analyses into the output. Internal to those two.
 */
#ifndef PT_TRACER_H
#define PT_TRACER_H

#include <stdbool.h>
#include <stdio.h>
#include "agg.h"
#include "holds.h"
#include "migrate.h"
#include "movable.h"
#include "opts.h"
#include "output.h"
#include "overhead.h"
#include "pintable.h"
#include "place.h"
#include "record.h"
#include "report.h"
#include "session.h"
#include "summary.h"

struct tracer {
	const struct pt_opts *o;
	struct session sess;
	struct output out;
	struct pintable *table;
	struct summary sum;
	struct holds holds;
	struct stackfmt stacks;
	struct place place;
	struct migrate mig;
	struct movable mov;
	struct agg agg;			/* in-kernel aggregation (pins_fd < 0: none) */
	__u64 last_sample, last_leaks;
	bool ksyms_tried;
	__u64 bad_records;
	const struct pt_event *cur;	/* event being matched, for the unpin callback */
	struct rec_writer *rec;		/* --record, or NULL */
	struct overhead ov;		/* pintrace's own cost, for the summary */
};

/* The tables and analyses, empty (no session, no aggregation yet): 0 or -ENOMEM. */
int tracer_setup(struct tracer *t, const struct pt_opts *o);
void tracer_teardown(struct tracer *t);

/* libbpf ring_buffer callbacks; ctx is the tracer (_saved: --record too) */
int tracer_on_record(void *ctx, void *data, size_t len);
int tracer_on_record_saved(void *ctx, void *data, size_t len);

/*
 * After each poll: promote pins the kernel held long enough (all of them
 * with @final), report holds past --min-hold, flush movable findings.
 */
void tracer_scan(struct tracer *t, __u64 now_ns, bool final);

/* kallsyms for stack names, loaded when first needed */
void tracer_stacks_ready(struct tracer *t);

/* pintrace leaks: the periodic leak report */
void tracer_print_leaks(struct tracer *t, __u64 now_ns);

#endif
