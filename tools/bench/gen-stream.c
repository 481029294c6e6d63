// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gen-stream: a deterministic synthetic recording (the --record format,
 * written by src/record.c) for the pipeline benchmark and the replay test.
 *
 *   gen-stream [-n EVENTS] [-s SEED] [-g GAP_NS] FILE   (EVENTS: 10000, 10k, 10M)
 *
 * GAP_NS is the mean time between two GUP calls (1000: a busy machine);
 * a small stream needs a long gap to span the delays of unpins.
 *
 * The mix imitates a busy machine as the BPF side reports it (bpf/gup.bpf.h,
 * bpf/pipe.bpf.h): short-term FOLL_PIN I/O (O_DIRECT, process_vm_readv)
 * whose pages are unpinned after 2 us to 3 s, partly from IRQ context;
 * FOLL_GET lookups; vmsplice into pipes with releases by a reader, a few
 * tee'd and a few never released; rare io_uring-style long-term pins; failed
 * calls. Every unpin and release follows its grab, so nothing replays as
 * pre-existing. On stdout, key=value totals the replay summary must show.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "foll.h"
#include "record.h"

#define VMEMMAP		0xffffea0000000000ULL	/* x86_64 without KASLR of the memmap */
#define PFN_BASE	0x100000ULL
#define NR_FOLIOS	(256 * 1024)	/* working set: 1 GiB of 4 KiB pages */
#define NR_PROCS	48
#define NR_PIPES	64
#define PIPE_BASE	0xffff888104000000ULL	/* struct pipe_inode_info addresses */
#define IRQ_PID		0		/* bio completions unpin from interrupts */
#define MS		1000000ULL
#define US		1000ULL

/* What is due later: an unpin or a pipe release of one grab. */
struct due {
	__u64 ts;
	__u64 folio;
	__u64 pipe;		/* releases: the holding pipe; 0: an unpin */
	__u32 refs;
	__u32 pid;		/* the task that drops it */
};

struct gen {
	__u64 rng, now, left;
	__u64 gap_ns;		/* mean time between two actions (calls) */
	struct due *heap;
	size_t nheap, cap;
	struct rec_writer *w;
	__u32 folls[4];		/* FOLL_PIN, GET, LONGTERM, WRITE of the table written */
	/* totals of what was written: the replay summary must agree */
	__u64 events, pin_refs, longterm_refs, get_refs, unpin_refs, calls, call_failures;
	__u64 pipe_taken, pipe_teed, pipe_released;
};

static const char *const comms[] = { "fio", "postgres", "qemu-system-x86", "nginx", "rsync",
				     "java", "vhost-1234", "gdb" };

static __u64 rnd(struct gen *g)
{
	/* xorshift64*: fast, and the same stream for the same seed everywhere */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dULL;
}

static __u64 below(struct gen *g, __u64 n)
{
	return rnd(g) % n;
}

/*
 * Roughly exponential around @mean: -ln(u) * mean with the logarithm taken
 * by bit length, plus jitter; integer only, so every libc gives the same.
 */
static __u64 expo(struct gen *g, __u64 mean)
{
	__u64 x = 1 + below(g, 1u << 20), v = 0;

	while (x < (1u << 20)) {
		x <<= 1;
		v += mean * 69 / 100;	/* ln 2 */
	}
	return v + below(g, mean / 2 + 1);
}

/* ---- the due heap (min by ts) ----------------------------------------- */

