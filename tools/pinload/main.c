// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload: command line. See pinload.h for the layout of the sources and
 * tools/pinload.md for the workloads.
 */
#include "pinload.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int do_sleep(const struct opts *o, struct res *r)
{
	call_begin(r);
	sleep_ms(o->ms);
	call_end(r, 0);
	return 0;
}

/* ---- command line ------------------------------------------------------- */

struct workload {
	const char *name;
	int (*run)(const struct opts *o, struct res *r);
	unsigned int required, allowed;
	long max_pages;
	const char *args, *help;
};

static const struct workload workloads[] = {
	{ "pvr", do_pvr, O_PAGES, O_PAGES | O_HOLD | O_WRITE, MAX_PAGES,
	  "--pages N [--hold-ms MS] [--write]",
	  "process_vm_readv (--write: writev) of N pages of a child: short-term\n"
	  "\tpins. --hold-ms: local buffer under userfaultfd, 1st fault waits MS" },
	{ "fork-pvr", do_fork_pvr, O_PAGES | O_CHILDREN,
	  O_PAGES | O_CHILDREN | O_HOLD | O_WRITE, MAX_PAGES,
	  "--pages N --children K [--hold-ms MS] [--write]",
	  "K concurrent children each run pvr" },
	{ "uring", do_uring, O_PAGES, O_PAGES | O_KEEP | O_FAULT | O_PIPE | O_HOLD, MAX_PAGES,
	  "--pages N [--keep-ms MS] [--fault] [--pipe [--hold-ms MS]]",
	  "io_uring buffer register, keep MS, unregister: long-term pins;\n"
	  "\t--fault: register an unmapped buffer, expect EFAULT.\n"
	  "\t--pipe (N <= 65536): vmsplice the buffer into a pipe nobody reads\n"
	  "\tfirst; in ZONE_MOVABLE the migration before the pin fails: expect\n"
	  "\tENOMEM (or EFAULT). --hold-ms: keep the pipe MS after that" },
	{ "vmsplice", do_vmsplice, O_PAGES, O_PAGES | O_DRAIN | O_CLOSE | O_HOLD | O_TEE |
	  O_PIPE_PAGES, MAX_PIPE_PAGES,
	  "--pages N [--drain|--close] [--tee] [--hold-ms MS] [--pipe-pages P]",
	  "vmsplice N pages into a pipe (FOLL_GET refs), wait MS, read or close" },
	{ "odirect", do_odirect, O_DEV | O_PAGES, O_DEV | O_PAGES | O_WRITE | O_HOLD,
	  MAX_PAGES, "--dev PATH --pages N [--write] [--hold-ms MS]",
	  "one O_DIRECT pread (--write: pwrite) of N pages at offset 0.\n"
	  "\t--hold-ms (N >= 2): GUP holds page 0 while page 1 faults for MS" },
	{ "splice-sock", do_splice_sock, O_PAGES, O_PAGES | O_HOLD | O_NETNS | O_REWRITE |
	  O_RCVBUF, MAX_PIPE_PAGES,
	  "--pages N [--hold-ms MS] [--netns] [--rewrite] [--rcvbuf BYTES]",
	  "vmsplice N pages into a pipe, splice the pipe into a TCP socket whose\n"
	  "\treceiver (a child) reads nothing for MS: skb frags reference our pages.\n"
	  "\tThen it reads and checks all. Loopback, or --netns: veth between two\n"
	  "\tnew network namespaces (needs root and the veth module).\n"
	  "\t--rewrite: overwrite our buffer after sending; pages_rewritten counts\n"
	  "\tthe pages the receiver got from our pages rather than a copy.\n"
	  "\t--rcvbuf: receiver's SO_RCVBUF (default: all fits); a small one\n"
	  "\tcloses the window: the rest waits in our send queue (sndq)" },
	{ "zerocopy", do_zerocopy, O_PAGES, O_PAGES | O_HOLD | O_NETNS | O_REWRITE | O_RCVBUF |
	  O_FAULT, MAX_PIPE_PAGES,
	  "--pages N [--hold-ms MS] [--netns] [--rewrite] [--rcvbuf BYTES] [--fault]",
	  "TCP send(MSG_ZEROCOPY) of N pages in 64 KiB sends to a receiver that\n"
	  "\treads nothing for MS, then reads all; waits <= 5 s for the completions\n"
	  "\t(MSG_ERRQUEUE): zc_ranges, zc_all_completed, zc_copied (the kernel\n"
	  "\tcopied: SO_EE_CODE_ZEROCOPY_COPIED). --netns, --rewrite, --rcvbuf:\n"
	  "\tas splice-sock. --fault: the last page is PROT_NONE, the send that\n"
	  "\treaches it fails with EFAULT after frags were added (the kernel trims\n"
	  "\tthem again without a hook: pintrace's refcount sampler must notice)" },
	{ "offline", do_offline, O_PAGES, O_PAGES | O_HOLD | O_OFFLINE_MS, MAX_PIPE_PAGES,
	  "--pages N [--hold-ms MS] [--offline-ms MS]",
	  "root, ZONE_MOVABLE (movablecore=): N pages in a Movable memory block\n"
	  "\twithout reserved pages, vmspliced into a pipe; offline the block:\n"
	  "\toffline_pages() retries until a signal, here SIGALRM after\n"
	  "\t--offline-ms (3000). Wait --hold-ms, drain the pipe, offline again\n"
	  "\t(must work now), online again" },
	{ "cma-uring", do_cma_uring, O_PFNS | O_PAGES, O_PFNS | O_PAGES | O_FILL_MB, 16384,
	  "--pfns BASE:COUNT --pages N [--fill-mb MB]",
	  "root, hugetlb_cma=: touch anon memory (at most --fill-mb, 1500) until N\n"
	  "\tpages sit in the CMA pfns BASE..BASE+COUNT (pagemap; hex ok), unmap\n"
	  "\tthe rest, register the N pages as single-page io_uring fixed buffers:\n"
	  "\tthe kernel migrates them out first. in_range_before/_after, moved" },
	{ "cma-hugepin", do_cma_hugepin, O_PFNS, O_PFNS, 0, "--pfns BASE:COUNT",
	  "root, hugetlb_cma=: one 32 MiB hugetlb page (nr_hugepages 1, restored),\n"
	  "\tchecked to be in the pfns, registered with io_uring: expect ENOMEM" },
	{ "cma-hold", do_cma_hold, O_PFNS, O_PFNS | O_AVAIL_MB, 0,
	  "--pfns BASE:COUNT [--avail-mb MB]",
	  "root, hugetlb_cma=: fill anon memory until MemAvailable <= MB (140),\n"
	  "\tin each 32 MiB window of the pfns keep one page that landed there,\n"
	  "\tunmap the rest; a child vmsplices each kept page into its own pipe\n"
	  "\t(never read). Request one 32 MiB page per full window (nr_hugepages):\n"
	  "\tcma_alloc fails on the held windows. Reset, the child drains and\n"
	  "\tcloses its pipes, request again: all from CMA. Reset to 0" },
	{ "sleep", do_sleep, O_MS, O_MS, 0, "--ms MS", "sleep MS milliseconds" },
};

