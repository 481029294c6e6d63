// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rendering of migration failures, failed long-term pins, memory offline
 * results and flagged holds on movable memory: live (text "!!" lines or
 * NDJSON records, shown even with --quiet: they are what pintrace is for)
 * and in the exit summary.
 */
#include <errno.h>
#include <string.h>
#include "hooks.h"
#include "migrate.h"
#include "movable.h"
#include "util.h"

#define STACK_FRAMES 8

static const char *comm_of(const char *c, char *buf, size_t len)
{
	return sanitize_text(c, PT_COMM_LEN, buf, len);
}

const char *errno_text(__s64 ret, char *buf, size_t len)
{
	const char *n = NULL;

	switch (-ret) {
	case ENOMEM: n = "ENOMEM"; break;
	case EBUSY: n = "EBUSY"; break;
	case EFAULT: n = "EFAULT"; break;
	case EAGAIN: n = "EAGAIN"; break;
	case EINTR: n = "EINTR"; break;
	case EINVAL: n = "EINVAL"; break;
	case EPERM: n = "EPERM"; break;
	}
	if (n)
		snprintf(buf, len, "%lld (%s)", (long long)ret, n);
	else
		snprintf(buf, len, "%lld", (long long)ret);
	return buf;
}

static const char *fail_reason(const struct mig_failure *f, char *buf, size_t len)
{
	if (f->reason == MIG_REASON_NONE)
		return "no migration detail";
	return migrate_reason_name(f->reason, buf, len);
}

static void holder_text(FILE *out, const struct mig_failure *f, const struct mig_holder *h,
			const struct stackfmt *sf)
{
	char comm[4 * PT_COMM_LEN + 1], age[32], sock[96], at[40] = "";
	const struct pin_owner *o = &h->owner;
	__u64 held = f->ts_ns > h->t0_ns ? f->ts_ns - h->t0_ns : 0;

	comm_of(o->comm, comm, sizeof(comm));
	fmt_duration(held, age, sizeof(age));
	/* which page: the oldest hold's, so that a reader can find it */
	if (o->pfn != PT_PFN_UNKNOWN)
		snprintf(at, sizeof(at), " (oldest at pfn 0x%llx)", (unsigned long long)o->pfn);
	switch (h->kind) {
	case HOLDER_PIPE:
		fprintf(out, "     held by pipe ino %llu: %u pages%s, vmspliced by %s/%u, %s before\n",
			(unsigned long long)o->holder_id, h->pages, at, comm, o->pid, age);
		break;
	case HOLDER_SKB:
		fprintf(out, "     held by socket ino %llu %s: %u pages%s (skb frags), sent by %s/%u, "
			"%s before\n", (unsigned long long)o->holder_id,
			sock_format(o->tuple_addr, o->tuple_ports, sock, sizeof(sock)), h->pages, at,
			comm, o->pid, age);
		if (o->origin_pid)
			fprintf(out, "       which got them from pipe ino %llu, vmspliced by %s/%u\n",
				(unsigned long long)o->origin_holder_id,
				comm_of(o->origin_comm, comm, sizeof(comm)), o->origin_pid);
		break;
	case HOLDER_PIN:
		fprintf(out, "     held by a %s pin: %u pages%s, %s by %s/%u, %s before\n",
			o->pt_flags & PT_F_LONGTERM ? "long-term" : "short-term", h->pages, at,
			hook_name(o->api ? o->api : o->hook), comm, o->pid, age);
		break;
	}
	stack_print(sf, o->stack_id, out, "       ", STACK_FRAMES);
}

static void holders_text(FILE *out, const struct mig_failure *f, const struct stackfmt *sf)
{
	for (__u32 i = 0; i < f->nholders; i++)
		holder_text(out, f, &f->holders[i], sf);
	if (f->holders_more)
		fprintf(out, "     (%u more holders)\n", f->holders_more);
}

static const char *cma_area(const struct place *pl, __u64 pfn)
{
	int i = pl && pl->ncma ? cma_find(pl->cma, pl->ncma, pfn) : -1;

	return i >= 0 ? pl->cma[i].name : "?";
}

