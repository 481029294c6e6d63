// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The record pipeline (see tracer.h): what every ring-buffer record does to
 * the tables, the summary and the output, and the periodic scans. Live
 * tracing (trace.c) and replay (replay.c) both run it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"
#include "trace.h"
#include "tracer.h"
#include "util.h"
#include "verdict.h"

static void on_match(const struct unpin_match *m, void *ctx)
{
	struct tracer *t = ctx;

	summary_unpin_match(&t->sum, m);
	out_unpin(&t->out, t->cur, m);
}

static void owner_from_event(struct pin_owner *ow, const struct pt_event *e, __u8 hook)
{
	memset(ow, 0, sizeof(*ow));
	ow->pid = e->pid;
	ow->tid = e->tid;
	memcpy(ow->comm, e->comm, sizeof(ow->comm));
	ow->api = e->api;
	ow->hook = hook;
	ow->pt_flags = e->pt_flags & ~PT_F_AGG;
	ow->gup_flags = e->gup_flags;
	ow->stack_id = e->stack_id;
	ow->pfn = e->pfn;
	ow->zone = e->zone;
}

/* A pin the kernel kept in its pins map long enough: into the table. */
static void on_promote(__u64 folio, const struct pt_pin *p, __u32 refs, void *ctx)
{
	struct tracer *t = ctx;
	struct pin_owner ow = {
		.pid = p->tgid, .tid = p->tid, .api = p->api, .hook = p->hook,
		.pt_flags = p->pt_flags, .gup_flags = p->gup_flags, .stack_id = p->stack_id,
		.pfn = p->pfn, .zone = p->zone,
	};

	memcpy(ow.comm, p->comm, sizeof(ow.comm));
	ow.comm[PT_COMM_LEN - 1] = '\0';
	pintable_pin(t->table, folio, refs, &ow, p->t0);
}

/*
 * The unpin of a pin matched in the kernel and held >= promote_ns. What
 * was promoted is in the table; the rest (it came of age between two scans)
 * is put there now, at its real pin time, so the match sees the real hold.
 */
static void agg_unpin_record(struct tracer *t, const struct pt_event *e)
{
	__u32 seen = agg_unpin(&t->agg, e->folio, e->refs);
	struct pin_owner ow;

	/* the owner, as include/pintrace.h lays it out for PT_F_AGG */
	owner_from_event(&ow, e, (__u8)e->nr_req);
	ow.pid = (__u64)e->ret >> 32;
	ow.tid = (__u32)e->ret;
	_Static_assert(sizeof(ow.comm) == sizeof(e->holder) + sizeof(e->holder_id) &&
		       offsetof(struct pt_event, holder_id) ==
		       offsetof(struct pt_event, holder) + sizeof(e->holder),
		       "PT_F_AGG: the owner's comm fills holder and holder_id");
	memcpy(ow.comm, &e->holder, sizeof(ow.comm));
	ow.comm[PT_COMM_LEN - 1] = '\0';
	if (seen < e->refs)
		pintable_pin(t->table, e->folio, e->refs - seen, &ow, e->addr);
	/* the owner's records first: the unpinner is often a kworker */
	pintable_unpin(t->table, e->folio, e->refs, ow.pid, e->ts_ns, on_match, t);
}

int tracer_on_record(void *ctx, void *data, size_t len)
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
			owner_from_event(&ow, e, e->hook);
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
		if (e->pt_flags & PT_F_AGG)
			agg_unpin_record(t, e);
		else
			pintable_unpin(t->table, e->folio, e->refs, e->pid, e->ts_ns, on_match, t);
		t->cur = NULL;
		break;
	case PT_EV_CALL:
		summary_call(&t->sum, e);
		out_call(&t->out, e);
		if (t->mov.ncands) {
			tracer_stacks_ready(t);
			movable_call(&t->mov, &t->out, e, t->table);
		}
		break;
	case PT_EV_MIGRATE_PAGE:
		/* a short-term pin may be what holds it: name it while it is there */
		agg_promote_folio(&t->agg, e->folio, on_promote, t);
		migrate_event(&t->mig, &t->out, e);
		break;
	case PT_EV_MIGRATE_FAIL:
	case PT_EV_PIN_FAIL:
	case PT_EV_CMA:
		tracer_stacks_ready(t);
		/* fall through */
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
int tracer_on_record_saved(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	rec_write(t->rec, data, (__u32)len);
	return tracer_on_record(ctx, data, len);
}

