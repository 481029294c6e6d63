// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hist.h"

#define BAR_WIDTH 40

unsigned int hist_slot(__u64 v)
{
	/* clz(0) is undefined; 0 and 1 share slot 0 by definition */
	return v > 1 ? 63u - (unsigned int)__builtin_clzll(v) : 0u;
}

static __u64 sat_add(__u64 a, __u64 b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void hist_add(struct log2_hist *h, __u64 v)
{
	h->slots[hist_slot(v)]++;
	if (!h->count || v < h->min)
		h->min = v;
	if (!h->count || v > h->max)
		h->max = v;
	h->count++;
	h->sum = sat_add(h->sum, v);
}

void hist_merge(struct log2_hist *dst, const struct log2_hist *src)
{
	unsigned int i;

	if (!src->count)
		return;
	for (i = 0; i < HIST_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (!dst->count || src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum = sat_add(dst->sum, src->sum);
}

static __u64 slot_lo(unsigned int k)
{
	return k ? 1ULL << k : 0;
}

static __u64 slot_hi(unsigned int k)
{
	return k == 63 ? UINT64_MAX : (1ULL << (k + 1)) - 1;
}

void hist_foreach_nonzero(const struct log2_hist *h, hist_bucket_fn cb,
			  void *ctx)
{
	unsigned int k;

	for (k = 0; k < HIST_SLOTS; k++)
		if (h->slots[k])
			cb(slot_lo(k), slot_hi(k), h->slots[k], ctx);
}

__u64 hist_avg(const struct log2_hist *h)
{
	return h->count ? h->sum / h->count : 0;
}

char *hist_fmt_ns(char *buf, size_t len, __u64 ns)
{
	static const struct { double div; const char *unit; } units[] = {
		{ 1e3, "us" }, { 1e6, "ms" }, { 1e9, "s" },
	};
	unsigned int i;
	double v;

	if (ns < 1000) {
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
		return buf;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		v = (double)ns / units[i].div;
		/* 999.7us would print as "1000us": use the next unit instead */
		if (v >= 999.5 && i + 1 < sizeof(units) / sizeof(units[0]))
			continue;
		if (v < 9.995)
			snprintf(buf, len, "%.2f%s", v, units[i].unit);
		else if (v < 99.95)
			snprintf(buf, len, "%.1f%s", v, units[i].unit);
		else
			snprintf(buf, len, "%.0f%s", v, units[i].unit);
		break;
	}
	return buf;
}

/* Durations get human time units; any other unit prints raw numbers. */
static char *fmt_val(char *buf, size_t len, __u64 v, bool ns)
{
	if (ns)
		return hist_fmt_ns(buf, len, v);
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

void hist_print(FILE *f, const struct log2_hist *h, const char *unit_label)
{
	char lo[24], hi[24], mn[24], av[24], mx[24], range[56];
	unsigned int k, first = HIST_SLOTS, last = 0, bar;
	bool ns = !unit_label || !strcmp(unit_label, "ns");
	const char *unit = ns ? "" : unit_label;
	__u64 peak = 0;

	fprintf(f, "  count %llu", (unsigned long long)h->count);
	if (!h->count) {
		fputc('\n', f);
		return;
	}
	fprintf(f, ", min %s, avg %s, max %s%s%s\n",
		fmt_val(mn, sizeof(mn), h->min, ns),
		fmt_val(av, sizeof(av), hist_avg(h), ns),
		fmt_val(mx, sizeof(mx), h->max, ns), ns ? "" : " ", unit);

	for (k = 0; k < HIST_SLOTS; k++) {
		if (!h->slots[k])
			continue;
		if (first == HIST_SLOTS)
			first = k;
		last = k;
		if (h->slots[k] > peak)
			peak = h->slots[k];
	}
	/* empty slots between the extremes are printed: gaps are information */
	for (k = first; k <= last; k++) {
		fmt_val(lo, sizeof(lo), slot_lo(k), ns);
		/* half-open bounds like bpftrace; 2^64 does not fit a __u64 */
		if (k == 63)
			snprintf(hi, sizeof(hi), "inf");
		else
			fmt_val(hi, sizeof(hi), 1ULL << (k + 1), ns);
		snprintf(range, sizeof(range), "[%s, %s)", lo, hi);
		bar = (unsigned int)((double)h->slots[k] * BAR_WIDTH / (double)peak);
		if (!bar && h->slots[k])
			bar = 1;	/* a non-empty slot is never invisible */
		fprintf(f, "  %-18s %10llu |%-*.*s|\n", range,
			(unsigned long long)h->slots[k], BAR_WIDTH, bar,
			"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	}
}
