// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace diff: what a summary record says, as a struct diff_run.
 *
 * The summary comes from a file from anywhere (a CI artifact, a hand
 * edit), so every field the comparison uses is type-checked: a wrong type
 * is an error naming the field, never a silent zero. Fields a summary may
 * lack (an older pintrace, a run without migration hooks) are absent, not
 * zero, so the comparison can say "not compared" instead of inventing a
 * change. Strings are sanitized for a terminal on the way in.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "frames.h"
#include "util.h"

#define MAX_FRAMES	64	/* pintrace writes at most PT_STACK_DEPTH (32) */
#define STR_LEN		256	/* names and frames; longer ones are cut */
#define US		"\x1f"	/* key separator: not in a symbol name */

static const char *const class_names[DIFF_CLASSES] = { "short", "held-long", "longterm" };

/* Where messages go while one summary is read. */
struct reader {
	struct diff_run *r;
	char *err;
	size_t errlen;
};

static int fail(struct reader *l, int code, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(l->err, l->errlen, "%s: ", l->r->name);
	n = strlen(l->err);
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - n, fmt, ap);
	va_end(ap);
	return code;
}

static __u64 sat_add(__u64 a, __u64 b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static const char *type_desc(json_object *f)
{
	return json_type_to_name(json_object_get_type(f));
}

/* @obj[@field] as a count; absent: 0, and *has (may be NULL) false. */
static int get_u64(struct reader *l, json_object *obj, const char *where, const char *field,
		   __u64 *v, bool *has)
{
	json_object *f;

	*v = 0;
	if (has)
		*has = false;
	if (!json_object_object_get_ex(obj, field, &f))
		return 0;
	if (!json_object_is_type(f, json_type_int))
		return fail(l, -EINVAL, "summary: %s%s: expected a count, got %s", where, field,
			    type_desc(f));
	if (json_object_get_int64(f) < 0)
		return fail(l, -EINVAL, "summary: %s%s: negative count %lld", where, field,
			    (long long)json_object_get_int64(f));
	*v = json_object_get_uint64(f);
	if (has)
		*has = true;
	return 0;
}

/* @obj[@field] of type @t into *out; absent: NULL. */
static int get_typed(struct reader *l, json_object *obj, const char *where, const char *field,
		     json_type t, json_object **out)
{
	json_object *f;

	*out = NULL;
	if (!json_object_object_get_ex(obj, field, &f))
		return 0;
	if (!json_object_is_type(f, t))
		return fail(l, -EINVAL, "summary: %s%s: expected %s, got %s", where, field,
			    json_type_to_name(t), type_desc(f));
	*out = f;
	return 0;
}

/* A string field, sanitized for a terminal, into @buf (STR_LEN); "" when absent. */
static int get_str(struct reader *l, json_object *obj, const char *where, const char *field,
		   bool required, char *buf)
{
	json_object *f;
	int err = get_typed(l, obj, where, field, json_type_string, &f);

	buf[0] = '\0';
	if (err)
		return err;
	if (!f)
		return required ? fail(l, -EINVAL, "summary: %s%s: missing", where, field) : 0;
	sanitize_text(json_object_get_string(f), (size_t)json_object_get_string_len(f), buf,
		      STR_LEN);
	return 0;
}

/* ---- keyed rows: APIs, stacks, holders ---------------------------------- */

static void counts_free(struct diff_counts *c)
{
	for (size_t i = 0; i < c->nframes; i++)
		free(c->frames[i]);
	free(c->frames);
	free(c->frames_str);
	free(c->key);
	free(c->api);
	free(c->label);
}

/* @head, then each of @parts after @sep; NULL on ENOMEM. */
static char *join(const char *head, char *const *parts, size_t n, const char *sep)
{
	size_t len = strlen(head) + 1, pos;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(sep) + strlen(parts[i]);
	s = malloc(len);
	if (!s)
		return NULL;
	pos = (size_t)snprintf(s, len, "%s", head);
	for (size_t i = 0; i < n; i++)
		pos += (size_t)snprintf(s + pos, len - pos, "%s%s", sep, parts[i]);
	return s;
}

/* The stable frames of a "stack" array into *frames (may stay NULL: none). */
static int load_frames(struct reader *l, json_object *obj, const char *where, char ***frames,
		       size_t *n)
{
	char name[STR_LEN], stable[STR_LEN];
	json_object *a;
	size_t len;
	int err = get_typed(l, obj, where, "stack", json_type_array, &a);

	*frames = NULL;
	*n = 0;
	if (err || !a)
		return err;
	len = json_object_array_length(a);
	if (len > MAX_FRAMES)
		len = MAX_FRAMES;
	if (len && !(*frames = calloc(len, sizeof(**frames))))
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *f = json_object_array_get_idx(a, i);

		if (!json_object_is_type(f, json_type_string))
			return fail(l, -EINVAL, "summary: %sstack[%zu]: expected a string, got %s",
				    where, i, type_desc(f));
		sanitize_text(json_object_get_string(f), (size_t)json_object_get_string_len(f),
			      name, sizeof(name));
		(*frames)[i] = strdup(frame_stable(name, stable, sizeof(stable)));
		if (!(*frames)[i])
			return -ENOMEM;
		*n = i + 1;
	}
	return 0;
}

