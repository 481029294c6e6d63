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

int do_uring(const struct opts *o, struct res *r)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct iovec iov = { map_pages(o->pages, true), o->pages * pg };
	struct io_uring_params p = { 0 };
	struct pinstat mid;
	int fd, uerr, ml = 0;
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
	call_begin(r);
	call_end(r, syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1));
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
