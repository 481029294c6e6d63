/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_VERDICT_H
#define PT_VERDICT_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>

/*
 * --fail-on: conditions that turn a trace into a failing check (CI). Each
 * is evaluated once, on the exit summary's data, and counted, so that the
 * summary says not only *that* a condition hit but how much.
 */
enum fail_cond {
	FAIL_LONGTERM_MOVABLE,	/* a long-term pin left on ZONE_MOVABLE memory */
	FAIL_LONGTERM_CMA,	/* a long-term pin left in a CMA area */
	FAIL_MIGRATE,		/* a migration or long-term pin failure involving the traced */
	FAIL_LEAK,		/* pins, pipe or skb holds left at exit */
	FAIL_HELD_LONG,		/* a short-term pin held past --min-hold */
	FAIL_LOST,		/* more lost events or state than --max-lost */
	FAIL__MAX,
};

struct verdict {
	unsigned int mask;		/* conditions asked for (1 << enum fail_cond) */
	unsigned int hit;		/* conditions that hit */
	__u64 count[FAIL__MAX];		/* how much of each was seen (asked for or not) */
	__u64 max_lost;
};

/* "longterm-movable" ... */
const char *fail_cond_name(enum fail_cond c);
/*
 * Parse "leak,migrate-fail" or "all" into a mask (added to *mask).
 * -EINVAL with a message in err for an unknown name or an empty list.
 */
int fail_cond_parse(const char *list, unsigned int *mask, char *err, size_t errlen);

struct report;
void verdict_eval(struct verdict *v, const struct report *r);
/* The exit status: EXIT_LOST before EXIT_FINDINGS (lost events make findings moot), else @status. */
int verdict_exit(const struct verdict *v, int status);
void verdict_text(const struct verdict *v, FILE *f);
json_object *verdict_json(const struct verdict *v);

#endif
