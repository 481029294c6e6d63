// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace's own overhead: the kernel's BPF run-time statistics of the
 * attached programs, the ring buffer's fill, and the fill of the maps that
 * can run full. Collection lives here; rendering in overhead_report.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "overhead.h"
#include "session.h"
#include "util.h"

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

/*
 * Counting a map costs one bpf(MAP_GET_NEXT_KEY) syscall per entry: 0.7 us
 * on a 2-core 6.18 host, so 190 ms for a full 256K-entry folio table; under
 * TCG emulation (the VM tests) every syscall is tens of times slower. Each
 * map gets a time budget, all of them together a larger one; a map not
 * counted in time is reported without a count (JSON null) rather than
 * making the exit report wait for seconds. Natively a full table still
 * fits its budget.
 */
#define COUNT_MAP_NS	(200 * 1000000ULL)
#define COUNT_TOTAL_NS	(500 * 1000000ULL)
#define COUNT_MIN_NS	(5 * 1000000ULL)	/* past the total: enough for an empty map */
#define COUNT_CLOCK_EVERY 64	/* keys between two looks at the clock */

void overhead_init(struct overhead *ov)
{
	memset(ov, 0, sizeof(*ov));
	ov->stats_fd = -1;
}

const char *overhead_stats_name(enum ovh_stats s)
{
	switch (s) {
	case OVH_STATS_ENABLED:
		return "enabled";
	case OVH_STATS_ALREADY:
		return "already_enabled";
	case OVH_STATS_UNAVAILABLE:
		return "unavailable";
	default:
		return "off";
	}
}

static bool sysctl_on(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v > 0;
}

void overhead_stats_start(struct overhead *ov, bool want)
{
	int fd;

	/*
	 * The sysctl shows only what was written to it, not other holders of
	 * a stats fd (another pintrace): "already" means an administrator
	 * turned accounting on. The numbers are ours either way: our programs
	 * are loaded after this, and their counts start at zero.
	 */
	ov->stats = sysctl_on(STATS_SYSCTL) ? OVH_STATS_ALREADY : OVH_STATS_OFF;
	if (!want)
		return;
	/*
	 * Accounting costs two clock reads per program run, so it is only on
	 * while this fd is open. Taken even when the sysctl is on: someone
	 * clearing it mid-session must not stop our counts.
	 */
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		if (ov->stats != OVH_STATS_ALREADY) {
			ov->stats = OVH_STATS_UNAVAILABLE;
			ov->stats_err = -errno;
		}
		return;
	}
	ov->stats_fd = fd;
	if (ov->stats != OVH_STATS_ALREADY)
		ov->stats = OVH_STATS_ENABLED;
}

