// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Not a test: pin+unpin throughput of the pin table.
 * cc -O2 -Iinclude -Isrc tests/unit/bench_pintable.c src/pintable.c
 *
 * Steady state with 100 k folios each holding about one pin: every step
 * pins a random folio and unpins the folio pinned WINDOW steps earlier, so
 * every unpin matches (the expensive path) and the table neither grows nor
 * drains. A held-long scan runs every 8 k operations, as the tool's loop
 * would, and finds work to do.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pintable.h"

#define NR_OPS		10000000u
#define NR_FOLIOS	100000u
#define WINDOW		NR_FOLIOS	/* outstanding pins in steady state */

struct sink {
	__u64 refs;
	__u64 held;
};

static void on_match(const struct unpin_match *m, void *ctx)
{
	((struct sink *)ctx)->refs += m->refs;
}

static void on_held(__u64 folio, const struct pin_owner *own, __u32 refs,
		    __u64 t0, __u64 age, void *ctx)
{
	(void)folio, (void)own, (void)refs, (void)t0, (void)age;
	((struct sink *)ctx)->held++;
}

static __u64 xorshift64(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	/* pins live WINDOW * 100 ns = 10 ms: nearly all get reported held-long */
	struct pintable_opts o = { .min_hold_ns = 10000000ULL * 3 / 4,
				   .max_records = 1u << 20 };
	struct pin_owner own = { .api = PT_HOOK_PIN_USER_PAGES_FAST,
				 .hook = PT_HOOK_TRY_GRAB_FOLIO,
				 .pt_flags = PT_F_PIN };
	__u32 *ring = malloc(WINDOW * sizeof(*ring));
	struct sink sink = { 0 };
	struct pintable_stats st;
	struct pintable *t;
	__u64 rng = 88172645463325252ULL, ts = 0;
	__u32 i, head = 0;
	double t0, dt;

	t = pintable_new(&o);
	if (!t || !ring) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	strcpy(own.comm, "bench");

	/* warm up: fill the window so the measured loop is steady state */
	for (i = 0; i < WINDOW; i++) {
		ring[i] = (__u32)(xorshift64(&rng) % NR_FOLIOS);
		own.pid = own.tid = 1000 + ring[i] % 8;
		pintable_pin(t, 0xffffea0000000000ULL + (__u64)ring[i] * 64, 1,
			     &own, ts++);
	}

	t0 = now_s();
	for (i = 0; i < NR_OPS / 2; i++) {
		__u32 f = (__u32)(xorshift64(&rng) % NR_FOLIOS);
		__u32 old = ring[head];

		own.pid = own.tid = 1000 + (f & 7);
		pintable_pin(t, 0xffffea0000000000ULL + (__u64)f * 64, 1, &own,
			     ts);
		/* unpinned by one of 8 pids or a kworker: both passes run */
		pintable_unpin(t, 0xffffea0000000000ULL + (__u64)old * 64, 1,
			       1000 + (__u32)(ts % 9), ts, on_match, &sink);
		ring[head] = f;
		head = (head + 1) % WINDOW;
		ts += 100;
		if ((i & 4095) == 0)
			pintable_scan_held(t, ts, on_held, &sink);
	}
	dt = now_s() - t0;

	pintable_get_stats(t, &st);
	printf("%u ops (pin+unpin) over %u folios in %.3f s: %.2f M ops/s\n",
	       NR_OPS, NR_FOLIOS, dt, NR_OPS / dt / 1e6);
	printf("matched %llu, preexisting %llu, outstanding %llu, folios %llu, held-long %llu\n",
	       (unsigned long long)st.matched_refs,
	       (unsigned long long)st.preexisting_refs,
	       (unsigned long long)st.outstanding_refs,
	       (unsigned long long)st.folios,
	       (unsigned long long)sink.held);
	pintable_free(t);
	free(ring);
	return sink.refs == st.matched_refs + st.preexisting_refs ? 0 : 1;
}
