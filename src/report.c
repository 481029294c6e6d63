// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The exit summary, as text or as one JSON "summary" record. */
#include <stdlib.h>
#include <string.h>
#include "hooks.h"
#include "report.h"
#include "util.h"

#define OUTSTANDING_SHOWN 20

struct loss {
	__u64 rb_drops, map_full, stale, recursion, untracked;
};

static void loss_sum(const struct report *r, struct loss *l)
{
	memset(l, 0, sizeof(*l));
	for (int h = 0; h < PT_HOOK__MAX; h++) {
		l->rb_drops += r->hc[h].s.rb_drops;
		l->map_full += r->hc[h].s.map_full;
		l->stale += r->hc[h].s.stale;
		l->recursion += r->hc[h].recursion_misses;
		l->untracked += r->hc[h].s.untracked;
	}
}

__u64 report_lost(const struct report *r)
{
	struct loss l;

	loss_sum(r, &l);
	return l.rb_drops + l.map_full + l.stale + l.recursion + r->pts.table_full_refs +
	       r->bad_records;
}

/* ---- text ---- */

static void text_api(__u8 key, const struct summary_api *a, void *ctx)
{
	FILE *f = ctx;

	fprintf(f, "  %-26s %8llu %8llu %8llu %8llu %8llu %8llu %8llu\n", hook_name(key),
		(unsigned long long)a->pin_refs, (unsigned long long)a->longterm_pin_refs,
		(unsigned long long)a->get_refs,
		(unsigned long long)(a->unpin_refs[0] + a->unpin_refs[1] + a->unpin_refs[2]),
		(unsigned long long)a->calls, (unsigned long long)a->call_failures,
		(unsigned long long)a->call_short);
}

static void text_proc(const struct summary_proc *p, void *ctx)
{
	char comm[4 * PT_COMM_LEN + 1];
	FILE *f = ctx;

	fprintf(f, "  %-7u %-16s %8llu %8llu %8llu %8llu\n", p->pid,
		sanitize_text(p->comm, sizeof(p->comm), comm, sizeof(comm)),
		(unsigned long long)p->pin_refs, (unsigned long long)p->get_refs,
		(unsigned long long)(p->unpin_refs[0] + p->unpin_refs[1] + p->unpin_refs[2]),
		(unsigned long long)p->calls);
}

struct outstanding_ctx {
	struct output *o;
	json_object *arr;
	__u64 now;
	unsigned int shown, total;
};

static void text_outstanding(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0,
			     void *ctx)
{
	struct outstanding_ctx *c = ctx;
	char comm[4 * PT_COMM_LEN + 1], age[32];

	if (c->total++ >= OUTSTANDING_SHOWN)
		return;
	c->shown++;
	fprintf(c->o->f, "  folio=0x%llx refs=%u %s pid=%u comm=%s api=%s age=%s\n",
		(unsigned long long)folio, refs, ow->pt_flags & PT_F_LONGTERM ? "longterm" : "short-term",
		ow->pid, sanitize_text(ow->comm, sizeof(ow->comm), comm, sizeof(comm)),
		hook_name(ow->api ? ow->api : ow->hook),
		fmt_duration(c->now > t0 ? c->now - t0 : 0, age, sizeof(age)));
}

static void text_hooks(FILE *f, const struct report *r)
{
	fprintf(f, "Hooks:\n  %-26s %-7s %10s %10s %8s %8s %8s %8s\n", "HOOK", "BACKEND", "HITS",
		"EVENTS", "RBDROP", "MAPFULL", "RECURS", "KRETMISS");
	for (size_t i = 0; i < r->plan->n; i++) {
		const struct hook_plan *hp = &r->plan->hooks[i];
		const struct hook_counters *c = &r->hc[hp->def->id];

		if (!hp->attached)
			continue;
		fprintf(f, "  %-26s %-7s %10llu %10llu %8llu %8llu %8llu %8llu\n", hp->def->prog,
			backend_name(hp->attached), (unsigned long long)c->s.hits,
			(unsigned long long)c->s.events, (unsigned long long)c->s.rb_drops,
			(unsigned long long)c->s.map_full, (unsigned long long)c->recursion_misses,
			(unsigned long long)c->s.stale);
	}
}

/* How pins met their unpins: counted in the kernel, or every event streamed. */
static void matching_text(FILE *f, const struct agg *a, bool no_stacks)
{
	char d[32];

	if (no_stacks)
		fprintf(f, "Stacks: none walked for pins and references (--no-stacks)\n");
	if (!a) {
		fprintf(f, "Matching: every pin and unpin streamed (--stream)\n");
		return;
	}
	fprintf(f, "Matching: in the kernel; pins held %s or longer were followed here: "
		"%llu refs promoted, %llu unpinned refs sent (%llu of them not promoted first)%s\n",
		fmt_duration(a->promote_ns, d, sizeof(d)), (unsigned long long)a->promoted_refs,
		(unsigned long long)a->pair_refs, (unsigned long long)a->unseen_refs,
		a->scan_errors ? ", map scans cut short: see -v" : "");
}