/* Where a refused page lives: "CMA area hugetlb0", "zone Movable". */
static const char *refused_where(const struct mig_failure *f, const struct place *pl,
				 char *buf, size_t len)
{
	int i = pl && pl->ncma && f->refused_pfn != PT_PFN_UNKNOWN ?
		cma_find(pl->cma, pl->ncma, f->refused_pfn) : -1;

	if (i >= 0)
		snprintf(buf, len, "CMA area %s", pl->cma[i].name);
	else
		snprintf(buf, len, "zone %s", f->refused_zone == PT_ZONE_UNKNOWN ? "?" :
			 place_zone_name(pl, f->refused_zone));
	return buf;
}

/* The pages the kernel would not pin long term, for a failed pin. */
static void refused_text(FILE *out, const struct mig_failure *f, const struct place *pl)
{
	char where[96];

	if (!f->pin_refused)
		return;
	fprintf(out, "     the kernel refused %u page%s as not long-term pinnable, the first at "
		"pfn 0x%llx (%s)%s\n", f->pin_refused, f->pin_refused == 1 ? "" : "s",
		(unsigned long long)f->refused_pfn, refused_where(f, pl, where, sizeof(where)),
		f->reason == MIG_REASON_NONE ? ", and migrated nothing: that is why" : "");
}

static json_object *refused_json(const struct mig_failure *f, const struct place *pl)
{
	json_object *r = json_object_new_object();
	int i = pl && pl->ncma && f->refused_pfn != PT_PFN_UNKNOWN ?
		cma_find(pl->cma, pl->ncma, f->refused_pfn) : -1;

	json_object_object_add(r, "pages", json_object_new_int64(f->pin_refused));
	json_object_object_add(r, "pfn", f->refused_pfn == PT_PFN_UNKNOWN ? NULL :
			       json_hex(f->refused_pfn));
	json_object_object_add(r, "cma_area", i >= 0 ? json_object_new_string(pl->cma[i].name) : NULL);
	json_object_object_add(r, "zone", f->refused_zone == PT_ZONE_UNKNOWN ? NULL :
			       json_object_new_string(place_zone_name(pl, f->refused_zone)));
	return r;
}

static void cma_busy_text(FILE *out, const struct mig_failure *f, const struct place *pl,
			  const struct stackfmt *sf, const char *comm)
{
	fprintf(out, "!! CMA window busy (area %s) in %s/%u: pfn 0x%llx +%llu pages could not be "
		"isolated; %u of them held by holds pintrace follows%s\n", cma_area(pl, f->pin_addr),
		comm, f->pid, (unsigned long long)f->pin_addr, (unsigned long long)f->failed,
		f->listed, f->truncated ? " (window not fully checked)" : "");
	if (f->suppressed)
		fprintf(out, "   (busy %llu more times since it was last detailed, only counted)\n",
			(unsigned long long)f->suppressed);
	stack_print(sf, f->stack_id, out, "   ", STACK_FRAMES);
	holders_text(out, f, sf);
}

