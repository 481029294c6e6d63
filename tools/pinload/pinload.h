/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pinload: deterministic trigger for the page pin (FOLL_PIN) and page
 * reference (FOLL_GET) paths that pintrace traces. tools/pinload.md lists
 * the kernel path of each workload on 6.1 and 6.12.
 *
 * Each run prints exactly one JSON object on one line to stdout, even on
 * failure; diagnostics go to stderr. Exit 0: ok, 1: the call under test or
 * its setup failed, 2: usage error.
 *
 * pinload is one-shot: error paths leave buffers and fds to process exit,
 * and helper children see EOF on their pipe and exit when we do.
 *
 * Files: main.c command line; common.c helpers, vmstat counters and JSON;
 * uffd.c userfaultfd hold; pvr.c, uring.c, vmsplice.c, odirect.c workloads;
 * net.c TCP receiver child (loopback or veth netns), rtnl.c veth setup;
 * sock.c workloads splice-sock and zerocopy; zone.c page frames, zones,
 * migration counters, pipe holds; offline.c workload offline (memory block
 * hot-remove) with memblock.c (block checks, bounded sysfs writes); cma.c
 * workloads cma-uring, cma-hugepin, cma-hold (a CMA area given by --pfns).
 *
 * Build: make build/pinload, or the gcc line in tools/pinload.md.
 *
 * Include this header first in every pinload source: it sets _GNU_SOURCE.
 */
#ifndef PINLOAD_H
#define PINLOAD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEED_REMOTE	0x70696e6c6f616431ULL	/* data of the pvr target */
#define SEED_LOCAL	0x70696e6c6f616432ULL	/* data pinload itself produces */
#define SEED_REWRITE	0x70696e6c6f616433ULL	/* --rewrite: sent data overwritten */
#define UFFD_CHUNK	64	/* pages per UFFDIO_COPY: few faults on big buffers */
#define MAX_PAGES	262144	/* 1 GiB, io_uring's limit for one buffer */
#define MAX_PIPE_PAGES	65536	/* 6.1 allocates the pipe_buffer ring with kcalloc */
#define MAX_MS		600000
#define MAX_CHILDREN	64
#define MAX_EXTRA	48

enum { O_PAGES = 1, O_HOLD = 2, O_KEEP = 4, O_WRITE = 8, O_DRAIN = 16,
       O_CLOSE = 32, O_DEV = 64, O_MS = 128, O_CHILDREN = 256, O_TEE = 512, O_FAULT = 1024,
       O_PIPE_PAGES = 2048, O_NETNS = 4096, O_REWRITE = 8192,
       O_RCVBUF = 16384, O_PIPE = 32768, O_OFFLINE_MS = 65536, O_PFNS = 131072,
       O_FILL_MB = 262144, O_AVAIL_MB = 524288 };

struct opts {
	long pages, hold_ms, keep_ms, ms, children;	/* hold_ms -1: not given */
	long pipe_pages;	/* vmsplice: pipe capacity in pages (0: all) */
	long rcvbuf;		/* socket workloads: receiver's SO_RCVBUF (0: big) */
	long offline_ms;	/* offline: limit of the first attempt (0: default) */
	long fill_mb;		/* cma-uring: most anon memory to fill (0: default) */
	long avail_mb;		/* cma-hold: fill until MemAvailable is this low */
	uint64_t cma_base, cma_count;	/* --pfns BASE:COUNT: the CMA area targeted */
	const char *dev;
	bool write, drain, tee, fault, netns, rewrite, pipe;
	unsigned int seen;				/* O_* given */
};

struct pinstat { long long acq, rel; };	/* FOLL_PIN counters; -1: unknown */

/* What happened; filled by a workload, printed by emit(). */
struct res {
	const char *failed;	/* step that failed (a string literal), or NULL */
	const char *mode;
	int err;		/* errno of the failed step / the call under test */
	int verified;		/* 1 data matched, 0 mismatch, -1 nothing to check */
	long long ret;		/* return value of the call under test */
	double ms;		/* its duration */
	struct pinstat p0, p1;	/* vmstat before and after */
	int nextra;
	struct {		/* extra JSON fields, in order */
		const char *key, *str;	/* str: a string (must outlive emit) */
		long long val;
		char kind;		/* 'i' integer, 'b' boolean, 's' string,
					 * 'j' str is JSON, printed as is */
	} extra[MAX_EXTRA];
	int nkids;		/* fork-pvr: results of the children */
	const struct res *kids;
};

/* fork-pvr children send their struct res through one pipe in one write. */
_Static_assert(sizeof(struct res) <= PIPE_BUF, "struct res must fit PIPE_BUF");

extern size_t pg;	/* page size: every count here is in these pages */

/*
 * A handler thread fills missing pages of a registered range with the
 * pattern (page index counted from origin). The first fault is answered
 * only after delay_ms, so whatever the faulting kernel path pinned before
 * it touched that page stays pinned at least that long.
 */
struct uffd {
	int fd;
	char *origin, *src;	/* pattern page 0; UFFDIO_COPY source */
	uintptr_t end;		/* end of the registered range */
	uint64_t seed;
	long delay_ms;
	unsigned long faults;
	pthread_t thr;
};