static void report_text(struct output *o, const struct report *r)
{
	const struct summary_totals *t = summary_totals(r->sum);
	struct outstanding_ctx oc = { .o = o, .now = r->now_ns };
	__u64 other_ev = 0;
	FILE *f = o->f;
	struct loss l;
	char d[32];

	loss_sum(r, &l);
	fprintf(f, "\n--- pintrace summary (%s) ---\n", fmt_duration(r->elapsed_ns, d, sizeof(d)));
	fprintf(f, "Pins taken: %llu refs; unpinned: %llu (short %llu, held-long %llu, "
		"longterm %llu); pre-existing unpins: %llu; outstanding: %llu\n",
		(unsigned long long)t->pin_refs,
		(unsigned long long)(t->unpin_refs[0] + t->unpin_refs[1] + t->unpin_refs[2] +
				     t->preexisting_refs),
		(unsigned long long)t->unpin_refs[PIN_CLASS_SHORT],
		(unsigned long long)t->unpin_refs[PIN_CLASS_HELD_LONG],
		(unsigned long long)t->unpin_refs[PIN_CLASS_LONGTERM],
		(unsigned long long)t->preexisting_refs, (unsigned long long)r->pts.outstanding_refs);
	fprintf(f, "References taken (FOLL_GET): %llu (dropped by put_page, not matched here)\n",
		(unsigned long long)t->get_refs);
	if (r->vmstat_ok)
		fprintf(f, "Kernel /proc/vmstat: nr_foll_pin_acquired %+lld, nr_foll_pin_released %+lld%s\n",
			r->vm_acquired, r->vm_released,
			r->filtered ? " (all processes; pintrace counted only the traced ones)" : "");
	fprintf(f, "By API:\n  %-26s %8s %8s %8s %8s %8s %8s %8s\n", "API", "PINS", "LONGTERM",
		"REFS", "UNPINNED", "CALLS", "FAILED", "SHORT");
	summary_foreach_api(r->sum, text_api, f);
	fprintf(f, "By process:\n  %-7s %-16s %8s %8s %8s %8s\n", "PID", "COMM", "PINS", "REFS",
		"UNPINNED", "CALLS");
	summary_foreach_proc(r->sum, text_proc, f);
	if (summary_proc_other(r->sum, &other_ev))
		fprintf(f, "  (%llu events of further processes folded into 'other')\n",
			(unsigned long long)other_ev);
	report_stacks_text(f, r->sum, r->stacks);
	for (int c = 0; c < PIN_CLASS__MAX; c++) {
		const struct log2_hist *h = summary_hold_hist(r->sum, c);

		if (h->count) {
			fprintf(f, "Hold time, %s pins:\n", pin_class_name(c));
			hist_print(f, h, "ns");
		}
	}
	if (r->pts.outstanding_records) {
		fprintf(f, "Outstanding pins at exit:\n");
		pintable_foreach_outstanding(r->table, text_outstanding, &oc);
		if (oc.total > oc.shown)
			fprintf(f, "  ... and %u more records\n", oc.total - oc.shown);
	}
	holds_report_text(r->holds, f, r->now_ns, r->min_age_ns);
	if (r->place) {
		fprintf(f, "\n");
		place_print(r->place, f);
	}
	if (r->mov)
		movable_report_text(r->mov, f, r->now_ns);
	if (r->mig)
		migrate_report_text(r->mig, f, r->mstats, r->now_ns);
	text_hooks(f, r);
	fprintf(f, "Loss: ring buffer drops %llu, map full %llu, recursion misses %llu, "
		"kretprobe misses %llu, pin table full %llu, bad records %llu\n",
		(unsigned long long)l.rb_drops, (unsigned long long)l.map_full,
		(unsigned long long)l.recursion, (unsigned long long)l.stale,
		(unsigned long long)r->pts.table_full_refs, (unsigned long long)r->bad_records);
	matching_text(f, r->agg, r->no_stacks);
	if (r->ovh)
		overhead_text(r->ovh, f);
	if (r->verdict)
		verdict_text(r->verdict, f);
}

/* ---- JSON ---- */

static json_object *ju(__u64 v)
{
	return json_object_new_int64((int64_t)v);
}

static json_object *matching_json(const struct agg *a, bool no_stacks)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "pin_stacks", json_object_new_boolean(!no_stacks));
	json_object_object_add(j, "in_kernel", json_object_new_boolean(a != NULL));
	json_object_object_add(j, "promote_ns", ju(a ? a->promote_ns : 0));
	json_object_object_add(j, "promoted_refs", ju(a ? a->promoted_refs : 0));
	json_object_object_add(j, "unpin_records_refs", ju(a ? a->pair_refs : 0));
	json_object_object_add(j, "unseen_refs", ju(a ? a->unseen_refs : 0));
	json_object_object_add(j, "scan_errors", ju(a ? a->scan_errors : 0));
	return j;
}

