// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Recording files (src/record.c): what --record writes replays exactly;
 * damaged, foreign or newer files are refused with the offset of the
 * problem; a write error is counted, never silent, and leaves a file that
 * still replays as a clean prefix.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "record.h"

#define REC_BYTES (sizeof(__u32) + sizeof(struct pt_event))

struct fixture {
	char path[64];
	struct foll_table foll;
	__u64 hdr_len;		/* offset of the first record */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	int fd;

	if (!fx)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "/tmp/pt-test-record.XXXXXX");
	fd = mkstemp(fx->path);
	if (fd < 0)
		return -1;
	close(fd);
	foll_load(NULL, &fx->foll);
	fx->hdr_len = sizeof(struct pt_rec_header) + fx->foll.n * sizeof(struct pt_rec_foll);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->path);
	free(fx);
	return 0;
}

static void event_n(struct pt_event *e, __u32 i)
{
	memset(e, 0, sizeof(*e));
	e->type = i % 3 ? PT_EV_GRAB : PT_EV_UNPIN;
	e->hook = PT_HOOK_TRY_GRAB_FOLIO_FAST;
	e->pt_flags = PT_F_PIN;
	e->pid = 1000 + i;
	e->ts_ns = 5000000000ULL + i * 1000ULL;
	e->folio = 0xffffea0000000000ULL + i * 64ULL;
	e->refs = 1 + i % 7;
	e->stack_id = -1;
	snprintf(e->comm, sizeof(e->comm), "proc%u", i);
}

/* A recording of @n events 0..n-1. */
static void write_n(const struct fixture *fx, __u32 n)
{
	struct rec_writer *w = rec_writer_open(fx->path, &fx->foll, 4242);
	struct pt_event e;
	__u64 records, lost;

	assert_non_null(w);
	for (__u32 i = 0; i < n; i++) {
		event_n(&e, i);
		rec_write(w, &e, sizeof(e));
	}
	assert_int_equal(rec_writer_close(w, &records, &lost), 0);
	assert_int_equal(records, n);
	assert_int_equal(lost, 0);
}