#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static const struct option long_opts[] = {
	{ "pages", required_argument, NULL, O_PAGES },
	{ "hold-ms", required_argument, NULL, O_HOLD },
	{ "keep-ms", required_argument, NULL, O_KEEP },
	{ "write", no_argument, NULL, O_WRITE },
	{ "drain", no_argument, NULL, O_DRAIN },
	{ "close", no_argument, NULL, O_CLOSE },
	{ "tee", no_argument, NULL, O_TEE },
	{ "fault", no_argument, NULL, O_FAULT },
	{ "pipe-pages", required_argument, NULL, O_PIPE_PAGES },
	{ "dev", required_argument, NULL, O_DEV },
	{ "ms", required_argument, NULL, O_MS },
	{ "children", required_argument, NULL, O_CHILDREN },
	{ "netns", no_argument, NULL, O_NETNS },
	{ "rewrite", no_argument, NULL, O_REWRITE },
	{ "rcvbuf", required_argument, NULL, O_RCVBUF },
	{ "pipe", no_argument, NULL, O_PIPE },
	{ "offline-ms", required_argument, NULL, O_OFFLINE_MS },
	{ "pfns", required_argument, NULL, O_PFNS },
	{ "fill-mb", required_argument, NULL, O_FILL_MB },
	{ "avail-mb", required_argument, NULL, O_AVAIL_MB },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int usage(FILE *f, int rc)
{
	fprintf(f, "Usage: pinload WORKLOAD [options]\n"
		"Prints one JSON object on stdout. Exit 0 ok, 1 failed, 2 usage.\n\n");
	for (size_t i = 0; i < NWORKLOADS; i++)
		fprintf(f, "  %s %s\n\t%s\n", workloads[i].name, workloads[i].args,
			workloads[i].help);
	fprintf(f, "\nBuffers: anonymous, MADV_NOHUGEPAGE, touched before use.\n"
		"Ranges: --pages 1..%d (vmsplice, splice-sock, zerocopy: ..%d),\n"
		"        --children 1..%d, --rcvbuf 1024..%d,\n"
		"        --hold-ms, --keep-ms, --ms 0..%d, --offline-ms 1..%d,\n"
		"        cma-uring --pages ..16384, --fill-mb 64.., --avail-mb 16..\n",
		MAX_PAGES, MAX_PIPE_PAGES, MAX_CHILDREN, INT_MAX / 4, MAX_MS, MAX_MS);
	return rc;
}

static const char *opt_name(int val)
{
	for (const struct option *p = long_opts; p->name; p++)
		if (p->val == val)
			return p->name;
	return "?";
}

