// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Skeleton lifecycle: open -> configure .rodata -> enable the programs of
 * each hook's first usable backend -> load -> attach per hook. Only one
 * backend per hook is loaded: the verifier is most of pintrace's start-up
 * (under emulation, 1 s of 2.8 s went to kprobe twins that were never
 * attached). A hook whose attach fails (arm64 6.1: fentry loads, attaching
 * it gives -ENOTSUPP) has that backend skipped, and the object is loaded
 * again: a cost only such kernels pay.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "pintrace.h"
#include "pintrace.skel.h"
#include "session.h"
#include "util.h"

static const char *prefixes[][2] = {
	[PT_BACKEND_FENTRY] = { "fentry_", "fexit_" },
	[PT_BACKEND_KPROBE] = { "kprobe_", "kretprobe_" },
};

static struct bpf_program *prog_of(struct session *s, const struct hook_plan *hp,
				   enum pt_backend b, int which)
{
	char name[96];

	if (b == PT_BACKEND_TP)
		return which ? NULL : bpf_object__find_program_by_name(s->skel->obj, hp->def->prog);
	snprintf(name, sizeof(name), "%s%s", prefixes[b][which], hp->def->prog);
	return bpf_object__find_program_by_name(s->skel->obj, name);
}

/* Where the verifier's time went: instructions it walked, per program. */
static void print_verified(const struct session *s)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, s->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		fprintf(stderr, "verified %s %u %zu\n", bpf_program__name(p), info.verified_insns,
			bpf_program__insn_cnt(p));
	}
}

/* The backend a hook gets on this load: the first in its order not skipped. */
static enum pt_backend first_backend(const struct session *s, const struct hook_plan *hp,
				     bool with_fentry)
{
	for (int k = 0; k < hp->norder; k++) {
		enum pt_backend b = hp->order[k];

		if ((b == PT_BACKEND_FENTRY && !with_fentry) || (s->skip[hp->def->id] & (1u << b)))
			continue;
		return b;
	}
	return PT_BACKEND_NONE;
}

static int enable_programs(struct session *s, bool with_fentry)
{
	for (size_t i = 0; i < s->plan->n; i++) {
		struct hook_plan *hp = &s->plan->hooks[i];

		if (hp->state != PLAN_ATTACH)
			continue;
		for (int k = 0; k < hp->norder; k++) {
			enum pt_backend b = hp->order[k];

			if (b != first_backend(s, hp, with_fentry))
				continue;
			for (int w = 0; w < 2; w++) {
				struct bpf_program *p = prog_of(s, hp, b, w);
				int err;

				if (!p)
					continue;
				bpf_program__set_autoload(p, true);
				if (b != PT_BACKEND_FENTRY)
					continue;
				err = bpf_program__set_attach_target(p, 0, hp->sym);
				if (err) {
					snprintf(s->err, sizeof(s->err), "%s: cannot target %s: %s",
						 bpf_program__name(p), hp->sym, strerror(-err));
					return err;
				}
			}
		}
	}
	return 0;
}

static int open_configure(struct session *s, const struct session_opts *o, bool with_fentry)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = o->btf_path);
	int err;

	s->skel = pintrace_bpf__open_opts(&oo);
	if (!s->skel) {
		err = -errno;
		snprintf(s->err, sizeof(s->err), "cannot open BPF object: %s", strerror(-err));
		return err;
	}
	s->skel->rodata->cfg = o->cfg;
	err = bpf_map__set_max_entries(s->skel->maps.rb, o->ringbuf_bytes);
	if (err) {
		snprintf(s->err, sizeof(s->err), "ring buffer size %zu: %s", o->ringbuf_bytes,
			 strerror(-err));
		return err;
	}
	return enable_programs(s, with_fentry);
}

/*
 * PINTRACE_FAULT_ATTACH=BACKEND:SYMBOL makes attaching SYMBOL with BACKEND
 * fail with -ENOTSUP, as fentry does on arm64 6.1: the fallback to the
 * next backend is then tested on kernels where every attach works.
 */
static bool fault_injected(const struct hook_plan *hp, enum pt_backend b)
{
	const char *f = getenv("PINTRACE_FAULT_ATTACH");
	const char *name = backend_name(b);
	size_t n = strlen(name);

	return f && !strncmp(f, name, n) && f[n] == ':' && !strcmp(f + n + 1, hp->sym);
}

