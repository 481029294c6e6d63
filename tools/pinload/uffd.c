// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pinload: userfaultfd handler that makes the kernel wait while it holds pins. */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/*
 * A handler thread fills missing pages of a registered range with the
 * pattern (page index counted from origin). The first fault is answered
 * only after delay_ms, so whatever the faulting kernel path pinned before
 * it touched that page stays pinned at least that long. struct uffd is in
 * pinload.h.
 */

static void uffd_resolve(struct uffd *u, uintptr_t addr)
{
	size_t n = (u->end - addr) / pg < UFFD_CHUNK ? (u->end - addr) / pg : UFFD_CHUNK;
	struct uffdio_copy c = { .dst = addr, .src = (uintptr_t)u->src, .len = n * pg };
	struct uffdio_range one = { .start = addr, .len = pg };

	pat_fill(u->src, (addr - (uintptr_t)u->origin) / pg, n, u->seed);
	/* After a partial copy the kernel has already woken the faulting page. */
	if (ioctl(u->fd, UFFDIO_COPY, &c) == 0 || c.copy > 0)
		return;
	c.len = pg;
	if (ioctl(u->fd, UFFDIO_COPY, &c) && ioctl(u->fd, UFFDIO_WAKE, &one))
		perror("pinload: UFFDIO_WAKE");	/* EEXIST: mapped meanwhile */
}

static void *uffd_thread(void *arg)
{
	struct uffd *u = arg;
	struct uffd_msg m;

	for (;;) {	/* ends by pthread_cancel() in read() */
		ssize_t n = read(u->fd, &m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(m))
			return NULL;
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (u->faults++ == 0)
			sleep_ms(u->delay_ms);
		uffd_resolve(u, m.arg.pagefault.address & ~(uintptr_t)(pg - 1));
	}
}

int uffd_start(struct uffd *u, struct res *r, char *origin, char *start,
		      size_t n, uint64_t seed, long delay_ms)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)start, .len = n * pg },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	*u = (struct uffd){ .origin = origin, .end = (uintptr_t)start + n * pg,
			    .seed = seed, .delay_ms = delay_ms };
	/*
	 * No UFFD_USER_MODE_ONLY: the faults we want are taken in the kernel.
	 * /dev/userfaultfd (6.1+) is the fallback where the syscall is refused
	 * or unknown (valgrind 3.19 does not know it).
	 */
	u->fd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (u->fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		u->fd = dev < 0 ? -1 : ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
		if (dev >= 0)
			close(dev);
	}
	if (u->fd < 0)
		return fail(r, "userfaultfd");
	if (ioctl(u->fd, UFFDIO_API, &api))
		return fail(r, "UFFDIO_API");
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg))
		return fail(r, "UFFDIO_REGISTER");
	u->src = map_pages(UFFD_CHUNK, false);
	if (!u->src)
		return fail(r, "mmap");
	errno = pthread_create(&u->thr, NULL, uffd_thread, u);
	return errno ? fail(r, "pthread_create") : 0;
}

/* Stop the handler; closing the fd unregisters, later faults are normal. */
unsigned long uffd_stop(struct uffd *u)
{
	pthread_cancel(u->thr);
	pthread_join(u->thr, NULL);
	close(u->fd);
	munmap(u->src, UFFD_CHUNK * pg);
	return u->faults;
}
