// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pinload workload uring. */
#include "pinload.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>

/* ---- uring: IORING_REGISTER_BUFFERS -> FOLL_PIN | FOLL_LONGTERM ----------- */

/*
 * --pipe: the buffer's pages are held by a pipe (vmsplice) when they are
 * registered. A long-term pin of a page in ZONE_MOVABLE (or CMA) migrates
 * it first (check_and_migrate_movable_pages/_folios); the pipe's reference
 * makes that migration fail, and the registration with it: -ENOMEM from
 * the GUP slow path, or -EFAULT from io_uring when a fast path pinned part
 * of the buffer first and GUP returned a short count. Success is the bug.
 */
static int uring_pipe_result(const struct opts *o, struct res *r, int fd, int pfd[2])
{
	r->mode = "pipe-held";
	if (!r->ret) {
		fprintf(stderr, "pinload: registration of a pipe-held buffer succeeded;"
			" expected ENOMEM (buffer not in ZONE_MOVABLE? see zones_before)\n");
		syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
		r->p1 = pinstat_now();	/* pin_released then shows the unpins */
		close(fd);
		return call_failed(r, "register-pipe-succeeded");
	}
	sleep_ms(o->hold_ms);	/* the references stay in the pipe meanwhile */
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	if (r->err == ENOMEM || r->err == EFAULT)
		return 0;
	fprintf(stderr, "pinload: registration of a pipe-held buffer failed with"
		" errno %d, expected ENOMEM or EFAULT\n", r->err);
	return call_failed(r, "register-pipe");
}

int do_uring(const struct opts *o, struct res *r)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct iovec iov = { map_pages(o->pages, true), o->pages * pg };
	struct io_uring_params p = { 0 };
	struct pinstat mid;
	struct migstat m0, m1;
	int fd, uerr, ml = 0, pfd[2] = { -1, -1 };
	long un;

	/* Registered buffers count against RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		ml = errno;
		perror("pinload: setrlimit(RLIMIT_MEMLOCK, unlimited)");
	}
	extra(r, "memlock_errno", ml);
	if (!iov.iov_base)
		return fail(r, "mmap");
	fd = syscall(__NR_io_uring_setup, 8, &p);
	if (fd < 0)	/* EPERM: sysctl kernel.io_uring_disabled */
		return fail(r, "io_uring_setup");
	/* --fault: the buffer is unmapped, so pinning must fail with EFAULT */
	if (o->fault && munmap(iov.iov_base, iov.iov_len))
		return fail(r, "munmap");
	if (!o->fault)
		zone_report(r, iov.iov_base, o->pages, "zones_before", "pfns_before");
	if (o->pipe && pipe_hold(r, pfd, iov.iov_base, o->pages))
		return -1;
	m0 = migstat_now();
	call_begin(r);
	call_end(r, syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1));
	m1 = migstat_now();
	migstat_report(r, m0, m1, "pgmigrate_success", "pgmigrate_fail");
	/* Pinned pages that were migrated now show PFNs outside ZONE_MOVABLE. */
	if (!o->fault)
		zone_report(r, iov.iov_base, o->pages, "zones_after", "pfns_after");
	if (o->pipe)
		return uring_pipe_result(o, r, fd, pfd);
	if (o->fault) {
		r->mode = "fault";
		close(fd);
		r->p1 = pinstat_now();
		return r->ret == -1 && r->err == EFAULT ? 0 : call_failed(r, "register-fault");
	}
	if (r->ret)
		return call_failed(r, "register");
	mid = r->p1;	/* pins outstanding while registered: */
	extra(r, "pins_held", mid.acq < 0 || r->p0.acq < 0 ? -1
	      : (mid.acq - mid.rel) - (r->p0.acq - r->p0.rel));
	sleep_ms(o->keep_ms);
	un = syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	uerr = un ? errno : 0;
	r->p1 = pinstat_now();
	close(fd);
	extra(r, "unregister_ret", un);
	extra(r, "unregister_errno", uerr);
	errno = uerr;
	return un ? fail(r, "unregister") : 0;
}