static void json_api(__u8 key, const struct summary_api *a, void *ctx)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "api", json_object_new_string(hook_name(key)));
	json_object_object_add(j, "pin_refs", ju(a->pin_refs));
	json_object_object_add(j, "longterm_pin_refs", ju(a->longterm_pin_refs));
	json_object_object_add(j, "get_refs", ju(a->get_refs));
	json_object_object_add(j, "unpin_short", ju(a->unpin_refs[PIN_CLASS_SHORT]));
	json_object_object_add(j, "unpin_held_long", ju(a->unpin_refs[PIN_CLASS_HELD_LONG]));
	json_object_object_add(j, "unpin_longterm", ju(a->unpin_refs[PIN_CLASS_LONGTERM]));
	json_object_object_add(j, "calls", ju(a->calls));
	json_object_object_add(j, "call_failures", ju(a->call_failures));
	json_object_object_add(j, "call_short", ju(a->call_short));
	json_object_object_add(j, "pages_req", ju(a->pages_req));
	json_object_object_add(j, "pages_ret", ju(a->pages_ret));
	json_object_array_add(ctx, j);
}

static void json_proc(const struct summary_proc *p, void *ctx)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "pid", ju(p->pid));
	json_object_object_add(j, "comm", json_str_kernel(p->comm, sizeof(p->comm)));
	json_object_object_add(j, "pin_refs", ju(p->pin_refs));
	json_object_object_add(j, "get_refs", ju(p->get_refs));
	json_object_object_add(j, "unpin_short", ju(p->unpin_refs[PIN_CLASS_SHORT]));
	json_object_object_add(j, "unpin_held_long", ju(p->unpin_refs[PIN_CLASS_HELD_LONG]));
	json_object_object_add(j, "unpin_longterm", ju(p->unpin_refs[PIN_CLASS_LONGTERM]));
	json_object_object_add(j, "calls", ju(p->calls));
	json_object_array_add(ctx, j);
}

static void json_bucket(__u64 lo, __u64 hi, __u64 count, void *ctx)
{
	json_object *b = json_object_new_object();

	json_object_object_add(b, "min", ju(lo));
	json_object_object_add(b, "max", ju(hi));
	json_object_object_add(b, "count", ju(count));
	json_object_array_add(ctx, b);
}

static void json_outstanding(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0,
			     void *ctx)
{
	struct outstanding_ctx *c = ctx;
	json_object *j;

	if (c->total++ >= 1000)	/* bounded: the count says how many there were */
		return;
	j = json_object_new_object();
	json_object_object_add(j, "folio", json_hex(folio));
	json_object_object_add(j, "refs", ju(refs));
	json_object_object_add(j, "longterm", json_object_new_boolean(ow->pt_flags & PT_F_LONGTERM));
	json_object_object_add(j, "pid", ju(ow->pid));
	json_object_object_add(j, "comm", json_str_kernel(ow->comm, sizeof(ow->comm)));
	json_object_object_add(j, "api", json_object_new_string(hook_name(ow->api ? ow->api : ow->hook)));
	json_object_object_add(j, "age_ns", ju(c->now > t0 ? c->now - t0 : 0));
	json_object_array_add(c->arr, j);
}

static json_object *json_hooks(const struct report *r)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->plan->n; i++) {
		const struct hook_plan *hp = &r->plan->hooks[i];
		const struct hook_counters *c = &r->hc[hp->def->id];
		json_object *j;

		if (!hp->attached)
			continue;
		j = json_object_new_object();
		json_object_object_add(j, "hook", json_object_new_string(hp->def->prog));
		json_object_object_add(j, "symbol", json_object_new_string(hp->sym));
		json_object_object_add(j, "backend", json_object_new_string(backend_name(hp->attached)));
		json_object_object_add(j, "hits", ju(c->s.hits));
		json_object_object_add(j, "events", ju(c->s.events));
		json_object_object_add(j, "ringbuf_drops", ju(c->s.rb_drops));
		json_object_object_add(j, "map_full", ju(c->s.map_full));
		json_object_object_add(j, "recursion_misses", ju(c->recursion_misses));
		json_object_object_add(j, "kretprobe_misses", ju(c->s.stale));
		json_object_object_add(j, "untracked_unpins", ju(c->s.untracked));
		json_object_array_add(arr, j);
	}
	return arr;
}

