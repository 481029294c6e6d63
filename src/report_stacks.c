// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The exit summary's per-stack view: pins taken per (API, kernel stack),
 * as the JSON "by_stack" list and a short "top stacks" text section.
 */
#include <stdio.h>
#include <string.h>
#include "frames.h"
#include "hooks.h"
#include "report.h"

#define STACKS_JSON_MAX	64	/* the JSON lists this many; the rest is counted */
#define STACKS_TEXT_MAX	5
#define STACKS_TEXT_FRAMES 3
#define FRAME_LEN	160

/* Symbolized frames of @id (innermost first) into @names; their number. */
static int frame_names(const struct stackfmt *sf, __s32 id, char names[][FRAME_LEN])
{
	__u64 ips[PT_STACK_DEPTH];
	int n = stack_frames(sf, id, ips);

	for (int i = 0; i < n; i++) {
		if (sf->ks)
			ksyms_resolve(sf->ks, ips[i], names[i], FRAME_LEN);
		else
			snprintf(names[i], FRAME_LEN, "0x%llx", (unsigned long long)ips[i]);
	}
	return n;
}

struct stacks_ctx {
	const struct stackfmt *sf;
	FILE *f;
	json_object *arr;
};

static void json_stack(const struct summary_stack *st, void *ctx)
{
	struct stacks_ctx *c = ctx;
	char names[PT_STACK_DEPTH][FRAME_LEN];
	json_object *j = json_object_new_object(), *frames = json_object_new_array();
	int n = frame_names(c->sf, st->stack_id, names);

	for (int i = 0; i < n; i++)
		json_object_array_add(frames, json_object_new_string(names[i]));
	json_object_object_add(j, "api", json_object_new_string(hook_name(st->api)));
	json_object_object_add(j, "stack", frames);
	json_object_object_add(j, "pin_grabs", json_object_new_int64((int64_t)st->pin_grabs));
	json_object_object_add(j, "pin_refs", json_object_new_int64((int64_t)st->pin_refs));
	json_object_object_add(j, "longterm_pin_refs",
			       json_object_new_int64((int64_t)st->longterm_pin_refs));
	json_object_array_add(c->arr, j);
}

void report_stacks_json(json_object *summary, const struct summary *s,
			const struct stackfmt *sf)
{
	struct stacks_ctx c = { .sf = sf, .arr = json_object_new_array() };
	long omitted = summary_foreach_stack(s, STACKS_JSON_MAX, json_stack, &c);

	json_object_object_add(summary, "by_stack", c.arr);
	/* -ENOMEM listed nothing: every key is omitted */
	json_object_object_add(summary, "by_stack_omitted", json_object_new_int64(
		omitted < 0 ? (int64_t)summary_nr_stacks(s) : omitted));
}

/* One line: refs, API, the innermost frames that are not GUP itself. */
static void text_stack(const struct summary_stack *st, void *ctx)
{
	struct stacks_ctx *c = ctx;
	char names[PT_STACK_DEPTH][FRAME_LEN];
	const char *v[PT_STACK_DEPTH];
	int n = frame_names(c->sf, st->stack_id, names);
	size_t first;

	for (int i = 0; i < n; i++)
		v[i] = names[i];
	first = frames_first_caller(v, (size_t)n);
	fprintf(c->f, "  %8llu %-24s", (unsigned long long)st->pin_refs, hook_name(st->api));
	if (!n)
		fprintf(c->f, " (no stack)");
	for (size_t i = first; i < (size_t)n && i < first + STACKS_TEXT_FRAMES; i++)
		fprintf(c->f, "%s%s", i > first ? " <- " : " ", v[i]);
	if ((size_t)n > first + STACKS_TEXT_FRAMES)
		fprintf(c->f, " <- ...");
	fputc('\n', c->f);
}

void report_stacks_text(FILE *f, const struct summary *s, const struct stackfmt *sf)
{
	struct stacks_ctx c = { .sf = sf, .f = f };
	const struct summary_stack *other = summary_stack_other(s);
	long omitted;

	if (!summary_nr_stacks(s))
		return;
	fprintf(f, "Top pinning stacks:\n  %8s %-24s %s\n", "PINS", "API", "CALLERS");
	omitted = summary_foreach_stack(s, STACKS_TEXT_MAX, text_stack, &c);
	if (omitted > 0)
		fprintf(f, "  (%ld more stacks: see the JSON summary's by_stack)\n", omitted);
	if (other)
		fprintf(f, "  (%llu pins from stacks beyond the %d tracked)\n",
			(unsigned long long)other->pin_refs, SUMMARY_MAX_STACKS);
}