/* Pipe and skb holds past --min-hold: only those on movable/CMA memory are news. */
static void held_movable(struct tracer *t, enum mov_kind kind, __u64 folio,
			 const struct pin_owner *ow, __u64 t0, __u64 age)
{
	bool cma;

	if (!place_unpinnable(&t->place, ow->pfn, ow->zone, &cma))
		return;
	tracer_stacks_ready(t);
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

void tracer_scan(struct tracer *t, __u64 now_ns, bool final)
{
	long err = agg_scan(&t->agg, now_ns, final, on_promote, t);

	if (err < 0 && t->o->verbose)
		fprintf(stderr, "pintrace: reading the kernel's pin map: %s\n", strerror((int)-err));
	pintable_scan_held(t->table, now_ns, on_held, t);
	pintable_scan_held(t->holds.pipes, now_ns, on_held_pipe, t);
	pintable_scan_held(t->holds.skbs, now_ns, on_held_skb, t);
	movable_flush(&t->mov, &t->out);
}

/*
 * kallsyms is read when a report first needs a stack, not at start: it
 * costs tens of ms (seconds under emulation) that attach latency need not
 * pay. Without usable addresses (kptr_restrict) stacks print as hex.
 */
void tracer_stacks_ready(struct tracer *t)
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

void tracer_print_leaks(struct tracer *t, __u64 now)
{
	t->last_leaks = now;
	tracer_stacks_ready(t);
	if (t->out.fmt == OUT_JSON) {
		json_object *j = holds_leaks_json(&t->holds, now, t->o->min_age_ns);

		json_object_object_add(j, "type", json_object_new_string("leaks"));
		json_object_object_add(j, "ts_ns", json_ts(&t->out, now));
		out_json_emit(&t->out, j);
		return;
	}
	holds_leaks_text(&t->holds, t->out.f, now, t->o->min_age_ns);
}

int tracer_setup(struct tracer *t, const struct pt_opts *o)
{
	struct pintable_opts po = { .min_hold_ns = o->min_hold_ns };

	t->o = o;
	t->stacks.map_fd = -1;
	t->table = pintable_new(&po);
	if (!t->table || summary_init(&t->sum) || holds_init(&t->holds, &t->stacks) ||
	    migrate_init(&t->mig, &t->place, &t->stacks, t->table, &t->holds) ||
	    agg_init(&t->agg, -1, -1, -1, 0))
		return -ENOMEM;
	/* pipe and skb holds past --min-hold are checked for movable memory */
	pintable_set_min_hold(t->holds.pipes, o->min_hold_ns);
	pintable_set_min_hold(t->holds.skbs, o->min_hold_ns);
	movable_init(&t->mov, &t->place, &t->stacks);
	return 0;
}

void tracer_teardown(struct tracer *t)
{
	summary_free(&t->sum);
	holds_free(&t->holds);
	migrate_free(&t->mig);
	movable_free(&t->mov);
	agg_free(&t->agg);
	ksyms_free(t->stacks.ks);
	t->stacks.ks = NULL;
	pintable_free(t->table);
	t->table = NULL;
}

/* ---- the same pipeline without a session: pintrace replay (replay.c) ---- */

void tracer_free(struct tracer *t)
{
	if (!t)
		return;
	tracer_teardown(t);
	free(t);
}

struct tracer *tracer_new(const struct pt_opts *o, FILE *f, const struct foll_table *foll,
			  __u64 t0_ns)
{
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (tracer_setup(t, o)) {
		tracer_free(t);
		return NULL;
	}
	/* this machine's kallsyms would name the recorded kernel's addresses wrongly */
	t->ksyms_tried = true;
	place_init(&t->place, NULL);	/* zones and CMA areas: not in a recording */
	out_init(&t->out, f, o->fmt, !o->quiet, foll, t0_ns);
	return t;
}

void tracer_feed(struct tracer *t, const void *data, size_t len)
{
	tracer_on_record(t, (void *)data, len);
}

/* What the live loop does after each poll, with the events' clock as now. */
void tracer_tick(struct tracer *t, __u64 now_ns)
{
	tracer_scan(t, now_ns, false);
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