/* "api: caller <- caller <- caller", the callers past GUP's own frames. */
static char *stack_label(const char *api, char *const *frames, size_t n)
{
	size_t first = frames_first_caller((const char *const *)frames, n);
	size_t shown = n - first < 3 ? n - first : 3;
	char head[STR_LEN + 2];
	char *tail, *s;

	if (!n)
		return join(api, NULL, 0, "");
	tail = join("", frames + first + 1, shown - 1, " <- ");
	if (!tail)
		return NULL;
	snprintf(head, sizeof(head), "%s: %s", api, frames[first]);
	s = join(head, &tail, 1, "");
	free(tail);
	return s;
}

/* One by_api or by_stack entry into @c (zeroed; freed by the caller). */
static int load_counts(struct reader *l, json_object *e, const char *where, bool stack,
		       struct diff_counts *c)
{
	char api[STR_LEN];
	int err;

	if (!json_object_is_type(e, json_type_object))
		return fail(l, -EINVAL, "summary: %s: expected an object, got %s", where, type_desc(e));
	err = get_str(l, e, where, "api", true, api);
	err = err ?: get_u64(l, e, where, "pin_grabs", &c->pin_grabs, NULL);
	err = err ?: get_u64(l, e, where, "pin_refs", &c->pin_refs, NULL);
	err = err ?: get_u64(l, e, where, "longterm_pin_refs", &c->longterm_pin_refs, NULL);
	err = err ?: (stack ? load_frames(l, e, where, &c->frames, &c->nframes) : 0);
	if (err)
		return err;
	c->api = strdup(api);
	c->key = join(api, c->frames, c->nframes, US);
	c->label = stack ? stack_label(api, c->frames, c->nframes) : strdup(api);
	c->frames_str = c->nframes ? join(c->frames[0], c->frames + 1, c->nframes - 1, " <- ") :
				     strdup("");
	return c->api && c->key && c->label && c->frames_str ? 0 : -ENOMEM;
}

static int counts_cmp(const void *a, const void *b)
{
	return strcmp(((const struct diff_counts *)a)->key, ((const struct diff_counts *)b)->key);
}

/* Sort by key, fold duplicates (one stack seen under two stack ids). */
static size_t counts_fold(struct diff_counts *v, size_t n)
{
	size_t out = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), counts_cmp);
	for (size_t i = 1; i < n; i++) {
		struct diff_counts *k = &v[out];

		if (!strcmp(k->key, v[i].key)) {
			k->pin_grabs = sat_add(k->pin_grabs, v[i].pin_grabs);
			k->pin_refs = sat_add(k->pin_refs, v[i].pin_refs);
			k->longterm_pin_refs = sat_add(k->longterm_pin_refs, v[i].longterm_pin_refs);
			counts_free(&v[i]);
		} else {
			v[++out] = v[i];
		}
	}
	return out + 1;
}

/* by_api or by_stack: absent leaves *has false. */
static int load_list(struct reader *l, json_object *s, const char *field, bool stack,
		     struct diff_counts **out, size_t *nout, bool *has)
{
	json_object *a;
	char where[64];
	size_t len, n = 0;
	int err = get_typed(l, s, "", field, json_type_array, &a);

