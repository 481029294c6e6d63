/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_MIGRATE_H
#define PT_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "holds.h"
#include "output.h"
#include "pintable.h"
#include "place.h"
#include "stacks.h"

/*
 * Migration failures, named by their holders, and long-term pins that
 * failed because of them.
 *
 * The BPF side lists the folios a failed migrate_pages() left behind
 * (MIGRATE_PAGE records) and closes the list with MIGRATE_FAIL. Each folio
 * is looked up in every table of holds pintrace keeps: pins, pipe buffers,
 * skb frags. Holders are grouped (same kind, process, pipe or socket and
 * stack) so that 256 pages in one pipe read as one line; folios nobody we
 * followed holds are counted as "holder not seen", never dropped.
 */

#define MIG_MAX_HOLDERS		16	/* holder groups kept per failure */
#define MIG_MAX_RECORDS		256	/* failures kept for the exit summary */
#define MIG_MAX_PENDING		(64 * 1024)
#define MIG_REASON_CMA_BUSY	0x100u	/* mig_failure.reason of a busy CMA window */
#define MIG_REASON_NONE		(~0u)	/* a failed pin without a migration failure */
#define MIG_CMA_SCAN_MAX	(64 * 1024)	/* pages of a busy window looked up */
#define MIG_MAX_CMA_WINDOWS	256	/* distinct busy CMA windows kept */
/* A busy window is detailed (holders looked up, a record sent) when first
 * seen and again after this long: cma_alloc() retries every busy window of
 * an area for each allocation, hundreds of times a second. */
#define MIG_CMA_REDETAIL_NS	(10 * 1000000000ULL)

enum holder_kind {
	HOLDER_PIN,	/* a FOLL_PIN pin (pintable) */
	HOLDER_PIPE,	/* a pipe buffer (vmsplice, tee) */
	HOLDER_SKB,	/* an skb frag (socket) */
};

struct mig_holder {
	enum holder_kind kind;
	struct pin_owner owner;		/* the oldest hold of the group */
	__u64 t0_ns;			/* when that hold was taken */
	__u32 pages;
};

struct mig_failure {
	__u64 id;			/* failure id from the BPF side */
	__u64 ts_ns;
	__u32 pid, tid;
	char comm[PT_COMM_LEN];
	__u32 reason, mode;
	__u64 failed, moved;		/* pages, from the mm_migrate_pages tracepoint */
	__u64 suppressed;		/* earlier failures of the task, only counted */
	__u32 listed;			/* folios listed by the BPF side */
	bool truncated;
	__s32 stack_id;
	__u32 unknown;			/* listed folios without a holder we followed */
	__u32 zone_pages[8];		/* listed folios per zone index (7: unknown) */
	__u32 cma_pages;
	__u32 nholders, holders_more;	/* groups kept, and groups beyond MIG_MAX_HOLDERS */
	struct mig_holder holders[MIG_MAX_HOLDERS];
	/* the long-term pin this migration was for, if it failed */
	bool pin_failed;
	__u8 pin_api;
	__s64 pin_ret;
	__u64 pin_addr, pin_nr, pin_flags;
	__s32 pin_stack_id;
	__u32 pin_refused;		/* grabs the kernel refused: not long-term pinnable */
	__u64 refused_pfn;		/* the first of them */
	__u8 refused_zone;
	bool sys_known;
	__u32 sys_nr;
	__s64 sys_ret;
};

/* A CMA window the kernel found busy (cma_alloc_busy_retry), once per window. */
struct mig_cma_window {
	char area[16];			/* the area's name from the tracepoint */
	__u64 pfn, pages;
	__u64 retries;			/* busy retries of this window, all told */
	__u64 detailed_retries;		/* retries when it was last detailed */
	__u64 first_ns, detailed_ns;
	__s64 fail;			/* index of its latest detail in fails, -1: not kept */
};

