// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload: a TCP connection to a receiver child that reads nothing until
 * told to, for the socket workloads (sock.c).
 *
 * Loopback: the child listens on 127.0.0.1, port chosen by the kernel.
 * --netns: we (the sender) move to a new network namespace, the child to
 * another one; a veth pair joins them (pinl0 10.99.0.1/24 here, pinl1
 * 10.99.0.2/24 there). Nothing is left behind: the namespaces, and the
 * veth pair with them, go away with the two processes, and the host's own
 * namespace is never touched.
 *
 * Receive buffers are forced (SO_RCVBUFFORCE, root) to twice the data plus
 * 1 MiB before listen(), so that the window scale allows it and all data
 * fits while nobody reads; --rcvbuf sets a small one instead, so that the
 * window closes and the rest waits, unsent, in our send queue (whose
 * buffer is always big). The child reports through a pipe (struct
 * rcv_report): once listening, and once it has read what conn_read() asked.
 */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/sockios.h>

#define VETH_SND	"pinl0"
#define VETH_RCV	"pinl1"
#define ADDR_SND	"10.99.0.1"
#define ADDR_RCV	"10.99.0.2"
#define NET_TIMEOUT_MS	10000	/* connect, accept, and the receiver's reads */

static int buf_size(const struct opts *o)
{
	long long n = 2LL * o->pages * pg + (1 << 20);

	return n > INT_MAX / 4 ? INT_MAX / 4 : (int)n;
}

/* SO_RCVBUFFORCE/SO_SNDBUFFORCE (CAP_NET_ADMIN), else the capped plain one. */
static int set_buf(int fd, int force, int plain, int size)
{
	socklen_t sl = sizeof(size);

	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) &&
	    setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size)))
		return -1;
	return getsockopt(fd, SOL_SOCKET, plain, &size, &sl) ? -1 : size;
}

static int sock_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	return getsockname(fd, (struct sockaddr *)&sa, &sl) ? -1 : ntohs(sa.sin_port);
}

/* ---- the receiver child ------------------------------------------------- */

static void rcv_send(int out, const struct rcv_report *rep)
{
	if (write(out, rep, sizeof(*rep)) != sizeof(*rep))
		_exit(1);
}

static void __attribute__((noreturn)) rcv_fail(int out, struct rcv_report *rep,
					       const char *step)
{
	rep->err = errno;
	snprintf(rep->step, sizeof(rep->step), "%s", step);
	rcv_send(out, rep);
	_exit(1);
}

static void __attribute__((noreturn)) receiver(const struct opts *o, int in, int out,
					       const char *addr)
{
	struct rcv_report rep = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { NET_TIMEOUT_MS / 1000, 0 };
	struct pollfd p;
	long long count;
	int lfd, fd, q, e;
	char c, *buf;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (o->netns) {
		if (unshare(CLONE_NEWNET))
			rcv_fail(out, &rep, "unshare");
		rcv_send(out, &rep);		/* our namespace exists: add the veth */
		if (read(in, &c, 1) != 1)
			_exit(1);
		e = rtnl_addr_up(VETH_RCV, ADDR_RCV, 24);
		errno = -e;
		if (e)
			rcv_fail(out, &rep, "veth-peer-up");
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		rcv_fail(out, &rep, "socket");
	rep.rcvbuf = set_buf(lfd, SO_RCVBUFFORCE, SO_RCVBUF,
			     o->rcvbuf ? (int)o->rcvbuf : buf_size(o));
	if (rep.rcvbuf < 0)
		rcv_fail(out, &rep, "SO_RCVBUF");
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
		rcv_fail(out, &rep, "listen");
	rep.port = sock_port(lfd);
	rcv_send(out, &rep);
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (poll(&p, 1, NET_TIMEOUT_MS) != 1)
		rcv_fail(out, &rep, "accept-timeout");
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		rcv_fail(out, &rep, "accept");
	/* Nothing is read until the sender says how much to read. */
	if (read(in, &count, sizeof(count)) != sizeof(count))
		_exit(1);
	if (!ioctl(fd, SIOCINQ, &q))
		rep.queued = q;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf = map_pages(o->pages, true);
	if (!buf)
		rcv_fail(out, &rep, "mmap");
	while (rep.received < count) {
		ssize_t n = read(fd, buf + rep.received, count - rep.received);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rep.received += n;
	}
	for (long long i = 0; i < rep.received / (long long)pg; i++) {
		if (pat_ok_at(buf + i * pg, i, 1, SEED_LOCAL))
			rep.orig++;
		else if (pat_ok_at(buf + i * pg, i, 1, SEED_REWRITE))
			rep.rewritten++;
		else if (pat_ok_either(buf + i * pg, i, 1, SEED_LOCAL, SEED_REWRITE))
			rep.mixed++;
	}
	if (rep.received < count)
		rcv_fail(out, &rep, rep.received ? "read-short" : "read");
	rcv_send(out, &rep);
	close(fd);
	close(lfd);
	_exit(0);
}

/* ---- the sender's side -------------------------------------------------- */

/* Read the child's next report; a failed step there fails us. */
static int rcv_msg(struct conn *c, struct res *r, struct rcv_report *rep)
{
	static char step[sizeof(rep->step) + 9];
	ssize_t n = read(c->from_rcv, rep, sizeof(*rep));

	if (n != sizeof(*rep)) {
		fprintf(stderr, "pinload: receiver child %d died\n", c->pid);
		errno = n < 0 ? errno : EPIPE;
		return fail(r, "receiver");
	}
	if (!rep->step[0])
		return 0;
	snprintf(step, sizeof(step), "receiver-%s", rep->step);
	fprintf(stderr, "pinload: receiver: %s: %s\n", rep->step, strerror(rep->err));
	r->failed = step;
	r->err = rep->err;
	return -1;
}

static int netns_setup(struct conn *c, struct res *r)
{
	struct rcv_report rep;
	int e;

	if (rcv_msg(c, r, &rep))
		return -1;
	e = rtnl_veth_add(VETH_SND, VETH_RCV, c->pid);
	if (e) {
		fprintf(stderr, "pinload: creating veth pair %s/%s: %s%s\n", VETH_SND, VETH_RCV,
			strerror(-e), e == -EOPNOTSUPP ? " (is the veth module loaded?)" : "");
		errno = -e;
		return fail(r, "veth-add");
	}
	e = rtnl_addr_up(VETH_SND, ADDR_SND, 24);
	if (e) {
		fprintf(stderr, "pinload: %s %s/24 up: %s\n", VETH_SND, ADDR_SND, strerror(-e));
		errno = -e;
		return fail(r, "veth-up");
	}
	return write(c->to_rcv, "L", 1) == 1 ? 0 : fail(r, "receiver");
}

static int connect_to(struct conn *c, struct res *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c->peer_port) };
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	socklen_t sl = sizeof(int);
	int err = 0;

	inet_pton(AF_INET, c->peer_addr, &sa.sin_addr);
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK))
		return fail(r, "fcntl");
	if (!connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0;
	if (errno != EINPROGRESS)
		return fail(r, "connect");
	if (poll(&p, 1, NET_TIMEOUT_MS) != 1) {
		errno = ETIMEDOUT;
		return fail(r, "connect");
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err) {
		errno = err ? err : errno;
		return fail(r, "connect");
	}
	return 0;
}

