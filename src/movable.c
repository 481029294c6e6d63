// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "hooks.h"
#include "movable.h"
#include "util.h"

static const char *const kind_names[] = {
	[MOV_LONGTERM_PIN] = "longterm_pin",
	[MOV_HELD_PIN] = "short_term_pin",
	[MOV_HELD_PIPE] = "pipe",
	[MOV_HELD_SKB] = "skb",
};

void movable_init(struct movable *mv, const struct place *pl, const struct stackfmt *sf)
{
	memset(mv, 0, sizeof(*mv));
	mv->pl = pl;
	mv->sf = sf;
}

void movable_free(struct movable *mv)
{
	free(mv->cands);
	mv->cands = NULL;
	mv->ncands = mv->cap = 0;
}

static bool unpinnable(const struct movable *mv, const struct pin_owner *ow, bool *cma)
{
	*cma = false;
	return mv->pl && place_unpinnable(mv->pl, ow->pfn, ow->zone, cma);
}

/*
 * A long-term pin on a movable page is normal while the call runs: GUP pins
 * first, then checks, unpins and migrates. Only what is still pinned when
 * the call returns is wrong, so the pin waits here until then.
 */
void movable_grab(struct movable *mv, const struct pt_event *e, const struct pin_owner *ow)
{
	bool cma;

	if (!(e->pt_flags & PT_F_PIN) || !(e->pt_flags & PT_F_LONGTERM) || !unpinnable(mv, ow, &cma))
		return;
	if (mv->ncands == mv->cap) {
		size_t cap = mv->cap ? mv->cap * 2 : 256;
		void *p;

		if (cap > MOV_MAX_CANDS || !(p = realloc(mv->cands, cap * sizeof(*mv->cands)))) {
			mv->cands_dropped++;
			return;
		}
		mv->cands = p;
		mv->cap = cap;
	}
	mv->cands[mv->ncands++] = (struct mov_cand){
		.tid = e->tid, .folio = e->folio, .ts_ns = e->ts_ns, .owner = *ow,
	};
}

static bool same_group(const struct mov_group *g, enum mov_kind k, const struct pin_owner *o)
{
	if (g->kind != k || g->owner.pid != o->pid || g->owner.stack_id != o->stack_id)
		return false;
	if (k == MOV_HELD_PIPE || k == MOV_HELD_SKB)
		return g->owner.holder == o->holder;
	return g->owner.api == o->api;
}

static void group_text(FILE *f, const struct mov_group *g, const struct movable *mv,
		       __u64 now_ns, const char *lead)
{
	char comm[4 * PT_COMM_LEN + 1], age[32], sock[96];
	const struct pin_owner *o = &g->owner;
	const char *api = hook_name(o->api ? o->api : o->hook);

	sanitize_text(o->comm, sizeof(o->comm), comm, sizeof(comm));
	(void)now_ns;
	fmt_duration(g->age_ns, age, sizeof(age));
	switch (g->kind) {
	case MOV_LONGTERM_PIN:
		fprintf(f, "%s long-term pin left on %s memory: %s/%u, %s (gup_flags 0x%llx), %u pages "
			"(pfn 0x%llx), %s: it should have been migrated first\n", lead,
			g->cma_pages ? "CMA" : place_zone_name(mv->pl, o->zone), comm, o->pid, api,
			(unsigned long long)o->gup_flags, g->pages, (unsigned long long)o->pfn, age);
		break;
	case MOV_HELD_PIN:
		fprintf(f, "%s short-term pin held on %s memory: %s/%u, %s (gup_flags 0x%llx), %u pages, "
			"held %s: blocks offline and CMA\n", lead,
			g->cma_pages ? "CMA" : place_zone_name(mv->pl, o->zone), comm, o->pid, api,
			(unsigned long long)o->gup_flags, g->pages, age);
		break;
	case MOV_HELD_PIPE:
		fprintf(f, "%s pipe ino %llu holds %s memory: %u pages vmspliced by %s/%u, held %s: "
			"blocks offline and CMA\n", lead, (unsigned long long)o->holder_id,
			g->cma_pages ? "CMA" : place_zone_name(mv->pl, o->zone), g->pages, comm, o->pid,
			age);
		break;
	case MOV_HELD_SKB:
		fprintf(f, "%s socket ino %llu %s holds %s memory: %u pages sent by %s/%u, held %s: "
			"blocks offline and CMA\n", lead, (unsigned long long)o->holder_id,
			sock_format(o->tuple_addr, o->tuple_ports, sock, sizeof(sock)),
			g->cma_pages ? "CMA" : place_zone_name(mv->pl, o->zone), g->pages, comm, o->pid,
			age);
		break;
	}
	stack_print(mv->sf, o->stack_id, f, "     ", 8);
}

