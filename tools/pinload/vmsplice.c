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
	int pfd[2], size;
	ssize_t n;

	r->mode = o->drain ? "drain" : "close";
	if (!buf)
		return fail(r, "mmap");
	if (pipe(pfd))
		return fail(r, "pipe");
	/* One pipe_buffer slot per page. Above fs.pipe-max-size needs CAP_SYS_RESOURCE. */
	size = fcntl(pfd[1], F_SETPIPE_SZ, (int)len);
	extra(r, "pipe_size", size);
	if (size < 0)
		return fail(r, "F_SETPIPE_SZ");
	pat_fill(buf, 0, o->pages, SEED_LOCAL);
	/* NONBLOCK: a pipe that is too small must fail, not wait for a reader. */
	call_begin(r);
	while (iov.iov_len) {
		n = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
	}
	call_end(r, len - iov.iov_len);
	if (iov.iov_len)
		return call_failed(r, "vmsplice");
	sleep_ms(o->hold_ms);
	if (o->drain) {
		/* pipe_read() drops each page's reference as it empties a buffer. */
		back = map_pages(o->pages, true);
		if (!back || !read_full(pfd[0], back, len))
			return fail(r, "read");
		r->verified = pat_ok(back, o->pages, SEED_LOCAL);
	}
	/* --close: free_pipe_info() drops the references still in the pipe. */
	close(pfd[0]);
	close(pfd[1]);
	r->p1 = pinstat_now();
	return r->verified == 0 ? call_failed(r, "verify") : 0;
}
