// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include "hooks.h"
#include "migrate.h"
#include "util.h"

/* A failed pin and the migration failure before it belong together if this close. */
#define PIN_LINK_NS 10000000000ULL

/* enum migrate_reason: the same values from 5.15 to 6.18 (MR_DAMON from 6.12) */
static const char *const reason_names[] = {
	"compaction", "memory_failure", "memory_hotplug", "syscall", "mempolicy_mbind",
	"numa_misplaced", "contig_range", "longterm_pin", "demotion", "damon",
};

const char *range_op_name(__u8 hook)
{
	switch (hook) {
	case PT_HOOK_OFFLINE_PAGES: return "memory offline";
	case PT_HOOK_ALLOC_CONTIG: return "alloc_contig_range";
	case PT_HOOK_CMA_FINISH: return "cma_alloc";
	}
	return "range";
}

const char *migrate_reason_name(__u32 reason, char *buf, size_t len)
{
	if (reason == MIG_REASON_CMA_BUSY)
		return "cma_busy";
	if (reason < sizeof(reason_names) / sizeof(reason_names[0]))
		return reason_names[reason];
	snprintf(buf, len, "reason %u", reason);
	return buf;
}

/* The syscalls that pin long term (and the usual suspects around them). */
static const struct { long nr; const char *name; } syscalls[] = {
#ifdef SYS_io_uring_register
	{ SYS_io_uring_register, "io_uring_register" },
#endif
#ifdef SYS_io_uring_setup
	{ SYS_io_uring_setup, "io_uring_setup" },
#endif
#ifdef SYS_io_uring_enter
	{ SYS_io_uring_enter, "io_uring_enter" },
#endif
	{ SYS_ioctl, "ioctl" }, { SYS_write, "write" }, { SYS_read, "read" },
	{ SYS_pwrite64, "pwrite64" }, { SYS_pread64, "pread64" }, { SYS_writev, "writev" },
	{ SYS_readv, "readv" }, { SYS_mmap, "mmap" }, { SYS_vmsplice, "vmsplice" },
	{ SYS_process_vm_readv, "process_vm_readv" }, { SYS_process_vm_writev, "process_vm_writev" },
	{ SYS_move_pages, "move_pages" }, { SYS_mbind, "mbind" },
};

const char *syscall_name(__u32 nr, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (syscalls[i].nr == (long)nr)
			return syscalls[i].name;
	snprintf(buf, len, "syscall %u", nr);
	return buf;
}

int migrate_init(struct migrate *m, struct place *pl, const struct stackfmt *sf,
		 struct pintable *pins, struct holds *holds)
{
	memset(m, 0, sizeof(*m));
	m->place = pl;
	m->stacks = sf;
	m->pins = pins;
	m->holds = holds;
	m->fails = calloc(MIG_MAX_RECORDS, sizeof(*m->fails));
	return m->fails ? 0 : -ENOMEM;
}

void migrate_free(struct migrate *m)
{
	free(m->pending);
	free(m->fails);
	free(m->windows);
	m->pending = NULL;
	m->fails = NULL;
	m->windows = NULL;
}

static void pending_add(struct migrate *m, const struct pt_event *e)
{
	if (m->npending == m->cap_pending) {
		size_t cap = m->cap_pending ? m->cap_pending * 2 : 1024;
		void *p;

		if (cap > MIG_MAX_PENDING || !(p = realloc(m->pending, cap * sizeof(*m->pending)))) {
			m->pending_dropped++;
			return;
		}
		m->pending = p;
		m->cap_pending = cap;
	}
	m->pending[m->npending++] = (struct mig_pending){
		.id = e->addr, .folio = e->folio, .pfn = e->pfn, .zone = e->zone,
	};
}

static bool same_holder(const struct mig_holder *h, enum holder_kind k, const struct pin_owner *o)
{
	if (h->kind != k || h->owner.pid != o->pid || h->owner.stack_id != o->stack_id)
		return false;
	return k == HOLDER_PIN ? h->owner.api == o->api : h->owner.holder == o->holder;
}

static void add_holder(struct mig_failure *f, enum holder_kind k, const struct pin_owner *o,
		       __u64 t0)
{
	struct mig_holder *h;

	for (__u32 i = 0; i < f->nholders; i++) {
		h = &f->holders[i];
		if (!same_holder(h, k, o))
			continue;
		h->pages++;
		if (t0 < h->t0_ns) {
			h->owner = *o;
			h->t0_ns = t0;
		}
		return;
	}
	if (f->nholders == MIG_MAX_HOLDERS) {
		f->holders_more++;
		return;
	}
	h = &f->holders[f->nholders++];
	h->kind = k;
	h->owner = *o;
	h->t0_ns = t0;
	h->pages = 1;
}

