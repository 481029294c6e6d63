// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `pintrace diff`: options, the text table and the JSON object. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "util.h"

static const char usage[] =
"Usage: pintrace diff [OPTIONS] BASE NEW\n"
"\n"
"Compares the exit summaries of two runs and exits 3 when NEW regressed.\n"
"BASE and NEW hold the output of `pintrace run -o json` (NDJSON: the last\n"
"\"summary\" record counts) or just a summary object. No root needed.\n"
"\n"
"Options:\n"
"  -o, --output FMT           text table (default) or json (one object)\n"
"  -t, --threshold K=V[,K=V]  limit per metric (repeatable); V is N% (relative),\n"
"                             Nx (factor), N (absolute count) or off\n"
"      --min-count N          relative limits and new-* entries ignore counters\n"
"                             below N in both runs [0]\n"
"  -h, --help                 this help\n"
"\n"
"Limits: only growth counts; defaults in brackets.\n"
"  pins          pins taken (pins.acquired_refs)                          [10%]\n"
"  longterm      long-term pins taken (in total, per API) and released     [0]\n"
"  api           pins per API (by_api)                                    [20%]\n"
"  stack         pins per API and kernel stack (by_stack)                 [20%]\n"
"  new-apis      APIs that pin in NEW only: how many may appear            [0]\n"
"  new-stacks    stacks that pin in NEW only: how many may appear          [0]\n"
"  hold-p50      median hold time per class (short, held-long, longterm)  [2x]\n"
"  hold-p99      99th percentile hold time per class                      [2x]\n"
"  held-long     short-term pins held past --min-hold                      [0]\n"
"  leaks         pins, pipe and socket holds left at exit                  [0]\n"
"  new-leaks     leak holders (kind and stack, or API) in NEW only         [0]\n"
"  migrate-fail  migration failures and failed long-term pins              [0]\n"
"  lost          lost events (loss.total)                                  [0]\n"
"Stacks match by function names: offsets and compiler clone suffixes are\n"
"dropped, so a rebuilt kernel still matches. Hold times are log2 buckets; a\n"
"percentile is its bucket's lower bound, so 2x lets it move up one bucket.\n"
"A stack NEW has that BASE's top-64 list may have left out is not \"new\".\n"
"\n"
"Exit codes: 0 no regression, 3 regression, 2 usage error, 1 unreadable or\n"
"invalid input (the file and the problem are named).\n"
"\n"
"Example:\n"
"  pintrace diff -t pins=5%,hold-p99=off --min-count 16 base.ndjson new.ndjson\n";

enum { OPT_MIN_COUNT = 256 };

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "threshold", required_argument, NULL, 't' },
	{ "min-count", required_argument, NULL, OPT_MIN_COUNT },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int parse_one(int c, const char *arg, struct diff_opts *o, char *err, size_t len)
{
	char *end;
	unsigned long long v;

	switch (c) {
	case 'o':
		if (strcmp(arg, "text") && strcmp(arg, "json")) {
			snprintf(err, len, "invalid --output '%s' (text, json)", arg);
			return -EINVAL;
		}
		o->json = !strcmp(arg, "json");
		return 0;
	case 't':
		return diff_limits_parse(arg, &o->lim, err, len) ? -EINVAL : 0;
	case OPT_MIN_COUNT:
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || *end || end == arg || arg[0] == '-') {
			snprintf(err, len, "invalid --min-count '%s' (a count >= 0)", arg);
			return -EINVAL;
		}
		o->lim.min_count = v;
		return 0;
	default:
		snprintf(err, len, "unknown option (see pintrace diff --help)");
		return -EINVAL;
	}
}

