// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "holds.h"
#include "util.h"

#define PAGE_BYTES 4096ULL	/* pipe buffers and frags are counted per page */

int holds_init(struct holds *h, const struct stackfmt *stacks)
{
	struct pintable_opts po = { .min_hold_ns = ~0ULL, .match_holder = true };
	struct pintable_opts so = { .min_hold_ns = ~0ULL, .match_holder = false };

	memset(h, 0, sizeof(*h));
	h->stacks = stacks;
	h->pipes = pintable_new(&po);
	h->skbs = pintable_new(&so);
	if (!h->pipes || !h->skbs) {
		holds_free(h);
		return -1;
	}
	return 0;
}

void holds_free(struct holds *h)
{
	pintable_free(h->pipes);
	pintable_free(h->skbs);
	h->pipes = h->skbs = NULL;
}

bool holds_any(const struct holds *h)
{
	return h->taken || h->added || h->released || h->skb_taken || h->skb_released || h->zc_done;
}

static void owner_of(const struct pt_event *e, struct pin_owner *ow)
{
	memset(ow, 0, sizeof(*ow));
	ow->pid = e->pid;
	ow->tid = e->tid;
	memcpy(ow->comm, e->comm, sizeof(ow->comm));
	ow->api = e->api;
	ow->hook = e->hook;
	ow->pt_flags = e->pt_flags;
	ow->gup_flags = e->gup_flags;
	ow->holder = e->holder;
	ow->holder_id = e->holder_id;
	ow->stack_id = e->stack_id;
	ow->origin_stack_id = -1;
	ow->pfn = e->pfn;
	ow->zone = e->zone;
	if (e->pt_flags & PT_F_SKB) {
		ow->tuple_addr = e->addr;
		ow->tuple_ports = e->nr_req;
	}
}

struct release_ctx {
	struct output *o;
	const struct pt_event *e;
};

static void on_pipe_release(const struct unpin_match *m, void *ctx)
{
	struct release_ctx *c = ctx;

	out_release(c->o, c->e, m);
}

static void on_skb_release(const struct unpin_match *m, void *ctx)
{
	struct release_ctx *c = ctx;

	out_skb_release(c->o, c->e, m);
}

/*
 * A socket took a reference on a page. If a pipe we follow holds the page,
 * that pipe hold is its origin (vmsplice -> pipe -> splice -> skb); if
 * another skb hold has it (an unclone or coalesce copy), the origin is
 * inherited from there.
 */
static void skb_hold(struct holds *h, struct output *o, const struct pt_event *e)
{
	__u64 t0p = 0, t0s = 0;
	const struct pin_owner *pipe = pintable_oldest(h->pipes, e->folio, &t0p);
	const struct pin_owner *skb = pintable_oldest(h->skbs, e->folio, &t0s);
	bool moved = e->pt_flags & PT_F_MOVED;
	struct pin_owner ow;

	owner_of(e, &ow);
	if (pipe && !moved) {
		ow.origin_pid = pipe->pid;
		memcpy(ow.origin_comm, pipe->comm, sizeof(ow.origin_comm));
		ow.origin_holder_id = pipe->holder_id;
		ow.origin_stack_id = pipe->stack_id;
		ow.origin_t0_ns = t0p;
		h->skb_from_pipe += e->refs;
	} else if (skb && skb->origin_pid) {
		ow.origin_pid = skb->origin_pid;
		memcpy(ow.origin_comm, skb->origin_comm, sizeof(ow.origin_comm));
		ow.origin_holder_id = skb->origin_holder_id;
		ow.origin_stack_id = skb->origin_stack_id;
		ow.origin_t0_ns = skb->origin_t0_ns;
	}
	/* an skb copy inherits who sent the page, not the softirq that copied it */
	if (moved && skb) {
		ow.pid = skb->pid;
		ow.tid = skb->tid;
		memcpy(ow.comm, skb->comm, sizeof(ow.comm));
		ow.stack_id = skb->stack_id;
	}
	out_skb_hold(o, e, &ow);
	pintable_pin(h->skbs, e->folio, e->refs, &ow, e->ts_ns);
	if (e->pt_flags & PT_F_MOVED)
		h->skb_moved += e->refs;
	else
		h->skb_taken += e->refs;
}

