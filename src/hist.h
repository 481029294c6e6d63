/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Log2 histogram of durations in nanoseconds. Slot k counts values in
 * [2^k, 2^(k+1) - 1]; slot 0 also takes 0, i.e. it is [0, 1]. A zeroed
 * struct is an empty histogram.
 */
#ifndef PINTRACE_HIST_H
#define PINTRACE_HIST_H

#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>

#define HIST_SLOTS 64

struct log2_hist {
	__u64 slots[HIST_SLOTS];
	__u64 count;
	__u64 sum;	/* saturates at UINT64_MAX instead of wrapping */
	__u64 min;	/* valid when count > 0 */
	__u64 max;
};

typedef void (*hist_bucket_fn)(__u64 lo, __u64 hi, __u64 count, void *ctx);

/* Slot index of @v: floor(log2(v)), 0 for v <= 1. */
unsigned int hist_slot(__u64 v);
void hist_add(struct log2_hist *h, __u64 v);
/* dst += src */
void hist_merge(struct log2_hist *dst, const struct log2_hist *src);
/* Calls @cb(lo, hi, count) for each non-empty slot, lowest first. */
void hist_foreach_nonzero(const struct log2_hist *h, hist_bucket_fn cb,
			  void *ctx);
/* Mean, rounded down; 0 for an empty histogram. */
__u64 hist_avg(const struct log2_hist *h);

/*
 * Format @ns in a human unit with about 3 significant digits ("512ns",
 * "1.02us", "65.5ms", "4.29s"). Returns @buf.
 */
char *hist_fmt_ns(char *buf, size_t len, __u64 ns);

/*
 * bpftrace-like rendering: "count/min/avg/max", then one row per slot from
 * the lowest to the highest non-empty one (empty ones between included),
 * indented by two spaces to sit under a caller's heading. @unit_label is
 * the unit of the values: "ns" (or NULL) shows bounds in human time units
 * (ns/us/ms/s), anything else ("pages") shows raw numbers and the label.
 */
void hist_print(FILE *f, const struct log2_hist *h, const char *unit_label);

#endif /* PINTRACE_HIST_H */
