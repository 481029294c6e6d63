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
int trace_main(const struct pt_opts *o, const struct kernel_facts *kf,
	       const struct foll_table *foll, struct plan *plan);

#endif