static int attach_one(struct session *s, struct hook_plan *hp, enum pt_backend b)
{
	struct bpf_link **l = s->links[hp->def->id];
	int err = 0;

	if (fault_injected(hp, b)) {
		snprintf(hp->attach_err, sizeof(hp->attach_err), "%s attach: %s (injected by "
			 "PINTRACE_FAULT_ATTACH)", backend_name(b), strerror(ENOTSUP));
		return -ENOTSUP;
	}

	/*
	 * Return program first: a return without its entry is ignored, while
	 * an entry without its return would leave per-task state behind.
	 */
	for (int w = 1; w >= 0; w--) {
		struct bpf_program *p = prog_of(s, hp, b, w);

		if (!p)
			continue;
		if (b == PT_BACKEND_KPROBE) {
			LIBBPF_OPTS(bpf_kprobe_opts, ko, .retprobe = w == 1);
			l[w] = bpf_program__attach_kprobe_opts(p, hp->sym, &ko);
		} else {
			l[w] = bpf_program__attach(p);
		}
		if (!l[w]) {
			err = -errno;
			snprintf(hp->attach_err, sizeof(hp->attach_err), "%s attach: %s",
				 backend_name(b), strerror(-err));
			break;
		}
	}
	if (err) {
		for (int w = 0; w < 2; w++) {
			bpf_link__destroy(l[w]);
			l[w] = NULL;
		}
		return err;
	}
	hp->attached = b;
	hp->attach_err[0] = '\0';
	return 0;
}

/*
 * Attach every hook with the backend it was loaded with. Returns how many
 * failed with another backend left to try (that backend is then skipped).
 */
static int attach_all(struct session *s, bool with_fentry)
{
	int retry = 0;

	for (size_t i = 0; i < s->plan->n; i++) {
		struct hook_plan *hp = &s->plan->hooks[i];
		enum pt_backend b = first_backend(s, hp, with_fentry);

		if (hp->state != PLAN_ATTACH || b == PT_BACKEND_NONE)
			continue;
		if (!attach_one(s, hp, b))
			continue;
		s->skip[hp->def->id] |= 1u << b;
		retry += first_backend(s, hp, with_fentry) != PT_BACKEND_NONE;
	}
	return retry;
}

static void detach_all(struct session *s)
{
	for (int i = 0; i < PT_HOOK__MAX; i++)
		for (int w = 0; w < 2; w++) {
			bpf_link__destroy(s->links[i][w]);
			s->links[i][w] = NULL;
		}
}

/*
 * Holds of one kind are followed only when every hook of that kind this
 * kernel has is attached: a hold whose release cannot be seen would look
 * like a leak. Hooks absent from the kernel (the other generation's
 * variant) do not count, but the kind needs at least one hook.
 */
static bool role_complete(const struct session *s, enum hook_role role, bool *any)
{
	bool all = true;

	*any = false;
	for (size_t i = 0; i < s->plan->n; i++) {
		const struct hook_plan *hp = &s->plan->hooks[i];

		if (hp->def->role != role || hp->state == PLAN_ABSENT)
			continue;
		*any = true;
		all &= hp->attached != PT_BACKEND_NONE;
	}
	return *any && all;
}

static void enable_holds(struct session *s)
{
	bool any;

	s->skel->bss->track_pipes = role_complete(s, ROLE_HOLD, &any);
	if (any && !s->skel->bss->track_pipes)
		fprintf(stderr, "pintrace: warning: a pipe hook is not attached: pipe holds are not "
			"followed (see `pintrace check`)\n");
	/* skb frags are followed from pipes too: without pipes, half the picture */
	s->skel->bss->track_skbs = role_complete(s, ROLE_SKB, &any) && s->skel->bss->track_pipes;
	if (any && !s->skel->bss->track_skbs)
		fprintf(stderr, "pintrace: warning: an skb or pipe hook is not attached: skb frag "
			"holds are not followed (see `pintrace check`)\n");
}

bool session_tracks_skbs(const struct session *s)
{
	return s->skel->bss->track_skbs;
}

int session_sample(struct session *s, struct pt_sample *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int err;

	if (!s->skel->bss->track_pipes)
		return -ENOTSUP;
	err = bpf_prog_test_run_opts(bpf_program__fd(s->skel->progs.sample_refs), &o);
	if (err)
		return -errno;
	*out = s->skel->bss->sample_res;
	return 0;
}

int session_calibrate(struct session *s, struct pt_calib *c)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);

	s->skel->bss->calib = *c;
	if (bpf_prog_test_run_opts(bpf_program__fd(s->skel->progs.calibrate), &o))
		return -errno;
	*c = s->skel->bss->calib;
	return 0;
}