/* Who holds @folio, in every table we keep; false when nobody we followed. */
static bool attribute(struct migrate *m, struct mig_failure *f, __u64 folio)
{
	const struct pin_owner *o;
	bool found = false;
	__u64 t0;

	if (m->holds && (o = pintable_oldest(m->holds->pipes, folio, &t0))) {
		add_holder(f, HOLDER_PIPE, o, t0);
		found = true;
	}
	if (m->holds && (o = pintable_oldest(m->holds->skbs, folio, &t0))) {
		add_holder(f, HOLDER_SKB, o, t0);
		found = true;
	}
	if (m->pins && (o = pintable_oldest(m->pins, folio, &t0))) {
		add_holder(f, HOLDER_PIN, o, t0);
		found = true;
	}
	return found;
}

static struct mig_failure *new_failure(struct migrate *m)
{
	m->fails_total++;
	if (m->nfails == MIG_MAX_RECORDS) {
		m->fails_unrecorded++;
		return NULL;
	}
	return &m->fails[m->nfails++];
}

static void fill_task(struct mig_failure *f, const struct pt_event *e)
{
	f->ts_ns = e->ts_ns;
	f->pid = e->pid;
	f->tid = e->tid;
	memcpy(f->comm, e->comm, sizeof(f->comm));
	f->stack_id = -1;
	f->pin_stack_id = -1;
}

static void on_fail(struct migrate *m, struct output *o, const struct pt_event *e)
{
	struct mig_failure tmp, *f = new_failure(m);
	size_t keep = 0;

	if (!f)
		f = &tmp;	/* not kept, but still reported live */
	memset(f, 0, sizeof(*f));
	fill_task(f, e);
	f->id = e->addr;
	f->reason = (__u32)e->nr_req;
	f->mode = (__u32)e->holder;
	f->failed = (__u64)e->ret;
	f->moved = e->dur_ns;
	f->suppressed = e->gup_flags;
	f->truncated = e->pt_flags & PT_F_TRUNCATED;
	f->stack_id = e->stack_id;
	for (size_t i = 0; i < m->npending; i++) {
		const struct mig_pending *p = &m->pending[i];
		bool cma = false;

		if (p->id != f->id) {
			m->pending[keep++] = *p;	/* another task's failure, in flight */
			continue;
		}
		f->listed++;
		f->zone_pages[p->zone < 7 ? p->zone : 7]++;
		if (m->place && place_unpinnable(m->place, p->pfn, p->zone, &cma) && cma)
			f->cma_pages++;
		if (!attribute(m, f, p->folio))
			f->unknown++;
	}
	m->npending = keep;
	out_migrate_fail(o, f, m->place, m->stacks);
}

/* A long-term pin failed; the migration failure just before, in the same task, is why. */
static void on_pin_fail(struct migrate *m, struct output *o, const struct pt_event *e)
{
	struct mig_failure *f = NULL;

	m->pin_fails++;
	for (size_t i = m->nfails; i-- > 0;) {
		struct mig_failure *c = &m->fails[i];

		if (c->tid != e->tid)
			continue;
		if (!c->pin_failed && e->ts_ns - c->ts_ns < PIN_LINK_NS)
			f = c;
		break;
	}
	if (!f) {
		m->pin_fails_unrelated++;
		f = new_failure(m);
		if (!f)
			f = &m->lone;
		memset(f, 0, sizeof(*f));
		fill_task(f, e);
		f->reason = MIG_REASON_NONE;	/* rate-limited, or not a migration */
	}
	f->pin_failed = true;
	f->pin_api = e->api;
	f->pin_ret = e->ret;
	f->pin_addr = e->addr;
	f->pin_nr = e->nr_req;
	f->pin_flags = e->gup_flags;
	f->pin_stack_id = e->stack_id;
	f->pin_refused = e->refs;
	f->refused_pfn = e->pfn;
	f->refused_zone = e->zone;
	m->last_pin = f;
	m->last_pin_tid = e->tid;
	out_pin_fail(o, f, m->place, m->stacks);
}

static void on_syscall(struct migrate *m, struct output *o, const struct pt_event *e)
{
	struct mig_failure *f = m->last_pin;

	if (!f || m->last_pin_tid != e->tid || f->sys_known)
		return;
	f->sys_known = true;
	f->sys_nr = (__u32)e->nr_req;
	f->sys_ret = e->ret;
	out_pin_fail_errno(o, f, e->ts_ns);
}