void holds_event(struct holds *h, struct output *o, const struct pt_event *e)
{
	struct release_ctx c = { .o = o, .e = e };
	struct pin_owner ow;

	switch (e->type) {
	case PT_EV_GRAB:
	case PT_EV_HOLD:
		if (e->pt_flags & PT_F_SKB) {
			skb_hold(h, o, e);
			break;
		}
		if (!(e->pt_flags & PT_F_PIPE))
			return;
		owner_of(e, &ow);
		pintable_pin(h->pipes, e->folio, e->refs, &ow, e->ts_ns);
		if (e->type == PT_EV_GRAB)
			h->taken += e->refs;
		else
			h->added += e->refs;
		if (e->type == PT_EV_HOLD)
			out_hold(o, e);
		break;
	case PT_EV_RELEASE:
		if (e->pt_flags & PT_F_SKB) {
			h->skb_released += e->refs;
			if (e->pt_flags & PT_F_SAMPLED)
				h->sampled_skb += e->refs;
			/* no key matches (not even pid 0): the oldest hold goes first */
			pintable_unpin(h->skbs, e->folio, e->refs, ~0ULL, e->ts_ns, on_skb_release, &c);
			break;
		}
		h->released += e->refs;
		if (e->pt_flags & PT_F_SAMPLED)
			h->sampled_pipe += e->refs;
		pintable_unpin(h->pipes, e->folio, e->refs, e->holder, e->ts_ns, on_pipe_release, &c);
		break;
	case PT_EV_ZC_DONE:
		h->zc_done += e->refs;
		if (e->pt_flags & PT_F_COPIED)
			h->zc_copied += e->refs;
		out_zc_done(o, e);
		break;
	default:
		break;
	}
}

void holds_sampled(struct holds *h, const struct pt_sample *s)
{
	h->samples++;
	h->last = *s;
}

/* ---- leak report: outstanding holds grouped by holder ------------------- */

#define MAX_GROUPS 1024

struct group {
	bool skb;
	__u64 holder, refs, oldest_t0;
	struct pin_owner owner;		/* the oldest hold's */
};

struct groups {
	struct group g[MAX_GROUPS];
	size_t n;
	__u64 min_t0;			/* holds started after this are too young */
	__u64 young_refs;		/* outstanding, younger than the threshold */
	__u64 unlisted_refs;		/* of holders beyond MAX_GROUPS */
	bool skb;			/* which table is being walked */
};

static void group_add(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0, void *ctx)
{
	struct groups *gs = ctx;
	size_t i;

	if (t0 > gs->min_t0) {
		gs->young_refs += refs;
		return;
	}
	for (i = 0; i < gs->n; i++)
		if (gs->g[i].skb == gs->skb && gs->g[i].holder == ow->holder)
			break;
	if (i == gs->n) {
		if (gs->n == MAX_GROUPS) {
			gs->unlisted_refs += refs;
			return;
		}
		memset(&gs->g[i], 0, sizeof(gs->g[i]));
		gs->g[i].skb = gs->skb;
		gs->g[i].holder = ow->holder;
		gs->g[i].oldest_t0 = ~0ULL;
		gs->n++;
	}
	gs->g[i].refs += refs;
	if (t0 < gs->g[i].oldest_t0) {
		gs->g[i].oldest_t0 = t0;
		gs->g[i].owner = *ow;
	}
}

static int by_age(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->oldest_t0 < y->oldest_t0 ? -1 : x->oldest_t0 > y->oldest_t0;
}

static struct groups *collect(struct holds *h, __u64 now_ns, __u64 min_age_ns)
{
	struct groups *gs = calloc(1, sizeof(*gs));