static int due_push(struct gen *g, const struct due *d)
{
	size_t i;

	if (g->nheap == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4096;
		struct due *h = realloc(g->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		g->heap = h;
		g->cap = cap;
	}
	for (i = g->nheap++; i && g->heap[(i - 1) / 2].ts > d->ts; i = (i - 1) / 2)
		g->heap[i] = g->heap[(i - 1) / 2];
	g->heap[i] = *d;
	return 0;
}

static struct due due_pop(struct gen *g)
{
	struct due top = g->heap[0], last = g->heap[--g->nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < g->nheap) {
		if (c + 1 < g->nheap && g->heap[c + 1].ts < g->heap[c].ts)
			c++;
		if (g->heap[c].ts >= last.ts)
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (g->nheap)
		g->heap[i] = last;
	return top;
}

/* ---- events ------------------------------------------------------------ */

static void task_of(struct gen *g, struct pt_event *e, __u32 pid)
{
	e->pid = pid;
	e->tid = pid ? pid + (__u32)below(g, 4) : 0;
	snprintf(e->comm, sizeof(e->comm), "%s", pid == IRQ_PID ? "swapper/1" :
		 comms[pid % (sizeof(comms) / sizeof(comms[0]))]);
}

static void base(struct gen *g, struct pt_event *e, __u8 type, __u8 hook, __u32 pid, __u64 ts)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->hook = hook;
	e->backend = PT_BACKEND_FENTRY;
	e->ts_ns = ts;
	e->stack_id = -1;
	e->pfn = PT_PFN_UNKNOWN;
	e->zone = PT_ZONE_UNKNOWN;
	task_of(g, e, pid);
}

static int emit(struct gen *g, const struct pt_event *e)
{
	if (!g->left)
		return -1;
	g->left--;
	g->events++;
	rec_write(g->w, e, sizeof(*e));
	return 0;
}

static __u64 gup_flags_of(const struct gen *g, __u32 pt)
{
	return (pt & PT_F_PIN ? g->folls[0] : 0) | (pt & PT_F_GET ? g->folls[1] : 0) |
	       (pt & PT_F_LONGTERM ? g->folls[2] : 0) | (pt & PT_F_WRITE ? g->folls[3] : 0);
}

static void folio_of(struct pt_event *e, __u64 idx)
{
	e->folio = VMEMMAP + (PFN_BASE + idx) * 64;
	e->pfn = PFN_BASE + idx;
	e->zone = 2;	/* ZONE_NORMAL on x86_64 */
}

/* One grab into *e; @pt is PT_F_PIN or PT_F_GET plus extras. -1: the stream is full. */
static int grab_to(struct gen *g, struct pt_event *e, __u8 hook, __u8 api, __u32 pid, __u32 pt,
		   __u64 nr_req, __u64 pipe, __u64 ino)
{
	__u32 refs = 1;

	base(g, e, PT_EV_GRAB, hook, pid, g->now);
	folio_of(e, below(g, NR_FOLIOS));
	/* a large folio (THP) is grabbed once for all its pages in the range */
	if (!(pt & PT_F_PIPE) && below(g, 100) < 5) {
		refs = 2 + (__u32)below(g, 15);
		pt |= PT_F_LARGE;
	}
	e->api = api;
	e->refs = refs;
	e->pt_flags = pt;
	e->holder = pipe;
	e->holder_id = ino;
	e->gup_flags = gup_flags_of(g, pt);
	e->nr_req = nr_req;
	e->addr = 0x7f0000000000ULL + below(g, 1ULL << 30) * 4096;
	if (pt & (PT_F_PIN | PT_F_PIPE))
		e->stack_id = (__s32)below(g, 512);
	g->now += 20 + below(g, 200);
	if (emit(g, e))
		return -1;
	if (pt & PT_F_PIN) {
		g->pin_refs += refs;
		if (pt & PT_F_LONGTERM)
			g->longterm_refs += refs;
	}
	if (pt & PT_F_GET)
		g->get_refs += refs;
	if (pt & PT_F_PIPE)
		g->pipe_taken += refs;
	return 0;
}

static int grab(struct gen *g, struct pt_event *e, __u8 hook, __u8 api, __u32 pid, __u32 pt,
		__u64 nr_req)
{
	return grab_to(g, e, hook, api, pid, pt, nr_req, 0, 0);
}

/* vmsplice's grab: a reference the pipe (its address and inode) holds from now on */
static int grab_pipe(struct gen *g, struct pt_event *e, __u32 pid, __u64 pipe, __u64 ino,
		     __u64 nr_req)
{
	return grab_to(g, e, PT_HOOK_TRY_GRAB_FOLIO_FAST, PT_HOOK_GET_USER_PAGES_FAST, pid,
		       PT_F_GET | PT_F_PIPE, nr_req, pipe, ino);
}

static int call(struct gen *g, __u8 api, __u32 pid, __u32 pt, __u64 nr, __s64 ret, __u64 t0)
{
	struct pt_event e;

	base(g, &e, PT_EV_CALL, api, pid, g->now);
	e.api = api;
	e.nr_req = nr;
	e.ret = ret;
	e.pt_flags = pt;
	e.gup_flags = gup_flags_of(g, pt);
	e.addr = 0x7f0000000000ULL;
	e.dur_ns = g->now - t0 + 500;
	g->now += 50 + below(g, 300);
	if (emit(g, &e))
		return -1;
	g->calls++;
	g->call_failures += ret < 0;
	return 0;
}

/* How long a short-term pin is held: mostly I/O latency, a few stragglers. */
static __u64 hold_time(struct gen *g)
{
	__u64 p = below(g, 1000);

	if (p < 850)
		return 2 * US + expo(g, 100 * US);
	if (p < 980)
		return 1 * MS + below(g, 99 * MS);
	if (p < 995)
		return 100 * MS + below(g, 190 * MS);
	return 350 * MS + below(g, 2650 * MS);	/* past --min-hold: held long */
}

/* O_DIRECT, process_vm_readv...: short-term pins, unpinned when the I/O is done. */
static int act_pin_io(struct gen *g, __u32 pid)
{
	static const __u8 apis[] = { PT_HOOK_PIN_USER_PAGES_FAST, PT_HOOK_PIN_USER_PAGES_FAST,
				     PT_HOOK_PIN_USER_PAGES_FAST, PT_HOOK_PIN_USER_PAGES_REMOTE,
				     PT_HOOK_PIN_USER_PAGES_UNLOCKED };
	__u8 api = apis[below(g, sizeof(apis))];
	__u8 hook = api == PT_HOOK_PIN_USER_PAGES_FAST ? PT_HOOK_TRY_GRAB_FOLIO_FAST :
						      PT_HOOK_TRY_GRAB_FOLIO;
	__u32 pt = PT_F_PIN | (below(g, 2) ? PT_F_WRITE : 0);
	__u64 n = 1 + expo(g, 4) % 64, t0 = g->now;
	struct pt_event e;

	for (__u64 i = 0; i < n; i++) {
		struct due d;

		if (grab(g, &e, hook, api, pid, pt, n))
			return -1;
		d.ts = e.ts_ns + hold_time(g);
		d.folio = e.folio;
		d.pipe = 0;
		d.refs = e.refs;
		d.pid = below(g, 10) < 6 ? pid : IRQ_PID;
		if (due_push(g, &d))
			return -1;
	}
	return call(g, api, pid, pt, n, (__s64)n, t0);
}

/* get_user_pages_fast with FOLL_GET: references, put without a GUP event. */
static int act_get(struct gen *g, __u32 pid)
{
	__u32 pt = PT_F_GET | (below(g, 2) ? PT_F_WRITE : 0);
	__u64 n = 1 + below(g, 8), t0 = g->now;
	struct pt_event e;

	for (__u64 i = 0; i < n; i++)
		if (grab(g, &e, PT_HOOK_TRY_GRAB_FOLIO_FAST, PT_HOOK_GET_USER_PAGES_FAST, pid, pt, n))
			return -1;
	return call(g, PT_HOOK_GET_USER_PAGES_FAST, pid, pt, n, (__s64)n, t0);
}

/* vmsplice: the pipe holds the references until a reader takes the pages. */
static int act_vmsplice(struct gen *g, __u32 pid)
{
	__u64 n = 1 + below(g, 16), t0 = g->now, p = below(g, NR_PIPES);
	__u32 reader = 1000 + (__u32)below(g, NR_PROCS);
	struct pt_event e;

	for (__u64 i = 0; i < n; i++) {
		struct due d = { .pipe = PIPE_BASE + p * 0x400, .refs = 1, .pid = reader };
		__u64 fate = below(g, 1000);

		if (grab_pipe(g, &e, pid, d.pipe, 10000 + p, n))
			return -1;
		d.folio = e.folio;
		if (fate < 5)
			continue;	/* a leak: never read */
		if (fate < 25) {
			/* tee: the reader's pipe takes a reference of its own */
			struct due t = d;

			base(g, &e, PT_EV_HOLD, PT_HOOK_PIPE_BUF_GET, reader, g->now);
			e.folio = d.folio;
			e.refs = 1;
			e.pt_flags = PT_F_PIPE | PT_F_GET;
			t.pipe = PIPE_BASE + ((p + 1) % NR_PIPES) * 0x400;
			e.holder = t.pipe;
			e.holder_id = 10000 + (p + 1) % NR_PIPES;
			g->now += 100;
			if (emit(g, &e))
				return -1;
			g->pipe_teed++;
			t.ts = g->now + expo(g, 5 * MS);
			if (due_push(g, &t))
				return -1;
		}
		d.ts = g->now + 10 * US + expo(g, 2 * MS);
		if (due_push(g, &d))
			return -1;
	}
	return call(g, PT_HOOK_GET_USER_PAGES_FAST, pid, PT_F_GET, n, (__s64)n, t0);
}

/* io_uring buffer registration: long-term pins, mostly dropped seconds later. */
static int act_longterm(struct gen *g, __u32 pid)
{
	__u32 pt = PT_F_PIN | PT_F_LONGTERM | PT_F_WRITE;
	__u64 n = 32 + below(g, 225), t0 = g->now, hold = 500 * MS + below(g, 4500 * MS);
	bool kept = below(g, 10) < 3;
	struct pt_event e;

	for (__u64 i = 0; i < n; i++) {
		struct due d = { .pid = pid };

		if (grab(g, &e, PT_HOOK_TRY_GRAB_FOLIO, PT_HOOK_PIN_USER_PAGES, pid, pt, n))
			return -1;
		if (kept)
			continue;
		d.ts = t0 + hold;
		d.folio = e.folio;
		d.refs = e.refs;
		if (due_push(g, &d))
			return -1;
	}
	return call(g, PT_HOOK_PIN_USER_PAGES, pid, pt, n, (__s64)n, t0);
}

/* An unpin or a pipe release that fell due. */
static int drop(struct gen *g, const struct due *d)
{
	struct pt_event e;

	if (d->pipe) {
		base(g, &e, PT_EV_RELEASE, PT_HOOK_PIPE_BUF_RELEASE, d->pid, d->ts);
		e.pt_flags = PT_F_PIPE | PT_F_GET;
		e.holder = d->pipe;
	} else {
		base(g, &e, PT_EV_UNPIN, below(g, 10) < 7 ? PT_HOOK_GUP_PUT_FOLIO :
			PT_HOOK_UNPIN_USER_PAGE, d->pid, d->ts);
		e.pt_flags = PT_F_PIN;
		e.gup_flags = g->folls[0];
	}
	e.folio = d->folio;
	e.refs = d->refs;
	if (emit(g, &e))
		return -1;
	if (d->pipe)
		g->pipe_released += d->refs;
	else
		g->unpin_refs += d->refs;
	return 0;
}

static int step(struct gen *g)
{
	__u32 pid = 1000 + (__u32)below(g, NR_PROCS);
	__u64 p = below(g, 10000), next = g->now + expo(g, g->gap_ns);

	/* what falls due before the next call goes first: the stream stays in time order */
	while (g->nheap && g->heap[0].ts <= next) {
		struct due d = due_pop(g);

		if (drop(g, &d))
			return -1;
	}
	g->now = next;
	if (p < 6000)
		return act_pin_io(g, pid);
	if (p < 7800)
		return act_get(g, pid);
	if (p < 9899)
		return act_vmsplice(g, pid);
	if (p < 9900)
		return act_longterm(g, pid);
	return call(g, PT_HOOK_PIN_USER_PAGES_FAST, pid, PT_F_PIN, 1 + below(g, 8), -14, g->now);
}

static int parse_count(const char *s, __u64 *n)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 1)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	else if (*end == 'G')
		v *= 1e9, end++;
	if (*end || v > 1e12)
		return -EINVAL;
	*n = (__u64)v;
	return 0;
}

