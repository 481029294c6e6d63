/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_UTIL_H
#define PT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Exit codes, documented in README.md. */
enum pt_exit {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* setup or runtime error, missing privileges */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_FINDINGS = 3,	/* reserved for --fail-on conditions */
	EXIT_UNSUPPORTED = 4,	/* this kernel cannot be traced (what blocks it is printed) */
	EXIT_LOST = 5,		/* reserved for --max-lost */
};

/* "300ms", "5s", "2m", "1500us", "100ns"; a bare number is seconds. */
int parse_duration(const char *s, __u64 *ns);
/* Size with optional K/M/G suffix (binary). */
int parse_size(const char *s, size_t *bytes);
/* Human duration: "1.50ms", "2.0s". */
const char *fmt_duration(__u64 ns, char *buf, size_t len);
/* "512 B", "4.0 KiB", "1.0 MiB" */
const char *fmt_bytes(__u64 n, char *buf, size_t len);
__u64 now_mono_ns(void);

/*
 * Make a kernel-supplied string (a task comm: any bytes a process chose)
 * safe for one text line: control bytes and invalid UTF-8 become \xNN.
 */
const char *sanitize_text(const char *in, size_t inlen, char *out, size_t outlen);
/* Make it valid UTF-8 for JSON (invalid bytes become U+FFFD); JSON escaping is the writer's. */
const char *sanitize_utf8(const char *in, size_t inlen, char *out, size_t outlen);

/*
 * Hash of a struct page address (folio) for open addressing: 64-byte
 * aligned and clustered in the vmemmap, so the low bits carry no entropy.
 * The murmur3 finalizer mixes every input bit into the low bits tables mask.
 */
static inline size_t folio_hash(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (size_t)x;
}

#endif
