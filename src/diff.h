/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_DIFF_H
#define PT_DIFF_H

/*
 * pintrace diff BASE NEW: compare the exit summaries of two runs (CI
 * regression gate). diff_load.c finds the summary in a run's NDJSON output
 * (or takes a bare summary object), diff_summary.c reads it into a struct
 * diff_run, diff.c compares two of them under per-metric limits,
 * diff_cli.c is the command: options and output.
 * Strings in a diff_run are sanitized on load: safe for a terminal.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>

/* What a limit applies to: the KEY of --threshold KEY=VALUE. */
enum diff_key {
	DK_PINS,		/* pins taken (pins.acquired_refs) */
	DK_LONGTERM,		/* long-term pins, total and per API */
	DK_API,			/* pins per API */
	DK_STACK,		/* pins per (API, stack) */
	DK_NEW_APIS,		/* APIs that pin in NEW only: how many may appear */
	DK_NEW_STACKS,		/* stacks that pin in NEW only */
	DK_HOLD_P50,		/* median hold time per class (log2 bucket) */
	DK_HOLD_P99,		/* 99th percentile hold time per class */
	DK_HELD_LONG,		/* short-term pins held past --min-hold */
	DK_LEAKS,		/* pins, pipe and skb holds left at exit */
	DK_NEW_LEAKS,		/* leak holders in NEW only */
	DK_MIGRATE_FAIL,	/* migration and long-term pin failures */
	DK_LOST,		/* lost events (loss.total) */
	DK__MAX,
};

enum diff_limit_kind {
	LIM_OFF,		/* not judged */
	LIM_ABS,		/* new may exceed base by v */
	LIM_PCT,		/* new may exceed base by v percent */
	LIM_FACTOR,		/* new may be v times base */
};

struct diff_limit {
	enum diff_limit_kind kind;
	double v;
};

struct diff_limits {
	struct diff_limit l[DK__MAX];
	__u64 min_count;	/* relative limits and new-* skip counters below this */
};

/* The summary's hold_hist_ns classes, in pintable's order. */
#define DIFF_CLASSES 3

/* Pins of one API, or of one (API, stack). */
struct diff_counts {
	char *key;		/* what matches across runs: API [US frame...] */
	char *api;
	char *label;		/* "api: caller <- caller <- caller" */
	char **frames;		/* stable frames (frame_stable), innermost first */
	size_t nframes;
	char *frames_str;	/* the same joined by " <- " */
	__u64 pin_grabs, pin_refs, longterm_pin_refs;
};

struct diff_bucket {
	__u64 min, max, count;
};

/* One leak holder of the summary: a pipe, a socket, or pins of an API. */
struct diff_holder {
	char *key;		/* kind + stable stack (or comm), or "pin" + API */
	char *label;
	__u64 refs;
};

/* Counters of a run; has[] says which the summary carried. */
enum diff_scalar {
	DS_PINS,		/* pins.acquired_refs */
	DS_LONGTERM,		/* sum of by_api[].longterm_pin_refs */
	DS_LONGTERM_UNPINS,	/* pins.longterm: long-term pins released */
	DS_HELD_LONG,		/* pins.held_long_reported (else pins.held_long) */
	DS_LEAKS,		/* pins.outstanding_refs + pipe_holds/skb_holds.outstanding_refs */
	DS_MIGRATE_FAIL,	/* migration.failures_total (else the failures listed) */
	DS_PIN_FAIL,		/* migration.pin_failures */
	DS_LOST,		/* loss.total */
	DS__MAX,
};

struct diff_run {
	char name[256];		/* the file, for messages */
	__u64 val[DS__MAX];
	bool has[DS__MAX];
	struct diff_counts *apis;
	size_t napis;
	bool has_apis;
	struct diff_counts *stacks;
	size_t nstacks;
	bool has_stacks;
	__u64 stacks_omitted;	/* by_stack_omitted: BASE's list is a top N */
	struct diff_bucket *hold[DIFF_CLASSES];	/* sorted by min */
	size_t nhold[DIFF_CLASSES];
	bool has_hold;
	struct diff_holder *holders;
	size_t nholders;
	bool has_holders;
};