static void on_range(struct migrate *m, struct output *o, const struct pt_event *e)
{
	struct mig_range tmp, *r = m->nranges < MIG_MAX_RECORDS ? &m->ranges[m->nranges++] : &tmp;

	m->ranges_total++;
	memset(r, 0, sizeof(*r));
	r->ts_ns = e->ts_ns;
	r->pid = e->pid;
	memcpy(r->comm, e->comm, sizeof(r->comm));
	r->hook = e->hook;
	r->pfn = e->addr;
	r->pages = e->nr_req;
	r->ret = e->ret;
	r->suppressed = e->gup_flags;
	if (e->type == PT_EV_CMA)
		memcpy(r->area, e->area, sizeof(r->area) - 1);
	out_range(o, r);
}

/* The CMA area a tracepoint named, as a C string. */
static void area_of(const struct pt_event *e, char *out, size_t len)
{
	size_t n = strnlen(e->area, sizeof(e->area));

	if (n >= len)
		n = len - 1;
	memcpy(out, e->area, n);
	out[n] = '\0';
}

/* The window's entry; a new one when it was not seen, NULL when none is left. */
static struct mig_cma_window *cma_window(struct migrate *m, const struct pt_event *e, bool *fresh)
{
	struct mig_cma_window *w;

	*fresh = false;
	for (size_t i = 0; m->windows && i < m->nwindows; i++)
		if (m->windows[i].pfn == e->addr && m->windows[i].pages == e->nr_req)
			return &m->windows[i];
	if (!m->windows && !(m->windows = calloc(MIG_MAX_CMA_WINDOWS, sizeof(*m->windows))))
		return NULL;
	if (m->nwindows == MIG_MAX_CMA_WINDOWS)
		return NULL;
	w = &m->windows[m->nwindows++];
	memset(w, 0, sizeof(*w));
	area_of(e, w->area, sizeof(w->area));
	w->pfn = e->addr;
	w->pages = e->nr_req;
	w->first_ns = e->ts_ns;
	w->fail = -1;
	*fresh = true;
	return w;
}

/*
 * A CMA window the kernel could not isolate: look up every page of it in
 * the tables of holds. Most of a window is free or in use by pages nobody
 * pins, so only the holders found are reported (no "holder not seen").
 * cma_alloc() retries each busy window of an area for every allocation, so
 * a window is detailed when first seen and then only counted for a while.
 */
static void on_cma_busy(struct migrate *m, struct output *o, const struct pt_event *e)
{
	const struct place *pl = m->place;
	struct mig_failure tmp, *f;
	struct mig_cma_window *w;
	__u64 n = e->nr_req < MIG_CMA_SCAN_MAX ? e->nr_req : MIG_CMA_SCAN_MAX, quiet = 0;
	char area[sizeof(e->area) + 1];
	bool fresh;

	m->cma_busy++;
	area_of(e, area, sizeof(area));
	if (area[0] && m->place)
		place_cma_name(m->place, e->addr, area);
	w = cma_window(m, e, &fresh);
	if (!w)
		m->windows_not_kept++;
	if (w && (w->retries++, !fresh) && e->ts_ns - w->detailed_ns < MIG_CMA_REDETAIL_NS)
		return;
	f = new_failure(m);
	if (w) {
		/* this window's retries since its last detail, this one not counted */
		quiet = w->retries - 1 - w->detailed_retries;
		w->detailed_retries = w->retries;
		w->detailed_ns = e->ts_ns;
		w->fail = f ? f - m->fails : -1;
	}
	if (!f)
		f = &tmp;
	memset(f, 0, sizeof(*f));
	fill_task(f, e);
	f->reason = MIG_REASON_CMA_BUSY;
	f->failed = e->nr_req;
	f->pin_addr = e->addr;	/* the window's first pfn */
	f->stack_id = e->stack_id;
	f->suppressed = quiet;
	for (__u64 i = 0; pl && pl->pfn_known && i < n; i++)
		f->listed += attribute(m, f, pl->vmemmap + (e->addr + i) * pl->page_size);
	f->truncated = n < e->nr_req || !pl || !pl->pfn_known;
	out_migrate_fail(o, f, pl, m->stacks);
}

void migrate_event(struct migrate *m, struct output *o, const struct pt_event *e)
{
	switch (e->type) {
	case PT_EV_MIGRATE_PAGE:
		pending_add(m, e);
		break;
	case PT_EV_MIGRATE_FAIL:
		on_fail(m, o, e);
		break;
	case PT_EV_PIN_FAIL:
		on_pin_fail(m, o, e);
		break;
	case PT_EV_SYSCALL:
		on_syscall(m, o, e);
		break;
	case PT_EV_RANGE:
		on_range(m, o, e);
		break;
	case PT_EV_CMA:
		if (e->hook == PT_HOOK_CMA_BUSY) {
			on_cma_busy(m, o, e);
			break;
		}
		m->cma_alloc_fails++;
		on_range(m, o, e);
		break;
	}
}

