/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_CHILD_H
#define PT_CHILD_H

#include <sys/types.h>

/*
 * The command of `pintrace run`: forked first, held at a gate until the
 * programs are attached (so its first pin is seen), then exec'd. It runs
 * only on an explicit go from the tracer, and dies with the tracer.
 */
struct child {
	pid_t pid;
	int gate_fd;	/* write end: closing it lets the child exec */
	int err_fd;	/* read end: exec's errno, or EOF on success */
	int status;	/* wait status once reaped */
	int reaped;
	pid_t parent;	/* the tracer, for the child's death check */
};

int child_spawn(struct child *c, char **argv);
/* Open the gate; returns 0 or -errno if exec failed (child already reaped). */
int child_release(struct child *c);
/* Non-blocking reap: 1 if it exited (c->status set), 0 if still running. */
int child_poll(struct child *c);
void child_kill(struct child *c, int sig);
/* Before release: close the gate so the child exits without exec, and reap it. */
void child_abandon(struct child *c);
/* Shell-style exit code of the reaped child: status, or 128 + signal. */
int child_exit_code(const struct child *c);

#endif