int main(int argc, char **argv)
{
	/* 1 us between calls: about 2 M events per second of trace */
	struct gen g = { .rng = 0x9e3779b97f4a7c15ULL, .now = 1000000000ULL, .gap_ns = 1000 };
	struct foll_table foll;
	__u64 n = 10000, records, lost;
	int c, err;

	while ((c = getopt(argc, argv, "n:s:g:")) != -1) {
		if (c == 'n' && !parse_count(optarg, &n))
			continue;
		if (c == 'g' && !parse_count(optarg, &g.gap_ns))
			continue;
		if (c == 's') {
			g.rng ^= strtoull(optarg, NULL, 0) * 0xbf58476d1ce4e5b9ULL;
			continue;
		}
		fprintf(stderr, "usage: gen-stream [-n EVENTS] [-s SEED] [-g GAP_NS] FILE\n");
		return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: gen-stream [-n EVENTS] [-s SEED] [-g GAP_NS] FILE\n");
		return 2;
	}
	if (!g.rng)
		g.rng = 1;
	/* the legacy (6.1) FOLL_* values: what a Debian 12 kernel reports */
	foll_load(NULL, &foll);
	g.folls[0] = foll.pin;
	g.folls[1] = foll.get;
	g.folls[2] = foll.longterm;
	g.folls[3] = foll.write;
	g.w = rec_writer_open(argv[optind], &foll, g.now - 1000000ULL);
	if (!g.w) {
		fprintf(stderr, "gen-stream: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	g.left = n;
	while (!step(&g))
		;
	err = rec_writer_close(g.w, &records, &lost);
	free(g.heap);
	if (err || g.left) {
		fprintf(stderr, "gen-stream: %s: %s\n", argv[optind],
			err ? strerror(-err) : "out of memory");
		return 1;
	}
	printf("events=%llu\nbytes=%llu\npin_refs=%llu\nlongterm_pin_refs=%llu\nget_refs=%llu\n"
	       "unpin_refs=%llu\noutstanding_pin_refs=%llu\ncalls=%llu\ncall_failures=%llu\n"
	       "pipe_taken=%llu\npipe_teed=%llu\npipe_released=%llu\noutstanding_pipe_refs=%llu\n",
	       (unsigned long long)g.events,
	       (unsigned long long)(sizeof(struct pt_rec_header) +
				    foll.n * sizeof(struct pt_rec_foll) +
				    g.events * (4 + sizeof(struct pt_event))),
	       (unsigned long long)g.pin_refs, (unsigned long long)g.longterm_refs,
	       (unsigned long long)g.get_refs, (unsigned long long)g.unpin_refs,
	       (unsigned long long)(g.pin_refs - g.unpin_refs), (unsigned long long)g.calls,
	       (unsigned long long)g.call_failures, (unsigned long long)g.pipe_taken,
	       (unsigned long long)g.pipe_teed, (unsigned long long)g.pipe_released,
	       (unsigned long long)(g.pipe_taken + g.pipe_teed - g.pipe_released));
	return 0;
}
