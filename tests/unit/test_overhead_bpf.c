// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The overhead collectors against the real pintrace object on the running
 * kernel: loaded with an empty plan, so that nothing is attached and only
 * the raw_tp programs pintrace runs with BPF_PROG_TEST_RUN load (they do
 * where kprobes and fentry cannot); the ring buffer is filled by a small
 * raw_tp program of the test's own. Needs root; skips without it, or when
 * the kernel refuses the object.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "overhead.h"
#include "session.h"
#include "util.h"

struct fixture {
	struct plan plan;
	struct session sess;
	struct overhead ov;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/*
 * Load once for all tests; NULL (with the reason in why) where this cannot
 * run: the whole program is then skipped, as TAP's "1..0 # SKIP", since
 * cmocka reports a skipped test as "not ok".
 */
static struct fixture *load(char *why, size_t len)
{
	struct session_opts so = { .ringbuf_bytes = PT_RINGBUF_DEFAULT, .allow_partial = true };
	struct fixture *fx;

	if (geteuid()) {
		snprintf(why, len, "needs root");
		return NULL;
	}
	fx = calloc(1, sizeof(*fx));
	if (!fx) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	libbpf_set_print(quiet);
	if (session_start(&fx->sess, &fx->plan, &so)) {
		snprintf(why, len, "the pintrace object does not load here: %s", fx->sess.err);
		session_stop(&fx->sess);
		free(fx);
		return NULL;
	}
	overhead_init(&fx->ov);
	return fx;
}

static void unload(struct fixture *fx)
{
	overhead_free(&fx->ov);
	session_stop(&fx->sess);
	free(fx);
}

static int map_fd(struct fixture *fx, const char *name)
{
	const struct bpf_map *m = bpf_object__find_map_by_name(session_object(&fx->sess), name);

	assert_non_null(m);
	return bpf_map__fd(m);
}

/*
 * BPF_PROG_TEST_RUN runs are counted like any other: the calibration
 * program's show, and collect must leave them out (it is not attached).
 */
static void test_stats_test_run(void **state)
{
	struct fixture *fx = *state;
	const struct bpf_program *p;
	struct pt_calib c = {};
	__u64 cnt = 0, ns = 0;

	overhead_stats_start(&fx->ov, true);
	if (fx->ov.stats == OVH_STATS_UNAVAILABLE) {
		print_message("# bpf_enable_stats: %s, skipped\n", strerror(-fx->ov.stats_err));
		skip();
	}
	assert_true(fx->ov.stats_fd >= 0);
	for (int i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(session_calibrate(&fx->sess, &c), 0);
	}
	p = bpf_object__find_program_by_name(session_object(&fx->sess), "calibrate");
	assert_non_null(p);
	assert_int_equal(overhead_prog_stats(bpf_program__fd(p), &cnt, &ns), 0);
	assert_true(cnt >= 3);
	assert_true(ns > 0);
	overhead_collect(&fx->ov, &fx->sess);
	assert_int_equal(fx->ov.nprogs, 0);
	assert_int_equal(fx->ov.total_run_cnt, 0);
}

static void test_ringbuf_pages(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(overhead_ringbuf_open(&fx->ov, session_rb_fd(&fx->sess)), 0);
	assert_int_equal(fx->ov.rb_size, PT_RINGBUF_DEFAULT);
	overhead_poll(&fx->ov);
	assert_int_equal(fx->ov.polls, 1);
	assert_int_equal(fx->ov.rb_peak, 0);	/* nothing attached, nothing produced */
}

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

/* A raw_tp program that puts one 8-byte record on the ring buffer rb_fd. */
static int load_producer(int rb_fd)
{
	const struct bpf_insn prog[] = {
		insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, rb_fd),
		insn(0, 0, 0, 0, 0),
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8),
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_reserve),
		insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 4, 0),	/* NULL: to exit */
		insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_0, 0, 0, 42),
		insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_0, 0, 0),
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 0),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_submit),
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pt_rb_fill", "GPL", prog,
			     sizeof(prog) / sizeof(prog[0]), NULL);
}

static int discard(void *ctx, void *data, size_t len)
{
	return 0;
}

