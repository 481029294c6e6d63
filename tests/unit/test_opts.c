// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command-line parsing: defaults, subcommands, validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "opts.h"

static int parse(struct pt_opts *o, char *err, ...)
{
	static char *argv[32];	/* o->argv points into it after we return */
	va_list ap;
	int argc = 0;

	va_start(ap, err);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return opts_parse(argc, argv, o, err, 256);
}

static void test_defaults(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", NULL), 0);
	assert_int_equal(o.cmd, CMD_TRACE);
	assert_int_equal(o.mode, MODE_AUTO);
	assert_int_equal(o.fmt, OUT_TEXT);
	assert_int_equal(o.min_hold_ns, 300000000ULL);
	assert_true(o.refs);
	assert_int_equal(o.pid, 0);
	/* leak report defaults apply to every command */
	assert_int_equal(o.min_age_ns, 1000000000ULL);
	assert_int_equal(o.interval_ns, 10000000000ULL);
}

static void test_run(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "run", "-o", "json", "--backend", "kprobe",
			       "--", "ls", "-l", "--backend", NULL), 0);
	assert_int_equal(o.cmd, CMD_RUN);
	assert_int_equal(o.fmt, OUT_JSON);
	assert_int_equal(o.mode, MODE_KPROBE);
	assert_string_equal(o.argv[0], "ls");
	/* the command's own options are not pintrace's */
	assert_string_equal(o.argv[1], "-l");
	assert_string_equal(o.argv[2], "--backend");
	assert_null(o.argv[3]);
	/* without "--" parsing stops at the command too */
	assert_int_equal(parse(&o, err, "pintrace", "run", "-q", "fio", "-x", NULL), 0);
	assert_string_equal(o.argv[0], "fio");
	assert_true(o.quiet);
}

static void test_filters_and_durations(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "-p", "4121", "-n", "qemu-kvm", "-d", "10s",
			       "--min-hold", "1.5s", "--ringbuf-size", "8M", NULL), 0);
	assert_int_equal(o.pid, 4121);
	assert_string_equal(o.comm, "qemu-kvm");
	assert_int_equal(o.duration_ns, 10000000000ULL);
	assert_int_equal(o.min_hold_ns, 1500000000ULL);
	assert_int_equal(o.ringbuf_bytes, 8u << 20);
}

static void test_errors(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "--backend", "magic", NULL), -EINVAL);
	assert_non_null(strstr(err, "magic"));
	assert_int_equal(parse(&o, err, "pintrace", "-p", "0", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "-p", "12x", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "-d", "0", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "--ringbuf-size", "1000", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "run", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "run", "-p", "1", "--", "ls", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "stray", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "trace", "stray", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "--output", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "-n", "", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "--dump-facts", NULL), -EINVAL);
}

static void test_check(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "check", "--facts", "f.txt", "-b", "fentry", NULL), 0);
	assert_int_equal(o.cmd, CMD_CHECK);
	assert_string_equal(o.facts_path, "f.txt");
	assert_int_equal(o.mode, MODE_FENTRY);
}

static void test_leaks(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "leaks", NULL), 0);
	assert_int_equal(o.cmd, CMD_LEAKS);
	assert_int_equal(o.min_age_ns, 1000000000ULL);
	assert_int_equal(o.interval_ns, 10000000000ULL);
	assert_null(o.argv);

	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--min-age", "30s", "--interval",
			       "500ms", "-o", "json", "-p", "77", NULL), 0);
	assert_int_equal(o.cmd, CMD_LEAKS);
	assert_int_equal(o.min_age_ns, 30000000000ULL);
	assert_int_equal(o.interval_ns, 500000000ULL);
	assert_int_equal(o.fmt, OUT_JSON);
	assert_int_equal(o.pid, 77);

	/* --interval 0: report only at exit; --min-age 0: every hold */
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--interval", "0", "--min-age", "0",
			       NULL), 0);
	assert_int_equal(o.interval_ns, 0);
	assert_int_equal(o.min_age_ns, 0);
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--min-age", "2m", "--interval=1h",
			       NULL), 0);
	assert_int_equal(o.min_age_ns, 120000000000ULL);
	assert_int_equal(o.interval_ns, 3600000000000ULL);
	/* the exit summary of trace/run takes --min-age too */
	assert_int_equal(parse(&o, err, "pintrace", "run", "--min-age", "5s", "--", "ls", NULL), 0);
	assert_int_equal(o.cmd, CMD_RUN);
	assert_int_equal(o.min_age_ns, 5000000000ULL);
}

static void test_leaks_errors(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--min-age", "soon", NULL), -EINVAL);
	assert_non_null(strstr(err, "--min-age"));
	assert_non_null(strstr(err, "soon"));
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--min-age", "-1s", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--min-age", "", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--interval", "10parsecs", NULL), -EINVAL);
	assert_non_null(strstr(err, "--interval"));
	assert_non_null(strstr(err, "10parsecs"));
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--interval", "-5", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--interval", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--min-age", NULL), -EINVAL);
	/* leaks takes no command */
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "stray", NULL), -EINVAL);
	assert_non_null(strstr(err, "stray"));
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--facts", "f.txt", NULL), -EINVAL);
	/* the unknown-command message lists every command */
	assert_int_equal(parse(&o, err, "pintrace", "leak", NULL), -EINVAL);
	assert_non_null(strstr(err, "'leak'"));
	assert_non_null(strstr(err, "trace"));
	assert_non_null(strstr(err, "run"));
	assert_non_null(strstr(err, "leaks"));
	assert_non_null(strstr(err, "check"));
}

/* replay FILE: options before or after the file; tracing-only options refused */
static void test_replay(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", "replay", "rec", "-o", "json", "-q", NULL), 0);
	assert_int_equal(o.cmd, CMD_REPLAY);
	assert_string_equal(o.replay_path, "rec");
	assert_int_equal(o.fmt, OUT_JSON);
	assert_true(o.quiet);
	assert_int_equal(parse(&o, err, "pintrace", "replay", "--min-hold", "1s", "rec", NULL), 0);
	assert_int_equal(o.min_hold_ns, 1000000000ULL);
	assert_string_equal(o.replay_path, "rec");
	assert_int_equal(parse(&o, err, "pintrace", "replay", NULL), -EINVAL);
	assert_non_null(strstr(err, "no recording given"));
	assert_int_equal(parse(&o, err, "pintrace", "replay", "a", "b", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "replay", "a", "-p", "1", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, "pintrace", "replay", "a", "--record", "b", NULL), -EINVAL);
}

/* --record FILE: for every tracing command, not for check */
static void test_record(void **state)
{
	struct pt_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "pintrace", NULL), 0);
	assert_null(o.record_path);
	assert_int_equal(parse(&o, err, "pintrace", "run", "--record", "r.ptrec", "--", "true",
			       NULL), 0);
	assert_string_equal(o.record_path, "r.ptrec");
	assert_int_equal(parse(&o, err, "pintrace", "leaks", "--record", "r.ptrec", NULL), 0);
	assert_int_equal(parse(&o, err, "pintrace", "check", "--record", "r", NULL), -EINVAL);
	assert_non_null(strstr(err, "--record belongs to tracing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_filters_and_durations),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_leaks),
		cmocka_unit_test(test_leaks_errors),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
