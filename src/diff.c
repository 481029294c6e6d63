// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace diff: limits, and the comparison of two runs into items.
 *
 * Every item is one counter of BASE against the same counter of NEW,
 * judged by the limit of its key. Only growth is a regression: fewer pins
 * or shorter holds are improvements. Relative limits (N%, Nx) skip
 * counters below --min-count in both runs (3 -> 4 pins is +33%, and noise);
 * absolute limits never do, so `leaks=0` catches a single leaked pin. A
 * counter one run lacks (an older pintrace, no migration hooks) is shown
 * and not judged.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"

static const char *const key_names[DK__MAX] = {
	[DK_PINS] = "pins",
	[DK_LONGTERM] = "longterm",
	[DK_API] = "api",
	[DK_STACK] = "stack",
	[DK_NEW_APIS] = "new-apis",
	[DK_NEW_STACKS] = "new-stacks",
	[DK_HOLD_P50] = "hold-p50",
	[DK_HOLD_P99] = "hold-p99",
	[DK_HELD_LONG] = "held-long",
	[DK_LEAKS] = "leaks",
	[DK_NEW_LEAKS] = "new-leaks",
	[DK_MIGRATE_FAIL] = "migrate-fail",
	[DK_LOST] = "lost",
};

const char *diff_key_name(enum diff_key k)
{
	return (unsigned int)k < DK__MAX ? key_names[k] : "?";
}

int diff_key_parse(const char *s)
{
	for (int k = 0; k < DK__MAX; k++)
		if (!strcmp(s, key_names[k]))
			return k;
	return -1;
}

void diff_limits_default(struct diff_limits *l)
{
	/* documented in diff_cli.c's help: keep the two in step */
	static const struct diff_limit def[DK__MAX] = {
		[DK_PINS] = { LIM_PCT, 10 },
		[DK_LONGTERM] = { LIM_ABS, 0 },
		[DK_API] = { LIM_PCT, 20 },
		[DK_STACK] = { LIM_PCT, 20 },
		[DK_NEW_APIS] = { LIM_ABS, 0 },
		[DK_NEW_STACKS] = { LIM_ABS, 0 },
		/* log2 buckets: 2x lets the percentile move up one bucket */
		[DK_HOLD_P50] = { LIM_FACTOR, 2 },
		[DK_HOLD_P99] = { LIM_FACTOR, 2 },
		[DK_HELD_LONG] = { LIM_ABS, 0 },
		[DK_LEAKS] = { LIM_ABS, 0 },
		[DK_NEW_LEAKS] = { LIM_ABS, 0 },
		[DK_MIGRATE_FAIL] = { LIM_ABS, 0 },
		[DK_LOST] = { LIM_ABS, 0 },
	};

	memcpy(l->l, def, sizeof(def));
	l->min_count = 0;
}

static bool count_key(enum diff_key k)
{
	return k == DK_NEW_APIS || k == DK_NEW_STACKS || k == DK_NEW_LEAKS;
}

static bool hold_key(enum diff_key k)
{
	return k == DK_HOLD_P50 || k == DK_HOLD_P99;
}

/* "20%", "2x", "5", "off"; digits and one '.', nothing else (no "inf", no hex). */
static int parse_value(const char *v, struct diff_limit *out)
{
	size_t n = strspn(v, "0123456789.");
	const char *dot = strchr(v, '.');
	char *end;

	if (!strcmp(v, "off")) {
		*out = (struct diff_limit){ LIM_OFF, 0 };
		return 0;
	}
	if (!n || !isdigit((unsigned char)v[0]) || (dot && (dot >= v + n || strchr(dot + 1, '.'))))
		return -EINVAL;
	out->v = strtod(v, &end);
	if (end != v + n || !isfinite(out->v))
		return -EINVAL;
	if (!strcmp(end, "%"))
		out->kind = LIM_PCT;
	else if (!strcmp(end, "x"))
		out->kind = LIM_FACTOR;
	else if (!*end)
		out->kind = LIM_ABS;
	else
		return -EINVAL;
	return 0;
}