void migrate_failure_text(FILE *out, const struct mig_failure *f, const struct place *pl,
			  const struct stackfmt *sf, __u64 now_ns)
{
	char comm[4 * PT_COMM_LEN + 1], rb[24], eb[48], zones[160] = "";
	size_t zl = 0;

	comm_of(f->comm, comm, sizeof(comm));
	if (f->reason == MIG_REASON_CMA_BUSY) {
		cma_busy_text(out, f, pl, sf, comm);
		return;
	}
	if (f->reason != MIG_REASON_NONE) {
		for (int z = 0; z < 8; z++)
			if (f->zone_pages[z] && zl < sizeof(zones))
				zl += snprintf(zones + zl, sizeof(zones) - zl, "%s%s %u",
					       zl ? ", " : "", z == 7 ? "zone ?" :
					       place_zone_name(pl, (__u8)z), f->zone_pages[z]);
		if (f->cma_pages && zl < sizeof(zones))
			snprintf(zones + zl, sizeof(zones) - zl, ", CMA %u", f->cma_pages);
		fprintf(out, "!! migration failed (%s) in %s/%u: %llu pages not moved, %llu moved; "
			"%u folios listed (%s)%s\n", fail_reason(f, rb, sizeof(rb)), comm, f->pid,
			(unsigned long long)f->failed, (unsigned long long)f->moved, f->listed,
			zones[0] ? zones : "none", f->truncated ? ", list truncated" : "");
		if (f->suppressed)
			fprintf(out, "   (and %llu earlier failures of this task, only counted)\n",
				(unsigned long long)f->suppressed);
		stack_print(sf, f->stack_id, out, "   ", STACK_FRAMES);
		holders_text(out, f, sf);
		if (f->unknown)
			fprintf(out, "     %u pages: holder not seen (taken before tracing started or by "
				"an untraced path)\n", f->unknown);
	}
	if (f->pin_failed) {
		fprintf(out, "%s long-term pin failed in %s/%u: %s of %llu pages at 0x%llx returned %s\n",
			f->reason == MIG_REASON_NONE ? "!!" : "  ->", comm, f->pid, hook_name(f->pin_api),
			(unsigned long long)f->pin_nr, (unsigned long long)f->pin_addr,
			errno_text(f->pin_ret, eb, sizeof(eb)));
		refused_text(out, f, pl);
		if (f->sys_known)
			fprintf(out, "     the process got %s from %s\n",
				errno_text(f->sys_ret, eb, sizeof(eb)),
				syscall_name(f->sys_nr, rb, sizeof(rb)));
	}
}

static json_object *holder_json(const struct mig_failure *f, const struct mig_holder *h,
				const struct stackfmt *sf)
{
	static const char *const kinds[] = { "pin", "pipe", "skb" };
	const struct pin_owner *o = &h->owner;
	json_object *j = json_object_new_object(), *st;
	char sock[96];

	json_object_object_add(j, "kind", json_object_new_string(kinds[h->kind]));
	json_object_object_add(j, "pages", json_object_new_int64(h->pages));
	json_object_object_add(j, "pfn", o->pfn == PT_PFN_UNKNOWN ? NULL : json_hex(o->pfn));
	json_object_object_add(j, "pid", json_object_new_int64(o->pid));
	json_object_object_add(j, "comm", json_str_kernel(o->comm, sizeof(o->comm)));
	json_object_object_add(j, "held_ns", json_object_new_int64(
		(int64_t)(f->ts_ns > h->t0_ns ? f->ts_ns - h->t0_ns : 0)));
	json_object_object_add(j, "api", json_object_new_string(hook_name(o->api ? o->api : o->hook)));
	if (h->kind != HOLDER_PIN)
		json_object_object_add(j, "ino", json_object_new_int64((int64_t)o->holder_id));
	if (h->kind == HOLDER_PIN)
		json_object_object_add(j, "longterm", json_object_new_boolean(o->pt_flags & PT_F_LONGTERM));
	if (h->kind == HOLDER_SKB)
		json_object_object_add(j, "socket", json_object_new_string(
			sock_format(o->tuple_addr, o->tuple_ports, sock, sizeof(sock))));
	if (o->origin_pid) {
		json_object *og = json_object_new_object();

		json_object_object_add(og, "pipe_ino", json_object_new_int64((int64_t)o->origin_holder_id));
		json_object_object_add(og, "pid", json_object_new_int64(o->origin_pid));
		json_object_object_add(og, "comm", json_str_kernel(o->origin_comm, sizeof(o->origin_comm)));
		json_object_object_add(j, "origin", og);
	}
	if ((st = stack_json(sf, o->stack_id)))
		json_object_object_add(j, "stack", st);
	return j;
}