	if (!gs)
		return NULL;
	gs->min_t0 = now_ns > min_age_ns ? now_ns - min_age_ns : 0;
	pintable_foreach_outstanding(h->pipes, group_add, gs);
	gs->skb = true;
	pintable_foreach_outstanding(h->skbs, group_add, gs);
	qsort(gs->g, gs->n, sizeof(gs->g[0]), by_age);
	return gs;
}

static void text_group(const struct holds *h, FILE *f, const struct group *g, __u64 now_ns)
{
	char comm[4 * PT_COMM_LEN + 1], age[32], sock[96], bytes[32];
	const struct pin_owner *ow = &g->owner;

	fmt_duration(now_ns > g->oldest_t0 ? now_ns - g->oldest_t0 : 0, age, sizeof(age));
	fmt_bytes(g->refs * PAGE_BYTES, bytes, sizeof(bytes));
	sanitize_text(ow->comm, sizeof(ow->comm), comm, sizeof(comm));
	if (!g->skb) {
		fprintf(f, "  !! pipe ino %llu holds %llu pages (%s), oldest %s, vmspliced by %s/%u\n",
			(unsigned long long)ow->holder_id, (unsigned long long)g->refs, bytes, age,
			comm, ow->pid);
		stack_print(h->stacks, ow->stack_id, f, "       ", 8);
		return;
	}
	fprintf(f, "  !! socket ino %llu %s holds %llu pages (%s), oldest %s, sent by %s/%u\n",
		(unsigned long long)ow->holder_id,
		sock_format(ow->tuple_addr, ow->tuple_ports, sock, sizeof(sock)),
		(unsigned long long)g->refs, bytes, age, comm, ow->pid);
	stack_print(h->stacks, ow->stack_id, f, "       ", 8);
	if (ow->origin_pid) {
		sanitize_text(ow->origin_comm, sizeof(ow->origin_comm), comm, sizeof(comm));
		fmt_duration(now_ns > ow->origin_t0_ns ? now_ns - ow->origin_t0_ns : 0, age,
			     sizeof(age));
		fprintf(f, "       which got them from pipe ino %llu, vmspliced by %s/%u %s ago\n",
			(unsigned long long)ow->origin_holder_id, comm, ow->origin_pid, age);
		stack_print(h->stacks, ow->origin_stack_id, f, "       ", 8);
	}
}

void holds_leaks_text(struct holds *h, FILE *f, __u64 now_ns, __u64 min_age_ns)
{
	char age[32];
	struct groups *gs = collect(h, now_ns, min_age_ns);

	if (!gs)
		return;
	fprintf(f, "Leaks (holds older than %s): %zu holder%s\n",
		fmt_duration(min_age_ns, age, sizeof(age)), gs->n, gs->n == 1 ? "" : "s");
	for (size_t i = 0; i < gs->n; i++)
		text_group(h, f, &gs->g[i], now_ns);
	if (gs->unlisted_refs)
		fprintf(f, "  ... and %llu pages of further holders\n",
			(unsigned long long)gs->unlisted_refs);
	if (gs->young_refs)
		fprintf(f, "  (%llu younger holds not listed)\n", (unsigned long long)gs->young_refs);
	free(gs);
}

static json_object *ju(__u64 v)
{
	return json_object_new_int64((int64_t)v);
}

