// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Recording files of the raw ring-buffer stream: see record.h for the layout. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record.h"

/* One write() per MiB: the tracer's loop must not block on small writes. */
#define REC_BUF	(1u << 20)

/* ---- writing ---------------------------------------------------------- */

/*
 * Write the buffer out. A failure loses what was buffered and stops the
 * recording (a file with a hole would replay as nonsense); a partial write
 * is cut back, so that the file stays a clean prefix of the stream.
 */
static void rec_flush(struct rec_writer *w)
{
	size_t done = 0;
	ssize_t n;

	while (!w->err && done < w->len) {
		n = write(w->fd, w->buf + done, w->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			if (done && ftruncate(w->fd, (off_t)w->good_off))
				w->torn = true;
			break;
		}
		done += (size_t)n;
	}
	if (w->err)
		w->lost += w->buffered;
	else
		w->good_off += w->len;
	w->len = 0;
	w->buffered = 0;
}

static void rec_put(struct rec_writer *w, const void *data, size_t n)
{
	memcpy(w->buf + w->len, data, n);
	w->len += n;
}

struct rec_writer *rec_writer_open(const char *path, const struct foll_table *foll, __u64 t0_ns)
{
	struct pt_rec_header h = {
		.version = PT_REC_VERSION,
		.byte_order = PT_REC_BYTE_ORDER,
		.event_size = sizeof(struct pt_event),
		.abi = PT_EVENT_ABI,
		.t0_ns = t0_ns,
		.foll_n = foll ? (__u32)foll->n : 0,
		.foll_from_btf = foll && foll->from_btf,
	};
	struct rec_writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w || !(w->buf = malloc(REC_BUF))) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->cap = REC_BUF;
	memcpy(h.magic, PT_REC_MAGIC, sizeof(h.magic));
	h.header_len = (__u16)(sizeof(h) + h.foll_n * sizeof(struct pt_rec_foll));
	/* 0600: events hold kernel addresses and the names of every pinning task */
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		err = errno;
		free(w->buf);
		free(w);
		errno = err;
		return NULL;
	}
	rec_put(w, &h, sizeof(h));
	for (__u32 i = 0; i < h.foll_n; i++) {
		struct pt_rec_foll f = { .val = foll->flags[i].val };

		snprintf(f.name, sizeof(f.name), "%s", foll->flags[i].name);
		rec_put(w, &f, sizeof(f));
	}
	/*
	 * The header goes out now: an unwritable file is an error at start,
	 * not at exit. Never unlink here: @path may be a device or a file
	 * someone else owns; a torn header was cut back to nothing.
	 */
	rec_flush(w);
	if (w->err) {
		err = -w->err;
		close(w->fd);
		free(w->buf);
		free(w);
		errno = err;
		return NULL;
	}
	return w;
}

void rec_write(struct rec_writer *w, const void *data, __u32 len)
{
	w->records++;
	if (w->err || len > PT_REC_MAX_LEN) {
		w->lost++;
		return;
	}
	if (w->cap - w->len < sizeof(len) + len)
		rec_flush(w);
	if (w->err) {
		w->lost++;
		return;
	}
	rec_put(w, &len, sizeof(len));
	rec_put(w, data, len);
	w->buffered++;
}

int rec_writer_close(struct rec_writer *w, __u64 *records, __u64 *lost)
{
	int err;

	if (!w)
		return 0;
	rec_flush(w);
	if (close(w->fd) && !w->err)
		w->err = -errno;
	if (records)
		*records = w->records;
	if (lost)
		*lost = w->lost;
	/* oversized records are lost without a write error */
	err = w->err ? w->err : w->lost ? -EMSGSIZE : 0;
	free(w->buf);
	free(w);
	return err;
}

/* ---- reading ---------------------------------------------------------- */

/* At least @n unconsumed bytes in the buffer, reading more if needed. */
static int rec_need(struct rec_reader *r, size_t n)
{
	ssize_t got;

	if (r->len - r->pos >= n)
		return 0;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (!r->eof && r->len < n) {
		got = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = -errno;

			snprintf(r->err, sizeof(r->err), "read error at offset %llu: %s",
				 (unsigned long long)(r->off + r->len), strerror(-err));
			return err;
		}
		if (!got)
			r->eof = true;
		r->len += (size_t)got;
	}
	return r->len >= n ? 0 : -ENODATA;
}