/*
 * Read a run from @buf (@len bytes): NDJSON as `pintrace -o json` writes
 * it (the last "summary" record counts; an "attach" record's
 * schema_version must be one this pintrace reads), or one summary object.
 * @name names the input in messages. Returns 0, or -EINVAL / -ENOMEM with
 * a message in @err; @r is empty then. Never trusts the input.
 */
int diff_load_mem(const char *buf, size_t len, const char *name, struct diff_run *r,
		  char *err, size_t errlen);
/* The same from a file, read in chunks (an NDJSON event stream can be large). */
int diff_load_file(const char *path, struct diff_run *r, char *err, size_t errlen);
/*
 * A summary object into @r (its name set by the caller; the rest is
 * filled): 0, or -EINVAL / -ENOMEM with a message in @err, @r then holding
 * what was read so far, for diff_run_free().
 */
int diff_run_from_summary(json_object *summary, struct diff_run *r, char *err, size_t errlen);
void diff_run_free(struct diff_run *r);

enum diff_verdict {
	DV_OK,
	DV_REGRESSION,
	DV_IGNORED,		/* below --min-count */
	DV_INFO,		/* shown, not judged: gone, not comparable */
};

struct diff_item {
	enum diff_key key;
	char metric[48];
	const struct diff_counts *counts;	/* API or stack rows (in NEW, else BASE) */
	const struct diff_holder *holder;	/* new-leaks items (in NEW) */
	const char *cls;			/* hold items: the class */
	bool has_base, has_new;
	__u64 base, new;			/* hold items: bucket lower bound, ns */
	enum diff_verdict verdict;
	const char *note;			/* "new stack", "gone", ... or NULL */
};

struct diff_result {
	struct diff_item *items;	/* they point into both runs: free runs after */
	size_t n, cap;
	size_t regressions;
};

/* "pins", "hold-p99", ...; and back (-1 when unknown). */
const char *diff_key_name(enum diff_key k);
int diff_key_parse(const char *s);
void diff_limits_default(struct diff_limits *l);
/*
 * Apply "KEY=VALUE[,KEY=VALUE...]": VALUE is N% (relative), Nx (factor),
 * N (absolute count) or "off". -EINVAL with a message for an unknown key,
 * a bad value, or a form the key does not take.
 */
int diff_limits_parse(const char *spec, struct diff_limits *l, char *err, size_t errlen);
/* "+10%", "2x", "+0", "off" */
const char *diff_limit_str(const struct diff_limit *l, char *buf, size_t len);

/* Compare; 0 or -ENOMEM. */
int diff_compare(const struct diff_run *base, const struct diff_run *new,
		 const struct diff_limits *l, struct diff_result *res);
void diff_result_free(struct diff_result *res);

/* Rendering (diff_cli.c). */
void diff_print_text(FILE *f, const struct diff_result *res, const struct diff_limits *l,
		     const char *base, const char *new);
/* {"type":"diff","regressions":N,"items":[...]}: include/pintrace-ndjson.schema.json */
json_object *diff_json(const struct diff_result *res, const struct diff_limits *l);

struct diff_opts {
	bool json;			/* -o json */
	struct diff_limits lim;		/* --threshold, --min-count */
	const char *base, *new;
};

/*
 * Parse `diff [OPTIONS] BASE NEW` (argv[0] is "diff"). 0 to go on, 1 when
 * --help was printed, -EINVAL with a message in @err (a usage error).
 */
int diff_opts_parse(int argc, char **argv, struct diff_opts *o, char *err, size_t errlen);
/* `pintrace diff ...` with argv[0] == "diff": the process exit code. */
int diff_main(int argc, char **argv);

#endif
