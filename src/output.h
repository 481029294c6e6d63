/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_OUTPUT_H
#define PT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "facts.h"
#include "foll.h"
#include "opts.h"
#include "pintable.h"
#include "plan.h"

/*
 * The NDJSON output ABI: include/pintrace-ndjson.schema.json documents every
 * record and field, and has this number as its "version". Change both when a
 * record or field is removed, renamed, or changes type or meaning; add new
 * records and fields to the schema (tests/schema/check_schema.py and the VM
 * tests reject what it does not describe). 2: the first published schema.
 */
#define PT_SCHEMA_VERSION 2

/*
 * One sink, two renderings: a fixed-width text stream or NDJSON. Every
 * record is decoded once by the caller and rendered here; JSON records are
 * built with json-c, which does the escaping, after strings from the kernel
 * were made valid UTF-8.
 */
struct output {
	FILE *f;
	enum out_fmt fmt;
	bool stream;			/* per-event records (not with --quiet) */
	const struct foll_table *foll;
	__u64 t0_ns;			/* bpf_ktime_get_ns() clock at start */
	bool header_done;
};

void out_init(struct output *o, FILE *f, enum out_fmt fmt, bool stream,
	      const struct foll_table *foll, __u64 t0_ns);
void out_attach(struct output *o, const struct kernel_facts *kf, const struct plan *p,
		const char *attach_summary);
void out_grab(struct output *o, const struct pt_event *e);
void out_unpin(struct output *o, const struct pt_event *e, const struct unpin_match *m);
void out_call(struct output *o, const struct pt_event *e);
/* a pipe released a page it held (m: which hold it was, for how long) */
void out_release(struct output *o, const struct pt_event *e, const struct unpin_match *m);
/* a pipe took another reference on a held page (tee) */
void out_hold(struct output *o, const struct pt_event *e);
void out_held(struct output *o, __u64 now_ns, __u64 folio, const struct pin_owner *ow, __u32 refs,
	      __u64 age_ns);
void out_warning(struct output *o, const char *what, const char *msg);

/* skb frag holds (output_skb.c); ow: the hold as recorded, with its origin */
void out_skb_hold(struct output *o, const struct pt_event *e, const struct pin_owner *ow);
void out_skb_release(struct output *o, const struct pt_event *e, const struct unpin_match *m);
void out_zc_done(struct output *o, const struct pt_event *e);
/* "127.0.0.1:5000 -> 127.0.0.1:41234" or "family 10 :5000 -> :41234"; "" when none */
const char *sock_format(__u64 tuple_addr, __u64 tuple_ports, char *buf, size_t len);

/* Helpers shared with the summary renderer and output_skb.c. */
json_object *json_ts(const struct output *o, __u64 ts);
json_object *json_task_record(const struct output *o, const char *type, const struct pt_event *e);
void text_line(struct output *o, const struct pt_event *e, const char *ev, const char *api,
	       __u64 refs, const char *flags, const char *detail);
json_object *json_str_kernel(const char *s, size_t len);
json_object *json_hex(__u64 v);
void out_json_emit(struct output *o, json_object *obj);

#endif
