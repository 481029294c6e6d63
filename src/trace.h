/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_TRACE_H
#define PT_TRACE_H

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

#endif
