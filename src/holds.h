/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_HOLDS_H
#define PT_HOLDS_H

#include <json-c/json.h>
#include "output.h"
#include "pintable.h"

/*
 * References held by pipes (vmsplice): who put each page in which pipe and
 * since when, matched to the pipe's release of it. A second pin table, keyed
 * by folio and matched by holder (the pipe), not by process.
 */
struct holds {
	struct pintable *t;
	__u64 taken, added, released;	/* vmsplice refs, tee refs, releases */
};

int holds_init(struct holds *h);
void holds_free(struct holds *h);
/* GRAB with PT_F_PIPE, HOLD, RELEASE events; anything else is ignored. */
void holds_event(struct holds *h, struct output *o, const struct pt_event *e);
void holds_report_text(struct holds *h, FILE *f, __u64 now_ns);
json_object *holds_report_json(struct holds *h, __u64 now_ns);

#endif
