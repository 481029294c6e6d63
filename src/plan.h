/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_PLAN_H
#define PT_PLAN_H

#include <stdio.h>
#include "facts.h"
#include "hooks.h"

enum backend_mode { MODE_AUTO, MODE_FENTRY, MODE_KPROBE };

enum plan_state {
	PLAN_ATTACH,		/* to be attached with order[0], falling back to order[1] */
	PLAN_ABSENT,		/* this kernel has no such function (or another variant) */
	PLAN_UNAVAILABLE,	/* present, but no allowed backend can attach it */
	PLAN_SKIPPED,		/* not needed in this mode (process tree when not in run mode) */
};

struct hook_plan {
	const struct hook_def *def;
	enum plan_state state;
	const char *sym;		/* kernel symbol chosen */
	enum pt_backend order[2];
	int norder;
	char why[256];			/* absent/unavailable reason, or why not fentry */
	/* set by the session after attaching */
	enum pt_backend attached;
	char attach_err[160];
};

struct plan {
	enum backend_mode mode;
	size_t n;
	struct hook_plan hooks[PT_HOOK__MAX];
};

/* Pure: the same facts and mode always give the same plan. */
void plan_build(const struct kernel_facts *kf, enum backend_mode mode, bool follow_tree,
		struct plan *p);

/*
 * Coverage verdict: 0 if every grab and unpin hook that exists in this
 * kernel is attachable (or attached, after the session ran), else -ENOTSUP
 * with a one-line reason naming the first gap.
 */
int plan_coverage(const struct plan *p, bool after_attach, char *why, size_t whylen);

const char *backend_name(enum pt_backend b);
const char *plan_state_name(enum plan_state s);
int backend_mode_parse(const char *s, enum backend_mode *m);
void plan_print(FILE *f, const struct plan *p);

#endif