/* A memory offline or contiguous allocation that returned. */
struct mig_range {
	__u64 ts_ns;
	__u32 pid;
	char comm[PT_COMM_LEN];
	char area[16];			/* CMA_FINISH: the area's name */
	__u8 hook;
	__u64 pfn, pages;
	__s64 ret;
	__u64 suppressed;		/* migration failures it retried, only counted */
};

struct mig_pending {
	__u64 id, folio, pfn;
	__u8 zone;
};

struct migrate {
	struct place *place;		/* CMA events name the areas it lists */
	const struct stackfmt *stacks;
	struct pintable *pins;		/* the loader's pin table */
	struct holds *holds;		/* pipe and skb holds */
	struct mig_pending *pending;
	size_t npending, cap_pending;
	__u64 pending_dropped;
	struct mig_failure *fails;	/* MIG_MAX_RECORDS */
	size_t nfails;
	__u64 fails_total, fails_unrecorded;
	struct mig_range ranges[MIG_MAX_RECORDS];
	size_t nranges;
	__u64 ranges_total;
	__u64 pin_fails;		/* long-term pin failures */
	__u64 pin_fails_unrelated;	/* without a migration failure before them */
	__u64 cma_busy;			/* busy CMA window retries (cma_alloc_busy_retry) */
	__u64 cma_alloc_fails;		/* CMA allocations that failed (cma_alloc_finish) */
	struct mig_cma_window *windows;	/* MIG_MAX_CMA_WINDOWS, allocated on first use */
	size_t nwindows;
	__u64 windows_not_kept;
	struct mig_failure *last_pin;	/* for its syscall's return */
	__u32 last_pin_tid;
	struct mig_failure lone;	/* pin failure without a migration failure */
};

int migrate_init(struct migrate *m, struct place *pl, const struct stackfmt *sf,
		 struct pintable *pins, struct holds *holds);
void migrate_free(struct migrate *m);
/* MIGRATE_PAGE, MIGRATE_FAIL, PIN_FAIL, SYSCALL and RANGE events. */
void migrate_event(struct migrate *m, struct output *o, const struct pt_event *e);

/* "memory offline", "alloc_contig_range", "cma_alloc" */
const char *range_op_name(__u8 hook);
/* Names: "longterm_pin", "memory_hotplug", ...; "reason N" when unknown. */
const char *migrate_reason_name(__u32 reason, char *buf, size_t len);
/* "io_uring_register", or "syscall N". */
const char *syscall_name(__u32 nr, char *buf, size_t len);

/* Exit summary section; stats: per-reason counters from the BPF side (may be NULL). */
void migrate_report_text(const struct migrate *m, FILE *f, const struct pt_migrate_stats *stats,
			 __u64 now_ns);
json_object *migrate_report_json(const struct migrate *m, const struct pt_migrate_stats *stats,
				 __u64 now_ns);

/* Rendering (output_migrate.c). */
/* "-12 (ENOMEM)", or "-99" for an errno without a name here. */
const char *errno_text(__s64 ret, char *buf, size_t len);
void migrate_failure_text(FILE *out, const struct mig_failure *f, const struct place *pl,
			  const struct stackfmt *sf, __u64 now_ns);
json_object *migrate_failure_json(const struct mig_failure *f, const struct place *pl,
				  const struct stackfmt *sf, __u64 now_ns);
json_object *range_json(const struct mig_range *r);
void migrate_cma_text(const struct migrate *m, FILE *out);
json_object *migrate_cma_json(const struct migrate *m);
void out_migrate_fail(struct output *o, const struct mig_failure *f, const struct place *pl,
		      const struct stackfmt *sf);
void out_pin_fail(struct output *o, const struct mig_failure *f, const struct place *pl,
		  const struct stackfmt *sf);
void out_pin_fail_errno(struct output *o, const struct mig_failure *f, __u64 ts);
void out_range(struct output *o, const struct mig_range *r);

#endif