json_object *migrate_failure_json(const struct mig_failure *f, const struct place *pl,
				  const struct stackfmt *sf, __u64 now_ns)
{
	json_object *j = json_object_new_object(), *hs = json_object_new_array(), *z, *st;
	char rb[24];

	json_object_object_add(j, "id", json_object_new_int64((int64_t)f->id));
	json_object_object_add(j, "pid", json_object_new_int64(f->pid));
	json_object_object_add(j, "tid", json_object_new_int64(f->tid));
	json_object_object_add(j, "comm", json_str_kernel(f->comm, sizeof(f->comm)));
	json_object_object_add(j, "ago_ns", json_object_new_int64(
		(int64_t)(now_ns > f->ts_ns ? now_ns - f->ts_ns : 0)));
	if (f->reason == MIG_REASON_CMA_BUSY) {
		json_object_object_add(j, "cma_area", json_object_new_string(cma_area(pl, f->pin_addr)));
		json_object_object_add(j, "pfn", json_hex(f->pin_addr));
	}
	if (f->reason != MIG_REASON_NONE) {
		json_object_object_add(j, "reason", json_object_new_string(fail_reason(f, rb, sizeof(rb))));
		json_object_object_add(j, "pages_failed", json_object_new_int64((int64_t)f->failed));
		json_object_object_add(j, "pages_moved", json_object_new_int64((int64_t)f->moved));
		json_object_object_add(j, "folios_listed", json_object_new_int64(f->listed));
		json_object_object_add(j, "truncated", json_object_new_boolean(f->truncated));
		json_object_object_add(j, "earlier_failures_counted",
				       json_object_new_int64((int64_t)f->suppressed));
		z = json_object_new_object();
		for (int i = 0; i < 8; i++)
			if (f->zone_pages[i])
				json_object_object_add(z, i == 7 ? "unknown" : place_zone_name(pl, (__u8)i),
						       json_object_new_int64(f->zone_pages[i]));
		json_object_object_add(j, "zones", z);
		json_object_object_add(j, "cma_pages", json_object_new_int64(f->cma_pages));
		for (__u32 i = 0; i < f->nholders; i++)
			json_object_array_add(hs, holder_json(f, &f->holders[i], sf));
		json_object_object_add(j, "holders", hs);
		json_object_object_add(j, "holders_more", json_object_new_int64(f->holders_more));
		json_object_object_add(j, "holder_not_seen", json_object_new_int64(f->unknown));
		if ((st = stack_json(sf, f->stack_id)))
			json_object_object_add(j, "stack", st);
	} else {
		json_object_put(hs);
	}
	if (f->pin_failed) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "api", json_object_new_string(hook_name(f->pin_api)));
		json_object_object_add(p, "ret", json_object_new_int64(f->pin_ret));
		json_object_object_add(p, "nr_pages", json_object_new_int64((int64_t)f->pin_nr));
		json_object_object_add(p, "addr", json_hex(f->pin_addr));
		json_object_object_add(p, "gup_flags", json_hex(f->pin_flags));
		if (f->sys_known) {
			json_object_object_add(p, "syscall", json_object_new_string(
				syscall_name(f->sys_nr, rb, sizeof(rb))));
			json_object_object_add(p, "syscall_ret", json_object_new_int64(f->sys_ret));
		}
		if ((st = stack_json(sf, f->pin_stack_id)))
			json_object_object_add(p, "stack", st);
		if (f->pin_refused)
			json_object_object_add(p, "refused", refused_json(f, pl));
		json_object_object_add(j, "longterm_pin", p);
	}
	return j;
}

static json_object *live_record(struct output *o, const char *type, __u64 ts, json_object *j)
{
	json_object_object_add(j, "type", json_object_new_string(type));
	json_object_object_add(j, "ts_ns", json_ts(o, ts));
	return j;
}

void out_migrate_fail(struct output *o, const struct mig_failure *f, const struct place *pl,
		      const struct stackfmt *sf)
{
	if (o->fmt == OUT_TEXT) {
		migrate_failure_text(o->f, f, pl, sf, f->ts_ns);
		return;
	}
	out_json_emit(o, live_record(o, "migrate_fail", f->ts_ns,
				     migrate_failure_json(f, pl, sf, f->ts_ns)));
}

