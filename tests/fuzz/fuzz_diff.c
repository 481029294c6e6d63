// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness of `pintrace diff`'s input side: the bytes are a BASE
 * or NEW file. Each input is loaded with diff_load_mem() (what
 * diff_load_file() feeds), then, when it loads, compared with itself and
 * with a fixed run both ways and rendered as text and JSON.
 *
 * Oracles besides the sanitizers: a refused input always says why, and a
 * run compared with itself never regresses.
 *
 *   make fuzz && build/fuzz/fuzz_diff tests/fuzz/corpus/diff/FILE...  # replay
 *   make fuzz-run                                               # explore
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"

static const char fixed[] =
	"{\"type\":\"attach\",\"schema_version\":1}\n"
	"{\"type\":\"summary\",\"pins\":{\"acquired_refs\":4864,\"longterm\":256,"
	"\"held_long_reported\":1,\"outstanding_refs\":2},"
	"\"by_api\":[{\"api\":\"pin_user_pages_fast\",\"pin_refs\":4352,\"longterm_pin_refs\":256},"
	"{\"api\":\"pin_user_pages_remote\",\"pin_refs\":512,\"longterm_pin_refs\":0}],"
	"\"by_stack\":[{\"api\":\"pin_user_pages_fast\",\"stack\":[\"try_grab_folio_fast+0x5\","
	"\"pin_user_pages_fast+0x2f\",\"iov_iter_extract_pages+0x11e\"],\"pin_grabs\":1024,"
	"\"pin_refs\":4096,\"longterm_pin_refs\":0}],\"by_stack_omitted\":2,"
	"\"hold_hist_ns\":{\"short\":[{\"min\":2048,\"max\":4095,\"count\":345},"
	"{\"min\":32768,\"max\":65535,\"count\":548}],\"held-long\":[],"
	"\"longterm\":[{\"min\":33554432,\"max\":67108863,\"count\":256}]},"
	"\"outstanding\":[{\"api\":\"pin_user_pages\",\"refs\":2,\"longterm\":true}],"
	"\"leaks\":{\"holders\":[{\"kind\":\"pipe\",\"refs\":4,\"comm\":\"pinload\","
	"\"stack\":[\"__x64_sys_vmsplice+0x9\"]}]},\"migration\":{\"failures\":[],"
	"\"failures_total\":0,\"pin_failures\":0},\"loss\":{\"total\":0}}\n";

/* Harness state, set up once: the fixed run and where rendering goes. */
static struct diff_run ref;
static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	sink = fopen("/dev/null", "w");
	if (!sink || diff_load_mem(fixed, sizeof(fixed) - 1, "fixed", &ref, err, sizeof(err))) {
		fprintf(stderr, "fuzz_diff: setup: %s\n", err);
		abort();
	}
	return 0;
}

static void compare(const struct diff_run *b, const struct diff_run *n,
		    const struct diff_limits *l, bool self)
{
	struct diff_result res;
	json_object *j;

	if (diff_compare(b, n, l, &res))
		return;		/* -ENOMEM */
	if (self && res.regressions) {
		fprintf(stderr, "fuzz_diff: a run regressed against itself\n");
		abort();
	}
	diff_print_text(sink, &res, l, "base", "new");
	j = diff_json(&res, l);
	fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), sink);
	json_object_put(j);
	diff_result_free(&res);
}

/* Short inputs are also tried as a --threshold spec. */
static void limits(const uint8_t *data, size_t size, struct diff_limits *l)
{
	char spec[128], err[256];

	diff_limits_default(l);
	if (!size || size >= sizeof(spec) || memchr(data, '\0', size))
		return;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (diff_limits_parse(spec, l, err, sizeof(err)) && !err[0])
		abort();
	diff_limits_default(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_limits l;
	struct diff_run r;
	char err[512];

	limits(data, size, &l);
	err[0] = '\0';
	if (diff_load_mem((const char *)data, size, "fuzz", &r, err, sizeof(err))) {
		if (strncmp(err, "fuzz: ", 6) || !err[6]) {
			fprintf(stderr, "fuzz_diff: refused without a reason: '%s'\n", err);
			abort();
		}
		return 0;
	}
	/* --min-count from the input: the noise filter's branches too */
	l.min_count = size % 7;
	compare(&r, &r, &l, true);
	compare(&ref, &r, &l, false);
	compare(&r, &ref, &l, false);
	diff_run_free(&r);
	return 0;
}
