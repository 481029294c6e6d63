// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pinload workloads pvr and fork-pvr. */
#include "pinload.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/uio.h>
#include <sys/wait.h>

/* ---- pvr: process_vm_readv/writev -> pin_user_pages_remote -------------- */

/* Target: map and fill N pages, send their address, wait for EOF, check. */
static void pvr_target(int addr_wr, int done_rd, const struct opts *o)
{
	char *p = map_pages(o->pages, true), c;
	uintptr_t a = (uintptr_t)p;
	ssize_t n;

	if (p)
		pat_fill(p, 0, o->pages, SEED_REMOTE);
	if (write(addr_wr, &a, sizeof(a)) != sizeof(a) || !p)
		_exit(3);
	while ((n = read(done_rd, &c, 1)) > 0 || (n < 0 && errno == EINTR))
		;
	_exit(o->write && !pat_ok(p, o->pages, SEED_LOCAL) ? 4 : 0);
}

int do_pvr(const struct opts *o, struct res *r)
{
	size_t len = o->pages * pg;
	bool hold = o->hold_ms >= 0;
	int ap[2], dp[2], st;
	uintptr_t raddr = 0;
	struct iovec lv, rv;
	struct uffd u;
	pid_t pid;
	char *buf;

	r->mode = o->write ? "write" : "read";
	extra(r, "pid", getpid());
	if (pipe(ap) || pipe(dp))
		return fail(r, "pipe");
	pid = fork();
	if (pid < 0)
		return fail(r, "fork");
	if (pid == 0) {
		close(ap[0]);
		close(dp[1]);
		pvr_target(ap[1], dp[0], o);
	}
	close(ap[1]);
	close(dp[0]);
	extra(r, "target_pid", pid);
	if (!read_full(ap[0], &raddr, sizeof(raddr)) || !raddr)
		return fail(r, "target_setup");
	/* --hold-ms: the local buffer stays missing, so the kernel's copy faults. */
	buf = map_pages(o->pages, !hold);
	if (!buf)
		return fail(r, "mmap");
	if (!hold && o->write)
		pat_fill(buf, 0, o->pages, SEED_LOCAL);
	if (hold && uffd_start(&u, r, buf, buf, o->pages, SEED_LOCAL, o->hold_ms))
		return -1;
	lv = (struct iovec){ buf, len };
	rv = (struct iovec){ (void *)raddr, len };
	call_begin(r);
	call_end(r, o->write ? process_vm_writev(pid, &lv, 1, &rv, 1, 0)
			     : process_vm_readv(pid, &lv, 1, &rv, 1, 0));
	if (hold)
		extra(r, "uffd_faults", uffd_stop(&u));
	if (r->ret != (long long)len)
		return call_failed(r, o->write ? "process_vm_writev" : "process_vm_readv");
	if (!o->write)
		r->verified = pat_ok(buf, o->pages, SEED_REMOTE);
	close(dp[1]);	/* releases the target, which checks what we wrote */
	if (waitpid(pid, &st, 0) != pid)
		return fail(r, "waitpid");
	if (o->write)
		r->verified = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return r->verified ? 0 : call_failed(r, "verify");
}

/* K concurrent children each run pvr (tests that descendants are traced). */
int do_fork_pvr(const struct opts *o, struct res *r)
{
	static struct res kids[MAX_CHILDREN];
	int rp[2], started = 0, ok = 0;

	r->mode = o->write ? "write" : "read";
	if (pipe(rp))
		return fail(r, "pipe");
	fflush(stdout);
	call_begin(r);
	for (; started < o->children; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			fail(r, "fork");
			break;
		}
		if (pid == 0) {
			struct res k = res_new();

			close(rp[0]);
			do_pvr(o, &k);
			_exit(write(rp[1], &k, sizeof(k)) == sizeof(k) ? 0 : 1);
		}
	}
	close(rp[1]);
	while (r->nkids < started && read_full(rp[0], &kids[r->nkids], sizeof(kids[0])))
		ok += !kids[r->nkids++].failed;
	while (wait(NULL) > 0 || errno == EINTR)
		;
	errno = 0;
	call_end(r, ok);
	r->kids = kids;
	extra(r, "started", started);
	extra(r, "ok_children", ok);
	return r->failed || ok == o->children ? 0 : call_failed(r, "child");
}