void out_pin_fail(struct output *o, const struct mig_failure *f, const struct place *pl,
		  const struct stackfmt *sf)
{
	char comm[4 * PT_COMM_LEN + 1], eb[48];

	if (o->fmt == OUT_TEXT) {
		fprintf(o->f, "!! long-term pin failed in %s/%u: %s of %llu pages at 0x%llx returned %s%s\n",
			comm_of(f->comm, comm, sizeof(comm)), f->pid, hook_name(f->pin_api),
			(unsigned long long)f->pin_nr, (unsigned long long)f->pin_addr,
			errno_text(f->pin_ret, eb, sizeof(eb)),
			f->reason != MIG_REASON_NONE ? ": the migration failure above is why" :
			f->pin_refused ? "" : " (no migration failure seen before it)");
		refused_text(o->f, f, pl);
		return;
	}
	json_object *j = json_object_new_object();

	json_object_object_add(j, "pid", json_object_new_int64(f->pid));
	json_object_object_add(j, "tid", json_object_new_int64(f->tid));
	json_object_object_add(j, "comm", json_str_kernel(f->comm, sizeof(f->comm)));
	json_object_object_add(j, "api", json_object_new_string(hook_name(f->pin_api)));
	json_object_object_add(j, "ret", json_object_new_int64(f->pin_ret));
	json_object_object_add(j, "nr_pages", json_object_new_int64((int64_t)f->pin_nr));
	json_object_object_add(j, "addr", json_hex(f->pin_addr));
	json_object_object_add(j, "migrate_fail_id", f->reason == MIG_REASON_NONE ? NULL :
			       json_object_new_int64((int64_t)f->id));
	if (f->pin_refused)
		json_object_object_add(j, "refused", refused_json(f, pl));
	out_json_emit(o, live_record(o, "pin_fail", f->ts_ns, j));
}

void out_pin_fail_errno(struct output *o, const struct mig_failure *f, __u64 ts)
{
	char comm[4 * PT_COMM_LEN + 1], eb[48], sb[24];

	if (o->fmt == OUT_TEXT) {
		fprintf(o->f, "!! %s/%u got %s from %s: its long-term pin failed\n",
			comm_of(f->comm, comm, sizeof(comm)), f->pid, errno_text(f->sys_ret, eb, sizeof(eb)),
			syscall_name(f->sys_nr, sb, sizeof(sb)));
		return;
	}
	json_object *j = json_object_new_object();

	json_object_object_add(j, "pid", json_object_new_int64(f->pid));
	json_object_object_add(j, "comm", json_str_kernel(f->comm, sizeof(f->comm)));
	json_object_object_add(j, "syscall", json_object_new_string(syscall_name(f->sys_nr, sb, sizeof(sb))));
	json_object_object_add(j, "ret", json_object_new_int64(f->sys_ret));
	json_object_object_add(j, "migrate_fail_id", f->reason == MIG_REASON_NONE ? NULL :
			       json_object_new_int64((int64_t)f->id));
	out_json_emit(o, live_record(o, "pin_fail_errno", ts, j));
}

json_object *range_json(const struct mig_range *r)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "op", json_object_new_string(
		r->hook == PT_HOOK_OFFLINE_PAGES ? "memory_offline" :
		r->hook == PT_HOOK_CMA_FINISH ? "cma_alloc" : "alloc_contig_range"));
	json_object_object_add(j, "pid", json_object_new_int64(r->pid));
	json_object_object_add(j, "comm", json_str_kernel(r->comm, sizeof(r->comm)));
	json_object_object_add(j, "pfn", json_hex(r->pfn));
	json_object_object_add(j, "pages", json_object_new_int64((int64_t)r->pages));
	json_object_object_add(j, "ret", json_object_new_int64(r->ret));
	if (r->hook == PT_HOOK_CMA_FINISH)
		json_object_object_add(j, "cma_area", json_object_new_string(r->area));
	json_object_object_add(j, "migration_failures_counted",
			       json_object_new_int64((int64_t)r->suppressed));
	return j;
}

void out_range(struct output *o, const struct mig_range *r)
{
	char comm[4 * PT_COMM_LEN + 1], eb[48];

	if (o->fmt == OUT_TEXT) {
		fprintf(o->f, "%s %s%s%s%s of pfn 0x%llx +%llu pages by %s/%u %s%s",
			r->ret ? "!!" : "--", range_op_name(r->hook), r->area[0] ? " (area " : "",
			r->area, r->area[0] ? ")" : "",
			(unsigned long long)r->pfn, (unsigned long long)r->pages,
			comm_of(r->comm, comm, sizeof(comm)), r->pid, r->ret ? "failed: " : "succeeded",
			r->ret ? errno_text(r->ret, eb, sizeof(eb)) : "");
		if (r->suppressed)
			fprintf(o->f, " (after %llu more migration failures, only counted)",
				(unsigned long long)r->suppressed);
		fputc('\n', o->f);
		return;
	}
	out_json_emit(o, live_record(o, "range", r->ts_ns, range_json(r)));
}

