/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_OPTS_H
#define PT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "plan.h"

enum pt_cmd { CMD_TRACE, CMD_RUN, CMD_CHECK, CMD_LEAKS, CMD_REPLAY, CMD_DIFF };
enum out_fmt { OUT_TEXT, OUT_JSON };

struct pt_opts {
	enum pt_cmd cmd;
	enum backend_mode mode;
	enum out_fmt fmt;
	const char *output_path;	/* -O: events and summary go here instead of stdout */
	const char *ready_path;		/* created once the programs are attached */
	const char *btf_path;
	const char *facts_path;		/* check: plan from a facts file instead of this kernel */
	const char *record_path;	/* --record: raw ring-buffer records go here too */
	const char *replay_path;	/* replay: the recording to feed through the pipeline */
	bool dump_facts;
	__u32 pid;
	const char *comm;
	__u64 min_hold_ns;
	__u64 duration_ns;		/* 0: until Ctrl-C (or the command exits) */
	__u64 min_age_ns;		/* pipe/skb holds this old are reported as leaks */
	__u64 interval_ns;		/* leaks: report every interval (0: only at exit) */
	__u64 linger_ns;		/* run: wait this long for outstanding unpins after CMD exits */
	bool refs;			/* report FOLL_GET references as events too */
	bool quiet;			/* no event stream, summary only */
	bool stream;			/* --stream: no in-kernel aggregation */
	bool no_stacks;			/* --no-stacks: no stack walk per pin or reference */
	bool allow_partial;
	bool no_bpf_stats;		/* leave BPF run-time accounting off (summary: no run counts) */
	bool noop_programs;		/* benchmark floor: same hooks, empty programs */
	int verbose;
	size_t ringbuf_bytes;
	unsigned int fail_on;		/* --fail-on: 1 << enum fail_cond */
	__u64 max_lost;			/* --max-lost: losses tolerated by --fail-on lost */
	char **argv;			/* run: the command */
};

/*
 * Parse the command line. Returns 0 to go on, 1 when help/version was
 * printed (exit 0), or -EINVAL with a message in err (exit EXIT_USAGE).
 */
int opts_parse(int argc, char **argv, struct pt_opts *o, char *err, size_t errlen);

#endif
