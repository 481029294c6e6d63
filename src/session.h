/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_SESSION_H
#define PT_SESSION_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include "pintrace.h"
#include "plan.h"

struct pintrace_bpf;

struct session_opts {
	const char *btf_path;		/* NULL: the running kernel's */
	struct pt_cfg cfg;
	size_t ringbuf_bytes;
	bool allow_partial;		/* attach even when a grab/unpin hook is missing */
};

/* Per-hook loss and activity counters, summed over CPUs and programs. */
struct hook_counters {
	struct pt_hook_stats s;
	__u64 recursion_misses;		/* from bpf_prog_info, all programs of the hook */
	__u64 run_cnt, run_time_ns;	/* only with kernel.bpf_stats_enabled */
};

struct session {
	struct pintrace_bpf *skel;
	struct plan *plan;
	struct bpf_link *links[PT_HOOK__MAX][2];
	char err[256];			/* what failed, for the user */
	__u64 load_ns, attach_ns;	/* start-up cost: verifier and JIT, then links */
	__u8 skip[PT_HOOK__MAX];	/* per hook, 1 << backend: failed to attach */
};

/*
 * Open, configure, load and attach according to the plan (falling back per
 * hook to the next backend of its order). On failure s->err says why.
 * Returns 0, -ENOTSUP (coverage gap), or another -errno.
 */
int session_start(struct session *s, struct plan *plan, const struct session_opts *o);
void session_stop(struct session *s);
int session_rb_fd(const struct session *s);
int session_stack_fd(const struct session *s);
/* the in-kernel aggregation's maps (bpf/agg.bpf.h) */
void session_agg_fds(const struct session *s, int *pins, int *agg, int *hist);
int session_add_tgid(struct session *s, __u32 tgid);
int session_counters(const struct session *s, struct hook_counters out[PT_HOOK__MAX]);
/*
 * Run the refcount sampler once (see bpf/sample.bpf.h): corrections arrive
 * as RELEASE events with PT_F_SAMPLED on the ring buffer. -ENOTSUP when no
 * holds are followed.
 */
int session_sample(struct session *s, struct pt_sample *out);
bool session_tracks_skbs(const struct session *s);
/* Run the calibration program (bpf/core.bpf.h) for c->pfn; fills *c. */
int session_calibrate(struct session *s, struct pt_calib *c);
/*
 * Read the kernel's CMA areas (bpf/core.bpf.h read_cma) from r->areas and
 * r->count_addr; fills *r. Loads that one program alone, with no session:
 * `pintrace check` needs it too. 0, or -errno when it could not load or run.
 */
int session_read_cma(struct pt_cma_read *r);
/*
 * Record (instead of report) the next grab by thread @tid, then read the
 * struct page it took: calibration by GUP (src/place.c).
 */
void session_calib_capture(struct session *s, __u32 tid);
__u64 session_calib_grab(struct session *s);
/* Where pages live, for the pfn and zone of every event (src/place.c). */
void session_set_place(struct session *s, bool pfn_known, __u64 vmemmap, bool zone_known,
		       __u8 zone_shift, __u8 zone_mask);
/* Per-reason migration counters (enum migrate_reason), summed over CPUs. */
int session_migrate_stats(const struct session *s, struct pt_migrate_stats out[PT_MIGRATE_REASONS]);
/* Attach summary: "fentry 14, kprobe 2, tp_btf 2; absent 9" */
void session_attach_summary(const struct session *s, char *buf, size_t len);
/* Each program of an attached hook (entry, then return), for its run statistics. */
void session_foreach_attached(const struct session *s,
			      void (*fn)(struct bpf_program *p, void *ctx), void *ctx);
/* The loaded object (its maps), NULL before load. */
const struct bpf_object *session_object(const struct session *s);

#endif
