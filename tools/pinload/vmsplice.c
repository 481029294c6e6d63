// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pinload workload vmsplice. */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/uio.h>

/* ---- vmsplice: pages referenced into a pipe (FOLL_GET, not pins) -------- */

int do_vmsplice(const struct opts *o, struct res *r)
{
	size_t len = o->pages * pg;
	char *buf = map_pages(o->pages, true), *back;
	struct iovec iov = { buf, len };
	int pfd[2], tee_fd[2], size;
	ssize_t n;

	r->mode = o->drain ? (o->tee ? "tee-drain" : "drain") : (o->tee ? "tee-close" : "close");
	if (!buf)
		return fail(r, "mmap");
	if (pipe(pfd))
		return fail(r, "pipe");
	/*
	 * One pipe_buffer slot per page. Above fs.pipe-max-size needs
	 * CAP_SYS_RESOURCE. --pipe-pages P < N: the pipe fills up inside the
	 * call, which then drops the references of the pages it could not queue.
	 */
	if (o->pipe_pages && o->pipe_pages < o->pages)
		len = o->pipe_pages * pg;
	size = fcntl(pfd[1], F_SETPIPE_SZ, (int)len);
	extra(r, "pipe_size", size);
	if (size < 0)
		return fail(r, "F_SETPIPE_SZ");
	pat_fill(buf, 0, o->pages, SEED_LOCAL);
	/* NONBLOCK: a pipe that is too small must fail, not wait for a reader. */
	call_begin(r);
	while (iov.iov_len > o->pages * pg - len) {
		n = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
	}
	call_end(r, o->pages * pg - iov.iov_len);
	if (iov.iov_len > o->pages * pg - len)
		return call_failed(r, "vmsplice");
	/*
	 * --tee: a second pipe references the same pages (generic_pipe_buf_get)
	 * and is closed at once, before the hold: the references left are the
	 * first pipe's, which tells a tracer that matches releases by pipe from
	 * one that matches them oldest-first.
	 */
	if (o->tee) {
		if (pipe(tee_fd))
			return fail(r, "pipe");
		if (fcntl(tee_fd[1], F_SETPIPE_SZ, (int)len) < 0)
			return fail(r, "F_SETPIPE_SZ");
		n = tee(pfd[0], tee_fd[1], len, SPLICE_F_NONBLOCK);
		extra(r, "teed", n);
		if (n != (ssize_t)len)
			return call_failed(r, "tee");
		close(tee_fd[0]);
		close(tee_fd[1]);
	}
	sleep_ms(o->hold_ms);
	if (o->drain) {
		/* pipe_read() drops each page's reference as it empties a buffer. */
		back = map_pages(o->pages, true);
		if (!back || !read_full(pfd[0], back, len))
			return fail(r, "read");
		r->verified = pat_ok(back, (long)(len / pg), SEED_LOCAL);
	}
	/* --close: free_pipe_info() drops the references still in the pipe. */
	close(pfd[0]);
	close(pfd[1]);
	r->p1 = pinstat_now();
	return r->verified == 0 ? call_failed(r, "verify") : 0;
}