static int parse_one(char *tok, struct diff_limits *l, char *err, size_t errlen)
{
	char *eq = strchr(tok, '=');
	struct diff_limit v;
	int k;

	if (!eq) {
		snprintf(err, errlen, "invalid --threshold '%s' (KEY=VALUE)", tok);
		return -EINVAL;
	}
	*eq = '\0';
	k = diff_key_parse(tok);
	if (k < 0) {
		snprintf(err, errlen, "unknown --threshold key '%s' (pins, longterm, api, stack, "
			 "new-apis, new-stacks, hold-p50, hold-p99, held-long, leaks, new-leaks, "
			 "migrate-fail, lost)", tok);
		return -EINVAL;
	}
	if (parse_value(eq + 1, &v)) {
		snprintf(err, errlen, "invalid --threshold value '%s' for %s (N%%, Nx, N or off)",
			 eq + 1, tok);
		return -EINVAL;
	}
	if (count_key(k) && v.kind != LIM_ABS && v.kind != LIM_OFF) {
		snprintf(err, errlen, "--threshold %s takes a count of new entries (e.g. %s=0)",
			 tok, tok);
		return -EINVAL;
	}
	if (hold_key(k) && v.kind == LIM_ABS) {
		snprintf(err, errlen, "--threshold %s takes a factor or a percentage (e.g. %s=2x)",
			 tok, tok);
		return -EINVAL;
	}
	if (v.kind == LIM_FACTOR && v.v < 1) {
		snprintf(err, errlen, "--threshold %s: a factor below 1x fails unchanged runs", tok);
		return -EINVAL;
	}
	l->l[k] = v;
	return 0;
}