static void report_json(struct output *o, const struct report *r)
{
	const struct summary_totals *t = summary_totals(r->sum);
	json_object *j = json_object_new_object(), *pins = json_object_new_object();
	json_object *apis = json_object_new_array(), *procs = json_object_new_array();
	json_object *hist = json_object_new_object(), *loss = json_object_new_object();
	struct outstanding_ctx oc = { .o = o, .arr = json_object_new_array(), .now = r->now_ns };
	struct loss l;

	loss_sum(r, &l);
	json_object_object_add(j, "type", json_object_new_string("summary"));
	json_object_object_add(j, "elapsed_ns", ju(r->elapsed_ns));
	json_object_object_add(pins, "acquired_refs", ju(t->pin_refs));
	json_object_object_add(pins, "released_refs", ju(t->unpin_refs[0] + t->unpin_refs[1] +
							  t->unpin_refs[2] + t->preexisting_refs));
	json_object_object_add(pins, "short", ju(t->unpin_refs[PIN_CLASS_SHORT]));
	json_object_object_add(pins, "held_long", ju(t->unpin_refs[PIN_CLASS_HELD_LONG]));
	json_object_object_add(pins, "longterm", ju(t->unpin_refs[PIN_CLASS_LONGTERM]));
	json_object_object_add(pins, "preexisting", ju(t->preexisting_refs));
	json_object_object_add(pins, "outstanding_refs", ju(r->pts.outstanding_refs));
	json_object_object_add(pins, "held_long_reported", ju(r->pts.held_long_reported));
	json_object_object_add(j, "pins", pins);
	json_object_object_add(j, "get_refs", ju(t->get_refs));
	json_object_object_add(j, "calls", ju(t->calls));
	json_object_object_add(j, "call_failures", ju(t->call_failures));
	if (r->vmstat_ok) {
		json_object *vm = json_object_new_object();

		json_object_object_add(vm, "nr_foll_pin_acquired", json_object_new_int64(r->vm_acquired));
		json_object_object_add(vm, "nr_foll_pin_released", json_object_new_int64(r->vm_released));
		json_object_object_add(vm, "all_processes", json_object_new_boolean(r->filtered));
		json_object_object_add(j, "kernel_vmstat", vm);
	}
	summary_foreach_api(r->sum, json_api, apis);
	json_object_object_add(j, "by_api", apis);
	summary_foreach_proc(r->sum, json_proc, procs);
	json_object_object_add(j, "by_process", procs);
	report_stacks_json(j, r->sum, r->stacks);
	for (int c = 0; c < PIN_CLASS__MAX; c++) {
		json_object *b = json_object_new_array();

		hist_foreach_nonzero(summary_hold_hist(r->sum, c), json_bucket, b);
		json_object_object_add(hist, pin_class_name(c), b);
	}
	json_object_object_add(j, "hold_hist_ns", hist);
	pintable_foreach_outstanding(r->table, json_outstanding, &oc);
	json_object_object_add(j, "outstanding", oc.arr);
	json_object_object_add(j, "outstanding_records", ju(r->pts.outstanding_records));
	json_object_object_add(loss, "ringbuf_drops", ju(l.rb_drops));
	json_object_object_add(loss, "map_full", ju(l.map_full));
	json_object_object_add(loss, "recursion_misses", ju(l.recursion));
	json_object_object_add(loss, "kretprobe_misses", ju(l.stale));
	json_object_object_add(loss, "pin_table_full", ju(r->pts.table_full_refs));
	json_object_object_add(loss, "bad_records", ju(r->bad_records));
	json_object_object_add(loss, "total", ju(report_lost(r)));
	json_object_object_add(j, "loss", loss);
	json_object_object_add(j, "matching", matching_json(r->agg, r->no_stacks));
	holds_report_json(r->holds, j, r->now_ns, r->min_age_ns);
	if (r->place)
		json_object_object_add(j, "placement", place_json(r->place));
	if (r->mov)
		json_object_object_add(j, "movable", movable_report_json(r->mov, r->now_ns));
	if (r->mig)
		json_object_object_add(j, "migration", migrate_report_json(r->mig, r->mstats, r->now_ns));
	json_object_object_add(j, "hooks", json_hooks(r));
	if (r->ovh)
		json_object_object_add(j, "overhead", overhead_json(r->ovh));
	if (r->exit_status >= 0)
		json_object_object_add(j, "exit_status", json_object_new_int(r->exit_status));
	if (r->verdict && r->verdict->mask)
		json_object_object_add(j, "verdict", verdict_json(r->verdict));
	out_json_emit(o, j);
}

void report_print(struct output *o, const struct report *r)
{
	if (o->fmt == OUT_JSON)
		report_json(o, r);
	else
		report_text(o, r);
	if (report_lost(r))
		fprintf(stderr, "pintrace: WARNING: %llu events or state updates were lost; "
			"counts are incomplete (see the loss line of the summary)\n",
			(unsigned long long)report_lost(r));
}
