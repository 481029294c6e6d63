// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opts.h"
#include "pintrace.h"
#include "util.h"
#include "verdict.h"

#define PT_VERSION "0.1.0"

static const char usage[] =
"Usage: pintrace [trace] [OPTIONS]          trace pins system-wide until Ctrl-C\n"
"       pintrace run [OPTIONS] -- CMD [ARG...]  trace CMD and its descendants\n"
"       pintrace leaks [--min-age DUR] [--interval DUR] [OPTIONS]\n"
"                              pipe and socket page holds older than --min-age\n"
"       pintrace check [--dump-facts] [--facts FILE]  kernel facts and attach plan\n"
"       pintrace replay FILE [-o FMT] [-q]  the same report, from a recording made\n"
"                              with --record FILE (raw events; no root needed)\n"
"       pintrace diff [OPTIONS] BASE NEW  compare two runs' JSON summaries, exit 3\n"
"                              on a regression (CI; see pintrace diff --help)\n"
"\n"
"Traces page pins (FOLL_PIN) and references (FOLL_GET) taken through GUP,\n"
"matches every unpin to its pin, and classifies holds as long-term\n"
"(FOLL_LONGTERM), short-term, or held long (short-term held past --min-hold).\n"
"Follows the plain page references that vmsplice() parks in pipes and that\n"
"MSG_ZEROCOPY and splice() put in socket buffers (skb frags) until released.\n"
"\n"
"Options:\n"
"  -b, --backend MODE     auto (fentry where possible, else kprobe), fentry, kprobe\n"
"  -o, --output FMT       text (default) or json (NDJSON, one record per line)\n"
"  -O, --output-file PATH write events and summary to PATH instead of stdout\n"
"  -p, --pid PID          only pins taken by process PID\n"
"  -n, --comm NAME        only pins taken by tasks named NAME\n"
"  -d, --duration DUR     stop after DUR (e.g. 10s, 500ms)\n"
"      --min-hold DUR     short-term pins held this long are 'held long' [300ms]\n"
"      --min-age DUR      holds by pipes and sockets this old are leaks [1s]\n"
"      --interval DUR     leaks: print the leak report every DUR [10s; 0: at exit]\n"
"      --linger DUR       run: after CMD exits, wait up to DUR for its pins to drop [500ms]\n"
"      --no-refs          ignore FOLL_GET references (pipe holds are still followed)\n"
"  -q, --quiet            no event stream, only the summary\n"
"      --stream           every pin and call through the ring buffer (default: short-term\n"
"                         pins and calls are matched and counted in the kernel, and only\n"
"                         long-term pins, failures and pins held past --min-hold/2 are\n"
"                         sent; --record implies it)\n"
"      --no-stacks        walk no kernel stack for pins and references (the hot path's\n"
"                         main cost): by_stack and holders lose their stacks; failures,\n"
"                         migrations and CMA windows keep theirs\n"
"      --ringbuf-size N   ring buffer bytes, power of two (K/M suffixes) [4M]\n"
"      --btf PATH         kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
"      --allow-partial    trace even if some pin/unpin chokepoint cannot be attached\n"
"      --ready-file PATH  create PATH once tracing is live (for scripts and tests)\n"
"      --noop-programs    benchmark floor: attach empty programs to the same hooks\n"
"      --fail-on LIST     exit 3 when one of these is seen (CI): longterm-movable,\n"
"                         longterm-cma, migrate-fail, leak, held-long, lost, all\n"
"      --max-lost N       exit 5 when more than N events or state updates were lost\n"
"      --no-bpf-stats     leave the kernel's BPF run-time stats off (they cost two clock\n"
"                         reads per program run); the summary then has no run counts\n"
"      --facts FILE       check: plan for the facts in FILE (see --dump-facts)\n"
"      --dump-facts       check: print the kernel facts in machine-readable form\n"
"  -v, --verbose          more diagnostics (twice: libbpf debug log)\n"
"  -h, --help             this help;  -V, --version  the version\n"
"\n"
"  sudo pintrace leaks --min-age 30s   # which pipe or socket holds pages, since when\n"
"\n"
"Exit codes: 0 ok (run: CMD's status), 1 runtime error or missing privileges,\n"
"2 usage error, 3 a --fail-on condition hit, 4 this kernel cannot be traced (the\n"
"reason is printed), 5 more losses than --max-lost (with --fail-on lost: 0 allowed).\n"
"\n"
"Examples:\n"
"  sudo pintrace                      # every pin on the system, until Ctrl-C\n"
"  sudo pintrace run -o json -O pins.ndjson -- fio job.fio\n"
"  sudo pintrace -p 4121 --min-hold 1s\n"
"  pintrace check                     # why this kernel can or cannot be traced\n";

