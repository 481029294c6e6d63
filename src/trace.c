// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracing session: attach, poll the ring buffer into the record
 * pipeline (tracer.c), stop when asked or when the command is done, then
 * report. All state lives in struct tracer, handed to libbpf's callback.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "child.h"
#include "ksyms.h"
#include "trace.h"
#include "tracer.h"
#include "util.h"
#include "verdict.h"
#include "vmstat.h"

#define POLL_MS 100
/* How often the refcount sampler checks followed holds (bpf/sample.bpf.h). */
#define SAMPLE_NS 1000000000ULL


/* The only process-wide state: set from signal handlers, read by the loop. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static struct pt_cfg make_cfg(const struct pt_opts *o, const struct kernel_facts *kf,
			     const struct foll_table *foll)
{
	const struct sym_fact *tgp = facts_sym(kf, "try_grab_page");
	const struct sym_fact *cmaf = facts_sym(kf, "tp/cma_alloc_finish");
	struct pt_cfg c = {
		.foll_write = foll->write,
		.foll_get = foll->get,
		.foll_pin = foll->pin,
		.foll_longterm = foll->longterm,
		.filter_tgid = o->pid,
		.filter_tree = o->cmd == CMD_RUN,
		.trace_refs = o->refs,
		/* bool up to 6.1, then 0/-errno: the BTF return type says which */
		.grab_page_ret_bool = tgp && (!strcmp(tgp->ret, "bool") || !strcmp(tgp->ret, "_Bool")),
		/* (name, pfn, page, count, align, errorno) from 6.6 on */
		.cma_finish_errno = cmaf && cmaf->btf_nargs >= 6,
		.noop = o->noop_programs,
		.aggregate = !o->stream,
		.no_stacks = o->no_stacks,
		/*
		 * Pins still held at half --min-hold reach the table in time
		 * for the held-long report (the scan runs every POLL_MS).
		 */
		.promote_ns = o->min_hold_ns / 2,
	};

	if (o->comm) {
		c.filter_comm = 1;
		strncpy(c.comm, o->comm, sizeof(c.comm) - 1);
	}
	return c;
}

#define KILL_GRACE_NS 2000000000ULL

/*
 * One refcount sampler pass, its corrections consumed, so that the tables
 * are right before anything is reported from them. Returns the deficits
 * that wait for the next pass to be confirmed.
 */
static __u64 sample_holds(struct tracer *t, struct ring_buffer *rb, __u64 now)
{
	struct pt_sample s;
	int err;

	t->last_sample = now;
	if (!holds_any(&t->holds))
		return 0;
	err = session_sample(&t->sess, &s);
	if (err) {
		if (err != -ENOTSUP && t->o->verbose)
			fprintf(stderr, "pintrace: refcount sampler: %s\n", strerror(-err));
		return 0;
	}
	ring_buffer__consume(rb);
	holds_sampled(&t->holds, &s);
	return s.suspect;
}

/* Poll until stop; in run mode until the command exits and its pins drop. */
static int event_loop(struct tracer *t, struct ring_buffer *rb, struct child *c, __u64 start)
{
	const struct pt_opts *o = t->o;
	__u64 exited_at = 0, term_at = 0;
	int err = 0, forwarded = 0;

	for (;;) {
		struct pintable_stats st;
		__u64 now;

		overhead_poll(&t->ov);
		err = ring_buffer__poll(rb, POLL_MS);
		if (err == -EINTR)
			err = 0;
		/* records submitted without a wakeup (event_submit) wait for this */
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0)
			break;
		now = now_mono_ns();
		tracer_scan(t, now, false);
		if (now - t->last_sample >= SAMPLE_NS)
			sample_holds(t, rb, now);
		if (o->cmd == CMD_LEAKS && o->interval_ns && now - t->last_leaks >= o->interval_ns)
			tracer_print_leaks(t, now);
		fflush(t->out.f);
		if (!c) {
			if (stop_signal || (o->duration_ns && now - start >= o->duration_ns))
				break;
			continue;
		}
		/*
		 * run: the command decides when we stop. A signal to us alone
		 * (kill PID) is passed on; Ctrl-C already reached the whole
		 * process group. --duration ends it with SIGTERM, then SIGKILL.
		 */
		if (stop_signal && !forwarded) {
			child_kill(c, stop_signal);
			forwarded = 1;
		}
		if (!term_at && o->duration_ns && now - start >= o->duration_ns) {
			child_kill(c, SIGTERM);
			term_at = now;
		}
		if (term_at && now - term_at >= KILL_GRACE_NS)
			child_kill(c, SIGKILL);
		if (!exited_at && child_poll(c))
			exited_at = now;
		if (!exited_at)
			continue;
		pintable_get_stats(t->table, &st);
		/* let asynchronous teardown (io_uring, bio completion) drop its pins */
		if ((!st.outstanding_refs && !agg_pending(&t->agg)) || now - exited_at >= o->linger_ns ||
		    forwarded)
			break;
	}
	ring_buffer__consume(rb);
	/* pins the kernel still holds are outstanding: into the table for the report */
	tracer_scan(t, now_mono_ns(), true);
	/* the exit report must not wait a second for a deficit to be confirmed */
	if (sample_holds(t, rb, now_mono_ns())) {
		usleep(100000);
		sample_holds(t, rb, now_mono_ns());
	}
	return err < 0 ? err : 0;
}