/* common.c: helpers */
struct res res_new(void);
int fail(struct res *r, const char *step);
void extra(struct res *r, const char *key, long long val);
void extra_bool(struct res *r, const char *key, bool val);
void extra_str(struct res *r, const char *key, const char *val);
void extra_json(struct res *r, const char *key, const char *json);
double now_ms(void);
void sleep_ms(long ms);
bool read_full(int fd, void *p, size_t n);
char *map_pages(size_t n, bool touch);
void pat_fill(char *p, size_t first_page, size_t n, uint64_t seed);
bool pat_ok(const char *p, size_t n, uint64_t seed);
bool pat_ok_at(const char *p, size_t first_page, size_t n, uint64_t seed);
bool pat_ok_either(const char *p, size_t first_page, size_t n, uint64_t seed1,
		   uint64_t seed2);
struct pinstat pinstat_now(void);
void call_begin(struct res *r);
void call_end(struct res *r, long long ret);
int call_failed(struct res *r, const char *step);

/* common.c: JSON */
int emit(const char *workload, const struct opts *o, const struct res *r);

/* uffd.c */
int uffd_start(struct uffd *u, struct res *r, char *origin, char *start,
	       size_t n, uint64_t seed, long delay_ms);
unsigned long uffd_stop(struct uffd *u);

/*
 * net.c: a TCP connection from us (the sender) to a receiver child that
 * reads nothing until conn_read(). --netns: sender and receiver each in a
 * new network namespace, joined by a veth pair (see net.c).
 */
struct conn {
	int fd;			/* sender socket: connected, O_NONBLOCK */
	int to_rcv, from_rcv;	/* pipes to and from the receiver child */
	int pid;		/* receiver child */
	int local_port, peer_port, rcvbuf, sndbuf;
	char peer_addr[16];
};

/* What the receiver child saw; also its error reports. */
struct rcv_report {
	int err, port, rcvbuf;
	char step[24];		/* failed step, "" if none */
	long long received;	/* bytes read */
	long long queued;	/* bytes in its receive queue before reading */
	long long orig, rewritten;	/* pages that match either pattern */
	long long mixed;		/* pages with words of both */
};

int conn_open(struct conn *c, const struct opts *o, struct res *r, bool zerocopy);
long long conn_outq(const struct conn *c);
int conn_wait_acked(const struct conn *c, long ms);
int conn_read(struct conn *c, struct res *r, long long count, struct rcv_report *rep);
int conn_close(struct conn *c, struct res *r);

/*
 * zone.c: where a buffer's pages are. PFNs from /proc/self/pagemap (0: not
 * present or hidden), zones from the spans in /proc/zoneinfo.
 */
#define PFN_ABSENT	UINT64_MAX	/* buf_pfns(): page not present */

struct migstat { long long ok, fail; };	/* pgmigrate_success/_fail; -1 unknown */

int buf_pfns(const char *buf, size_t n, uint64_t *pfn);
const char *pfn_zone(uint64_t pfn);
uint64_t zone_spanned(const char *name);
void zone_report(struct res *r, const char *buf, size_t n, const char *zkey,
		 const char *pkey);
struct migstat migstat_now(void);
void migstat_report(struct res *r, struct migstat a, struct migstat b,
		    const char *okkey, const char *failkey);
int pipe_hold(struct res *r, int pfd[2], char *buf, size_t n);

/* memblock.c: memory blocks for the offline workload */
#define MEMDIR		"/sys/devices/system/memory"

struct wres {			/* a bounded write to a sysfs file */
	long long ret;		/* write()'s return value, -1 if none */
	int err;		/* the writer's errno */
	const char *end;	/* "done", "eintr", "error", "killed", "unkillable" */
	double ms;
};

struct blk_info {
	const char *vz, *st, *zone;	/* valid_zones, state, zone by zoneinfo */
	long unmovable;			/* reserved or hole pages, -1 unknown */
};

struct wres state_write(const char *path, const char *val, long limit_ms);
const char *sysfs_str(const char *path);
const char *block_file(char path[96], long blk, const char *name);
bool block_usable(long blk, long long bsize, struct blk_info *bi);

/* rtnl.c: 0 or -errno */
int rtnl_veth_add(const char *name, const char *peer, int peer_pid);
int rtnl_addr_up(const char *ifname, const char *addr, int prefixlen);

/* Workloads: fill *r, return 0 or -1. */
int do_pvr(const struct opts *o, struct res *r);
int do_fork_pvr(const struct opts *o, struct res *r);
int do_uring(const struct opts *o, struct res *r);
int do_vmsplice(const struct opts *o, struct res *r);
int do_odirect(const struct opts *o, struct res *r);
int do_splice_sock(const struct opts *o, struct res *r);
int do_zerocopy(const struct opts *o, struct res *r);
int do_offline(const struct opts *o, struct res *r);
int do_cma_uring(const struct opts *o, struct res *r);
int do_cma_hugepin(const struct opts *o, struct res *r);
int do_cma_hold(const struct opts *o, struct res *r);

#endif /* PINLOAD_H */