/*
 * A load of its own, of read_cma alone, before any session exists (`pintrace
 * check` has none): only the global data is created, no ring buffer or
 * tables, so this costs one small verification.
 */
int session_read_cma(struct pt_cma_read *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct pintrace_bpf *skel = pintrace_bpf__open();
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	if (!skel)
		return -errno;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.read_cma);
	bpf_object__for_each_map(m, skel->obj)
		if (!bpf_map__is_internal(m))
			bpf_map__set_autocreate(m, false);
	skel->bss->cma_rd = *r;
	err = pintrace_bpf__load(skel);
	if (!err && bpf_prog_test_run_opts(bpf_program__fd(skel->progs.read_cma), &o))
		err = -errno;
	if (!err)
		*r = skel->bss->cma_rd;
	pintrace_bpf__destroy(skel);
	return err;
}

void session_calib_capture(struct session *s, __u32 tid)
{
	s->skel->bss->calib_grab = 0;
	s->skel->bss->calib_tid = tid;
}

__u64 session_calib_grab(struct session *s)
{
	s->skel->bss->calib_tid = 0;
	return s->skel->bss->calib_grab;
}

void session_set_place(struct session *s, bool pfn_known, __u64 vmemmap, bool zone_known,
		       __u8 zone_shift, __u8 zone_mask)
{
	s->skel->bss->place_vmemmap = vmemmap;
	s->skel->bss->place_zone_shift = zone_shift;
	s->skel->bss->place_zone_mask = zone_mask;
	s->skel->bss->place_zone_known = zone_known;
	s->skel->bss->place_pfn_known = pfn_known;
}

int session_migrate_stats(const struct session *s, struct pt_migrate_stats out[PT_MIGRATE_REASONS])
{
	int ncpu = libbpf_num_possible_cpus();
	struct pt_migrate_stats *v;

	memset(out, 0, sizeof(*out) * PT_MIGRATE_REASONS);
	if (ncpu <= 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 r = 0; r < PT_MIGRATE_REASONS; r++) {
		if (bpf_map__lookup_elem(s->skel->maps.migrate_stats, &r, sizeof(r), v,
					 sizeof(*v) * ncpu, 0))
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[r].calls += v[c].calls;
			out[r].failures += v[c].failures;
			out[r].pages_failed += v[c].pages_failed;
			out[r].pages_moved += v[c].pages_moved;
			out[r].reported += v[c].reported;
			out[r].suppressed += v[c].suppressed;
		}
	}
	free(v);
	return 0;
}

static bool plan_has_fentry(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->hooks[i].state == PLAN_ATTACH && p->hooks[i].order[0] == PT_BACKEND_FENTRY)
			return true;
	return false;
}

int session_start(struct session *s, struct plan *plan, const struct session_opts *o)
{
	bool with_fentry = true;
	__u64 t0, t1;
	char why[256];
	int err;

	memset(s, 0, sizeof(*s));
	s->plan = plan;
	t0 = now_mono_ns();
	err = open_configure(s, o, with_fentry);
	if (!err)
		err = pintrace_bpf__load(s->skel);
	if (err && plan->mode == MODE_AUTO && plan_has_fentry(plan)) {
		/*
		 * One fentry program the verifier or the kernel refuses fails the
		 * whole object: in auto mode, retry with kprobes only.
		 */
		fprintf(stderr, "pintrace: loading fentry programs failed (%s); retrying with kprobes "
			"where planned (-v shows the verifier log)\n", strerror(-err));
		pintrace_bpf__destroy(s->skel);
		s->skel = NULL;
		s->err[0] = '\0';
		with_fentry = false;
		for (size_t i = 0; i < plan->n; i++)
			if (plan->hooks[i].state == PLAN_ATTACH &&
			    plan->hooks[i].order[0] == PT_BACKEND_FENTRY)
				snprintf(plan->hooks[i].attach_err, sizeof(plan->hooks[i].attach_err),
					 "fentry programs failed to load (%s)", strerror(-err));
		err = open_configure(s, o, with_fentry);
		if (!err)
			err = pintrace_bpf__load(s->skel);
	}
	if (err) {
		if (!s->err[0])
			snprintf(s->err, sizeof(s->err), "loading BPF programs failed: %s "
				 "(run with -v for the verifier log)", strerror(-err));
		return err;
	}
	t1 = now_mono_ns();
	/* at most once per backend: each round skips a backend of some hook */
	for (int round = 0; attach_all(s, with_fentry) && round < PT_BACKEND_TP; round++) {
		fprintf(stderr, "pintrace: some hooks failed to attach; loading the programs again "
			"with their next backend\n");
		detach_all(s);
		for (size_t i = 0; i < s->plan->n; i++)
			s->plan->hooks[i].attached = PT_BACKEND_NONE;
		pintrace_bpf__destroy(s->skel);
		s->skel = NULL;
		err = open_configure(s, o, with_fentry);
		if (!err)
			err = pintrace_bpf__load(s->skel);
		if (err) {
			snprintf(s->err, sizeof(s->err), "loading BPF programs again for the "
				 "fallback backends failed: %s", strerror(-err));
			return err;
		}
	}
	s->load_ns = t1 - t0;
	s->attach_ns = now_mono_ns() - t1;
	if (getenv("PINTRACE_DEBUG_VERIFIER"))
		print_verified(s);
	enable_holds(s);
	if (!o->allow_partial && plan_coverage(plan, true, why, sizeof(why))) {
		snprintf(s->err, sizeof(s->err), "%s", why);
		return -ENOTSUP;
	}
	return 0;
}

