// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracing session: attach, stream ring-buffer records through the pin
 * table and the summary into the output, then report. All state lives in
 * struct tracer, handed to libbpf's callback as its context.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "child.h"
#include "holds.h"
#include "output.h"
#include "overhead.h"
#include "ksyms.h"
#include "migrate.h"
#include "movable.h"
#include "place.h"
#include "pintable.h"
#include "record.h"
#include "report.h"
#include "session.h"
#include "summary.h"
#include "trace.h"
#include "util.h"
#include "vmstat.h"

#define POLL_MS 100
/* How often the refcount sampler checks followed holds (bpf/sample.bpf.h). */
#define SAMPLE_NS 1000000000ULL

struct tracer {
	const struct pt_opts *o;
	struct session sess;
	struct output out;
	struct pintable *table;
	struct summary sum;
	struct holds holds;
	struct stackfmt stacks;
	struct place place;
	struct migrate mig;
	struct movable mov;
	__u64 last_sample, last_leaks;
	bool ksyms_tried;
	__u64 bad_records;
	const struct pt_event *cur;	/* event being matched, for the unpin callback */
	struct rec_writer *rec;		/* --record, or NULL */
	struct overhead ov;		/* pintrace's own cost, for the summary */
};

/* The only process-wide state: set from signal handlers, read by the loop. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void stacks_ready(struct tracer *t);

static void on_match(const struct unpin_match *m, void *ctx)
{
	struct tracer *t = ctx;

	summary_unpin_match(&t->sum, m);
	out_unpin(&t->out, t->cur, m);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;
	const struct pt_event *e = data;
	struct pin_owner ow;

	if (len < sizeof(*e)) {
		t->bad_records++;
		return 0;
	}
	switch (e->type) {
	case PT_EV_GRAB:
		summary_grab(&t->sum, e);
		if (e->pt_flags & PT_F_PIN) {
			memset(&ow, 0, sizeof(ow));
			ow.pid = e->pid;
			ow.tid = e->tid;
			memcpy(ow.comm, e->comm, sizeof(ow.comm));
			ow.api = e->api;
			ow.hook = e->hook;
			ow.pt_flags = e->pt_flags;
			ow.gup_flags = e->gup_flags;
			ow.stack_id = e->stack_id;
			ow.pfn = e->pfn;
			ow.zone = e->zone;
			pintable_pin(t->table, e->folio, e->refs, &ow, e->ts_ns);
			movable_grab(&t->mov, e, &ow);
		}
		out_grab(&t->out, e);
		holds_event(&t->holds, &t->out, e);
		break;
	case PT_EV_HOLD:
	case PT_EV_RELEASE:
	case PT_EV_ZC_DONE:
		holds_event(&t->holds, &t->out, e);
		break;
	case PT_EV_UNPIN:
		t->cur = e;
		pintable_unpin(t->table, e->folio, e->refs, e->pid, e->ts_ns, on_match, t);
		t->cur = NULL;
		break;
	case PT_EV_CALL:
		summary_call(&t->sum, e);
		out_call(&t->out, e);
		if (t->mov.ncands) {
			stacks_ready(t);
			movable_call(&t->mov, &t->out, e, t->table);
		}
		break;
	case PT_EV_MIGRATE_FAIL:
	case PT_EV_PIN_FAIL:
	case PT_EV_CMA:
		stacks_ready(t);
		/* fall through */
	case PT_EV_MIGRATE_PAGE:
	case PT_EV_SYSCALL:
	case PT_EV_RANGE:
		migrate_event(&t->mig, &t->out, e);
		break;
	default:
		t->bad_records++;
	}
	return 0;
}

/*
 * --record: each record goes to the file as received, then down the same
 * path. A callback of its own, so that not recording costs nothing per event.
 */
static int on_record_saved(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	rec_write(t->rec, data, (__u32)len);
	return on_record(ctx, data, len);
}