static json_object *json_group(const struct holds *h, const struct group *g, __u64 now_ns)
{
	const struct pin_owner *ow = &g->owner;
	json_object *j = json_object_new_object(), *st;
	char sock[96];

	json_object_object_add(j, "kind", json_object_new_string(g->skb ? "socket" : "pipe"));
	json_object_object_add(j, "holder", json_hex(g->holder));
	json_object_object_add(j, "ino", ju(ow->holder_id));
	if (g->skb && (ow->tuple_ports >> 32))
		json_object_object_add(j, "tuple", json_object_new_string(
			sock_format(ow->tuple_addr, ow->tuple_ports, sock, sizeof(sock))));
	json_object_object_add(j, "refs", ju(g->refs));
	json_object_object_add(j, "bytes", ju(g->refs * PAGE_BYTES));
	json_object_object_add(j, "oldest_age_ns", ju(now_ns > g->oldest_t0 ? now_ns - g->oldest_t0 : 0));
	json_object_object_add(j, "pid", ju(ow->pid));
	json_object_object_add(j, "comm", json_str_kernel(ow->comm, sizeof(ow->comm)));
	if ((st = stack_json(h->stacks, ow->stack_id)))
		json_object_object_add(j, "stack", st);
	if (ow->origin_pid) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "kind", json_object_new_string("pipe"));
		json_object_object_add(o, "ino", ju(ow->origin_holder_id));
		json_object_object_add(o, "pid", ju(ow->origin_pid));
		json_object_object_add(o, "comm", json_str_kernel(ow->origin_comm, sizeof(ow->origin_comm)));
		json_object_object_add(o, "age_ns", ju(now_ns > ow->origin_t0_ns ?
						       now_ns - ow->origin_t0_ns : 0));
		if ((st = stack_json(h->stacks, ow->origin_stack_id)))
			json_object_object_add(o, "stack", st);
		json_object_object_add(j, "origin", o);
	}
	return j;
}

json_object *holds_leaks_json(struct holds *h, __u64 now_ns, __u64 min_age_ns)
{
	json_object *j = json_object_new_object(), *arr = json_object_new_array();
	struct groups *gs = collect(h, now_ns, min_age_ns);

	json_object_object_add(j, "min_age_ns", ju(min_age_ns));
	for (size_t i = 0; gs && i < gs->n; i++)
		json_object_array_add(arr, json_group(h, &gs->g[i], now_ns));
	json_object_object_add(j, "holders", arr);
	if (gs) {
		json_object_object_add(j, "unlisted_refs", ju(gs->unlisted_refs));
		json_object_object_add(j, "younger_refs", ju(gs->young_refs));
	}
	free(gs);
	return j;
}

/* ---- exit summary ------------------------------------------------------- */

void holds_report_text(struct holds *h, FILE *f, __u64 now_ns, __u64 min_age_ns)
{
	struct pintable_stats ps, ss;

	if (!holds_any(h))
		return;
	pintable_get_stats(h->pipes, &ps);
	pintable_get_stats(h->skbs, &ss);
	fprintf(f, "Pipe holds (vmsplice references): taken %llu, tee'd %llu, released %llu, "
		"outstanding %llu\n", (unsigned long long)h->taken, (unsigned long long)h->added,
		(unsigned long long)h->released, (unsigned long long)ps.outstanding_refs);
	if (h->skb_taken || h->skb_released || h->zc_done)
		fprintf(f, "skb frag holds (sockets): taken %llu (%llu from pipes), skb copies %llu, "
			"released %llu, outstanding %llu; zerocopy completions %llu (copied %llu)\n",
			(unsigned long long)h->skb_taken, (unsigned long long)h->skb_from_pipe,
			(unsigned long long)h->skb_moved, (unsigned long long)h->skb_released,
			(unsigned long long)ss.outstanding_refs, (unsigned long long)h->zc_done,
			(unsigned long long)h->zc_copied);
	if (h->samples)
		fprintf(f, "Refcount sampler: %llu passes, corrected %llu pipe and %llu skb holds "
			"(missed releases); last pass: %llu folios, %llu agree, %llu with references "
			"of holders not seen, %llu large not checked, %llu locked (in flux) not judged, "
			"%llu short waiting for confirmation\n",
			(unsigned long long)h->samples, (unsigned long long)h->sampled_pipe,
			(unsigned long long)h->sampled_skb, (unsigned long long)h->last.folios,
			(unsigned long long)h->last.agree, (unsigned long long)h->last.more,
			(unsigned long long)h->last.skipped, (unsigned long long)h->last.busy,
			(unsigned long long)h->last.suspect);
	holds_leaks_text(h, f, now_ns, min_age_ns);
}

