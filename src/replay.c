// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace replay: a recording made with --record, fed record by record
 * through the same pipeline as live tracing (trace.c's tracer), then the
 * normal exit summary. No BPF and nothing of this kernel, so no root; and a
 * fixed input, which makes it the pipeline's benchmark (tools/bench/).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "record.h"
#include "replay.h"
#include "trace.h"
#include "util.h"

/* The live loop scans for held-long pins after every poll of POLL_MS. */
#define TICK_NS 100000000ULL

static __u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Every record through the tracer, with the events' own clock standing in
 * for the live loop's: held-long scans run as often as they would have.
 * Returns the reader's result: 0 at a clean end, < 0 at a bad record.
 */
static int feed_all(struct rec_reader *rd, struct tracer *t, __u64 *nrec, __u64 *now)
{
	__u64 next_tick = *now + TICK_NS, off;
	struct pt_event e;
	int err;

	while ((err = rec_read(rd, &e, &off)) > 0) {
		if (e.ts_ns >= next_tick) {
			tracer_tick(t, e.ts_ns);
			next_tick = e.ts_ns + TICK_NS;
		}
		/* records from different CPUs arrive slightly out of order */
		if (e.ts_ns > *now)
			*now = e.ts_ns;
		tracer_feed(t, &e, sizeof(e));
		(*nrec)++;
	}
	tracer_tick(t, *now);
	return err;
}

/* -v: what the pipeline cost (tools/bench/pipeline.sh reads this line) */
static void print_stats(__u64 nrec, __u64 wall_ns, __u64 cpu_ns)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "pintrace: replayed %llu records in %.6f s (cpu %.6f s): %.0f records/s, "
		"peak RSS %ld KiB\n", (unsigned long long)nrec, wall_ns / 1e9, cpu_ns / 1e9,
		wall_ns ? nrec * 1e9 / wall_ns : 0.0, ru.ru_maxrss);
}

int replay_main(const struct pt_opts *o)
{
	struct rec_reader rd;
	struct foll_table foll;
	struct tracer *t = NULL;
	__u64 nrec = 0, now, wall, cpu;
	FILE *f = stdout;
	int ret = EXIT_RUNTIME, err;

	err = rec_reader_open(&rd, o->replay_path);
	if (err) {
		fprintf(stderr, "pintrace: %s: %s\n", o->replay_path, rd.err);
		goto out;
	}
	if (o->output_path && !(f = fopen(o->output_path, "we"))) {
		fprintf(stderr, "pintrace: cannot write %s: %s\n", o->output_path, strerror(errno));
		f = stdout;
		goto out;
	}
	rec_reader_foll(&rd, &foll);
	t = tracer_new(o, f, &foll, rd.h.t0_ns);
	if (!t) {
		fprintf(stderr, "pintrace: out of memory\n");
		goto out;
	}
	now = rd.h.t0_ns;
	wall = now_mono_ns();
	cpu = cpu_ns();
	err = feed_all(&rd, t, &nrec, &now);
	wall = now_mono_ns() - wall;
	cpu = cpu_ns() - cpu;
	if (o->verbose)
		print_stats(nrec, wall, cpu);
	/* what came before a bad record is still worth its summary */
	ret = tracer_report(t, now, now - rd.h.t0_ns);
	if (err < 0) {
		fprintf(stderr, "pintrace: %s: %s; the summary covers the %llu records before it\n",
			o->replay_path, rd.err, (unsigned long long)nrec);
		ret = EXIT_RUNTIME;
	}
out:
	tracer_free(t);
	rec_reader_close(&rd);
	if ((f != stdout ? fclose(f) : fflush(stdout)) || (f == stdout && ferror(stdout))) {
		fprintf(stderr, "pintrace: writing the output failed: %s\n", strerror(errno));
		ret = EXIT_RUNTIME;
	}
	return ret;
}