/* Pipe and skb holds past --min-hold: only those on movable/CMA memory are news. */
static void held_movable(struct tracer *t, enum mov_kind kind, __u64 folio,
			 const struct pin_owner *ow, __u64 t0, __u64 age)
{
	bool cma;

	if (!place_unpinnable(&t->place, ow->pfn, ow->zone, &cma))
		return;
	stacks_ready(t);
	movable_held(&t->mov, kind, folio, ow, t0, t0 + age);
}

static void on_held(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0,
		    __u64 age, void *ctx)
{
	struct tracer *t = ctx;

	out_held(&t->out, t0 + age, folio, ow, refs, age);
	held_movable(t, MOV_HELD_PIN, folio, ow, t0, age);
}

static void on_held_pipe(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0,
			 __u64 age, void *ctx)
{
	held_movable(ctx, MOV_HELD_PIPE, folio, ow, t0, age);
}

static void on_held_skb(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0,
			__u64 age, void *ctx)
{
	held_movable(ctx, MOV_HELD_SKB, folio, ow, t0, age);
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

/*
 * kallsyms is read when a report first needs a stack, not at start: it
 * costs tens of ms (seconds under emulation) that attach latency need not
 * pay. Without usable addresses (kptr_restrict) stacks print as hex.
 */
static void stacks_ready(struct tracer *t)
{
	if (t->ksyms_tried)
		return;
	t->ksyms_tried = true;
	t->stacks.ks = ksyms_load(NULL);
	if (t->stacks.ks && !ksyms_usable(t->stacks.ks)) {
		ksyms_free(t->stacks.ks);
		t->stacks.ks = NULL;
	}
}

/* pintrace leaks: the leak section, every --interval. */
static void print_leaks(struct tracer *t, __u64 now)
{
	t->last_leaks = now;
	stacks_ready(t);
	if (t->out.fmt == OUT_JSON) {
		json_object *j = holds_leaks_json(&t->holds, now, t->o->min_age_ns);

		json_object_object_add(j, "type", json_object_new_string("leaks"));
		json_object_object_add(j, "ts_ns", json_ts(&t->out, now));
		out_json_emit(&t->out, j);
		return;
	}
	holds_leaks_text(&t->holds, t->out.f, now, t->o->min_age_ns);
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
		pintable_scan_held(t->table, now, on_held, t);
		pintable_scan_held(t->holds.pipes, now, on_held_pipe, t);
		pintable_scan_held(t->holds.skbs, now, on_held_skb, t);
		movable_flush(&t->mov, &t->out);
		if (now - t->last_sample >= SAMPLE_NS)
			sample_holds(t, rb, now);
		if (o->cmd == CMD_LEAKS && o->interval_ns && now - t->last_leaks >= o->interval_ns)
			print_leaks(t, now);
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
		if (!st.outstanding_refs || now - exited_at >= o->linger_ns || forwarded)
			break;
	}
	ring_buffer__consume(rb);
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
	struct pintable_opts po = { .min_hold_ns = o->min_hold_ns };
	struct tracer t = { .o = o };
	struct report r = { .exit_status = -1 };
	struct verdict v = { .mask = o->fail_on, .max_lost = o->max_lost };
	struct vmstat_pins vm0, vm1;
	struct ring_buffer *rb = NULL;
	struct child c = { .pid = -1 }, *cp = NULL;
	int ret = EXIT_RUNTIME, err;
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
	t.table = pintable_new(&po);
	t.stacks.map_fd = -1;
	if (!t.table || summary_init(&t.sum) || holds_init(&t.holds, &t.stacks) ||
	    migrate_init(&t.mig, &t.place, &t.stacks, t.table, &t.holds)) {
		fprintf(stderr, "pintrace: out of memory\n");
		goto out;
	}
	/* pipe and skb holds past --min-hold are checked for movable memory */
	pintable_set_min_hold(t.holds.pipes, o->min_hold_ns);
	pintable_set_min_hold(t.holds.skbs, o->min_hold_ns);
	movable_init(&t.mov, &t.place, &t.stacks);
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
	if (o->verbose || !t.place.zone_known)
		fprintf(stderr, "pintrace: zones: %s; pfn: %s; CMA: %s\n", t.place.how_zone,
			t.place.how_pfn, t.place.how_cma);
	if (cp && setup_child(&t, cp))
		goto out;
	if (o->record_path && !(t.rec = rec_writer_open(o->record_path, foll, t0))) {
		fprintf(stderr, "pintrace: cannot record to %s: %s\n", o->record_path, strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(session_rb_fd(&t.sess), t.rec ? on_record_saved : on_record, &t, NULL);
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
	stacks_ready(&t);
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
	summary_free(&t.sum);
	holds_free(&t.holds);
	migrate_free(&t.mig);
	movable_free(&t.mov);
	ksyms_free(t.stacks.ks);
	pintable_free(t.table);
	/* a full disk or a closed pipe must not pass for a clean run */
	if ((f != stdout ? fclose(f) : fflush(stdout)) || (f == stdout && ferror(stdout))) {
		fprintf(stderr, "pintrace: writing the output failed: %s\n", strerror(errno));
		if (ret == EXIT_OK)
			ret = EXIT_RUNTIME;
	}
	return ret;
}

/* ---- the same pipeline without a session: pintrace replay (replay.c) ---- */

void tracer_free(struct tracer *t)
{
	if (!t)
		return;
	summary_free(&t->sum);
	holds_free(&t->holds);
	migrate_free(&t->mig);
	movable_free(&t->mov);
	pintable_free(t->table);
	free(t);
}

struct tracer *tracer_new(const struct pt_opts *o, FILE *f, const struct foll_table *foll,
			  __u64 t0_ns)
{
	struct pintable_opts po = { .min_hold_ns = o->min_hold_ns };
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = o;
	t->stacks.map_fd = -1;	/* the recorded kernel's stack map is gone */
	/* this machine's kallsyms would name the recorded kernel's addresses wrongly */
	t->ksyms_tried = true;
	t->table = pintable_new(&po);
	if (!t->table || summary_init(&t->sum) || holds_init(&t->holds, &t->stacks) ||
	    migrate_init(&t->mig, &t->place, &t->stacks, t->table, &t->holds)) {
		tracer_free(t);
		return NULL;
	}
	pintable_set_min_hold(t->holds.pipes, o->min_hold_ns);
	pintable_set_min_hold(t->holds.skbs, o->min_hold_ns);
	movable_init(&t->mov, &t->place, &t->stacks);
	place_init(&t->place, NULL);	/* zones and CMA areas: not in a recording */
	out_init(&t->out, f, o->fmt, !o->quiet, foll, t0_ns);
	return t;
}

void tracer_feed(struct tracer *t, const void *data, size_t len)
{
	on_record(t, (void *)data, len);
}

/* What the live loop does after each poll, with the events' clock as now. */
void tracer_tick(struct tracer *t, __u64 now_ns)
{
	pintable_scan_held(t->table, now_ns, on_held, t);
	pintable_scan_held(t->holds.pipes, now_ns, on_held_pipe, t);
	pintable_scan_held(t->holds.skbs, now_ns, on_held_skb, t);
	movable_flush(&t->mov, &t->out);
}

int tracer_report(struct tracer *t, __u64 now_ns, __u64 elapsed_ns)
{
	static const struct plan no_plan;	/* nothing was attached: no hook rows */
	struct verdict v = { .mask = t->o->fail_on, .max_lost = t->o->max_lost };
	struct report r = {
		.sum = &t->sum, .table = t->table, .holds = &t->holds, .mig = &t->mig,
		.mov = &t->mov, .place = &t->place, .stacks = &t->stacks, .plan = &no_plan,
		.now_ns = now_ns, .min_age_ns = t->o->min_age_ns, .elapsed_ns = elapsed_ns,
		.bad_records = t->bad_records, .exit_status = -1,
	};

	pintable_get_stats(t->table, &r.pts);
	verdict_eval(&v, &r);
	r.verdict = &v;
	report_print(&t->out, &r);
	return verdict_exit(&v, EXIT_OK);
}