enum {
	OPT_MIN_HOLD = 256, OPT_LINGER, OPT_NO_REFS, OPT_RINGBUF, OPT_BTF, OPT_PARTIAL,
	OPT_FACTS, OPT_DUMP_FACTS, OPT_READY, OPT_MIN_AGE, OPT_INTERVAL, OPT_FAIL_ON, OPT_MAX_LOST,
	OPT_NO_BPF_STATS,
	OPT_NOOP,
	OPT_RECORD,
	OPT_STREAM,
	OPT_NO_STACKS,
};

static const struct option longopts[] = {
	{ "backend", required_argument, NULL, 'b' },
	{ "output", required_argument, NULL, 'o' },
	{ "output-file", required_argument, NULL, 'O' },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "min-hold", required_argument, NULL, OPT_MIN_HOLD },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-refs", no_argument, NULL, OPT_NO_REFS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "stream", no_argument, NULL, OPT_STREAM },
	{ "no-stacks", no_argument, NULL, OPT_NO_STACKS },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "allow-partial", no_argument, NULL, OPT_PARTIAL },
	{ "noop-programs", no_argument, NULL, OPT_NOOP },
	{ "facts", required_argument, NULL, OPT_FACTS },
	{ "dump-facts", no_argument, NULL, OPT_DUMP_FACTS },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "max-lost", required_argument, NULL, OPT_MAX_LOST },
	{ "no-bpf-stats", no_argument, NULL, OPT_NO_BPF_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{}
};

static int bad(char *err, size_t len, const char *fmt, const char *arg)
{
	snprintf(err, len, fmt, arg);
	return -EINVAL;
}

static int parse_one(int c, const char *arg, struct pt_opts *o, char *err, size_t len)
{
	char *end;
	long v;

	switch (c) {
	case 'b':
		if (backend_mode_parse(arg, &o->mode))
			return bad(err, len, "invalid --backend '%s' (auto, fentry, kprobe)", arg);
		break;
	case 'o':
		if (!strcmp(arg, "text"))
			o->fmt = OUT_TEXT;
		else if (!strcmp(arg, "json"))
			o->fmt = OUT_JSON;
		else
			return bad(err, len, "invalid --output '%s' (text, json)", arg);
		break;
	case 'O':
		o->output_path = arg;
		break;
	case 'p':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v <= 0 || v > 0x3fffffff)
			return bad(err, len, "invalid --pid '%s'", arg);
		o->pid = (__u32)v;
		break;
	case 'n':
		if (!*arg || strlen(arg) >= PT_COMM_LEN)
			return bad(err, len, "invalid --comm '%s' (1-15 bytes, as in /proc/PID/comm)", arg);
		o->comm = arg;
		break;
	case 'd':
		if (parse_duration(arg, &o->duration_ns) || !o->duration_ns)
			return bad(err, len, "invalid --duration '%s' (e.g. 10s, 500ms)", arg);
		break;
	case OPT_MIN_HOLD:
		if (parse_duration(arg, &o->min_hold_ns))
			return bad(err, len, "invalid --min-hold '%s' (e.g. 300ms)", arg);
		break;
	case OPT_MIN_AGE:
		if (parse_duration(arg, &o->min_age_ns))
			return bad(err, len, "invalid --min-age '%s' (e.g. 30s)", arg);
		break;
	case OPT_INTERVAL:
		if (parse_duration(arg, &o->interval_ns))
			return bad(err, len, "invalid --interval '%s' (e.g. 10s, 0 for exit only)", arg);
		break;
	case OPT_LINGER:
		if (parse_duration(arg, &o->linger_ns))
			return bad(err, len, "invalid --linger '%s' (e.g. 500ms)", arg);
		break;
	case OPT_NO_REFS:
		o->refs = false;
		break;
	case OPT_NO_BPF_STATS:
		o->no_bpf_stats = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_STREAM:
		o->stream = true;
		break;
	case OPT_NO_STACKS:
		o->no_stacks = true;
		break;
	case OPT_RINGBUF:
		if (parse_size(arg, &o->ringbuf_bytes) || o->ringbuf_bytes < 4096 ||
		    (o->ringbuf_bytes & (o->ringbuf_bytes - 1)))
			return bad(err, len, "invalid --ringbuf-size '%s' (power of two >= 4K)", arg);
		break;
	case OPT_BTF:
		o->btf_path = arg;
		break;
	case OPT_PARTIAL:
		o->allow_partial = true;
		break;
	case OPT_NOOP:
		o->noop_programs = true;
		break;
	case OPT_FACTS:
		o->facts_path = arg;
		break;
	case OPT_READY:
		o->ready_path = arg;
		break;
	case OPT_RECORD:
		o->record_path = arg;
		/* a recording is for replaying the whole pipeline: every event */
		o->stream = true;
		break;
	case OPT_DUMP_FACTS:
		o->dump_facts = true;
		break;
	case OPT_FAIL_ON:
		if (fail_cond_parse(arg, &o->fail_on, err, len))
			return -EINVAL;
		break;
	case OPT_MAX_LOST:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 0)
			return bad(err, len, "invalid --max-lost '%s' (a count >= 0)", arg);
		o->max_lost = (__u64)v;
		o->fail_on |= 1u << FAIL_LOST;	/* a tolerance only means something as a condition */
		break;
	case 'v':
		o->verbose++;
		break;
	default:
		return bad(err, len, "%s", "unknown option (see --help)");
	}
	return 0;
}

