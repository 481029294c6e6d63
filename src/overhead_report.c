// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The overhead section of the exit summary, as JSON and as text. */
#include <string.h>
#include "overhead.h"
#include "util.h"

/* A map this full is worth a line in the text summary. */
#define FULL_PCT 50

static json_object *ju(__u64 v)
{
	return json_object_new_int64((int64_t)v);
}

static double avg_ns(__u64 run_time_ns, __u64 run_cnt)
{
	return run_cnt ? (double)run_time_ns / (double)run_cnt : 0.0;
}

/* One decimal is all a mean of clock reads is worth: 81.3, not 81.299999999999997. */
static json_object *json_avg(__u64 run_time_ns, __u64 run_cnt)
{
	double v = avg_ns(run_time_ns, run_cnt);
	char buf[32];

	snprintf(buf, sizeof(buf), "%.1f", v);
	return json_object_new_double_s(v, buf);
}

static json_object *json_progs(const struct overhead *ov)
{
	json_object *arr = json_object_new_array();

	for (unsigned int i = 0; i < ov->nprogs; i++) {
		const struct ovh_prog *p = &ov->progs[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(p->name));
		json_object_object_add(j, "run_cnt", ju(p->run_cnt));
		json_object_object_add(j, "run_time_ns", ju(p->run_time_ns));
		json_object_object_add(j, "avg_ns", json_avg(p->run_time_ns, p->run_cnt));
		json_object_array_add(arr, j);
	}
	return arr;
}

static json_object *json_maps(const struct overhead *ov)
{
	json_object *arr = json_object_new_array();

	for (unsigned int i = 0; i < ov->nmaps; i++) {
		const struct ovh_map *m = &ov->maps[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(m->name));
		json_object_object_add(j, "max_entries", ju(m->max_entries));
		/* a lower bound would read as a count: not counted in time is null */
		json_object_object_add(j, "entries", m->counted ? ju(m->entries) : NULL);
		json_object_array_add(arr, j);
	}
	return arr;
}

json_object *overhead_json(const struct overhead *ov)
{
	json_object *j = json_object_new_object(), *rb = json_object_new_object();

	json_object_object_add(j, "bpf_stats", json_object_new_string(overhead_stats_name(ov->stats)));
	json_object_object_add(j, "programs", json_progs(ov));
	json_object_object_add(j, "total_run_cnt", ju(ov->total_run_cnt));
	json_object_object_add(j, "total_run_time_ns", ju(ov->total_run_time_ns));
	json_object_object_add(rb, "size_bytes", ju(ov->rb_size));
	json_object_object_add(rb, "peak_pending_bytes", ju(ov->rb_peak));
	json_object_object_add(rb, "polls", ju(ov->polls));
	json_object_object_add(j, "ringbuf", rb);
	json_object_object_add(j, "maps", json_maps(ov));
	json_object_object_add(j, "rss_peak_kib", ju(ov->rss_peak_kib));
	json_object_object_add(j, "load_ns", ju(ov->load_ns));
	json_object_object_add(j, "attach_ns", ju(ov->attach_ns));
	return j;
}

static unsigned int pct(__u64 part, __u64 whole)
{
	return whole ? (unsigned int)(part * 100 / whole) : 0;
}

static void text_stats(const struct overhead *ov, FILE *f)
{
	switch (ov->stats) {
	case OVH_STATS_OFF:
		fprintf(f, "  BPF run-time stats off (--no-bpf-stats)\n");
		break;
	case OVH_STATS_UNAVAILABLE:
		fprintf(f, "  BPF run-time stats unavailable: %s (errno %d)\n",
			strerror(-ov->stats_err), -ov->stats_err);
		break;
	default:
		break;
	}
	/* also when off: someone else may have had accounting on */
	if (ov->stats != OVH_STATS_ENABLED && ov->stats != OVH_STATS_ALREADY &&
	    !ov->total_run_cnt)
		return;
	fprintf(f, "  %llu program runs, %.3f ms in BPF (%.0f ns/run)%s\n",
		(unsigned long long)ov->total_run_cnt, ov->total_run_time_ns / 1e6,
		avg_ns(ov->total_run_time_ns, ov->total_run_cnt),
		ov->stats == OVH_STATS_ALREADY ? "; kernel.bpf_stats_enabled was already 1" : "");
	if (!ov->nprogs)
		return;
	fprintf(f, "  %-32s %12s %10s %8s\n", "PROGRAM", "RUNS", "TIME_MS", "AVG_NS");
	for (unsigned int i = 0; i < ov->nprogs && i < OVH_TOP_PROGS; i++) {
		const struct ovh_prog *p = &ov->progs[i];

		fprintf(f, "  %-32s %12llu %10.3f %8.0f\n", p->name, (unsigned long long)p->run_cnt,
			p->run_time_ns / 1e6, avg_ns(p->run_time_ns, p->run_cnt));
	}
	if (ov->nprogs > OVH_TOP_PROGS)
		fprintf(f, "  (%u more programs ran)\n", ov->nprogs - OVH_TOP_PROGS);
}

static void text_maps(const struct overhead *ov, FILE *f)
{
	unsigned int full = 0, uncounted = 0;

	for (unsigned int i = 0; i < ov->nmaps; i++) {
		const struct ovh_map *m = &ov->maps[i];

		if (pct(m->entries, m->max_entries) < FULL_PCT)
			continue;
		/* a lower bound over the mark is over it all the same */
		fprintf(f, "%s %s %s%llu/%u (%u%%)", full++ ? "," : "  maps over 50% full:", m->name,
			m->counted ? "" : ">=", (unsigned long long)m->entries, m->max_entries,
			pct(m->entries, m->max_entries));
	}
	if (full)
		fprintf(f, "\n");
	for (unsigned int i = 0; i < ov->nmaps; i++) {
		const struct ovh_map *m = &ov->maps[i];

		if (m->counted || pct(m->entries, m->max_entries) >= FULL_PCT)
			continue;
		fprintf(f, "%s %s", uncounted++ ? "," : "  maps not counted in time:", m->name);
		if (m->entries)
			fprintf(f, " (>=%llu)", (unsigned long long)m->entries);
	}
	if (uncounted)
		fprintf(f, "\n");
}

void overhead_text(const struct overhead *ov, FILE *f)
{
	char peak[32], size[32];

	fprintf(f, "Overhead:\n");
	text_stats(ov, f);
	fprintf(f, "  ring buffer: peak %s pending of %s (%.1f%%), %llu polls\n",
		fmt_bytes(ov->rb_peak, peak, sizeof(peak)), fmt_bytes(ov->rb_size, size, sizeof(size)),
		ov->rb_size ? 100.0 * ov->rb_peak / ov->rb_size : 0.0, (unsigned long long)ov->polls);
	text_maps(ov, f);
	fprintf(f, "  start-up: BPF load %.0f ms, attach %.0f ms; peak RSS %.1f MiB\n",
		ov->load_ns / 1e6, ov->attach_ns / 1e6, ov->rss_peak_kib / 1024.0);
}