/* --record: a recording that misses records must not pass for a complete one */
static int record_close(struct tracer *t)
{
	__u64 records, lost;
	int err = rec_writer_close(t->rec, &records, &lost);

	if (err)
		fprintf(stderr, "pintrace: --record %s: %llu of %llu records not written: %s\n",
			t->o->record_path, (unsigned long long)lost, (unsigned long long)records,
			strerror(-err));
	t->rec = NULL;
	return err;
}

static int setup_child(struct tracer *t, struct child *c)
{
	int err = session_add_tgid(&t->sess, c->pid);

	if (err) {
		fprintf(stderr, "pintrace: cannot trace the command: %s\n", strerror(-err));
		return err;
	}
	return 0;
}

static int write_ready(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fclose(f)) {
		fprintf(stderr, "pintrace: cannot create ready file %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int trace_main(const struct pt_opts *o, const struct kernel_facts *kf,
	       const struct foll_table *foll, struct plan *plan, const struct btf *btf)
{
	struct session_opts so = {
		.btf_path = o->btf_path, .ringbuf_bytes = o->ringbuf_bytes,
		.allow_partial = o->allow_partial,
	};
	struct tracer t = { .o = o };
	struct report r = { .exit_status = -1 };
	struct verdict v = { .mask = o->fail_on, .max_lost = o->max_lost };
	struct vmstat_pins vm0, vm1;
	struct ring_buffer *rb = NULL;
	struct child c = { .pid = -1 }, *cp = NULL;
	int ret = EXIT_RUNTIME, err, merr;
	char summary[160];
	FILE *f = stdout;
	__u64 start, t0;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* "e": O_CLOEXEC, the traced command must not inherit our output */
	if (o->output_path && !(f = fopen(o->output_path, "we"))) {
		fprintf(stderr, "pintrace: cannot write %s: %s\n", o->output_path, strerror(errno));
		return EXIT_RUNTIME;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	overhead_init(&t.ov);
	if (tracer_setup(&t, o)) {
		fprintf(stderr, "pintrace: out of memory\n");
		goto out;
	}
	place_init(&t.place, btf);
	so.cfg = make_cfg(o, kf, foll);
	if (o->cmd == CMD_RUN) {
		err = child_spawn(&c, o->argv);
		if (err) {
			fprintf(stderr, "pintrace: cannot start %s: %s\n", o->argv[0], strerror(-err));
			goto out;
		}
		cp = &c;
	}
	/* event times are relative to this: nothing attached can predate it */
	t0 = now_mono_ns();
	/* before attaching: every run of every program is accounted */
	overhead_stats_start(&t.ov, !o->no_bpf_stats);
	err = session_start(&t.sess, plan, &so);
	if (err) {
		fprintf(stderr, "pintrace: %s\n", t.sess.err);
		ret = err == -ENOTSUP ? EXIT_UNSUPPORTED : EXIT_RUNTIME;
		goto out;
	}
	if (o->verbose)
		fprintf(stderr, "pintrace: BPF load %.0f ms, attach %.0f ms\n",
			t.sess.load_ns / 1e6, t.sess.attach_ns / 1e6);
	place_calibrate(&t.place, &t.sess);
	if (so.cfg.aggregate) {
		int pins_fd, agg_fd, hist_fd;

		session_agg_fds(&t.sess, &pins_fd, &agg_fd, &hist_fd);
		agg_free(&t.agg);
		if (agg_init(&t.agg, pins_fd, agg_fd, hist_fd, so.cfg.promote_ns)) {
			fprintf(stderr, "pintrace: out of memory\n");
			goto out;
		}
	}
	if (o->verbose || !t.place.zone_known)
		fprintf(stderr, "pintrace: zones: %s; pfn: %s; CMA: %s\n", t.place.how_zone,
			t.place.how_pfn, t.place.how_cma);
	if (cp && setup_child(&t, cp))
		goto out;
	if (o->record_path && !(t.rec = rec_writer_open(o->record_path, foll, t0))) {
		fprintf(stderr, "pintrace: cannot record to %s: %s\n", o->record_path, strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(session_rb_fd(&t.sess), t.rec ? tracer_on_record_saved : tracer_on_record, &t, NULL);
	if (!rb) {
		fprintf(stderr, "pintrace: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	err = overhead_ringbuf_open(&t.ov, session_rb_fd(&t.sess));
	if (err && o->verbose)
		fprintf(stderr, "pintrace: ring buffer fill not watched: %s\n", strerror(-err));
	session_attach_summary(&t.sess, summary, sizeof(summary));
	t.stacks.map_fd = session_stack_fd(&t.sess);
	start = now_mono_ns();
	t.last_sample = t.last_leaks = start;
	/* leaks: the periodic report is the output, not the event stream */
	out_init(&t.out, f, o->fmt, !o->quiet && o->cmd != CMD_LEAKS, foll, t0);
	out_attach(&t.out, kf, plan, summary);
	vmstat_read_pins(&vm0);
	if (o->ready_path && write_ready(o->ready_path))
		goto out;
	if (cp && stop_signal) {
		fprintf(stderr, "pintrace: interrupted before the command started\n");
		ret = 128 + stop_signal;
		goto out;
	}
	if (cp) {
		err = child_release(cp);
		if (err) {
			fprintf(stderr, "pintrace: cannot run %s: %s\n", o->argv[0], strerror(-err));
			ret = err == -ENOENT ? 127 : 126;
			goto out;
		}
	} else if (o->fmt == OUT_TEXT) {
		fprintf(stderr, "pintrace: tracing%s; Ctrl-C to stop\n",
			o->duration_ns ? " for the given duration" : "");
	}
	err = event_loop(&t, rb, cp, start);
	vmstat_read_pins(&vm1);
	if (err)
		fprintf(stderr, "pintrace: polling the ring buffer: %s\n", strerror(-err));

	/* what the kernel counted itself joins what came through the ring */
	merr = agg_merge(&t.agg, &t.sum);
	if (merr)
		fprintf(stderr, "pintrace: reading the kernel's counters: %s\n", strerror(-merr));
	r.sum = &t.sum;
	r.table = t.table;
	r.holds = &t.holds;
	r.mig = &t.mig;
	r.mov = &t.mov;
	r.place = &t.place;
	r.stacks = &t.stacks;
	session_migrate_stats(&t.sess, r.mstats);
	pintable_get_stats(t.table, &r.pts);
	session_counters(&t.sess, r.hc);
	overhead_collect(&t.ov, &t.sess);
	r.ovh = &t.ov;
	r.agg = so.cfg.aggregate ? &t.agg : NULL;
	r.no_stacks = so.cfg.no_stacks;
	r.plan = plan;
	r.vmstat_ok = vm0.ok && vm1.ok;
	r.vm_acquired = vm1.acquired - vm0.acquired;
	r.vm_released = vm1.released - vm0.released;
	r.filtered = so.cfg.filter_tgid || so.cfg.filter_tree || so.cfg.filter_comm;
	r.now_ns = now_mono_ns();
	r.min_age_ns = o->min_age_ns;
	r.elapsed_ns = r.now_ns - start;
	r.bad_records = t.bad_records;
	if (cp) {
		if (!child_poll(cp)) {
			child_kill(cp, SIGKILL);
			while (!child_poll(cp))
				usleep(1000);
		}
		r.exit_status = child_exit_code(cp);
	}
	tracer_stacks_ready(&t);
	verdict_eval(&v, &r);
	r.verdict = &v;
	report_print(&t.out, &r);
	ret = err ? EXIT_RUNTIME : verdict_exit(&v, cp ? r.exit_status : EXIT_OK);
out:
	if (cp && !c.reaped) {
		if (c.gate_fd >= 0) {
			child_abandon(cp);	/* never started: it exits by itself */
		} else {
			child_kill(cp, SIGKILL);
			while (!child_poll(cp))
				usleep(1000);
		}
	}
	ring_buffer__free(rb);
	if (record_close(&t) && ret == EXIT_OK)
		ret = EXIT_RUNTIME;
	overhead_free(&t.ov);
	session_stop(&t.sess);
	tracer_teardown(&t);
	/* a full disk or a closed pipe must not pass for a clean run */
	if ((f != stdout ? fclose(f) : fflush(stdout)) || (f == stdout && ferror(stdout))) {
		fprintf(stderr, "pintrace: writing the output failed: %s\n", strerror(errno));
		if (ret == EXIT_OK)
			ret = EXIT_RUNTIME;
	}
	return ret;
}