int overhead_ringbuf_open(struct overhead *ov, int rb_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long ps = sysconf(_SC_PAGESIZE);
	void *c, *p;
	int err;

	if (ps <= 0)
		return -EINVAL;
	if (bpf_obj_get_info_by_fd(rb_fd, &info, &len))
		return -errno;
	ov->rb_size = info.max_entries;
	/*
	 * libbpf 1.1 keeps its positions to itself (ring__consumer_pos is
	 * 1.3+), so map the same two pages it maps: the consumer position at
	 * offset 0, the producer's one page on. The kernel allows both
	 * read-only; writing the consumer position stays libbpf's.
	 */
	c = mmap(NULL, ps, PROT_READ, MAP_SHARED, rb_fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	p = mmap(NULL, ps, PROT_READ, MAP_SHARED, rb_fd, ps);
	if (p == MAP_FAILED) {
		err = -errno;
		munmap(c, ps);
		return err;
	}
	ov->page_size = ps;
	ov->cons_pos = c;
	ov->prod_pos = p;
	return 0;
}

void overhead_note_pending(struct overhead *ov, __u64 prod, __u64 cons)
{
	/* the consumer is our own thread: it cannot pass the producer */
	__u64 pending = prod > cons ? prod - cons : 0;

	if (pending > ov->rb_peak)
		ov->rb_peak = pending;
}

void overhead_poll(struct overhead *ov)
{
	unsigned long cons, prod;

	ov->polls++;
	if (!ov->cons_pos)
		return;
	/* consumer first: the producer only grows, so the difference is never negative */
	cons = __atomic_load_n(ov->cons_pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(ov->prod_pos, __ATOMIC_ACQUIRE);
	overhead_note_pending(ov, prod, cons);
}

int overhead_prog_stats(int prog_fd, __u64 *run_cnt, __u64 *run_time_ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (prog_fd < 0)
		return -EBADF;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*run_cnt = info.run_cnt;
	*run_time_ns = info.run_time_ns;
	return 0;
}

void overhead_add_prog(struct overhead *ov, const char *name, __u64 run_cnt, __u64 run_time_ns)
{
	struct ovh_prog *p;

	ov->total_run_cnt += run_cnt;
	ov->total_run_time_ns += run_time_ns;
	/* a program that never ran costs nothing worth a line */
	if (!run_cnt || ov->nprogs >= OVH_MAX_PROGS)
		return;
	p = &ov->progs[ov->nprogs++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->run_cnt = run_cnt;
	p->run_time_ns = run_time_ns;
}

static int by_run_time(const void *a, const void *b)
{
	const struct ovh_prog *x = a, *y = b;

	if (x->run_time_ns != y->run_time_ns)
		return x->run_time_ns < y->run_time_ns ? 1 : -1;
	return strcmp(x->name, y->name);
}

void overhead_sort_progs(struct overhead *ov)
{
	qsort(ov->progs, ov->nprogs, sizeof(ov->progs[0]), by_run_time);
}

/*
 * Only attached programs: the sampler and the calibration program, run by
 * pintrace itself with BPF_PROG_TEST_RUN, are counted by the kernel too,
 * but they cost pintrace's own thread, not the traced code paths.
 */
static void add_attached(struct bpf_program *p, void *ctx)
{
	__u64 cnt, ns;

	if (!overhead_prog_stats(bpf_program__fd(p), &cnt, &ns))
		overhead_add_prog(ctx, bpf_program__name(p), cnt, ns);
}

bool overhead_count_map(int map_fd, __u32 key_size, __u32 max_entries, __u64 budget_ns,
			__u64 *entries)
{
	__u64 deadline = now_mono_ns() + budget_ns, n = 0;
	char *cur, *next;
	void *prev = NULL;
	bool done = false;
	int err;

	*entries = 0;
	cur = key_size ? calloc(2, key_size) : NULL;
	if (!cur)
		return false;
	next = cur + key_size;
	/*
	 * Bounded by max_entries: a key deleted under us makes the kernel
	 * restart from the first one, and the count must still end.
	 */
	while (n < max_entries) {
		if (n % COUNT_CLOCK_EVERY == 0 && now_mono_ns() >= deadline)
			break;
		err = bpf_map_get_next_key(map_fd, prev, next);
		if (err) {
			done = err == -ENOENT;
			break;
		}
		memcpy(cur, next, key_size);
		prev = cur;
		n++;
	}
	free(cur);
	*entries = n;
	return done || n >= max_entries;
}

/* Maps that can run full: hash tables (plain, LRU, per-CPU) and stack maps. */
static bool can_fill(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_STACK_TRACE;
}

/* The next map to count: the smallest not yet counted (n is small). */
static int next_smallest(const struct overhead *ov, const bool *done)
{
	int best = -1;

	for (unsigned int i = 0; i < ov->nmaps; i++)
		if (!done[i] && (best < 0 || ov->maps[i].max_entries < ov->maps[best].max_entries))
			best = i;
	return best;
}

static void count_maps(struct overhead *ov, const int *fds, const __u32 *key_sizes)
{
	__u64 deadline = now_mono_ns() + COUNT_TOTAL_NS;
	bool done[OVH_MAX_MAPS] = {};
	int i;

	/*
	 * Small maps first: they cost little, and a full folio table using up
	 * the total must not leave them uncounted. Past the total, each map
	 * still gets a little time, enough for an empty one.
	 */
	while ((i = next_smallest(ov, done)) >= 0) {
		struct ovh_map *mp = &ov->maps[i];
		__u64 now = now_mono_ns();
		__u64 budget = now < deadline ? deadline - now : 0;

		if (budget > COUNT_MAP_NS)
			budget = COUNT_MAP_NS;
		if (budget < COUNT_MIN_NS)
			budget = COUNT_MIN_NS;
		mp->counted = overhead_count_map(fds[i], key_sizes[i], mp->max_entries, budget,
						 &mp->entries);
		done[i] = true;
	}
}

static void collect_maps(struct overhead *ov, const struct bpf_object *obj)
{
	int fds[OVH_MAX_MAPS];
	__u32 key_sizes[OVH_MAX_MAPS];
	const struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct ovh_map *mp;

		if (bpf_map__is_internal(m) || !can_fill(bpf_map__type(m)) ||
		    bpf_map__fd(m) < 0 || ov->nmaps >= OVH_MAX_MAPS)
			continue;
		fds[ov->nmaps] = bpf_map__fd(m);
		key_sizes[ov->nmaps] = bpf_map__key_size(m);
		mp = &ov->maps[ov->nmaps++];
		snprintf(mp->name, sizeof(mp->name), "%s", bpf_map__name(m));
		mp->max_entries = bpf_map__max_entries(m);
	}
	count_maps(ov, fds, key_sizes);
}

void overhead_collect(struct overhead *ov, const struct session *s)
{
	const struct bpf_object *obj = session_object(s);

	struct rusage ru;

	ov->nprogs = ov->nmaps = 0;
	ov->total_run_cnt = ov->total_run_time_ns = 0;
	ov->load_ns = s->load_ns;
	ov->attach_ns = s->attach_ns;
	if (!getrusage(RUSAGE_SELF, &ru))
		ov->rss_peak_kib = ru.ru_maxrss;	/* Linux: KiB */
	/* programs first: counting maps runs syscalls that a sys_exit hook sees */
	session_foreach_attached(s, add_attached, ov);
	overhead_sort_progs(ov);
	if (obj)
		collect_maps(ov, obj);
}

void overhead_free(struct overhead *ov)
{
	if (ov->stats_fd >= 0)
		close(ov->stats_fd);
	ov->stats_fd = -1;
	if (ov->cons_pos)
		munmap((void *)ov->cons_pos, ov->page_size);
	if (ov->prod_pos)
		munmap((void *)ov->prod_pos, ov->page_size);
	ov->cons_pos = ov->prod_pos = NULL;
}
