/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_RECORD_H
#define PT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include "foll.h"
#include "pintrace.h"

/*
 * Recordings of the raw ring-buffer stream (`--record FILE`), replayed
 * through the same pipeline by `pintrace replay FILE`.
 *
 * Layout, in the writer's byte order (checked through byte_order):
 *   struct pt_rec_header
 *   struct pt_rec_foll[foll_n]	the recording kernel's FOLL_* names
 *   (header_len - the above)	reserved: a reader skips it
 *   records: __u32 len, then len bytes exactly as the ring buffer gave them
 * A reader refuses a newer version, another event size or ABI, and says at
 * which offset a file stops making sense.
 */
#define PT_REC_MAGIC		"PTREC\0\0\0"
#define PT_REC_VERSION		1
#define PT_REC_BYTE_ORDER	0x01020304u
#define PT_REC_MAX_LEN		4096u	/* no ring-buffer record is larger */

struct pt_rec_header {
	char  magic[8];		/* PT_REC_MAGIC */
	__u16 version;		/* PT_REC_VERSION of the writer */
	__u16 header_len;	/* bytes before the first record */
	__u32 byte_order;	/* PT_REC_BYTE_ORDER as the writer stored it */
	__u32 event_size;	/* sizeof(struct pt_event) */
	__u32 abi;		/* PT_EVENT_ABI */
	__u64 t0_ns;		/* tracing start, on the events' clock (ts_ns) */
	__u32 foll_n;		/* entries of the FOLL_* table that follows */
	__u32 foll_from_btf;	/* struct foll_table.from_btf */
};

struct pt_rec_foll {
	char  name[20];		/* without FOLL_, NUL-terminated */
	__u32 val;
};

_Static_assert(sizeof(struct pt_rec_header) == 40, "pt_rec_header layout");
_Static_assert(sizeof(struct pt_rec_foll) == 24, "pt_rec_foll layout");

/* ---- writing: buffered; after the first failed write nothing more is ---- */

struct rec_writer {
	int fd;
	char *buf;
	size_t len, cap;
	__u64 buffered;		/* records in buf */
	__u64 good_off;		/* file size up to the last complete write */
	__u64 records;		/* records handed to rec_write() */
	__u64 lost;		/* of which not in the file */
	int err;		/* first write error, -errno (then everything is lost) */
	bool torn;		/* a partial write could not be cut back (a pipe): torn end */
};

/*
 * Create (truncate) @path and write the header. Returns NULL with errno set
 * (what was written of the header is cut back: nothing passes for a recording).
 */
struct rec_writer *rec_writer_open(const char *path, const struct foll_table *foll, __u64 t0_ns);
/* Append one record; failures only count (see lost, err). */
void rec_write(struct rec_writer *w, const void *data, __u32 len);
/*
 * Flush and close; frees @w. Returns 0, or the first error (-errno) when
 * any record was lost, with how many in *lost (may be NULL).
 */
int rec_writer_close(struct rec_writer *w, __u64 *records, __u64 *lost);

/* ---- reading ---------------------------------------------------------- */

struct rec_reader {
	int fd;
	char *buf;
	size_t len, pos, cap;	/* buf[pos..len) not yet consumed */
	bool eof;
	__u64 off;		/* file offset of buf[pos] */
	struct pt_rec_header h;
	struct pt_rec_foll foll[FOLL_MAX];
	char err[200];		/* what is wrong, and at which offset */
};

/* Open @path and check its header. 0, or -errno / -EINVAL with r->err set. */
int rec_reader_open(struct rec_reader *r, const char *path);
/*
 * The next record, copied into *e (aligned). 1: a record, 0: clean end of
 * file, < 0: error (r->err names the offset). *off gets the record's offset.
 */
int rec_read(struct rec_reader *r, struct pt_event *e, __u64 *off);
void rec_reader_close(struct rec_reader *r);
/* The recording kernel's FOLL_* table; names point into @r. */
void rec_reader_foll(const struct rec_reader *r, struct foll_table *ft);

#endif
