/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_TRACE_H
#define PT_TRACE_H

#include <stdio.h>
#include "facts.h"
#include "foll.h"
#include "opts.h"
#include "plan.h"

/*
 * Run a tracing session (system-wide, or `run` around a command) with an
 * already built plan. Returns the process exit code.
 */
struct btf;

/* btf: the kernel's BTF as main loaded it (zone names, CMA), or NULL */
int trace_main(const struct pt_opts *o, const struct kernel_facts *kf,
	       const struct foll_table *foll, struct plan *plan, const struct btf *btf);

/*
 * The same record pipeline without a session (pintrace replay, replay.c):
 * no BPF, no stack map, no kallsyms, nothing read from this kernel. Output
 * goes to @f as -o and -q say; event times are relative to @t0_ns.
 */
struct tracer;
struct tracer *tracer_new(const struct pt_opts *o, FILE *f, const struct foll_table *foll,
			  __u64 t0_ns);
/* One ring-buffer record, handled exactly as live tracing handles it. */
void tracer_feed(struct tracer *t, const void *data, size_t len);
/* What the live loop does after each poll (held-long scans), at @now_ns. */
void tracer_tick(struct tracer *t, __u64 now_ns);
/* The exit summary as of @now_ns; returns the exit status (--fail-on). */
int tracer_report(struct tracer *t, __u64 now_ns, __u64 elapsed_ns);
void tracer_free(struct tracer *t);

#endif
