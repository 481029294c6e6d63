// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "report.h"
#include "util.h"
#include "verdict.h"

static const char *const names[FAIL__MAX] = {
	[FAIL_LONGTERM_MOVABLE] = "longterm-movable",
	[FAIL_LONGTERM_CMA] = "longterm-cma",
	[FAIL_MIGRATE] = "migrate-fail",
	[FAIL_LEAK] = "leak",
	[FAIL_HELD_LONG] = "held-long",
	[FAIL_LOST] = "lost",
};

/* What each count is, for the summary. */
static const char *const units[FAIL__MAX] = {
	[FAIL_LONGTERM_MOVABLE] = "pages long-term pinned on Movable memory",
	[FAIL_LONGTERM_CMA] = "pages long-term pinned in CMA areas",
	[FAIL_MIGRATE] = "migration or long-term pin failures",
	[FAIL_LEAK] = "pins and holds left at exit",
	[FAIL_HELD_LONG] = "short-term pins held past --min-hold",
	[FAIL_LOST] = "lost events or state updates",
};

const char *fail_cond_name(enum fail_cond c)
{
	return c < FAIL__MAX ? names[c] : "?";
}

int fail_cond_parse(const char *list, unsigned int *mask, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;

	if (!*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "invalid --fail-on '%s'", list);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int c;

		if (!strcmp(tok, "all")) {
			*mask |= (1u << FAIL__MAX) - 1;
			continue;
		}
		for (c = 0; c < FAIL__MAX && strcmp(tok, names[c]); c++)
			;
		if (c == FAIL__MAX) {
			snprintf(err, errlen, "invalid --fail-on condition '%s' (longterm-movable, "
				 "longterm-cma, migrate-fail, leak, held-long, lost, all)", tok);
			return -EINVAL;
		}
		*mask |= 1u << c;
	}
	return 0;
}

/*
 * A migration failure is ours when a followed hold is among its causes, or
 * when tracing is system-wide; a failed long-term pin is only seen for
 * traced tasks. Another process's compaction failing on its own pages is
 * not the traced command's doing.
 */
static __u64 migrate_failures(const struct report *r)
{
	const struct migrate *m = r->mig;
	__u64 n = 0;

	if (!m)
		return 0;
	if (!r->filtered)
		return m->fails_total;
	for (size_t i = 0; i < m->nfails; i++)
		n += m->fails[i].pin_failed || m->fails[i].nholders > 0;
	return n;
}

static void movable_pages(const struct report *r, __u64 *movable, __u64 *cma)
{
	*movable = *cma = 0;
	for (size_t i = 0; r->mov && i < r->mov->ngroups; i++) {
		const struct mov_group *g = &r->mov->groups[i];

		if (g->kind != MOV_LONGTERM_PIN)
			continue;
		*cma += g->cma_pages;
		*movable += g->pages - g->cma_pages;
	}
}

static __u64 outstanding(struct pintable *t)
{
	struct pintable_stats st;

	if (!t)
		return 0;
	pintable_get_stats(t, &st);
	return st.outstanding_refs;
}

void verdict_eval(struct verdict *v, const struct report *r)
{
	movable_pages(r, &v->count[FAIL_LONGTERM_MOVABLE], &v->count[FAIL_LONGTERM_CMA]);
	v->count[FAIL_MIGRATE] = migrate_failures(r);
	v->count[FAIL_LEAK] = r->pts.outstanding_refs +
			      (r->holds ? outstanding(r->holds->pipes) + outstanding(r->holds->skbs) : 0);
	v->count[FAIL_HELD_LONG] = r->pts.held_long_reported;
	v->count[FAIL_LOST] = report_lost(r);
	v->hit = 0;
	for (int c = 0; c < FAIL__MAX; c++) {
		bool over = c == FAIL_LOST ? v->count[c] > v->max_lost : v->count[c] > 0;

		if ((v->mask & (1u << c)) && over)
			v->hit |= 1u << c;
	}
}

int verdict_exit(const struct verdict *v, int status)
{
	if (v->hit & (1u << FAIL_LOST))
		return EXIT_LOST;
	if (v->hit)
		return EXIT_FINDINGS;
	return status;
}

void verdict_text(const struct verdict *v, FILE *f)
{
	if (!v->mask)
		return;
	fprintf(f, "\nVerdict (--fail-on): %s\n", v->hit ? "FAIL" : "pass");
	for (int c = 0; c < FAIL__MAX; c++) {
		if (!(v->mask & (1u << c)))
			continue;
		fprintf(f, "  %-3s %-17s %llu %s", v->hit & (1u << c) ? "!!" : "ok", names[c],
			(unsigned long long)v->count[c], units[c]);
		if (c == FAIL_LOST)
			fprintf(f, " (allowed: %llu)", (unsigned long long)v->max_lost);
		fputc('\n', f);
	}
}

json_object *verdict_json(const struct verdict *v)
{
	json_object *j = json_object_new_object(), *c = json_object_new_object();
	json_object *hit = json_object_new_array();

	for (int i = 0; i < FAIL__MAX; i++) {
		if (!(v->mask & (1u << i)))
			continue;
		json_object_object_add(c, names[i], json_object_new_int64((int64_t)v->count[i]));
		if (v->hit & (1u << i))
			json_object_array_add(hit, json_object_new_string(names[i]));
	}
	json_object_object_add(j, "result", json_object_new_string(v->hit ? "fail" : "pass"));
	json_object_object_add(j, "hit", hit);
	json_object_object_add(j, "counts", c);
	json_object_object_add(j, "max_lost", json_object_new_int64((int64_t)v->max_lost));
	return j;
}
