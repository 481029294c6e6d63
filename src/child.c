// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "child.h"

int child_spawn(struct child *c, char **argv)
{
	int gate[2], err[2];

	memset(c, 0, sizeof(*c));
	c->parent = getpid();
	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		int e = -errno;

		close(gate[0]);
		close(gate[1]);
		return e;
	}
	c->pid = fork();
	if (c->pid < 0) {
		int e = -errno;

		close(gate[0]); close(gate[1]); close(err[0]); close(err[1]);
		return e;
	}
	if (c->pid == 0) {
		char b = 0;
		ssize_t n;
		int e;

		/* the tracer's handlers are not ours: Ctrl-C while waiting ends us */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		/* never run untraced: if the tracer dies first, so do we */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != c->parent)
			_exit(127);
		close(gate[1]);
		close(err[0]);
		/* only an explicit go byte starts the command; EOF means the tracer gave up */
		do
			n = read(gate[0], &b, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || b != 'g')
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(gate[0]);
	close(err[1]);
	c->gate_fd = gate[1];
	c->err_fd = err[0];
	return 0;
}

int child_release(struct child *c)
{
	ssize_t n;
	int e = 0;

	if (write(c->gate_fd, "g", 1) != 1)
		e = errno;
	close(c->gate_fd);
	c->gate_fd = -1;
	if (e) {
		close(c->err_fd);
		c->err_fd = -1;
		return -e;
	}
	do
		n = read(c->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	if (n == sizeof(e)) {
		waitpid(c->pid, &c->status, 0);
		c->reaped = 1;
		return -e;
	}
	return 0;
}

int child_poll(struct child *c)
{
	pid_t r;

	if (c->reaped)
		return 1;
	r = waitpid(c->pid, &c->status, WNOHANG);
	if (r == c->pid) {
		c->reaped = 1;
		return 1;
	}
	return 0;
}

void child_abandon(struct child *c)
{
	if (c->gate_fd >= 0)
		close(c->gate_fd);	/* EOF: the child exits without running the command */
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->gate_fd = c->err_fd = -1;
	if (!c->reaped && c->pid > 0) {
		waitpid(c->pid, &c->status, 0);
		c->reaped = 1;
	}
}

void child_kill(struct child *c, int sig)
{
	if (!c->reaped && c->pid > 0)
		kill(c->pid, sig);
}

int child_exit_code(const struct child *c)
{
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return 1;
}