/* Overwrite @len bytes at @off of the file. */
static void patch(const struct fixture *fx, off_t off, const void *data, size_t len)
{
	int fd = open(fx->path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

static void test_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct rec_reader r;
	struct foll_table ft;
	struct pt_event e, want;
	__u64 off;
	__u32 i;

	/* more than one write buffer's worth: records cross buffer boundaries */
	write_n(fx, 20000);
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	assert_int_equal(r.h.t0_ns, 4242);
	assert_int_equal(r.h.event_size, sizeof(struct pt_event));
	assert_int_equal(r.h.abi, PT_EVENT_ABI);
	rec_reader_foll(&r, &ft);
	assert_int_equal(ft.n, fx->foll.n);
	assert_int_equal(ft.pin, fx->foll.pin);
	assert_int_equal(ft.longterm, fx->foll.longterm);
	assert_string_equal(ft.flags[0].name, fx->foll.flags[0].name);
	for (i = 0; rec_read(&r, &e, &off) == 1; i++) {
		event_n(&want, i);
		assert_memory_equal(&e, &want, sizeof(e));
		assert_int_equal(off, fx->hdr_len + i * REC_BYTES);
	}
	assert_int_equal(i, 20000);
	/* a clean end stays a clean end */
	assert_int_equal(rec_read(&r, &e, &off), 0);
	rec_reader_close(&r);
}

static void test_empty_recording(void **state)
{
	struct fixture *fx = *state;
	struct rec_reader r;
	struct pt_event e;
	__u64 off;

	write_n(fx, 0);
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	assert_int_equal(rec_read(&r, &e, &off), 0);
	rec_reader_close(&r);
}

static void test_truncated_record(void **state)
{
	struct fixture *fx = *state;
	struct rec_reader r;
	struct pt_event e;
	__u64 off;
	char want[96];

	write_n(fx, 10);
	assert_int_equal(truncate(fx->path, (off_t)(fx->hdr_len + 10 * REC_BYTES - 7)), 0);
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	for (int i = 0; i < 9; i++)
		assert_int_equal(rec_read(&r, &e, &off), 1);
	assert_true(rec_read(&r, &e, &off) < 0);
	snprintf(want, sizeof(want), "truncated record at offset %llu",
		 (unsigned long long)(fx->hdr_len + 9 * REC_BYTES));
	assert_non_null(strstr(r.err, want));
	rec_reader_close(&r);
}

static void test_truncated_length(void **state)
{
	struct fixture *fx = *state;
	struct rec_reader r;
	struct pt_event e;
	__u64 off;

	write_n(fx, 2);
	/* two bytes of the second record's length field left */
	assert_int_equal(truncate(fx->path, (off_t)(fx->hdr_len + REC_BYTES + 2)), 0);
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	assert_int_equal(rec_read(&r, &e, &off), 1);
	assert_true(rec_read(&r, &e, &off) < 0);
	assert_non_null(strstr(r.err, "truncated record at offset"));
	rec_reader_close(&r);
}

static void test_truncated_header(void **state)
{
	struct fixture *fx = *state;
	struct rec_reader r;

	write_n(fx, 1);
	assert_int_equal(truncate(fx->path, 10), 0);
	assert_int_equal(rec_reader_open(&r, fx->path), -EINVAL);
	assert_non_null(strstr(r.err, "truncated header"));
	rec_reader_close(&r);
	/* the fixed part is there, the FOLL_* table is cut */
	write_n(fx, 1);
	assert_int_equal(truncate(fx->path, sizeof(struct pt_rec_header) + 5), 0);
	assert_int_equal(rec_reader_open(&r, fx->path), -EINVAL);
	assert_non_null(strstr(r.err, "truncated header"));
	rec_reader_close(&r);
}

static void test_bad_magic(void **state)
{
	struct fixture *fx = *state;
	struct rec_reader r;

	write_n(fx, 3);
	patch(fx, 0, "NDJSON{", 7);
	assert_int_equal(rec_reader_open(&r, fx->path), -EINVAL);
	assert_non_null(strstr(r.err, "bad magic at offset 0"));
	rec_reader_close(&r);
}

static void test_newer_version(void **state)
{
	struct fixture *fx = *state;
	__u16 v = PT_REC_VERSION + 1;
	struct rec_reader r;

	write_n(fx, 3);
	patch(fx, offsetof(struct pt_rec_header, version), &v, sizeof(v));
	assert_int_equal(rec_reader_open(&r, fx->path), -EINVAL);
	assert_non_null(strstr(r.err, "format version 2 at offset 8"));
	rec_reader_close(&r);
}

static void test_foreign_event_size_and_abi(void **state)
{
	struct fixture *fx = *state;
	__u32 sz = 120, abi = PT_EVENT_ABI + 1;
	struct rec_reader r;

	write_n(fx, 3);
	patch(fx, offsetof(struct pt_rec_header, event_size), &sz, sizeof(sz));
	assert_int_equal(rec_reader_open(&r, fx->path), -EINVAL);
	assert_non_null(strstr(r.err, "events of 120 bytes (offset 16)"));
	rec_reader_close(&r);
	write_n(fx, 3);
	patch(fx, offsetof(struct pt_rec_header, abi), &abi, sizeof(abi));
	assert_int_equal(rec_reader_open(&r, fx->path), -EINVAL);
	assert_non_null(strstr(r.err, "event ABI 2 (offset 20)"));
	rec_reader_close(&r);
}

static void test_wrong_record_size(void **state)
{
	struct fixture *fx = *state;
	__u32 len = 64;
	struct rec_reader r;
	struct pt_event e;
	__u64 off;
	char want[96];

	write_n(fx, 3);
	patch(fx, (off_t)(fx->hdr_len + REC_BYTES), &len, sizeof(len));
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	assert_int_equal(rec_read(&r, &e, &off), 1);
	assert_true(rec_read(&r, &e, &off) < 0);
	snprintf(want, sizeof(want), "record at offset %llu has 64 bytes",
		 (unsigned long long)(fx->hdr_len + REC_BYTES));
	assert_non_null(strstr(r.err, want));
	rec_reader_close(&r);
}

static void test_not_a_file(void **state)
{
	struct rec_reader r;

	assert_int_equal(rec_reader_open(&r, "/nonexistent/rec"), -ENOENT);
	assert_non_null(strstr(r.err, "No such file"));
	rec_reader_close(&r);
	assert_null(rec_writer_open("/nonexistent/rec", NULL, 0));
	/* a device that takes no data: refused at open, nothing left behind */
	assert_null(rec_writer_open("/dev/full", NULL, 0));
	assert_int_equal(errno, ENOSPC);
}

/*
 * A file size limit: the writes that cross it fail. Every record is
 * counted lost, and the file is cut back to the last complete write.
 */
static void test_write_error_counted(void **state)
{
	struct fixture *fx = *state;
	struct rlimit old, lim;
	struct rec_writer *w;
	struct rec_reader r;
	struct pt_event e;
	__u64 records, lost, off;
	void (*old_sig)(int);
	int err;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	old_sig = signal(SIGXFSZ, SIG_IGN);	/* EFBIG instead of the signal */
	w = rec_writer_open(fx->path, &fx->foll, 1);
	assert_non_null(w);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (__u32 i = 0; i < 20000; i++) {
		event_n(&e, i);
		rec_write(w, &e, sizeof(e));
	}
	err = rec_writer_close(w, &records, &lost);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);
	assert_int_equal(err, -EFBIG);
	assert_int_equal(records, 20000);
	/* one MiB buffer: nothing reached the file, all is counted */
	assert_int_equal(lost, 20000);
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	assert_int_equal(rec_read(&r, &e, &off), 0);
	rec_reader_close(&r);
}

/* The limit hit in the second buffer: the first one's records replay, the rest are lost. */
static void test_write_error_keeps_prefix(void **state)
{
	struct fixture *fx = *state;
	struct rlimit old, lim;
	struct rec_writer *w;
	struct rec_reader r;
	struct pt_event e, want;
	__u64 records, lost, off, n = 0;
	void (*old_sig)(int);
	int err;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 3 * 1024 * 1024 / 2;
	old_sig = signal(SIGXFSZ, SIG_IGN);
	w = rec_writer_open(fx->path, &fx->foll, 1);
	assert_non_null(w);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (__u32 i = 0; i < 20000; i++) {
		event_n(&e, i);
		rec_write(w, &e, sizeof(e));
	}
	err = rec_writer_close(w, &records, &lost);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);
	assert_int_equal(err, -EFBIG);
	assert_int_equal(rec_reader_open(&r, fx->path), 0);
	while (rec_read(&r, &e, &off) == 1) {
		event_n(&want, (__u32)n++);
		assert_memory_equal(&e, &want, sizeof(e));
	}
	assert_int_equal(rec_read(&r, &e, &off), 0);	/* a clean end, no torn record */
	rec_reader_close(&r);
	assert_true(n > 0 && n < 20000);
	assert_int_equal(n + lost, records);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_recording, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_event_size_and_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_record_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_keeps_prefix, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
