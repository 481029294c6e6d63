/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_FACTS_H
#define PT_FACTS_H

#include <stdbool.h>
#include <stdio.h>

#define FACTS_MAX_SYMS 96
#define FACT_UNKNOWN (-1)

/*
 * What the running kernel says about one function the hook table names, or
 * about a tracepoint ("tp/NAME": btf = its btf_trace_NAME typedef exists,
 * nargs = the tracepoint's arguments).
 */
struct sym_fact {
	char name[64];
	int kallsyms;		/* exact-name text symbols in /proc/kallsyms (0 absent, >1 ambiguous) */
	bool btf;		/* a BTF FUNC of that name exists */
	int btf_nargs;
	char param0[32];	/* struct name arg 0 points to ("page", "folio"), "" otherwise */
	char ret[32];		/* return type name ("bool", "int", "folio" for pointers) */
	int ftrace;		/* in available_filter_functions: 1/0, FACT_UNKNOWN if unreadable */
};

/* Kernel facts: everything the planner may use, and nothing else. */
struct kernel_facts {
	char release[65];
	bool btf;			/* vmlinux BTF available */
	bool fentry;			/* a fentry program loads */
	char fentry_why[160];		/* why not, when !fentry */
	bool kprobe;			/* kprobes can be created */
	char kprobe_why[160];
	bool tp_btf;			/* tp_btf programs load */
	int fentry_max_args;		/* trampoline argument limit assumed (6) */
	char lockdown[32];		/* "none", "integrity", ... or "" if unknown */
	size_t nsyms;
	struct sym_fact syms[FACTS_MAX_SYMS];
};

const struct sym_fact *facts_sym(const struct kernel_facts *kf, const char *name);
struct sym_fact *facts_sym_add(struct kernel_facts *kf, const char *name);

/*
 * Text form, one fact per line, used by `pintrace check --dump-facts` and by
 * the unit tests' per-kernel fixtures:
 *   kernel RELEASE | btf 0|1 | fentry 0|1 [why] | kprobe 0|1 [why] | tp_btf 0|1 |
 *   lockdown MODE | sym NAME kallsyms=N btf=0|1 nargs=N param0=T ret=T ftrace=-1|0|1
 */
void facts_write(FILE *f, const struct kernel_facts *kf);
int facts_read(FILE *f, struct kernel_facts *kf, char *err, size_t errlen);

#endif