void session_stop(struct session *s)
{
	detach_all(s);
	pintrace_bpf__destroy(s->skel);
	s->skel = NULL;
}

int session_stack_fd(const struct session *s)
{
	return bpf_map__fd(s->skel->maps.stacks);
}

void session_agg_fds(const struct session *s, int *pins, int *agg, int *hist)
{
	*pins = bpf_map__fd(s->skel->maps.pins);
	*agg = bpf_map__fd(s->skel->maps.agg);
	*hist = bpf_map__fd(s->skel->maps.agg_hist);
}

int session_rb_fd(const struct session *s)
{
	return bpf_map__fd(s->skel->maps.rb);
}

int session_add_tgid(struct session *s, __u32 tgid)
{
	__u8 one = 1;

	return bpf_map__update_elem(s->skel->maps.traced_tgids, &tgid, sizeof(tgid), &one,
				    sizeof(one), BPF_ANY);
}

static void add_prog_info(struct bpf_program *p, struct hook_counters *c)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = p ? bpf_program__fd(p) : -1;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	c->recursion_misses += info.recursion_misses;
	c->run_cnt += info.run_cnt;
	c->run_time_ns += info.run_time_ns;
}

int session_counters(const struct session *s, struct hook_counters out[PT_HOOK__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct pt_hook_stats *v;

	if (ncpu <= 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out) * PT_HOOK__MAX);
	for (__u32 h = 0; h < PT_HOOK__MAX; h++) {
		if (bpf_map__lookup_elem(s->skel->maps.stats, &h, sizeof(h), v,
					 sizeof(*v) * ncpu, 0))
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[h].s.hits += v[c].hits;
			out[h].s.events += v[c].events;
			out[h].s.rb_drops += v[c].rb_drops;
			out[h].s.map_full += v[c].map_full;
			out[h].s.stale += v[c].stale;
			out[h].s.untracked += v[c].untracked;
		}
	}
	free(v);
	for (size_t i = 0; i < s->plan->n; i++) {
		struct hook_plan *hp = &s->plan->hooks[i];

		if (!hp->attached)
			continue;
		for (int w = 0; w < 2; w++)
			add_prog_info(prog_of((struct session *)s, hp, hp->attached, w),
				      &out[hp->def->id]);
	}
	return 0;
}

void session_foreach_attached(const struct session *s,
			      void (*fn)(struct bpf_program *p, void *ctx), void *ctx)
{
	for (size_t i = 0; i < s->plan->n; i++) {
		const struct hook_plan *hp = &s->plan->hooks[i];

		for (int w = 0; hp->attached && w < 2; w++) {
			struct bpf_program *p = prog_of((struct session *)s, hp, hp->attached, w);

			if (p)
				fn(p, ctx);
		}
	}
}

const struct bpf_object *session_object(const struct session *s)
{
	return s->skel ? s->skel->obj : NULL;
}

void session_attach_summary(const struct session *s, char *buf, size_t len)
{
	int n[4] = {}, absent = 0, failed = 0;

	for (size_t i = 0; i < s->plan->n; i++) {
		const struct hook_plan *hp = &s->plan->hooks[i];

		if (hp->attached)
			n[hp->attached]++;
		else if (hp->state == PLAN_ABSENT)
			absent++;
		else if (hp->state != PLAN_SKIPPED)
			failed++;
	}
	snprintf(buf, len, "fentry %d, kprobe %d, tp_btf %d; not in this kernel %d; failed %d",
		 n[PT_BACKEND_FENTRY], n[PT_BACKEND_KPROBE], n[PT_BACKEND_TP], absent, failed);
}