/* BASE:COUNT, each decimal or 0x-hex; COUNT > 0 */
static bool parse_pfns(const char *s, struct opts *o)
{
	char *end, *mid;

	errno = 0;
	o->cma_base = strtoull(s, &mid, 0);
	if (!errno && mid != s && *mid == ':') {
		o->cma_count = strtoull(mid + 1, &end, 0);
		if (!errno && end != mid + 1 && !*end && o->cma_count &&
		    o->cma_base + o->cma_count > o->cma_base)
			return true;
	}
	fprintf(stderr, "pinload: --pfns: want BASE:COUNT (page frame numbers, hex ok),"
		" got '%s'\n", s);
	return false;
}

static bool parse_long(int val, const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (!errno && end != s && !*end && *out >= lo && *out <= hi)
		return true;
	fprintf(stderr, "pinload: --%s: want an integer in %ld..%ld, got '%s'\n",
		opt_name(val), lo, hi, s);
	return false;
}

/* Returns -1 to go on and run *w, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o, const struct workload **w)
{
	const char *name = argc > 1 ? argv[1] : "";
	bool ok = true;
	int c;

	*o = (struct opts){ .hold_ms = -1 };
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		return usage(stdout, 0);
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (!strcmp(name, workloads[i].name))
			*w = &workloads[i];
	if (!*w) {
		fprintf(stderr, "pinload: %s workload '%s'\n", *name ? "unknown" : "no", name);
		return usage(stderr, 2);
	}
	opterr = 0;	/* getopt sees argv + 1, so its optind - 1 is our argv[optind] */
	while (ok && (c = getopt_long(argc - 1, argv + 1, ":h", long_opts, NULL)) != -1) {
		if (c == 'h')
			return usage(stdout, 0);
		if (c == '?' || c == ':') {
			fprintf(stderr, "pinload: %s '%s'\n", c == '?' ? "unknown option"
				: "missing value for", argv[optind]);
			return 2;
		}
		if (!((*w)->allowed & c)) {
			fprintf(stderr, "pinload: %s takes no --%s\n", name, opt_name(c));
			return 2;
		}
		o->seen |= c;
		if (c == O_PAGES)
			ok = parse_long(c, optarg, 1, (*w)->max_pages, &o->pages);
		else if (c == O_HOLD)
			ok = parse_long(c, optarg, 0, MAX_MS, &o->hold_ms);
		else if (c == O_KEEP)
			ok = parse_long(c, optarg, 0, MAX_MS, &o->keep_ms);
		else if (c == O_MS)
			ok = parse_long(c, optarg, 0, MAX_MS, &o->ms);
		else if (c == O_CHILDREN)
			ok = parse_long(c, optarg, 1, MAX_CHILDREN, &o->children);
		else if (c == O_DEV)
			o->dev = optarg;
		else if (c == O_PIPE_PAGES)
			ok = parse_long(c, optarg, 1, MAX_PIPE_PAGES, &o->pipe_pages);
		else if (c == O_RCVBUF)
			ok = parse_long(c, optarg, 1024, INT_MAX / 4, &o->rcvbuf);
		else if (c == O_OFFLINE_MS)
			ok = parse_long(c, optarg, 1, MAX_MS, &o->offline_ms);
		else if (c == O_PFNS)
			ok = parse_pfns(optarg, o);
		else if (c == O_FILL_MB)
			ok = parse_long(c, optarg, 64, 1 << 20, &o->fill_mb);
		else if (c == O_AVAIL_MB)
			ok = parse_long(c, optarg, 16, 1 << 20, &o->avail_mb);
		o->write |= c == O_WRITE;
		o->drain |= c == O_DRAIN;
		o->tee |= c == O_TEE;
		o->fault |= c == O_FAULT;
		o->netns |= c == O_NETNS;
		o->rewrite |= c == O_REWRITE;
		o->pipe |= c == O_PIPE;
	}
	if (!ok)
		return 2;
	if (optind < argc - 1) {
		fprintf(stderr, "pinload: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	if ((o->seen & (*w)->required) != (*w)->required) {
		fprintf(stderr, "pinload: usage: pinload %s %s\n", name, (*w)->args);
		return 2;
	}
	if ((o->seen & O_DRAIN) && (o->seen & O_CLOSE)) {
		fprintf(stderr, "pinload: --drain and --close exclude each other\n");
		return 2;
	}
	if ((*w)->run == do_uring && !o->pipe && o->hold_ms >= 0) {
		fprintf(stderr, "pinload: uring --hold-ms needs --pipe\n");
		return 2;
	}
	if (o->pipe && (o->fault || (o->seen & O_KEEP) || o->pages > MAX_PIPE_PAGES)) {
		fprintf(stderr, "pinload: uring --pipe excludes --fault and --keep-ms,"
			" and allows --pages up to %d\n", MAX_PIPE_PAGES);
		return 2;
	}
	if ((*w)->run == do_odirect && o->hold_ms >= 0 && o->pages < 2) {
		fprintf(stderr, "pinload: odirect --hold-ms needs --pages >= 2\n");
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	struct res r = res_new();
	struct opts o;
	int rc;

	pg = sysconf(_SC_PAGESIZE);
	rc = parse_args(argc, argv, &o, &w);
	if (rc >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	w->run(&o, &r);
	return emit(w->name, &o, &r);
}
