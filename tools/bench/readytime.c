// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * readytime: start a tracer and measure how long it takes to become ready.
 *
 *   readytime (-s STRING | -f FILE) -l LOG -r RESULT [-t SECONDS] -- CMD [ARG...]
 *
 * Takes CLOCK_MONOTONIC, forks and execs CMD with stdout and stderr going to
 * LOG, then every millisecond checks for readiness: STRING appearing in LOG
 * (bpftrace: a BEGIN probe's printf, BEGIN runs once every probe is
 * attached) or FILE existing (pintrace --ready-file). Once ready it writes
 * "ready_ns=N start_ns=T0 pid=P" to RESULT (atomically: written to RESULT.tmp,
 * renamed), then stays CMD's parent: SIGINT/SIGTERM are passed on to it and
 * readytime exits with CMD's status (128+N if a signal N killed it).
 * If CMD exits first, or nothing is ready within -t SECONDS (default 600;
 * CMD then gets SIGKILL), RESULT says "ready_ns=-1 ..." and readytime exits 1.
 * Static, no libc needed in the guest: gcc -O2 -static -o readytime readytime.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void usage(void)
{
	fprintf(stderr, "usage: readytime (-s STRING | -f FILE) -l LOG -r RESULT [-t SECONDS] -- CMD [ARG...]\n");
	exit(2);
}

static int write_result(const char *path, long long ready, long long t0, int pid)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "ready_ns=%lld start_ns=%lld pid=%d\n", ready, t0, pid);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

/* Does LOG contain STRING? Reads only what is new since the last call. */
static int log_has(int fd, const char *s, char *buf, size_t *len, size_t cap)
{
	size_t sl = strlen(s);

	for (;;) {
		ssize_t n;

		if (*len + 1 >= cap) {	/* keep the tail that may hold a prefix of s */
			size_t keep = sl < *len ? sl : *len;

			memmove(buf, buf + *len - keep, keep);
			*len = keep;
		}
		n = read(fd, buf + *len, cap - 1 - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
		buf[*len] = 0;
		if (memmem(buf, *len, s, sl))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *str = NULL, *file = NULL, *logp = NULL, *res = NULL;
	static char buf[1 << 16];
	size_t blen = 0;
	double limit = 600;
	long long t0, ready = -1;
	int opt, fd, lfd, st, done = 0;
	struct sigaction sa = { .sa_handler = forward };

	while ((opt = getopt(argc, argv, "+s:f:l:r:t:")) != -1) {
		switch (opt) {
		case 's': str = optarg; break;
		case 'f': file = optarg; break;
		case 'l': logp = optarg; break;
		case 'r': res = optarg; break;
		case 't': limit = atof(optarg); break;
		default: usage();
		}
	}
	if ((!str == !file) || !logp || !res || optind >= argc)
		usage();
	if (file)
		unlink(file);
	unlink(res);
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(logp);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = now_ns();
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}
	close(fd);
	lfd = open(logp, O_RDONLY);
	for (;;) {
		struct timespec ms = { 0, 1000000 };

		if ((str && lfd >= 0 && log_has(lfd, str, buf, &blen, sizeof(buf))) ||
		    (file && access(file, F_OK) == 0)) {
			ready = now_ns() - t0;
			break;
		}
		if (waitpid(child, &st, WNOHANG) == child) {
			done = 1;
			break;
		}
		if (now_ns() - t0 > (long long)(limit * 1e9)) {
			kill(child, SIGKILL);
			break;
		}
		nanosleep(&ms, NULL);
	}
	if (write_result(res, ready, t0, child))
		perror(res);
	if (!done)
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
	if (ready < 0)
		return 1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