/* The failure record that details window w, or NULL. */
static const struct mig_failure *window_fail(const struct migrate *m, const struct mig_cma_window *w)
{
	return w->fail >= 0 && (size_t)w->fail < m->nfails ? &m->fails[w->fail] : NULL;
}

/* Exit summary: CMA allocation failures, and each busy window with who held it. */
void migrate_cma_text(const struct migrate *m, FILE *out)
{
	char comm[4 * PT_COMM_LEN + 1];

	if (!m->cma_busy && !m->cma_alloc_fails)
		return;
	fprintf(out, "\nCMA: %llu allocation%s failed; %llu busy-window retr%s in %zu window%s%s\n",
		(unsigned long long)m->cma_alloc_fails, m->cma_alloc_fails == 1 ? "" : "s",
		(unsigned long long)m->cma_busy, m->cma_busy == 1 ? "y" : "ies", m->nwindows,
		m->nwindows == 1 ? "" : "s", m->windows_not_kept ? " (more not kept)" : "");
	for (size_t i = 0; i < m->nwindows; i++) {
		const struct mig_cma_window *w = &m->windows[i];
		const struct mig_failure *f = window_fail(m, w);

		fprintf(out, "  area %s pfn 0x%llx +%llu pages: busy %llu time%s", w->area[0] ? w->area : "?",
			(unsigned long long)w->pfn, (unsigned long long)w->pages,
			(unsigned long long)w->retries, w->retries == 1 ? "" : "s");
		if (!f) {
			fputs(", holders not kept\n", out);
			continue;
		}
		fprintf(out, " (allocating: %s/%u); %u page%s held by holds pintrace follows%s\n",
			comm_of(f->comm, comm, sizeof(comm)), f->pid, f->listed,
			f->listed == 1 ? "" : "s", f->truncated ? " (window not fully checked)" : "");
		holders_text(out, f, m->stacks);
	}
}

json_object *migrate_cma_json(const struct migrate *m)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < m->nwindows; i++) {
		const struct mig_cma_window *w = &m->windows[i];
		const struct mig_failure *f = window_fail(m, w);
		json_object *o = json_object_new_object(), *hs = json_object_new_array();

		json_object_object_add(o, "area", json_object_new_string(w->area));
		json_object_object_add(o, "pfn", json_hex(w->pfn));
		json_object_object_add(o, "pages", json_object_new_int64((int64_t)w->pages));
		json_object_object_add(o, "retries", json_object_new_int64((int64_t)w->retries));
		json_object_object_add(o, "pid", f ? json_object_new_int64(f->pid) : NULL);
		json_object_object_add(o, "comm", f ? json_str_kernel(f->comm, sizeof(f->comm)) : NULL);
		json_object_object_add(o, "pages_held", json_object_new_int64(f ? f->listed : 0));
		json_object_object_add(o, "truncated", json_object_new_boolean(!f || f->truncated));
		for (__u32 h = 0; f && h < f->nholders; h++)
			json_object_array_add(hs, holder_json(f, &f->holders[h], m->stacks));
		json_object_object_add(o, "holders", hs);
		json_object_object_add(o, "holders_more", json_object_new_int64(f ? f->holders_more : 0));
		json_object_array_add(a, o);
	}
	json_object_object_add(j, "alloc_failures", json_object_new_int64((int64_t)m->cma_alloc_fails));
	json_object_object_add(j, "busy_retries", json_object_new_int64((int64_t)m->cma_busy));
	json_object_object_add(j, "windows", a);
	json_object_object_add(j, "windows_not_kept", json_object_new_int64((int64_t)m->windows_not_kept));
	return j;
}
