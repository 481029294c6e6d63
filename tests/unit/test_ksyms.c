// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel address symbolizer against kallsyms excerpts
 * (tests/fixtures/kallsyms-*.txt: a 6.12-style table with modules, BPF
 * programs and an ftrace trampoline; the same table as a reader without
 * kptr access sees it; an empty file; malformed lines), generated files,
 * and this host's /proc/kallsyms when it is readable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "ksyms.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static struct ksyms *load(const char *name)
{
	char path[256];
	struct ksyms *k;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	k = ksyms_load(path);
	if (!k)
		fail_msg("ksyms_load(%s): %s", path, strerror(errno));
	return k;
}

/* Resolve into a fresh buffer so that a stale result cannot pass. */
static const char *res(const struct ksyms *k, unsigned long long addr)
{
	static char buf[KSYMS_BUF_LEN];

	memset(buf, 'X', sizeof(buf));
	return ksyms_resolve(k, addr, buf, sizeof(buf));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Write TEXT to a temporary file; its path goes to PATH. */
static void temp_file(char *path, size_t len, const char *text, size_t tlen)
{
	int fd;

	snprintf(path, len, "%s/pintrace-ksyms-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, tlen), (ssize_t)tlen);
	close(fd);
}

static void test_exact_hits(void **state)
{
	struct ksyms *k = load("kallsyms-6.12.txt");

	assert_true(ksyms_usable(k));
	assert_string_equal(res(k, 0xffffffff812a3f40), "pin_user_pages+0x0");
	assert_string_equal(res(k, 0xffffffff812a4100), "unpin_user_page+0x0");
	assert_string_equal(res(k, 0xffffffff81000130), "verify_cpu+0x0");
	/* __pfx_ padding is code too, and ends where its function starts */
	assert_string_equal(res(k, 0xffffffff812a3f30), "__pfx_pin_user_pages+0x0");
	assert_string_equal(res(k, 0xffffffff812a3f3f), "__pfx_pin_user_pages+0xf");
	/* a weak definition is a function */
	assert_string_equal(res(k, 0xffffffff812a4190), "arch_pin_hook+0x0");
	ksyms_free(k);
}

static void test_offsets(void **state)
{
	struct ksyms *k = load("kallsyms-6.12.txt");

	assert_string_equal(res(k, 0xffffffff812a3f9d), "pin_user_pages+0x5d");
	assert_string_equal(res(k, 0xffffffff812a400f), "pin_user_pages+0xcf");
	assert_string_equal(res(k, 0xffffffff81000064), "secondary_startup_64+0x4");
	assert_string_equal(res(k, 0xffffffff81e0004a), "entry_SYSCALL_64_after_hwframe+0x12");
	/* clones and cold parts keep their suffix: they are separate code */
	assert_string_equal(res(k, 0xffffffff810a8f71), "__gup_longterm_locked.cold+0x31");
	assert_string_equal(res(k, 0xffffffff812a1d05), "__get_user_pages.isra.0+0x85");
	assert_string_equal(res(k, 0xffffffff810a9013), "pin_user_pages_remote.cold+0x1");
	ksyms_free(k);
}

static void test_modules(void **state)
{
	struct ksyms *k = load("kallsyms-6.12.txt");

	/* module symbols come in symtab order, not sorted */
	assert_string_equal(res(k, 0xffffffffc0b2c20a), "nvme_queue_rq+0x1a [nvme]");
	assert_string_equal(res(k, 0xffffffffc0b2a7e0), "nvme_irq+0x0 [nvme]");
	assert_string_equal(res(k, 0xffffffffc0b2a010), "nvme_pci_complete_rq+0x10 [nvme]");
	assert_string_equal(res(k, 0xffffffffc0b2b570), "nvme_setup_prp_simple.cold+0x10 [nvme]");
	assert_string_equal(res(k, 0xffffffffc0a41234), "nvme_submit_sync_cmd+0x4 [nvme_core]");
	assert_string_equal(res(k, 0xffffffffc0a40e08), "__pfx_nvme_complete_rq+0x8 [nvme_core]");
	assert_string_equal(res(k, 0xffffffffc0c01142),
			    "bpf_prog_3a8c1d0f5e2b7a61_pintrace_pin+0x42 [bpf]");
	assert_string_equal(res(k, 0xffffffffc0d00080), "ftrace_trampoline+0x80 [__builtin__ftrace]");
	/* the modules' own symbols did not leak into vmlinux ones */
	assert_string_equal(res(k, 0xffffffff81f7e320), "io_uring_setup+0x10");
	ksyms_free(k);
}

static void test_duplicates(void **state)
{
	struct ksyms *k = load("kallsyms-6.12.txt");

	/* the function, not the section start marker */
	assert_string_equal(res(k, 0xffffffff81000000), "startup_64+0x0");
	assert_string_equal(res(k, 0xffffffff8100001f), "startup_64+0x1f");
	assert_string_equal(res(k, 0xffffffff81e00010), "entry_SYSCALL_64+0x10");
	assert_string_equal(res(k, 0xffffffff83400004), "early_idt_handler_array+0x4");
	/* non-weak over weak, whatever the order in the file */
	assert_string_equal(res(k, 0xffffffff81f7e1c8), "__memcpy+0x8");
	assert_string_equal(res(k, 0xffffffff81f7e1b0), "__pfx___memcpy+0x0");
	assert_string_equal(res(k, 0xffffffffc0a41801), "nvme_strong_hook+0x1 [nvme_core]");
	/* 66 lines: 2 at address 0, 5 data, 3 end markers, 7 aliases */
	assert_int_equal(ksyms_count(k), 49);
	ksyms_free(k);
}

static void test_unknown(void **state)
{
	struct ksyms *k = load("kallsyms-6.12.txt");

	/* below the first symbol */
	assert_string_equal(res(k, 0), "0x0");
	assert_string_equal(res(k, 0x1000), "0x1000");
	assert_string_equal(res(k, 0xffffffff80ffffff), "0xffffffff80ffffff");
	/* a text section ends at its end marker: _etext, __entry_text_end, _einittext */
	assert_string_equal(res(k, 0xffffffff82002a2b), "__SCT__tp_func_ma_write+0x2b");
	assert_string_equal(res(k, 0xffffffff82002a2c), "0xffffffff82002a2c");
	assert_string_equal(res(k, 0xffffffff82300010), "0xffffffff82300010");
	assert_string_equal(res(k, 0xffffffff81e01a86), "entry_SYSCALL_64_after_hwframe+0x1a4e");
	assert_string_equal(res(k, 0xffffffff81e01a87), "0xffffffff81e01a87");
	assert_string_equal(res(k, 0xffffffff834e2a10), "0xffffffff834e2a10");
	/* a module's text ends at its data */
	assert_string_equal(res(k, 0xffffffffc0b2e0a0), "nvme_pci_exit+0x20 [nvme]");
	assert_string_equal(res(k, 0xffffffffc0b32040), "0xffffffffc0b32040");
	assert_string_equal(res(k, 0xffffffffc0b40000), "0xffffffffc0b40000");
	assert_string_equal(res(k, 0xffffffffc0a4bb00), "0xffffffffc0a4bb00");
	/* a symbol followed by a wide gap is not stretched over it */
	assert_string_equal(res(k, 0xffffffff81001010 + KSYMS_MAX_FUNC_SIZE - 1),
			    "x86_64_start_kernel+0x3ffff");
	assert_string_equal(res(k, 0xffffffff81001010 + KSYMS_MAX_FUNC_SIZE),
			    "0xffffffff81041010");
	/* nor is the very last one */
	assert_string_equal(res(k, 0xffffffffc0d00000 + KSYMS_MAX_FUNC_SIZE - 1),
			    "ftrace_trampoline+0x3ffff [__builtin__ftrace]");
	assert_string_equal(res(k, 0xffffffffc0d00000 + KSYMS_MAX_FUNC_SIZE), "0xffffffffc0d40000");
	assert_string_equal(res(k, ~0ULL), "0xffffffffffffffff");
	ksyms_free(k);
}

static void test_buffers(void **state)
{
	struct ksyms *k = load("kallsyms-6.12.txt");
	char small[8];

	assert_string_equal(ksyms_resolve(k, 0xffffffff812a3f41, small, sizeof(small)), "pin_use");
	assert_string_equal(ksyms_resolve(k, 0x1234, small, sizeof(small)), "0x1234");
	assert_string_equal(ksyms_resolve(k, 0x1234, small, 0), "");
	assert_string_equal(ksyms_resolve(NULL, 0xffffffff812a3f41, small, sizeof(small)), "0xfffff");
	assert_false(ksyms_usable(NULL));
	assert_int_equal(ksyms_count(NULL), 0);
	ksyms_free(NULL);
	ksyms_free(k);
}

static void test_malformed(void **state)
{
	struct ksyms *k = load("kallsyms-malformed.txt");

	assert_true(ksyms_usable(k));
	assert_int_equal(ksyms_count(k), 5);
	assert_string_equal(res(k, 0xffffffff81000150), "good_first+0x150");
	assert_string_equal(res(k, 0xffffffff81000350), "good_second+0x150");
	assert_string_equal(res(k, 0xffffffff81000501), "good_third+0x1 [mod_a]");
	assert_string_equal(res(k, 0xffffffff81000600), "good_last+0x0");
	/* the last line has no newline and still counts */
	assert_string_equal(res(k, 0xffffffff81000702), "no_newline_at_end+0x2");
	ksyms_free(k);
}

static void test_empty(void **state)
{
	struct ksyms *k = load("kallsyms-empty.txt");

	assert_false(ksyms_usable(k));
	assert_int_equal(ksyms_count(k), 0);
	assert_string_equal(res(k, 0xffffffff812a3f40), "0xffffffff812a3f40");
	ksyms_free(k);
}

/* What a reader without kptr access (kptr_restrict, not root) gets. */
static void test_all_zero(void **state)
{
	struct ksyms *k = load("kallsyms-zero.txt");

	assert_false(ksyms_usable(k));
	assert_int_equal(ksyms_count(k), 0);
	assert_string_equal(res(k, 0), "0x0");
	assert_string_equal(res(k, 0xffffffff812a3f40), "0xffffffff812a3f40");
	ksyms_free(k);
}

static void test_missing(void **state)
{
	errno = 0;
	assert_null(ksyms_load(FIXTURES "/kallsyms-does-not-exist.txt"));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(ksyms_load(FIXTURES));	/* a directory: read fails */
	assert_int_equal(errno, EISDIR);
}

/* A line longer than the read buffer is skipped, the next one is not. */
static void test_long_line(void **state)
{
	size_t big = 600 << 10, n = 0;
	char *text = malloc(big + 256), path[256];
	struct ksyms *k;

	assert_non_null(text);
	n += sprintf(text + n, "ffffffff81000000 T before\nffffffff81000100 T ");
	memset(text + n, 'a', big);
	n += big;
	n += sprintf(text + n, "\nffffffff81000200 T after\n");
	temp_file(path, sizeof(path), text, n);
	k = ksyms_load(path);
	unlink(path);
	free(text);
	assert_non_null(k);
	assert_int_equal(ksyms_count(k), 2);
	assert_string_equal(res(k, 0xffffffff81000150), "before+0x150");
	assert_string_equal(res(k, 0xffffffff81000201), "after+0x1");
	ksyms_free(k);
}

/*
 * 250k lines, the size of a large distribution kernel's table, with modules
 * in unsorted runs: load time is the parser's, not the kernel's.
 */
static void test_large(void **state)
{
	size_t cap = 250000 * 64, n = 0, i;
	char *text = malloc(cap), path[256], want[64];
	unsigned long long a;
	struct ksyms *k;
	double t0, ms;

	assert_non_null(text);
	for (i = 0; i < 200000; i++)
		n += sprintf(text + n, "%016llx %c function_number_%zu\n",
			     0xffffffff81000000ULL + i * 0x40, i % 3 ? 't' : 'T', i);
	for (i = 0; i < 50000; i++)
		n += sprintf(text + n, "%016llx t modfunc_%zu\t[mod%zu]\n",
			     0xffffffffc0000000ULL + (49999 - i) * 0x80, i, i / 500);
	temp_file(path, sizeof(path), text, n);
	free(text);
	t0 = now_ms();
	k = ksyms_load(path);
	ms = now_ms() - t0;
	unlink(path);
	assert_non_null(k);
	print_message("# 250000 lines loaded in %.1f ms\n", ms);
	assert_true(ms < 1000);	/* the target is < 100 ms; this only catches a blow-up */
	assert_int_equal(ksyms_count(k), 250000);
	for (i = 0; i < 200000; i += 997) {
		a = 0xffffffff81000000ULL + i * 0x40;
		snprintf(want, sizeof(want), "function_number_%zu+0x3f", i);
		assert_string_equal(res(k, a + 0x3f), want);
	}
	assert_string_equal(res(k, 0xffffffffc0000000ULL + 0x81), "modfunc_49998+0x1 [mod99]");
	ksyms_free(k);
}

/* This host's table: skipped where it cannot be read or shows only zeros. */
static void test_host_kallsyms(void **state)
{
	char line[1024], name[512], type, want[600];
	unsigned long long addr, sched = 0;
	struct ksyms *k;
	double t0, ms;
	size_t lines = 0;
	FILE *f;

	t0 = now_ms();
	k = ksyms_load(NULL);
	ms = now_ms() - t0;
	if (!k || !ksyms_usable(k)) {
		ksyms_free(k);
		print_message("# /proc/kallsyms not readable with addresses here, skipped\n");
		skip();
	}
	f = fopen("/proc/kallsyms", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (!sched && sscanf(line, "%llx %c %511s", &addr, &type, name) == 3 &&
		    (type == 'T' || type == 't') && !strcmp(name, "schedule"))
			sched = addr;
	}
	fclose(f);
	print_message("# /proc/kallsyms: %zu lines, %zu text addresses, loaded in %.1f ms\n",
		      lines, ksyms_count(k), ms);
	assert_true(ksyms_count(k) > 1000);
	assert_true(ms < 2000);
	if (sched) {
		assert_string_equal(res(k, sched), "schedule+0x0");
		assert_string_equal(res(k, sched + 5), "schedule+0x5");
	}
	/* the resolver's own caller, as a stack would show it, is not in the kernel */
	snprintf(want, sizeof(want), "0x%llx", (unsigned long long)(uintptr_t)&test_host_kallsyms);
	assert_string_equal(res(k, (uintptr_t)&test_host_kallsyms), want);
	ksyms_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_hits),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_all_zero),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_host_kallsyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