/* Bytes waiting, as the mapped positions say: records plus their 8-byte headers. */
static void test_ringbuf_peak(void **state)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct ring_buffer *rb;
	struct overhead ov;
	int rb_fd, prog_fd;

	rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pt_rb_test", 0, 0, 16384, NULL);
	assert_true(rb_fd >= 0);
	prog_fd = load_producer(rb_fd);
	assert_true(prog_fd >= 0);
	overhead_init(&ov);
	assert_int_equal(overhead_ringbuf_open(&ov, rb_fd), 0);
	assert_int_equal(ov.rb_size, 16384);
	for (int i = 0; i < 10; i++)
		assert_int_equal(bpf_prog_test_run_opts(prog_fd, &o), 0);
	overhead_poll(&ov);
	assert_int_equal(ov.rb_peak, 10 * 16);
	/* libbpf consumes through its own mapping; ours sees it, the peak stays */
	rb = ring_buffer__new(rb_fd, discard, NULL, NULL);
	assert_non_null(rb);
	assert_int_equal(ring_buffer__consume(rb), 10);
	assert_int_equal(*ov.cons_pos, *ov.prod_pos);
	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &o), 0);
	overhead_poll(&ov);
	assert_int_equal(ov.polls, 2);
	assert_int_equal(ov.rb_peak, 10 * 16);
	ring_buffer__free(rb);
	overhead_free(&ov);
	assert_null(ov.cons_pos);
	close(prog_fd);
	close(rb_fd);
}

static void fill(int fd, __u32 n, size_t key_size)
{
	__u64 key, val = 1;

	for (__u32 i = 0; i < n; i++) {
		key = 0x1000ULL + i;
		/* u32 keys: the low half, little or big endian alike */
		if (key_size == 4) {
			__u32 k = (__u32)key;

			assert_int_equal(bpf_map_update_elem(fd, &k, &val, BPF_ANY), 0);
		} else {
			assert_int_equal(bpf_map_update_elem(fd, &key, &val, BPF_ANY), 0);
		}
	}
}

static void test_count_maps(void **state)
{
	struct fixture *fx = *state;
	int held = map_fd(fx, "held");
	__u64 n, t0, t1;
	bool seen = false;

	fill(held, 20000, 8);
	fill(map_fd(fx, "traced_tgids"), 300, 4);
	t0 = now_mono_ns();
	assert_true(overhead_count_map(held, 8, PT_MAX_TRACKED_FOLIOS, 10000000000ULL, &n));
	t1 = now_mono_ns();
	assert_int_equal(n, 20000);
	print_message("# counting 20000 entries: %.2f ms (%.2f us/entry)\n", (t1 - t0) / 1e6,
		      (t1 - t0) / 1e3 / 20000);
	/* no time: no count, and it says so */
	assert_false(overhead_count_map(held, 8, PT_MAX_TRACKED_FOLIOS, 0, &n));
	/* bounded by max_entries: complete at the bound */
	assert_true(overhead_count_map(held, 8, 100, 10000000000ULL, &n));
	assert_int_equal(n, 100);

	t0 = now_mono_ns();
	overhead_collect(&fx->ov, &fx->sess);
	print_message("# collect, all maps: %.2f ms\n", (now_mono_ns() - t0) / 1e6);
	for (unsigned int i = 0; i < fx->ov.nmaps; i++) {
		const struct ovh_map *m = &fx->ov.maps[i];

		assert_string_not_equal(m->name, "rb");		/* reported as the ring buffer */
		assert_string_not_equal(m->name, "stats");	/* per-CPU arrays cannot fill */
		assert_true(m->counted);
		if (!strcmp(m->name, "held")) {
			assert_int_equal(m->entries, 20000);
			assert_int_equal(m->max_entries, PT_MAX_TRACKED_FOLIOS);
			seen = true;
		} else if (!strcmp(m->name, "traced_tgids")) {
			assert_int_equal(m->entries, 300);
		}
	}
	assert_true(seen);
}

int main(void)
{
	char why[320];
	struct fixture *fx = load(why, sizeof(why));
	/* the loaded object is every test's state */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_stats_test_run, fx),
		cmocka_unit_test_prestate(test_ringbuf_pages, fx),
		cmocka_unit_test_prestate(test_ringbuf_peak, fx),
		cmocka_unit_test_prestate(test_count_maps, fx),
	};
	int ret;

	if (!fx) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unload(fx);
	return ret;
}
