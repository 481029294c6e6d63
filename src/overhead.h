/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_OVERHEAD_H
#define PT_OVERHEAD_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>

/*
 * What pintrace itself costs, for the exit summary: how often its attached
 * programs ran and for how long (the kernel's BPF run-time statistics), how
 * full the ring buffer got, and how full the maps that can fill are.
 */

struct session;

enum ovh_stats {
	OVH_STATS_OFF,		/* --no-bpf-stats */
	OVH_STATS_ENABLED,	/* by us, for this session */
	OVH_STATS_ALREADY,	/* kernel.bpf_stats_enabled was 1 before we started */
	OVH_STATS_UNAVAILABLE,	/* bpf_enable_stats() failed: stats_err says why */
};

#define OVH_MAX_PROGS	128
#define OVH_MAX_MAPS	32
#define OVH_NAME_LEN	64
#define OVH_TOP_PROGS	5	/* programs shown in the text summary */

struct ovh_prog {
	char name[OVH_NAME_LEN];
	__u64 run_cnt, run_time_ns;
};

struct ovh_map {
	char name[OVH_NAME_LEN];
	__u32 max_entries;
	bool counted;		/* false: cut short by its time budget (entries: a lower bound) or failed */
	__u64 entries;
};

struct overhead {
	enum ovh_stats stats;
	int stats_err;			/* -errno when unavailable */
	int stats_fd;			/* stats stay on while it is open */
	/* the ring buffer's position pages, mapped read-only (NULL: not mapped) */
	const unsigned long *cons_pos, *prod_pos;
	size_t page_size;
	__u64 rb_size, rb_peak, polls;
	/* attached programs, by run time (largest first) */
	struct ovh_prog progs[OVH_MAX_PROGS];
	unsigned int nprogs;
	__u64 total_run_cnt, total_run_time_ns;	/* every attached program, listed or not */
	struct ovh_map maps[OVH_MAX_MAPS];
	unsigned int nmaps;
	__u64 rss_peak_kib;		/* getrusage ru_maxrss at collection */
	__u64 load_ns, attach_ns;	/* start-up: BPF load (verifier, JIT), attach */
};

void overhead_init(struct overhead *ov);
/*
 * Before the programs are attached: turn the kernel's run-time statistics
 * on (want) for as long as the session lasts. Never fails the session.
 */
void overhead_stats_start(struct overhead *ov, bool want);
/* Map the ring buffer's consumer and producer pages to watch its fill. */
int overhead_ringbuf_open(struct overhead *ov, int rb_fd);
/* Before each ring buffer poll: count it and note the bytes waiting. */
void overhead_poll(struct overhead *ov);
/*
 * At exit, with the session still loaded: per-program statistics of the
 * attached programs, then map fill (bounded in time).
 */
void overhead_collect(struct overhead *ov, const struct session *s);
void overhead_free(struct overhead *ov);

/* Pure parts, for the tests. */
void overhead_note_pending(struct overhead *ov, __u64 prod, __u64 cons);
void overhead_add_prog(struct overhead *ov, const char *name, __u64 run_cnt, __u64 run_time_ns);
void overhead_sort_progs(struct overhead *ov);
const char *overhead_stats_name(enum ovh_stats s);
/* run_cnt and run_time_ns of one loaded program (any, attached or not). */
int overhead_prog_stats(int prog_fd, __u64 *run_cnt, __u64 *run_time_ns);
/*
 * Count a hash or stack map's entries, at most max_entries of them, for at
 * most budget_ns. Returns true when the count is complete; false leaves a
 * lower bound in *entries.
 */
bool overhead_count_map(int map_fd, __u32 key_size, __u32 max_entries, __u64 budget_ns,
			__u64 *entries);

/* Rendering (overhead_report.c). */
json_object *overhead_json(const struct overhead *ov);
void overhead_text(const struct overhead *ov, FILE *f);

#endif