/* ---- exit summary ------------------------------------------------------- */

static void stats_text(FILE *f, const struct pt_migrate_stats *st)
{
	char rb[24];

	for (__u32 r = 0; st && r < PT_MIGRATE_REASONS; r++) {
		const struct pt_migrate_stats *s = &st[r];

		if (!s->calls)
			continue;
		fprintf(f, "  %-16s %llu migrations, %llu failed (%llu pages unmoved, %llu moved); "
			"%llu detailed, %llu only counted\n", migrate_reason_name(r, rb, sizeof(rb)),
			(unsigned long long)s->calls, (unsigned long long)s->failures,
			(unsigned long long)s->pages_failed, (unsigned long long)s->pages_moved,
			(unsigned long long)s->reported, (unsigned long long)s->suppressed);
	}
}

void migrate_report_text(const struct migrate *m, FILE *f, const struct pt_migrate_stats *stats,
			 __u64 now_ns)
{
	char eb[24];

	fprintf(f, "\nMigration failures: %llu (long-term pin failures %llu, busy CMA windows %zu)\n",
		(unsigned long long)m->fails_total - m->pin_fails_unrelated,
		(unsigned long long)m->pin_fails, m->nwindows);
	stats_text(f, stats);
	/* busy CMA windows are listed under CMA, with their retries */
	for (size_t i = 0; i < m->nfails; i++)
		if (m->fails[i].reason != MIG_REASON_CMA_BUSY)
			migrate_failure_text(f, &m->fails[i], m->place, m->stacks, now_ns);
	if (m->fails_unrecorded)
		fprintf(f, "  (%llu more failures not kept: see the stream)\n",
			(unsigned long long)m->fails_unrecorded);
	if (m->pending_dropped)
		fprintf(f, "  !! %llu unmoved folios could not be buffered (out of memory)\n",
			(unsigned long long)m->pending_dropped);
	for (size_t i = 0; i < m->nranges; i++) {
		const struct mig_range *r = &m->ranges[i];

		fprintf(f, "  %s%s%s%s pfn 0x%llx +%llu pages by %.16s/%u: %s%s\n", range_op_name(r->hook),
			r->area[0] ? " (area " : "", r->area, r->area[0] ? ")" : "",
			(unsigned long long)r->pfn, (unsigned long long)r->pages, r->comm, r->pid,
			r->ret ? "failed " : "succeeded", r->ret ? errno_text(r->ret, eb, sizeof(eb)) : "");
	}
	migrate_cma_text(m, f);
}

json_object *migrate_report_json(const struct migrate *m, const struct pt_migrate_stats *stats,
				 __u64 now_ns)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();
	json_object *by = json_object_new_object(), *rg = json_object_new_array();
	char rb[24];

	for (size_t i = 0; i < m->nfails; i++)
		if (m->fails[i].reason != MIG_REASON_CMA_BUSY)
			json_object_array_add(a, migrate_failure_json(&m->fails[i], m->place,
								      m->stacks, now_ns));
	for (__u32 r = 0; stats && r < PT_MIGRATE_REASONS; r++) {
		const struct pt_migrate_stats *s = &stats[r];
		json_object *o;

		if (!s->calls)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "calls", json_object_new_int64((int64_t)s->calls));
		json_object_object_add(o, "failures", json_object_new_int64((int64_t)s->failures));
		json_object_object_add(o, "pages_failed", json_object_new_int64((int64_t)s->pages_failed));
		json_object_object_add(o, "pages_moved", json_object_new_int64((int64_t)s->pages_moved));
		json_object_object_add(o, "detailed", json_object_new_int64((int64_t)s->reported));
		json_object_object_add(o, "only_counted", json_object_new_int64((int64_t)s->suppressed));
		json_object_object_add(by, migrate_reason_name(r, rb, sizeof(rb)), o);
	}
	for (size_t i = 0; i < m->nranges; i++)
		json_object_array_add(rg, range_json(&m->ranges[i]));
	json_object_object_add(j, "failures", a);
	json_object_object_add(j, "failures_total", json_object_new_int64((int64_t)m->fails_total));
	json_object_object_add(j, "failures_not_kept", json_object_new_int64((int64_t)m->fails_unrecorded));
	json_object_object_add(j, "pin_failures", json_object_new_int64((int64_t)m->pin_fails));
	json_object_object_add(j, "cma_busy_windows", json_object_new_int64((int64_t)m->nwindows));
	json_object_object_add(j, "cma", migrate_cma_json(m));
	json_object_object_add(j, "folios_not_buffered", json_object_new_int64((int64_t)m->pending_dropped));
	json_object_object_add(j, "by_reason", by);
	json_object_object_add(j, "ranges", rg);
	return j;
}