/* replay FILE: only options about matching and output make sense there */
static int replay_check(int nargs, char **args, struct pt_opts *o, char *err, size_t len)
{
	if (nargs != 1)
		return bad(err, len, "%s", nargs ? "replay: one recording at a time"
					       : "replay: no recording given (pintrace replay FILE)");
	if (o->pid || o->comm || o->duration_ns || o->ready_path || o->btf_path || o->allow_partial)
		return bad(err, len, "%s", "replay: -p, -n, -d, --ready-file, --btf and "
			   "--allow-partial belong to tracing");
	o->replay_path = args[0];
	return 0;
}

int opts_parse(int argc, char **argv, struct pt_opts *o, char *err, size_t errlen)
{
	const char *optstring;
	int c, first = 1;

	memset(o, 0, sizeof(*o));
	o->min_hold_ns = 300000000ULL;
	o->linger_ns = 500000000ULL;
	o->min_age_ns = 1000000000ULL;
	o->interval_ns = 10000000000ULL;
	o->refs = true;
	o->ringbuf_bytes = PT_RINGBUF_DEFAULT;
	err[0] = '\0';

	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "run"))
			o->cmd = CMD_RUN;
		else if (!strcmp(argv[1], "check"))
			o->cmd = CMD_CHECK;
		else if (!strcmp(argv[1], "leaks"))
			o->cmd = CMD_LEAKS;
		else if (!strcmp(argv[1], "replay"))
			o->cmd = CMD_REPLAY;
		else if (!strcmp(argv[1], "diff"))
			o->cmd = CMD_DIFF;
		else if (strcmp(argv[1], "trace"))
			return bad(err, errlen, "unknown command '%s' (trace, run, leaks, check, replay, "
				   "diff)", argv[1]);
		/* diff has options of its own: diff_opts_parse() reads them */
		if (o->cmd == CMD_DIFF)
			return 0;
		first = 2;
	}
	/*
	 * Parse argv[first - 1 ..] as its own vector: optind = 0 makes glibc
	 * reinitialise getopt, so that parsing twice in one process works. "+"
	 * stops at the first non-option: `run -- CMD -x` keeps -x for CMD.
	 * replay skips the "+": options may follow its FILE.
	 */
	argc -= first - 1;
	argv += first - 1;
	optind = 0;
	opterr = 0;
	optstring = "+b:o:O:p:n:d:qvhV" + (o->cmd == CMD_REPLAY);
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == 'V') {
			printf("pintrace %s (event ABI %zu bytes)\n", PT_VERSION, sizeof(struct pt_event));
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
	if (o->cmd == CMD_RUN) {
		if (optind >= argc)
			return bad(err, errlen, "%s", "run: no command given (pintrace run -- CMD [ARG...])");
		o->argv = &argv[optind];
		if (o->pid)
			return bad(err, errlen, "%s", "run: -p makes no sense, the command is the filter");
	} else if (o->cmd == CMD_REPLAY) {
		if (replay_check(argc - optind, &argv[optind], o, err, errlen))
			return -EINVAL;
	} else if (optind < argc) {
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	}
	if (o->record_path && (o->cmd == CMD_CHECK || o->cmd == CMD_REPLAY))
		return bad(err, errlen, "%s", "--record belongs to tracing (trace, run, leaks)");
	if (o->fail_on && o->cmd == CMD_CHECK)
		return bad(err, errlen, "%s", "--fail-on and --max-lost belong to tracing, not `check`");
	if (o->cmd != CMD_CHECK && (o->facts_path || o->dump_facts))
		return bad(err, errlen, "%s", "--facts and --dump-facts belong to `pintrace check`");
	return 0;
}