	if (err || !a)
		return err;
	*has = true;
	len = json_object_array_length(a);
	if (!len)
		return 0;
	*out = calloc(len, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (; n < len; n++) {
		snprintf(where, sizeof(where), "%s[%zu].", field, n);
		err = load_counts(l, json_object_array_get_idx(a, n), where, stack, &(*out)[n]);
		if (err) {
			*nout = n + 1;	/* the partial entry is freed with the rest */
			return err;
		}
	}
	*nout = counts_fold(*out, n);
	return 0;
}

/* ---- hold-time histograms ------------------------------------------------ */

static int bucket_cmp(const void *a, const void *b)
{
	const struct diff_bucket *x = a, *y = b;

	return x->min < y->min ? -1 : x->min > y->min;
}

static int load_hist(struct reader *l, json_object *a, int cls)
{
	struct diff_run *r = l->r;
	size_t len = json_object_array_length(a);
	char where[64];
	int err = 0;

	if (!len)
		return 0;
	r->hold[cls] = calloc(len, sizeof(*r->hold[cls]));
	if (!r->hold[cls])
		return -ENOMEM;
	for (size_t i = 0; i < len && !err; i++) {
		json_object *b = json_object_array_get_idx(a, i);
		struct diff_bucket *d = &r->hold[cls][i];

		snprintf(where, sizeof(where), "hold_hist_ns.%s[%zu].", class_names[cls], i);
		if (!json_object_is_type(b, json_type_object))
			return fail(l, -EINVAL, "summary: %s: expected an object, got %s", where,
				    type_desc(b));
		err = get_u64(l, b, where, "min", &d->min, NULL);
		err = err ?: get_u64(l, b, where, "max", &d->max, NULL);
		err = err ?: get_u64(l, b, where, "count", &d->count, NULL);
		r->nhold[cls] = i + 1;
	}
	if (!err)
		qsort(r->hold[cls], len, sizeof(*r->hold[cls]), bucket_cmp);
	return err;
}

static int load_hists(struct reader *l, json_object *s)
{
	json_object *h, *a;
	int err = get_typed(l, s, "", "hold_hist_ns", json_type_object, &h);

	if (err || !h)
		return err;
	l->r->has_hold = true;
	for (int c = 0; c < DIFF_CLASSES && !err; c++) {
		err = get_typed(l, h, "hold_hist_ns.", class_names[c], json_type_array, &a);
		if (!err && a)
			err = load_hist(l, a, c);
	}
	return err;
}

/* ---- leak holders ---------------------------------------------------------- */

static int holder_cmp(const void *a, const void *b)
{
	return strcmp(((const struct diff_holder *)a)->key, ((const struct diff_holder *)b)->key);
}

static int holder_add(struct diff_run *r, size_t cap, char *key, char *label, __u64 refs)
{
	if (!key || !label || r->nholders >= cap) {
		free(key);
		free(label);
		return -ENOMEM;
	}
	r->holders[r->nholders++] = (struct diff_holder){ .key = key, .label = label, .refs = refs };
	return 0;
}

/* A leaks.holders[] entry: a pipe or socket, told apart by its stack (or comm). */
static int load_leak(struct reader *l, json_object *e, const char *where, size_t cap)
{
	char kind[STR_LEN], comm[STR_LEN], head[2 * STR_LEN + 8];
	char **frames = NULL;
	size_t nframes = 0;
	__u64 refs;
	char *key = NULL, *label = NULL;
	int err;

	if (!json_object_is_type(e, json_type_object))
		return fail(l, -EINVAL, "summary: %s: expected an object, got %s", where, type_desc(e));
	err = get_str(l, e, where, "kind", true, kind);
	err = err ?: get_str(l, e, where, "comm", false, comm);
	err = err ?: get_u64(l, e, where, "refs", &refs, NULL);
	err = err ?: load_frames(l, e, where, &frames, &nframes);
	if (!err) {
		snprintf(head, sizeof(head), "%s" US "%s", kind, nframes ? "" : comm);
		key = join(head, frames, nframes, US);
		snprintf(head, sizeof(head), "%s of %s", kind, comm[0] ? comm : "?");
		label = nframes ? stack_label(head, frames, nframes) : strdup(head);
		err = holder_add(l->r, cap, key, label, refs);
	}
	for (size_t i = 0; i < nframes; i++)
		free(frames[i]);
	free(frames);
	return err;
}

/* An outstanding[] pin record: keyed by API and long-term or not. */
static int load_outstanding(struct reader *l, json_object *e, const char *where, size_t cap)
{
	char api[STR_LEN], buf[STR_LEN + 32], *key;
	json_object *lt;
	__u64 refs;
	int err;

	if (!json_object_is_type(e, json_type_object))
		return fail(l, -EINVAL, "summary: %s: expected an object, got %s", where, type_desc(e));
	err = get_str(l, e, where, "api", true, api);
	err = err ?: get_u64(l, e, where, "refs", &refs, NULL);
	err = err ?: get_typed(l, e, where, "longterm", json_type_boolean, &lt);
	if (err)
		return err;
	lt = lt && json_object_get_boolean(lt) ? lt : NULL;
	snprintf(buf, sizeof(buf), "pin" US "%s" US "%s", api, lt ? "longterm" : "short");
	key = strdup(buf);
	snprintf(buf, sizeof(buf), "%s pins of %s", lt ? "long-term" : "short-term", api);
	return holder_add(l->r, cap, key, strdup(buf), refs);
}

static int load_holders(struct reader *l, json_object *s)
{
	struct diff_run *r = l->r;
	json_object *leaks, *hs = NULL, *out;
	size_t nh, no, cap, out_n = 0;
	char where[64];
	int err;

	err = get_typed(l, s, "", "leaks", json_type_object, &leaks);
	err = err ?: (leaks ? get_typed(l, leaks, "leaks.", "holders", json_type_array, &hs) : 0);
	err = err ?: get_typed(l, s, "", "outstanding", json_type_array, &out);
	if (err || (!hs && !out))
		return err;
	r->has_holders = true;
	nh = hs ? json_object_array_length(hs) : 0;
	no = out ? json_object_array_length(out) : 0;
	cap = nh + no;
	if (!cap)
		return 0;
	r->holders = calloc(cap, sizeof(*r->holders));
	if (!r->holders)
		return -ENOMEM;
	for (size_t i = 0; i < nh && !err; i++) {
		snprintf(where, sizeof(where), "leaks.holders[%zu].", i);
		err = load_leak(l, json_object_array_get_idx(hs, i), where, cap);
	}
	for (size_t i = 0; i < no && !err; i++) {
		snprintf(where, sizeof(where), "outstanding[%zu].", i);
		err = load_outstanding(l, json_object_array_get_idx(out, i), where, cap);
	}
	if (err)
		return err;
	/* fold holders with one key: several pipes of one stack are one holder */
	qsort(r->holders, r->nholders, sizeof(*r->holders), holder_cmp);
	for (size_t i = 1; i < r->nholders; i++) {
		struct diff_holder *k = &r->holders[out_n];

		if (!strcmp(k->key, r->holders[i].key)) {
			k->refs = sat_add(k->refs, r->holders[i].refs);
			free(r->holders[i].key);
			free(r->holders[i].label);
		} else {
			r->holders[++out_n] = r->holders[i];
		}
	}
	r->nholders = out_n + 1;
	return 0;
}

/* ---- scalars --------------------------------------------------------------- */

/* @parent.@obj.@field added into val[@ds] (has[@ds] set when present). */
static int add_nested(struct reader *l, json_object *s, const char *obj, const char *field,
		      enum diff_scalar ds)
{
	json_object *o;
	char where[64];
	bool has;
	__u64 v;
	int err = get_typed(l, s, "", obj, json_type_object, &o);