int diff_opts_parse(int argc, char **argv, struct diff_opts *o, char *err, size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	diff_limits_default(&o->lim);
	err[0] = '\0';
	optind = 0;	/* glibc: reinitialise, parsing may happen twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:t:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			if (optopt)
				snprintf(err, errlen, "option -%c: missing argument or unknown", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
		if (parse_one(c, optarg, o, err, errlen))
			return -EINVAL;
	}
	if (argc - optind != 2) {
		snprintf(err, errlen, "%s", argc - optind < 2 ?
			 "needs two files: pintrace diff [OPTIONS] BASE NEW" :
			 "too many arguments: pintrace diff [OPTIONS] BASE NEW");
		return -EINVAL;
	}
	o->base = argv[optind];
	o->new = argv[optind + 1];
	return 0;
}

/* ---- rendering ---------------------------------------------------------------- */

static const char *verdict_name(enum diff_verdict v)
{
	switch (v) {
	case DV_OK:		return "ok";
	case DV_REGRESSION:	return "regression";
	case DV_IGNORED:	return "ignored";
	default:		return "-";
	}
}

static bool hold_item(const struct diff_item *it)
{
	return it->key == DK_HOLD_P50 || it->key == DK_HOLD_P99;
}

/* "pins", "stack pins pin_user_pages_fast: io_pin_pages <- ...", "hold p99 short" */
static const char *item_name(const struct diff_item *it, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", it->metric,
		 it->counts || it->holder || it->cls ? " " : "",
		 it->counts ? it->counts->label : it->holder ? it->holder->label :
		 it->cls ? it->cls : "");
	return buf;
}

static const char *value_str(const struct diff_item *it, bool has, __u64 v, char *buf, size_t len)
{
	if (!has)
		return "-";
	if (hold_item(it))
		return fmt_duration(v, buf, len);
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* Relative change in percent; false when it has none (missing, or from 0). */
static bool change_pct(const struct diff_item *it, double *pct)
{
	if (!it->has_base || !it->has_new || !it->base)
		return false;
	*pct = ((double)it->new - (double)it->base) * 100.0 / (double)it->base;
	return true;
}

static const char *change_str(const struct diff_item *it, char *buf, size_t len)
{
	double pct;

	if (!it->has_base || !it->has_new)
		return "-";
	if (hold_item(it)) {
		snprintf(buf, len, "%.1fx", (double)(it->new ? it->new : 1) /
			 (double)(it->base ? it->base : 1));
		return buf;
	}
	if (it->new == it->base)
		return "0";
	if (!change_pct(it, &pct))
		return "new";
	snprintf(buf, len, "%+.1f%%", pct);
	return buf;
}

/* Unchanged API and stack rows: the JSON lists them, the table need not. */
static bool boring(const struct diff_item *it)
{
	return it->counts && it->verdict == DV_OK && it->base == it->new;
}

void diff_print_text(FILE *f, const struct diff_result *res, const struct diff_limits *l,
		     const char *base, const char *new)
{
	char name[512], b[32], n[32], c[32], lim[32];
	size_t hidden = 0;

	fprintf(f, "pintrace diff: BASE %s, NEW %s\n", base, new);
	fprintf(f, "%-44s %10s %10s %9s %7s  %s\n", "METRIC", "BASE", "NEW", "CHANGE", "LIMIT",
		"VERDICT");
	for (size_t i = 0; i < res->n; i++) {
		const struct diff_item *it = &res->items[i];

		if (boring(it)) {
			hidden++;
			continue;
		}
		item_name(it, name, sizeof(name));
		/* a long stack gets a line of its own, the numbers stay in their columns */
		if (strlen(name) > 44)
			fprintf(f, "%s\n%-44s", name, "");
		else
			fprintf(f, "%-44s", name);
		fprintf(f, " %10s %10s %9s %7s  %s%s%s%s\n",
			value_str(it, it->has_base, it->base, b, sizeof(b)),
			value_str(it, it->has_new, it->new, n, sizeof(n)),
			change_str(it, c, sizeof(c)), diff_limit_str(&l->l[it->key], lim, sizeof(lim)),
			it->verdict == DV_REGRESSION ? "REGRESSION" : verdict_name(it->verdict),
			it->note ? " (" : "", it->note ? it->note : "", it->note ? ")" : "");
	}
	if (hidden)
		fprintf(f, "(%zu unchanged API and stack rows not shown; -o json lists them)\n",
			hidden);
	if (res->regressions)
		fprintf(f, "%zu regression%s\n", res->regressions, res->regressions == 1 ? "" : "s");
	else
		fprintf(f, "no regression\n");
}

static json_object *ju(bool has, __u64 v)
{
	return has ? json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v) : NULL;
}