/* Start the receiver and connect to it; c->fd is then non-blocking. */
int conn_open(struct conn *c, const struct opts *o, struct res *r, bool zerocopy)
{
	struct rcv_report rep;
	int to[2], from[2], one = 1;

	*c = (struct conn){ .fd = -1, .to_rcv = -1, .from_rcv = -1, .pid = -1 };
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", o->netns ? ADDR_RCV : "127.0.0.1");
	if (o->netns && unshare(CLONE_NEWNET)) {
		fprintf(stderr, "pinload: unshare(CLONE_NEWNET): %s (--netns needs root)\n",
			strerror(errno));
		return fail(r, "unshare");
	}
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return fail(r, "pipe");
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		return fail(r, "fork");
	if (!c->pid) {
		close(to[1]);
		close(from[0]);
		receiver(o, to[0], from[1], c->peer_addr);
	}
	close(to[0]);
	close(from[1]);
	c->to_rcv = to[1];
	c->from_rcv = from[0];
	if (o->netns && netns_setup(c, r))
		return -1;
	if (rcv_msg(c, r, &rep))
		return -1;
	c->peer_port = rep.port;
	c->rcvbuf = rep.rcvbuf;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(r, "socket");
	c->sndbuf = set_buf(c->fd, SO_SNDBUFFORCE, SO_SNDBUF, buf_size(o));
	if (c->sndbuf < 0)
		return fail(r, "SO_SNDBUF");
	if (zerocopy && setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		fprintf(stderr, "pinload: SO_ZEROCOPY: %s\n", strerror(errno));
		return fail(r, "SO_ZEROCOPY");
	}
	if (connect_to(c, r)) {
		fprintf(stderr, "pinload: connect to %s:%d: %s\n", c->peer_addr, c->peer_port,
			strerror(r->err));
		return -1;
	}
	c->local_port = sock_port(c->fd);
	return 0;
}

/* Bytes in our send queue, not yet acknowledged (SIOCOUTQ); -1 on error. */
long long conn_outq(const struct conn *c)
{
	int v;

	return ioctl(c->fd, SIOCOUTQ, &v) ? -1 : v;
}

/*
 * Wait up to ms for the receiver to acknowledge everything, or until the
 * send queue stops moving for 300 ms (closed window); returns SIOCOUTQ.
 */
int conn_wait_acked(const struct conn *c, long ms)
{
	double end = now_ms() + ms, moved = now_ms();
	long long q = conn_outq(c), last = q;

	while (q > 0 && now_ms() < end && now_ms() - moved < 300) {
		sleep_ms(2);
		q = conn_outq(c);
		if (q != last)
			moved = now_ms();
		last = q;
	}
	return (int)q;
}

/* Let the receiver read count bytes; *rep: what it saw. */
int conn_read(struct conn *c, struct res *r, long long count, struct rcv_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (write(c->to_rcv, &count, sizeof(count)) != sizeof(count))
		return fail(r, "receiver");
	return rcv_msg(c, r, rep);
}

/* Close both ends and reap the receiver (it exits after conn_read). */
int conn_close(struct conn *c, struct res *r)
{
	int st = 0;

	if (c->fd >= 0)
		close(c->fd);
	close(c->to_rcv);
	close(c->from_rcv);
	c->fd = c->to_rcv = c->from_rcv = -1;
	if (c->pid > 0 && waitpid(c->pid, &st, 0) != c->pid)
		return fail(r, "waitpid");
	c->pid = -1;
	return 0;
}