__attribute__((format(printf, 2, 3)))
static int bad(struct rec_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void consume(struct rec_reader *r, size_t n)
{
	r->pos += n;
	r->off += n;
}

static int check_header(struct rec_reader *r)
{
	const struct pt_rec_header *h = &r->h;
	size_t need = sizeof(*h) + (size_t)h->foll_n * sizeof(struct pt_rec_foll);

	if (memcmp(h->magic, PT_REC_MAGIC, sizeof(h->magic)))
		return bad(r, "not a pintrace recording: bad magic at offset 0");
	if (h->byte_order != PT_REC_BYTE_ORDER)
		return bad(r, "byte order mark 0x%08x at offset %zu: recorded on a machine of "
			   "the other byte order", h->byte_order, offsetof(struct pt_rec_header, byte_order));
	if (!h->version || h->version > PT_REC_VERSION)
		return bad(r, "format version %u at offset %zu: this pintrace reads version 1 to %d",
			   h->version, offsetof(struct pt_rec_header, version), PT_REC_VERSION);
	if (h->event_size != sizeof(struct pt_event))
		return bad(r, "events of %u bytes (offset %zu); this pintrace's have %zu",
			   h->event_size, offsetof(struct pt_rec_header, event_size),
			   sizeof(struct pt_event));
	if (h->abi != PT_EVENT_ABI)
		return bad(r, "event ABI %u (offset %zu); this pintrace reads ABI %d",
			   h->abi, offsetof(struct pt_rec_header, abi), PT_EVENT_ABI);
	if (h->foll_n > FOLL_MAX)
		return bad(r, "%u FOLL_* entries (offset %zu), at most %d are known",
			   h->foll_n, offsetof(struct pt_rec_header, foll_n), FOLL_MAX);
	if (h->header_len < need)
		return bad(r, "header length %u (offset %zu) is shorter than its contents (%zu)",
			   h->header_len, offsetof(struct pt_rec_header, header_len), need);
	return 0;
}

int rec_reader_open(struct rec_reader *r, const char *path)
{
	int err;

	memset(r, 0, sizeof(*r));
	/* "-": standard input, so that a generator can stream into a replay */
	r->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (r->fd < 0) {
		err = -errno;
		snprintf(r->err, sizeof(r->err), "%s", strerror(errno));
		return err;
	}
	r->cap = REC_BUF;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	err = rec_need(r, sizeof(r->h));
	if (err == -ENODATA)
		return bad(r, "truncated header: the file has %zu bytes, a header %zu",
			   r->len, sizeof(r->h));
	if (err)
		return err;
	memcpy(&r->h, r->buf, sizeof(r->h));
	err = check_header(r);
	if (err)
		return err;
	err = rec_need(r, r->h.header_len);
	if (err == -ENODATA)
		return bad(r, "truncated header: the file has %zu bytes, its header length says %u",
			   r->len, r->h.header_len);
	if (err)
		return err;
	for (__u32 i = 0; i < r->h.foll_n; i++) {
		memcpy(&r->foll[i], r->buf + sizeof(r->h) + i * sizeof(r->foll[0]), sizeof(r->foll[0]));
		r->foll[i].name[sizeof(r->foll[i].name) - 1] = '\0';
	}
	consume(r, r->h.header_len);
	return 0;
}

int rec_read(struct rec_reader *r, struct pt_event *e, __u64 *off)
{
	__u32 len;
	int err;

	*off = r->off;
	err = rec_need(r, sizeof(len));
	if (err == -ENODATA) {
		if (r->len == r->pos)
			return 0;
		return bad(r, "truncated record at offset %llu: %zu of the 4 bytes of its length",
			   (unsigned long long)r->off, r->len - r->pos);
	}
	if (err)
		return err;
	memcpy(&len, r->buf + r->pos, sizeof(len));
	if (len != sizeof(*e))
		return bad(r, "record at offset %llu has %u bytes, events have %zu",
			   (unsigned long long)r->off, len, sizeof(*e));
	err = rec_need(r, sizeof(len) + len);
	if (err == -ENODATA)
		return bad(r, "truncated record at offset %llu: %zu of its %zu bytes",
			   (unsigned long long)r->off, r->len - r->pos, sizeof(len) + len);
	if (err)
		return err;
	memcpy(e, r->buf + r->pos + sizeof(len), sizeof(*e));
	consume(r, sizeof(len) + len);
	return 1;
}

void rec_reader_close(struct rec_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	r->buf = NULL;
	r->fd = -1;
}

void rec_reader_foll(const struct rec_reader *r, struct foll_table *ft)
{
	memset(ft, 0, sizeof(*ft));
	ft->from_btf = r->h.foll_from_btf;
	ft->n = r->h.foll_n;
	for (size_t i = 0; i < ft->n; i++) {
		ft->flags[i].name = r->foll[i].name;
		ft->flags[i].val = r->foll[i].val;
		if (!strcmp(r->foll[i].name, "WRITE"))
			ft->write = r->foll[i].val;
		else if (!strcmp(r->foll[i].name, "GET"))
			ft->get = r->foll[i].val;
		else if (!strcmp(r->foll[i].name, "PIN"))
			ft->pin = r->foll[i].val;
		else if (!strcmp(r->foll[i].name, "LONGTERM"))
			ft->longterm = r->foll[i].val;
	}
}
