// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "holds.h"
#include "util.h"

/* Outstanding holds grouped by pipe, for the exit report (bounded). */
#define MAX_PIPES 1024

struct pipe_group {
	__u64 pipe, ino, refs, oldest_t0;
	struct pin_owner owner;		/* who put the oldest page there */
};

struct groups {
	struct pipe_group g[MAX_PIPES];
	size_t n;
	__u64 dropped_refs;		/* holds of pipes beyond MAX_PIPES */
};

int holds_init(struct holds *h)
{
	struct pintable_opts o = { .min_hold_ns = ~0ULL, .match_holder = true };

	memset(h, 0, sizeof(*h));
	h->t = pintable_new(&o);
	return h->t ? 0 : -1;
}

void holds_free(struct holds *h)
{
	pintable_free(h->t);
	h->t = NULL;
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
}

struct release_ctx {
	struct output *o;
	const struct pt_event *e;
};

static void on_release(const struct unpin_match *m, void *ctx)
{
	struct release_ctx *c = ctx;

	out_release(c->o, c->e, m);
}

void holds_event(struct holds *h, struct output *o, const struct pt_event *e)
{
	struct release_ctx c = { .o = o, .e = e };
	struct pin_owner ow;

	switch (e->type) {
	case PT_EV_GRAB:
	case PT_EV_HOLD:
		if (!(e->pt_flags & PT_F_PIPE))
			return;
		owner_of(e, &ow);
		pintable_pin(h->t, e->folio, e->refs, &ow, e->ts_ns);
		if (e->type == PT_EV_GRAB)
			h->taken += e->refs;
		else
			h->added += e->refs;
		if (e->type == PT_EV_HOLD)
			out_hold(o, e);
		break;
	case PT_EV_RELEASE:
		h->released += e->refs;
		pintable_unpin(h->t, e->folio, e->refs, e->holder, e->ts_ns, on_release, &c);
		break;
	default:
		break;
	}
}

static void group_add(__u64 folio, const struct pin_owner *ow, __u32 refs, __u64 t0, void *ctx)
{
	struct groups *gs = ctx;
	size_t i;

	for (i = 0; i < gs->n; i++)
		if (gs->g[i].pipe == ow->holder)
			break;
	if (i == gs->n) {
		if (gs->n == MAX_PIPES) {
			gs->dropped_refs += refs;
			return;
		}
		memset(&gs->g[i], 0, sizeof(gs->g[i]));
		gs->g[i].pipe = ow->holder;
		gs->g[i].oldest_t0 = ~0ULL;
		gs->n++;
	}
	gs->g[i].refs += refs;
	if (ow->holder_id)
		gs->g[i].ino = ow->holder_id;
	if (t0 < gs->g[i].oldest_t0) {
		gs->g[i].oldest_t0 = t0;
		gs->g[i].owner = *ow;
	}
}

static struct groups *collect(struct holds *h)
{
	struct groups *gs = calloc(1, sizeof(*gs));

	if (gs)
		pintable_foreach_outstanding(h->t, group_add, gs);
	return gs;
}

void holds_report_text(struct holds *h, FILE *f, __u64 now_ns)
{
	struct pintable_stats st;
	char comm[4 * PT_COMM_LEN + 1], age[32];
	struct groups *gs;

	if (!h->taken && !h->added && !h->released)
		return;
	pintable_get_stats(h->t, &st);
	fprintf(f, "Pipe holds (vmsplice references): taken %llu, tee'd %llu, released %llu, "
		"outstanding %llu\n", (unsigned long long)h->taken, (unsigned long long)h->added,
		(unsigned long long)h->released, (unsigned long long)st.outstanding_refs);
	gs = collect(h);
	if (!gs)
		return;
	for (size_t i = 0; i < gs->n; i++) {
		const struct pipe_group *g = &gs->g[i];

		fprintf(f, "  !! pipe ino %llu holds %llu pages, oldest %s, vmspliced by %s/%u\n",
			(unsigned long long)g->ino, (unsigned long long)g->refs,
			fmt_duration(now_ns > g->oldest_t0 ? now_ns - g->oldest_t0 : 0, age, sizeof(age)),
			sanitize_text(g->owner.comm, sizeof(g->owner.comm), comm, sizeof(comm)),
			g->owner.pid);
	}
	if (gs->dropped_refs)
		fprintf(f, "  ... and %llu pages in further pipes\n",
			(unsigned long long)gs->dropped_refs);
	free(gs);
}

json_object *holds_report_json(struct holds *h, __u64 now_ns)
{
	json_object *j = json_object_new_object(), *pipes = json_object_new_array();
	struct pintable_stats st;
	struct groups *gs;

	pintable_get_stats(h->t, &st);
	json_object_object_add(j, "taken", json_object_new_int64((int64_t)h->taken));
	json_object_object_add(j, "teed", json_object_new_int64((int64_t)h->added));
	json_object_object_add(j, "released", json_object_new_int64((int64_t)h->released));
	json_object_object_add(j, "outstanding_refs", json_object_new_int64((int64_t)st.outstanding_refs));
	json_object_object_add(j, "unmatched_releases", json_object_new_int64((int64_t)st.preexisting_refs));
	gs = collect(h);
	for (size_t i = 0; gs && i < gs->n; i++) {
		const struct pipe_group *g = &gs->g[i];
		json_object *p = json_object_new_object();

		json_object_object_add(p, "pipe", json_hex(g->pipe));
		json_object_object_add(p, "ino", json_object_new_int64((int64_t)g->ino));
		json_object_object_add(p, "refs", json_object_new_int64((int64_t)g->refs));
		json_object_object_add(p, "oldest_age_ns", json_object_new_int64(
			now_ns > g->oldest_t0 ? (int64_t)(now_ns - g->oldest_t0) : 0));
		json_object_object_add(p, "pid", json_object_new_int64(g->owner.pid));
		json_object_object_add(p, "comm", json_str_kernel(g->owner.comm, sizeof(g->owner.comm)));
		json_object_array_add(pipes, p);
	}
	json_object_object_add(j, "pipes", pipes);
	if (gs && gs->dropped_refs)
		json_object_object_add(j, "pipes_not_listed_refs", json_object_new_int64((int64_t)gs->dropped_refs));
	free(gs);
	return j;
}