int diff_limits_parse(const char *spec, struct diff_limits *l, char *err, size_t errlen)
{
	char *buf = strdup(spec), *save = NULL, *tok;
	int ret = 0;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!*spec || spec[strlen(spec) - 1] == ',' || spec[0] == ',' || strstr(spec, ",,")) {
		snprintf(err, errlen, "invalid --threshold '%s' (KEY=VALUE[,KEY=VALUE...])", spec);
		ret = -EINVAL;
	}
	for (tok = strtok_r(buf, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = parse_one(tok, l, err, errlen);
	free(buf);
	return ret;
}

const char *diff_limit_str(const struct diff_limit *l, char *buf, size_t len)
{
	switch (l->kind) {
	case LIM_ABS:
		snprintf(buf, len, "+%g", l->v);
		break;
	case LIM_PCT:
		snprintf(buf, len, "+%g%%", l->v);
		break;
	case LIM_FACTOR:
		snprintf(buf, len, "%gx", l->v);
		break;
	default:
		snprintf(buf, len, "off");
	}
	return buf;
}

/* ---- judging ---------------------------------------------------------------- */

static enum diff_verdict judge(const struct diff_limits *ls, enum diff_key k, __u64 base,
			       __u64 new)
{
	const struct diff_limit *l = &ls->l[k];
	long double b = base;

	if (l->kind == LIM_OFF)
		return DV_INFO;
	if (new <= base)
		return DV_OK;
	if (l->kind == LIM_ABS)
		return (long double)(new - base) > l->v ? DV_REGRESSION : DV_OK;
	if (base < ls->min_count && new < ls->min_count)
		return DV_IGNORED;
	if (hold_key(k) && !base)
		b = 1;	/* bucket [0, 1]: its lower bound would make any growth infinite */
	b *= l->kind == LIM_PCT ? 1 + l->v / 100 : l->v;
	return (long double)new > b ? DV_REGRESSION : DV_OK;
}

static struct diff_item *item_add(struct diff_result *res, enum diff_key k, const char *metric)
{
	struct diff_item *it;

	if (res->n == res->cap) {
		size_t cap = res->cap ? 2 * res->cap : 32;
		struct diff_item *v = realloc(res->items, cap * sizeof(*v));

		if (!v)
			return NULL;
		res->items = v;
		res->cap = cap;
	}
	it = &res->items[res->n++];
	memset(it, 0, sizeof(*it));
	it->key = k;
	snprintf(it->metric, sizeof(it->metric), "%s", metric);
	return it;
}

/* A counter both runs may carry. */
static int compare_val(struct diff_result *res, const struct diff_limits *l, enum diff_key k,
		       const char *metric, bool hb, __u64 b, bool hn, __u64 n)
{
	struct diff_item *it;

	if (!hb && !hn)
		return 0;
	it = item_add(res, k, metric);
	if (!it)
		return -ENOMEM;
	it->has_base = hb;
	it->has_new = hn;
	it->base = b;
	it->new = n;
	if (hb && hn) {
		it->verdict = judge(l, k, b, n);
	} else {
		it->verdict = DV_INFO;
		it->note = hb ? "not in NEW" : "not in BASE";
	}
	return 0;
}

static int compare_scalars(struct diff_result *res, const struct diff_limits *l,
			   const struct diff_run *b, const struct diff_run *n)
{
	static const struct {
		enum diff_scalar ds;
		enum diff_key k;
		const char *metric;
	} rows[] = {
		{ DS_PINS, DK_PINS, "pins" },
		{ DS_LONGTERM, DK_LONGTERM, "long-term pins" },
		{ DS_LONGTERM_UNPINS, DK_LONGTERM, "long-term unpins" },
		{ DS_HELD_LONG, DK_HELD_LONG, "held-long pins" },
		{ DS_LEAKS, DK_LEAKS, "left at exit" },
		{ DS_MIGRATE_FAIL, DK_MIGRATE_FAIL, "migration failures" },
		{ DS_PIN_FAIL, DK_MIGRATE_FAIL, "long-term pin failures" },
		{ DS_LOST, DK_LOST, "lost events" },
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && !err; i++)
		err = compare_val(res, l, rows[i].k, rows[i].metric, b->has[rows[i].ds],
				  b->val[rows[i].ds], n->has[rows[i].ds], n->val[rows[i].ds]);
	return err;
}

/* "by_stack: not compared" when one run lacks a list. */
static int not_compared(struct diff_result *res, enum diff_key k, const char *metric, bool hb,
			bool hn)
{
	struct diff_item *it;

	if (hb == hn)
		return 0;
	it = item_add(res, k, metric);
	if (!it)
		return -ENOMEM;
	it->verdict = DV_INFO;
	it->note = hb ? "not in NEW: not compared" : "not in BASE: not compared";
	return 0;
}

/*
 * One row present in BASE (@b, may be NULL) and/or NEW (@n, may be NULL).
 * @cut: BASE lists only its top rows and this NEW row would rank below
 * them, so "new" cannot be told from "not listed".
 */
static int compare_row(struct diff_result *res, const struct diff_limits *l, bool stack,
		       const struct diff_counts *b, const struct diff_counts *n, bool cut)
{
	enum diff_key k = stack ? DK_STACK : DK_API, knew = stack ? DK_NEW_STACKS : DK_NEW_APIS;
	__u64 bp = b ? b->pin_refs : 0, np = n ? n->pin_refs : 0;
	__u64 floor = l->min_count > 1 ? l->min_count : 1;
	struct diff_item *it;

	if (bp || np) {
		it = item_add(res, bp ? k : knew, stack ? "stack pins" : "API pins");
		if (!it)
			return -ENOMEM;
		it->counts = n ? n : b;
		it->has_base = it->has_new = true;
		it->base = bp;
		it->new = np;
		if (!np) {
			it->verdict = DV_INFO;
			it->note = "gone";
		} else if (bp) {
			it->verdict = judge(l, k, bp, np);
		} else if (cut) {
			it->verdict = DV_INFO;
			it->note = "not in BASE's top stacks";
		} else {
			/* DV_OK for now: diff_compare counts them against the limit */
			it->verdict = np >= floor ? DV_OK : DV_IGNORED;
			it->note = stack ? "new stack" : "new API";
		}
	}
	/* long-term pins per API: the stack rows would only repeat them */
	if (stack || !((b && b->longterm_pin_refs) || (n && n->longterm_pin_refs)))
		return 0;
	it = item_add(res, DK_LONGTERM, "API long-term pins");
	if (!it)
		return -ENOMEM;
	it->counts = n ? n : b;
	it->has_base = it->has_new = true;
	it->base = b ? b->longterm_pin_refs : 0;
	it->new = n ? n->longterm_pin_refs : 0;
	it->verdict = judge(l, DK_LONGTERM, it->base, it->new);
	return 0;
}

/* Merge-join of two key-sorted lists. */
static int compare_rows(struct diff_result *res, const struct diff_limits *l, bool stack,
			const struct diff_run *br, const struct diff_run *nr)
{
	const struct diff_counts *b = stack ? br->stacks : br->apis, *n = stack ? nr->stacks : nr->apis;
	size_t nb = stack ? br->nstacks : br->napis, nn = stack ? nr->nstacks : nr->napis;
	__u64 base_min = UINT64_MAX;
	size_t i = 0, j = 0;
	int err = 0;

	for (size_t x = 0; x < nb; x++)
		if (b[x].pin_refs < base_min)
			base_min = b[x].pin_refs;
	while (!err && (i < nb || j < nn)) {
		int c = i == nb ? 1 : j == nn ? -1 : strcmp(b[i].key, n[j].key);
		bool cut;

		if (c < 0) {
			err = compare_row(res, l, stack, &b[i++], NULL, false);
		} else if (c > 0) {
			cut = stack && br->stacks_omitted && n[j].pin_refs <= base_min;
			err = compare_row(res, l, stack, NULL, &n[j++], cut);
		} else {
			err = compare_row(res, l, stack, &b[i++], &n[j++], false);
		}
	}
	return err;
}

/* Lower bound of the bucket holding quantile @q (0..1); false when empty. */
static bool percentile(const struct diff_bucket *v, size_t n, double q, __u64 *lo)
{
	__u64 total = 0, acc = 0, need;
	long double want;

	for (size_t i = 0; i < n; i++)
		total = total + v[i].count < total ? UINT64_MAX : total + v[i].count;
	if (!total)
		return false;
	want = ceill((long double)total * q);
	need = want < 1 ? 1 : want >= (long double)total ? total : (__u64)want;
	for (size_t i = 0; i < n; i++) {
		acc = acc + v[i].count < acc ? UINT64_MAX : acc + v[i].count;
		if (acc >= need) {
			*lo = v[i].min;
			return true;
		}
	}
	*lo = v[n - 1].min;
	return true;
}

static int compare_holds(struct diff_result *res, const struct diff_limits *l,
			 const struct diff_run *b, const struct diff_run *n)
{
	static const char *const cls[DIFF_CLASSES] = { "short", "held-long", "longterm" };
	static const struct { enum diff_key k; double q; const char *name; } pct[] = {
		{ DK_HOLD_P50, 0.5, "hold p50" }, { DK_HOLD_P99, 0.99, "hold p99" },
	};

	if (!b->has_hold || !n->has_hold)
		return not_compared(res, DK_HOLD_P99, "hold times", b->has_hold, n->has_hold);
	for (int c = 0; c < DIFF_CLASSES; c++) {
		for (size_t p = 0; p < 2; p++) {
			__u64 bv = 0, nv = 0;
			bool hb = percentile(b->hold[c], b->nhold[c], pct[p].q, &bv);
			bool hn = percentile(n->hold[c], n->nhold[c], pct[p].q, &nv);
			struct diff_item *it;

			if (!hb && !hn)
				continue;
			if (compare_val(res, l, pct[p].k, pct[p].name, hb, bv, hn, nv))
				return -ENOMEM;
			it = &res->items[res->n - 1];
			it->cls = cls[c];
			if (it->note)
				it->note = hb ? "no samples in NEW" : "no samples in BASE";
		}
	}
	return 0;
}

/* Leak holders of NEW that BASE did not have. */
static int compare_holders(struct diff_result *res, const struct diff_limits *l,
			   const struct diff_run *b, const struct diff_run *n)
{
	__u64 floor = l->min_count > 1 ? l->min_count : 1;
	size_t i = 0;

	if (!b->has_holders || !n->has_holders)
		return not_compared(res, DK_NEW_LEAKS, "leak holders", b->has_holders,
				    n->has_holders);
	for (size_t j = 0; j < n->nholders; j++) {
		const struct diff_holder *h = &n->holders[j];
		struct diff_item *it;
		int c = 1;

		while (i < b->nholders && (c = strcmp(b->holders[i].key, h->key)) < 0)
			i++;
		if (i < b->nholders && !c)
			continue;
		if (!h->refs)
			continue;
		it = item_add(res, DK_NEW_LEAKS, "new leak holder");
		if (!it)
			return -ENOMEM;
		it->holder = h;
		it->has_base = it->has_new = true;
		it->new = h->refs;
		it->verdict = h->refs >= floor ? DV_OK : DV_IGNORED;
		it->note = "new holder";
	}
	return 0;
}

/* new-apis, new-stacks, new-leaks: the count of new entries against the limit. */
static void judge_new(struct diff_result *res, const struct diff_limits *l)
{
	for (int k = 0; k < DK__MAX; k++) {
		size_t count = 0;

		if (!count_key(k))
			continue;
		for (size_t i = 0; i < res->n; i++)
			count += res->items[i].key == (enum diff_key)k &&
				 res->items[i].verdict == DV_OK;
		for (size_t i = 0; i < res->n; i++) {
			struct diff_item *it = &res->items[i];

			if (it->key != (enum diff_key)k || it->verdict != DV_OK)
				continue;
			if (l->l[k].kind == LIM_OFF)
				it->verdict = DV_INFO;
			else if ((long double)count > l->l[k].v)
				it->verdict = DV_REGRESSION;
		}
	}
}

int diff_compare(const struct diff_run *base, const struct diff_run *new,
		 const struct diff_limits *l, struct diff_result *res)
{
	int err;

	memset(res, 0, sizeof(*res));
	err = compare_scalars(res, l, base, new);
	err = err ?: not_compared(res, DK_API, "by_api", base->has_apis, new->has_apis);
	err = err ?: (base->has_apis && new->has_apis ? compare_rows(res, l, false, base, new) : 0);
	err = err ?: not_compared(res, DK_STACK, "by_stack", base->has_stacks, new->has_stacks);
	err = err ?: (base->has_stacks && new->has_stacks ? compare_rows(res, l, true, base, new) : 0);
	err = err ?: compare_holds(res, l, base, new);
	err = err ?: compare_holders(res, l, base, new);
	if (err) {
		diff_result_free(res);
		return err;
	}
	judge_new(res, l);
	for (size_t i = 0; i < res->n; i++)
		res->regressions += res->items[i].verdict == DV_REGRESSION;
	return 0;
}

void diff_result_free(struct diff_result *res)
{
	free(res->items);
	memset(res, 0, sizeof(*res));
}