static void pipe_json(struct holds *h, json_object *summary, __u64 now_ns)
{
	json_object *j = json_object_new_object(), *pipes = json_object_new_array();
	struct groups *gs = collect(h, now_ns, 0);
	struct pintable_stats st;

	pintable_get_stats(h->pipes, &st);
	json_object_object_add(j, "taken", ju(h->taken));
	json_object_object_add(j, "teed", ju(h->added));
	json_object_object_add(j, "released", ju(h->released));
	json_object_object_add(j, "sampled_releases", ju(h->sampled_pipe));
	json_object_object_add(j, "outstanding_refs", ju(st.outstanding_refs));
	json_object_object_add(j, "unmatched_releases", ju(st.preexisting_refs));
	for (size_t i = 0; gs && i < gs->n; i++) {
		const struct group *g = &gs->g[i];
		json_object *p;

		if (g->skb)
			continue;
		p = json_object_new_object();
		json_object_object_add(p, "pipe", json_hex(g->holder));
		json_object_object_add(p, "ino", ju(g->owner.holder_id));
		json_object_object_add(p, "refs", ju(g->refs));
		json_object_object_add(p, "oldest_age_ns", ju(now_ns > g->oldest_t0 ?
							      now_ns - g->oldest_t0 : 0));
		json_object_object_add(p, "pid", ju(g->owner.pid));
		json_object_object_add(p, "comm", json_str_kernel(g->owner.comm, sizeof(g->owner.comm)));
		json_object_array_add(pipes, p);
	}
	json_object_object_add(j, "pipes", pipes);
	free(gs);
	json_object_object_add(summary, "pipe_holds", j);
}

void holds_report_json(struct holds *h, json_object *summary, __u64 now_ns, __u64 min_age_ns)
{
	json_object *s = json_object_new_object(), *zc = json_object_new_object();
	json_object *smp = json_object_new_object();
	struct pintable_stats st;

	pipe_json(h, summary, now_ns);
	pintable_get_stats(h->skbs, &st);
	json_object_object_add(s, "taken", ju(h->skb_taken));
	json_object_object_add(s, "from_pipes", ju(h->skb_from_pipe));
	json_object_object_add(s, "skb_copies", ju(h->skb_moved));
	json_object_object_add(s, "released", ju(h->skb_released));
	json_object_object_add(s, "sampled_releases", ju(h->sampled_skb));
	json_object_object_add(s, "outstanding_refs", ju(st.outstanding_refs));
	json_object_object_add(s, "unmatched_releases", ju(st.preexisting_refs));
	json_object_object_add(summary, "skb_holds", s);
	json_object_object_add(zc, "completed_sends", ju(h->zc_done));
	json_object_object_add(zc, "copied_sends", ju(h->zc_copied));
	json_object_object_add(summary, "zerocopy", zc);
	json_object_object_add(smp, "passes", ju(h->samples));
	json_object_object_add(smp, "corrected_pipe_refs", ju(h->sampled_pipe));
	json_object_object_add(smp, "corrected_skb_refs", ju(h->sampled_skb));
	json_object_object_add(smp, "last_folios", ju(h->last.folios));
	json_object_object_add(smp, "last_agree", ju(h->last.agree));
	json_object_object_add(smp, "last_more", ju(h->last.more));
	json_object_object_add(smp, "last_corrected", ju(h->last.corrected));
	json_object_object_add(smp, "last_large_skipped", ju(h->last.skipped));
	json_object_object_add(smp, "last_busy", ju(h->last.busy));
	json_object_object_add(smp, "last_suspect", ju(h->last.suspect));
	json_object_object_add(summary, "refcount_sampler", smp);
	json_object_object_add(summary, "leaks", holds_leaks_json(h, now_ns, min_age_ns));
}