static json_object *item_json(const struct diff_item *it, const struct diff_limits *l)
{
	json_object *j = json_object_new_object();
	char buf[32];
	double pct;

	json_object_object_add(j, "key", json_object_new_string(diff_key_name(it->key)));
	json_object_object_add(j, "metric", json_object_new_string(it->metric));
	if (it->counts)
		json_object_object_add(j, "api", json_object_new_string(it->counts->api));
	/* item fields are scalars (the schema's diff record): frames as one string */
	if (it->counts && (it->key == DK_STACK || it->key == DK_NEW_STACKS))
		json_object_object_add(j, "stack", json_object_new_string(it->counts->frames_str));
	if (it->holder)
		json_object_object_add(j, "holder", json_object_new_string(it->holder->label));
	if (it->cls) {
		json_object_object_add(j, "class", json_object_new_string(it->cls));
		json_object_object_add(j, "unit", json_object_new_string("ns"));
	}
	json_object_object_add(j, "base", ju(it->has_base, it->base));
	json_object_object_add(j, "new", ju(it->has_new, it->new));
	json_object_object_add(j, "change_pct", change_pct(it, &pct) ?
			       json_object_new_double(pct) : NULL);
	json_object_object_add(j, "limit", json_object_new_string(
		diff_limit_str(&l->l[it->key], buf, sizeof(buf))));
	json_object_object_add(j, "verdict", json_object_new_string(verdict_name(it->verdict)));
	if (it->note)
		json_object_object_add(j, "note", json_object_new_string(it->note));
	return j;
}

json_object *diff_json(const struct diff_result *res, const struct diff_limits *l)
{
	json_object *j = json_object_new_object(), *items = json_object_new_array();

	for (size_t i = 0; i < res->n; i++)
		json_object_array_add(items, item_json(&res->items[i], l));
	json_object_object_add(j, "type", json_object_new_string("diff"));
	json_object_object_add(j, "regressions", json_object_new_int64((int64_t)res->regressions));
	json_object_object_add(j, "items", items);
	return j;
}

/* ---- the command ---------------------------------------------------------------- */

static int load(const char *path, struct diff_run *r)
{
	char err[512];

	if (!diff_load_file(path, r, err, sizeof(err)))
		return 0;
	fprintf(stderr, "pintrace diff: %s\n", err);
	return -1;
}

int diff_main(int argc, char **argv)
{
	struct diff_run base, new;
	struct diff_result res;
	struct diff_opts o;
	char err[512];
	int ret;

	ret = diff_opts_parse(argc, argv, &o, err, sizeof(err));
	if (ret)
		return ret > 0 ? EXIT_OK : (fprintf(stderr, "pintrace diff: %s\n", err), EXIT_USAGE);
	if (load(o.base, &base))
		return EXIT_RUNTIME;
	if (load(o.new, &new)) {
		diff_run_free(&base);
		return EXIT_RUNTIME;
	}
	if (diff_compare(&base, &new, &o.lim, &res)) {
		fprintf(stderr, "pintrace diff: out of memory\n");
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (o.json) {
		json_object *j = diff_json(&res, &o.lim);

		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		diff_print_text(stdout, &res, &o.lim, o.base, o.new);
	}
	ret = res.regressions ? EXIT_FINDINGS : EXIT_OK;
	diff_result_free(&res);
	/* a CI gate must not pass on output it failed to write */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "pintrace diff: writing the output failed: %s\n", strerror(errno));
		ret = EXIT_RUNTIME;
	}
out:
	diff_run_free(&base);
	diff_run_free(&new);
	return ret;
}