static json_object *group_json(const struct mov_group *g, const struct movable *mv, __u64 now_ns)
{
	const struct pin_owner *o = &g->owner;
	json_object *j = json_object_new_object(), *z = json_object_new_object(), *st;
	char sock[96];

	json_object_object_add(j, "kind", json_object_new_string(kind_names[g->kind]));
	json_object_object_add(j, "pid", json_object_new_int64(o->pid));
	json_object_object_add(j, "tid", json_object_new_int64(o->tid));
	json_object_object_add(j, "comm", json_str_kernel(o->comm, sizeof(o->comm)));
	json_object_object_add(j, "api", json_object_new_string(hook_name(o->api ? o->api : o->hook)));
	json_object_object_add(j, "gup_flags", json_hex(o->gup_flags));
	json_object_object_add(j, "pages", json_object_new_int64(g->pages));
	json_object_object_add(j, "cma_pages", json_object_new_int64(g->cma_pages));
	(void)now_ns;
	json_object_object_add(j, "age_ns", json_object_new_int64((int64_t)g->age_ns));
	json_object_object_add(j, "pfn", json_hex(o->pfn));
	for (int i = 0; i < 8; i++)
		if (g->zone_pages[i])
			json_object_object_add(z, i == 7 ? "unknown" : place_zone_name(mv->pl, (__u8)i),
					       json_object_new_int64(g->zone_pages[i]));
	json_object_object_add(j, "zones", z);
	if (g->kind == MOV_HELD_PIPE || g->kind == MOV_HELD_SKB)
		json_object_object_add(j, "ino", json_object_new_int64((int64_t)o->holder_id));
	if (g->kind == MOV_HELD_SKB)
		json_object_object_add(j, "socket", json_object_new_string(
			sock_format(o->tuple_addr, o->tuple_ports, sock, sizeof(sock))));
	if ((st = stack_json(mv->sf, o->stack_id)))
		json_object_object_add(j, "stack", st);
	return j;
}

static void flag(struct movable *mv, enum mov_kind k, const struct pin_owner *ow,
		 __u64 t0_ns, __u64 now_ns, bool cma)
{
	struct mov_group *g = NULL;

	mv->flagged_pages++;
	for (size_t i = 0; i < mv->ngroups && !g; i++)
		if (same_group(&mv->groups[i], k, ow))
			g = &mv->groups[i];
	if (!g) {
		if (mv->ngroups == MOV_MAX_GROUPS) {
			mv->groups_more++;
			return;
		}
		g = &mv->groups[mv->ngroups++];
		memset(g, 0, sizeof(*g));
		g->kind = k;
		g->owner = *ow;
		g->first_ns = now_ns;
		g->t0_ns = t0_ns;
		g->age_ns = now_ns > t0_ns ? now_ns - t0_ns : 0;
		g->pages = 1;
		g->cma_pages = cma;
		g->zone_pages[ow->zone < 7 ? ow->zone : 7]++;
		return;
	}
	g->pages++;
	g->cma_pages += cma;
	g->zone_pages[ow->zone < 7 ? ow->zone : 7]++;
	if (t0_ns < g->t0_ns)
		g->t0_ns = t0_ns;
	if (now_ns > t0_ns && now_ns - t0_ns > g->age_ns)
		g->age_ns = now_ns - t0_ns;
}

/*
 * New groups are news, even with --quiet; printed after a batch (one scan,
 * one call) so that the line says how many pages the group has.
 */
void movable_flush(struct movable *mv, struct output *o)
{
	for (size_t i = 0; i < mv->ngroups; i++) {
		struct mov_group *g = &mv->groups[i];

		if (g->shown)
			continue;
		g->shown = true;
		if (o->fmt == OUT_TEXT) {
			group_text(o->f, g, mv, g->first_ns, "!!");
			continue;
		}
		json_object *j = group_json(g, mv, g->first_ns);

		json_object_object_add(j, "type", json_object_new_string(
			g->kind == MOV_LONGTERM_PIN ? "longterm_movable" : "held_movable"));
		json_object_object_add(j, "ts_ns", json_ts(o, g->first_ns));
		out_json_emit(o, j);
	}
}

void movable_call(struct movable *mv, struct output *o, const struct pt_event *e,
		  const struct pintable *pins)
{
	size_t keep = 0;

	for (size_t i = 0; i < mv->ncands; i++) {
		struct mov_cand *c = &mv->cands[i];
		__u64 t0;
		bool cma;

		if (c->tid != e->tid) {
			mv->cands[keep++] = *c;
			continue;
		}
		/* unpinned again before the call returned: migrated, as it should be */
		if (e->ret < 0 || !pintable_oldest(pins, c->folio, &t0))
			continue;
		unpinnable(mv, &c->owner, &cma);
		flag(mv, MOV_LONGTERM_PIN, &c->owner, c->ts_ns, e->ts_ns, cma);
	}
	mv->ncands = keep;
	movable_flush(mv, o);
}

void movable_held(struct movable *mv, enum mov_kind kind, __u64 folio,
		  const struct pin_owner *ow, __u64 t0_ns, __u64 now_ns)
{
	bool cma;

	(void)folio;
	if (unpinnable(mv, ow, &cma))
		flag(mv, kind, ow, t0_ns, now_ns, cma);
}

void movable_report_text(const struct movable *mv, FILE *f, __u64 now_ns)
{
	fprintf(f, "\nHolds on movable/CMA memory: %llu pages flagged in %zu groups\n",
		(unsigned long long)mv->flagged_pages, mv->ngroups);
	for (size_t i = 0; i < mv->ngroups; i++)
		group_text(f, &mv->groups[i], mv, now_ns, "  !!");
	if (mv->groups_more)
		fprintf(f, "  (%llu more flagged pages in groups not kept)\n",
			(unsigned long long)mv->groups_more);
	if (mv->cands_dropped)
		fprintf(f, "  !! %llu long-term pins on movable pages could not be checked (out of memory)\n",
			(unsigned long long)mv->cands_dropped);
}

json_object *movable_report_json(const struct movable *mv, __u64 now_ns)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < mv->ngroups; i++)
		json_object_array_add(a, group_json(&mv->groups[i], mv, now_ns));
	json_object_object_add(j, "groups", a);
	json_object_object_add(j, "flagged_pages", json_object_new_int64((int64_t)mv->flagged_pages));
	json_object_object_add(j, "pages_not_grouped", json_object_new_int64((int64_t)mv->groups_more));
	json_object_object_add(j, "pins_not_checked", json_object_new_int64((int64_t)mv->cands_dropped));
	return j;
}