	if (err || !o)
		return err;
	snprintf(where, sizeof(where), "%s.", obj);
	err = get_u64(l, o, where, field, &v, &has);
	if (!err && has) {
		l->r->val[ds] = sat_add(l->r->val[ds], v);
		l->r->has[ds] = true;
	}
	return err;
}

static int load_pins(struct reader *l, json_object *s)
{
	struct diff_run *r = l->r;
	json_object *p;
	__u64 reported;
	bool has_rep;
	int err = get_typed(l, s, "", "pins", json_type_object, &p);

	if (err)
		return err;
	if (!p)
		return fail(l, -EINVAL, "summary: pins: missing (not a pintrace summary?)");
	err = get_u64(l, p, "pins.", "acquired_refs", &r->val[DS_PINS], &r->has[DS_PINS]);
	if (!err && !r->has[DS_PINS])
		return fail(l, -EINVAL, "summary: pins.acquired_refs: missing");
	err = err ?: get_u64(l, p, "pins.", "longterm", &r->val[DS_LONGTERM_UNPINS],
			     &r->has[DS_LONGTERM_UNPINS]);
	err = err ?: get_u64(l, p, "pins.", "held_long", &r->val[DS_HELD_LONG], &r->has[DS_HELD_LONG]);
	/* what --fail-on held-long counts: also the pins still held at exit */
	err = err ?: get_u64(l, p, "pins.", "held_long_reported", &reported, &has_rep);
	if (!err && has_rep) {
		r->val[DS_HELD_LONG] = reported;
		r->has[DS_HELD_LONG] = true;
	}
	err = err ?: get_u64(l, p, "pins.", "outstanding_refs", &r->val[DS_LEAKS], &r->has[DS_LEAKS]);
	err = err ?: add_nested(l, s, "pipe_holds", "outstanding_refs", DS_LEAKS);
	err = err ?: add_nested(l, s, "skb_holds", "outstanding_refs", DS_LEAKS);
	return err;
}

static int load_migration(struct reader *l, json_object *s)
{
	struct diff_run *r = l->r;
	json_object *m, *f;
	int err = get_typed(l, s, "", "migration", json_type_object, &m);

	if (err || !m)
		return err;
	err = get_u64(l, m, "migration.", "failures_total", &r->val[DS_MIGRATE_FAIL],
		      &r->has[DS_MIGRATE_FAIL]);
	err = err ?: get_typed(l, m, "migration.", "failures", json_type_array, &f);
	if (!err && f && !r->has[DS_MIGRATE_FAIL]) {
		r->val[DS_MIGRATE_FAIL] = json_object_array_length(f);
		r->has[DS_MIGRATE_FAIL] = true;
	}
	return err ?: get_u64(l, m, "migration.", "pin_failures", &r->val[DS_PIN_FAIL],
			      &r->has[DS_PIN_FAIL]);
}

static int read_summary(struct reader *l, json_object *s)
{
	struct diff_run *r = l->r;
	int err;

	err = load_pins(l, s);
	err = err ?: load_list(l, s, "by_api", false, &r->apis, &r->napis, &r->has_apis);
	err = err ?: load_list(l, s, "by_stack", true, &r->stacks, &r->nstacks, &r->has_stacks);
	err = err ?: get_u64(l, s, "", "by_stack_omitted", &r->stacks_omitted, NULL);
	err = err ?: load_hists(l, s);
	err = err ?: load_holders(l, s);
	err = err ?: load_migration(l, s);
	err = err ?: add_nested(l, s, "loss", "total", DS_LOST);
	if (err)
		return err;
	for (size_t i = 0; i < r->napis; i++)
		r->val[DS_LONGTERM] = sat_add(r->val[DS_LONGTERM], r->apis[i].longterm_pin_refs);
	r->has[DS_LONGTERM] = r->has_apis;
	return 0;
}

int diff_run_from_summary(json_object *summary, struct diff_run *r, char *err, size_t errlen)
{
	struct reader rd = { .r = r, .err = err, .errlen = errlen };

	return read_summary(&rd, summary);
}

void diff_run_free(struct diff_run *r)
{
	for (size_t i = 0; i < r->napis; i++)
		counts_free(&r->apis[i]);
	for (size_t i = 0; i < r->nstacks; i++)
		counts_free(&r->stacks[i]);
	for (size_t i = 0; i < r->nholders; i++) {
		free(r->holders[i].key);
		free(r->holders[i].label);
	}
	for (int c = 0; c < DIFF_CLASSES; c++)
		free(r->hold[c]);
	free(r->apis);
	free(r->stacks);
	free(r->holders);
	memset(r->val, 0, sizeof(r->val));
	memset(r->has, 0, sizeof(r->has));
	r->apis = r->stacks = NULL;
	r->holders = NULL;
	r->napis = r->nstacks = r->nholders = 0;
	for (int c = 0; c < DIFF_CLASSES; c++) {
		r->hold[c] = NULL;
		r->nhold[c] = 0;
	}
}
