/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_HOOKS_H
#define PT_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include "pintrace.h"

enum hook_role {
	ROLE_GRAB,	/* takes pins/refs: coverage of pin counts depends on it */
	ROLE_UNPIN,	/* drops pins: coverage of unpin counts depends on it */
	ROLE_API,	/* GUP entry point: attribution and call results */
	ROLE_TASK,	/* process tree following (run mode only) */
	ROLE_HOLD,	/* references held by pipes: optional, no pin coverage */
	ROLE_SKB,	/* references held by skb frags (sockets): optional */
	ROLE_MIGRATE,	/* migration failures and their folios: optional */
};

#define HOOK_MAX_SYMS 3

/*
 * One row per traced kernel function: the semantic hook, the kernel symbols
 * that implement it across versions (first present wins), and what tells
 * same-named variants apart.
 */
struct hook_def {
	enum pt_hook id;
	const char *prog;		/* BPF program suffix: fentry_<prog>, kprobe_<prog>, ... */
	const char *syms[HOOK_MAX_SYMS];
	enum hook_role role;
	int nargs;			/* arguments the programs read (fentry arg limit) */
	const char *param0;		/* BTF type name of argument 0 that selects this variant */
	const char *with_sym;		/* without BTF: variant needs this sibling symbol */
	const char *without_sym;	/* without BTF: variant needs this sibling absent */
	bool tracepoint;		/* tp_btf program, no backend choice */
	bool run_only;			/* only for `pintrace run` (process tree) */
	const char *what;		/* one-line description for `pintrace check` */
};

/*
 * Sets of chokepoints that together see every pin and unpin of one kernel
 * generation: coverage means one set is complete.
 */
#define HOOK_GEN_MAX 4
struct hook_gen {
	const char *name;
	enum pt_hook hooks[HOOK_GEN_MAX];	/* PT_HOOK_NONE-terminated */
};

extern const struct hook_gen pt_hook_gens[];
extern const size_t pt_hook_ngens;
extern const struct hook_def pt_hook_defs[];
extern const size_t pt_hook_ndefs;

const struct hook_def *hook_def_by_id(enum pt_hook id);
/* Short name of a hook id for output ("pin_user_pages_fast"); "-" for none. */
const char *hook_name(unsigned int id);

#endif
