// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload workloads splice-sock and zerocopy: user pages referenced by skb
 * frags of a TCP connection (net.c) whose receiver does not read for
 * --hold-ms. Sequence of both:
 *
 *   send N pages (the call under test: ret, duration_ms); wait (<= 2 s)
 *   until the receiver acknowledged all of them, or the send queue stops
 *   moving (unacked_after_send: what was still unacked); --rewrite:
 *   overwrite our buffer with a second pattern; sleep --hold-ms; sample
 *   our send queue (sndq, SIOCOUTQ); [zerocopy: collect completions so
 *   far]; the receiver samples its receive queue (rcvq, SIOCINQ), reads
 *   everything and counts the pages that hold the original (pages_orig),
 *   the rewritten pattern (pages_rewritten), or both (pages_mixed: a page
 *   split between segments sent before and after the rewrite).
 *
 * pages_rewritten > 0 proves that skbs still referenced our own pages when
 * we overwrote them; pages_orig == N after --rewrite, that the data had
 * been copied by then.
 *
 * The buffer is mapped after the receiver child is forked: pages shared
 * copy-on-write with a child would be replaced by copies on our rewrite,
 * while FOLL_GET references (unlike pins) keep the old ones.
 */
#include "pinload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/errqueue.h>

#define STALL_MS	3000	/* no progress this long: stop sending */
#define ACK_WAIT_MS	2000
#define ZC_WAIT_MS	5000	/* for the last zerocopy completions */
#define ZC_CHUNK_PAGES	16	/* bytes per MSG_ZEROCOPY send: 64 KiB */

/* Wait until fd is writable; false after STALL_MS. */
static bool wait_out(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, STALL_MS) == 1 && (p.revents & POLLOUT);
}

static void conn_extras(struct res *r, const struct conn *c)
{
	static char addr[sizeof(c->peer_addr)];	/* printed after we return */

	memcpy(addr, c->peer_addr, sizeof(addr));
	extra(r, "pid", getpid());
	extra(r, "rcv_pid", c->pid);
	extra_str(r, "peer_addr", addr);
	extra(r, "local_port", c->local_port);
	extra(r, "peer_port", c->peer_port);
	extra(r, "rcvbuf", c->rcvbuf);
	extra(r, "sndbuf", c->sndbuf);
}

/* After the data went out: wait for the acks, --rewrite, hold. */
static void hold(struct conn *c, const struct opts *o, struct res *r, char *buf)
{
	extra(r, "unacked_after_send", conn_wait_acked(c, ACK_WAIT_MS));
	if (o->rewrite)
		pat_fill(buf, 0, o->pages, SEED_REWRITE);
	sleep_ms(o->hold_ms);
	extra(r, "sndq", conn_outq(c));
}

/* The receiver reads all that was sent; its report decides r->verified. */
static int read_back(struct conn *c, const struct opts *o, struct res *r, long long sent)
{
	struct rcv_report rep;
	int rc = conn_read(c, r, sent, &rep);	/* rep is filled on failure too */

	extra(r, "rcvq", rep.queued);
	extra(r, "received", rep.received);
	extra(r, "pages_orig", rep.orig);
	extra(r, "pages_rewritten", rep.rewritten);
	extra(r, "pages_mixed", rep.mixed);
	r->verified = rep.received == sent && rep.orig + (o->rewrite ? rep.rewritten +
		      rep.mixed : 0) == sent / (long long)pg;
	return rc;
}

/* ---- splice-sock: vmsplice into a pipe, splice the pipe into TCP ---------- */

int do_splice_sock(const struct opts *o, struct res *r)
{
	size_t len = o->pages * pg;
	long long spliced = 0;
	struct iovec iov;
	struct conn c;
	int pfd[2], size;
	ssize_t n;
	char *buf;

	r->mode = o->netns ? "veth-netns" : "loopback";
	if (conn_open(&c, o, r, false))
		return -1;
	conn_extras(r, &c);
	buf = map_pages(o->pages, true);	/* after the fork: see below */
	if (!buf)
		return fail(r, "mmap");
	pat_fill(buf, 0, o->pages, SEED_LOCAL);
	if (pipe(pfd))
		return fail(r, "pipe");
	size = fcntl(pfd[1], F_SETPIPE_SZ, (int)len);
	if (size < 0) {
		fprintf(stderr, "pinload: F_SETPIPE_SZ %zu: %s%s\n", len, strerror(errno),
			errno == EPERM ? " (above fs.pipe-max-size needs CAP_SYS_RESOURCE)" : "");
		return fail(r, "F_SETPIPE_SZ");
	}
	/* No SPLICE_F_GIFT: the pipe takes FOLL_GET references on our pages. */
	iov = (struct iovec){ buf, len };
	while (iov.iov_len) {
		n = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(r, "vmsplice");
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
	}
	extra(r, "pipe_size", size);
	/* The call under test: the pipe's page references move into skbs. */
	call_begin(r);
	while (spliced < (long long)len) {
		n = splice(pfd[0], NULL, c.fd, NULL, len - spliced, SPLICE_F_NONBLOCK);
		if (n > 0)
			spliced += n;
		else if (!(n < 0 && errno == EINTR) &&
			 !(n < 0 && errno == EAGAIN && wait_out(c.fd)))
			break;
	}
	call_end(r, spliced);
	extra(r, "spliced", spliced);
	if (spliced < (long long)len)
		fprintf(stderr, "pinload: splice-sock: SHORT: %lld of %zu bytes spliced (%s)\n",
			spliced, len, n < 0 ? strerror(r->err) : "socket closed");
	/* What did not make it stays in the pipe until the close below. */
	hold(&c, o, r, buf);
	if (read_back(&c, o, r, spliced))
		return -1;
	close(pfd[0]);
	close(pfd[1]);
	if (conn_close(&c, r))
		return -1;
	r->p1 = pinstat_now();
	if (spliced < (long long)len)
		return call_failed(r, "splice-short");
	return r->verified ? 0 : call_failed(r, "verify");
}

/* ---- zerocopy: send(MSG_ZEROCOPY) and its completions --------------------- */

struct zc {
	long long completed, copied;	/* ids completed; of them flagged COPIED */
	int notes, other;		/* notifications; other error-queue messages */
	char ranges[512];		/* "lo-hi[c],...", c: COPIED */
	size_t rlen;
};

static void zc_note(struct zc *z, const struct sock_extended_err *e)
{
	uint32_t lo = e->ee_info, hi = e->ee_data;
	bool copied = e->ee_code & SO_EE_CODE_ZEROCOPY_COPIED;
	int n;

	if (e->ee_origin != SO_EE_ORIGIN_ZEROCOPY || e->ee_errno) {
		z->other++;
		return;
	}
	z->notes++;
	z->completed += hi - lo + 1;
	z->copied += copied ? hi - lo + 1 : 0;
	if (z->rlen + 32 >= sizeof(z->ranges)) {
		if (!strstr(z->ranges, "..."))
			strcat(z->ranges, ",...");
		return;
	}
	n = snprintf(z->ranges + z->rlen, sizeof(z->ranges) - z->rlen, "%s%u-%u%s",
		     z->rlen ? "," : "", lo, hi, copied ? "c" : "");
	z->rlen += n;
}

/* Collect completions until `want` ids completed or timeout_ms; -1: error. */
static int zc_drain(int fd, struct zc *z, long long want, long timeout_ms)
{
	double end = now_ms() + timeout_ms;

	for (;;) {
		char ctl[256];
		struct msghdr m = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct pollfd p = { .fd = fd };
		double left;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
				if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
				    (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
					zc_note(z, (struct sock_extended_err *)CMSG_DATA(cm));
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		left = end - now_ms();
		if (z->completed >= want || left <= 0)
			return 0;
		poll(&p, 1, (int)left + 1);	/* POLLERR: the error queue is not empty */
	}
}

int do_zerocopy(const struct opts *o, struct res *r)
{
	size_t len = o->pages * pg, chunk = ZC_CHUNK_PAGES * pg;
	long long sent = 0, sends = 0, enobufs = 0, before;
	static struct zc z;	/* z.ranges is printed after we return */
	struct conn c;
	double t;
	ssize_t n;
	char *buf;

	r->mode = o->netns ? "veth-netns" : "loopback";
	if (conn_open(&c, o, r, true))
		return -1;
	conn_extras(r, &c);
	buf = map_pages(o->pages, true);	/* after the fork: see the top */
	if (!buf)
		return fail(r, "mmap");
	pat_fill(buf, 0, o->pages, SEED_LOCAL);
	/*
	 * --fault: GUP stops at the PROT_NONE page, so the skb gets the frags
	 * of the pages before it, then skb_zerocopy_iter_stream() trims them
	 * off again (___pskb_trim) and the send fails with EFAULT.
	 */
	if (o->fault && mprotect(buf + (o->pages - 1) * pg, pg, PROT_NONE))
		return fail(r, "mprotect");
	/* The call under test: every send() > 0 is one completion id (0, 1, ...). */
	call_begin(r);
	while (sent < (long long)len) {
		size_t want = len - sent < chunk ? len - sent : chunk;

		n = send(c.fd, buf + sent, want, MSG_ZEROCOPY | MSG_DONTWAIT);
		if (n > 0) {
			sent += n;
			sends++;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* ENOBUFS: optmem_max is full of pending notifications; reap some. */
		before = z.completed;
		enobufs += n < 0 && errno == ENOBUFS;
		if (n < 0 && errno == ENOBUFS && !zc_drain(c.fd, &z, before + 1, STALL_MS) &&
		    z.completed > before)
			continue;
		if (!(n < 0 && errno == EAGAIN && wait_out(c.fd)))
			break;
	}
	call_end(r, sent);
	extra(r, "sent", sent);
	extra(r, "sends", sends);
	if (o->fault) {
		bool efault = sent < (long long)len && n < 0 && r->err == EFAULT;

		extra_bool(r, "efault", efault);
		if (!efault)
			fprintf(stderr, "pinload: zerocopy --fault: expected EFAULT, sent %lld\n", sent);
		len = sent;	/* the rest is expected not to go */
	}
	if (sent < (long long)len)
		fprintf(stderr, "pinload: zerocopy: SHORT: %lld of %zu bytes sent (%s)\n",
			sent, len, n < 0 ? strerror(r->err) : "socket closed");
	hold(&c, o, r, buf);
	if (zc_drain(c.fd, &z, 0, 0))
		return fail(r, "MSG_ERRQUEUE");
	extra(r, "zc_completed_before_read", z.completed);
	if (read_back(&c, o, r, sent))
		return -1;
	t = now_ms();
	if (zc_drain(c.fd, &z, sends, ZC_WAIT_MS))
		return fail(r, "MSG_ERRQUEUE");
	extra(r, "zc_wait_ms", (long long)(now_ms() - t));
	extra(r, "zc_completed", z.completed);
	extra(r, "zc_notifications", z.notes);
	extra_bool(r, "zc_all_completed", z.completed == sends);
	extra_bool(r, "zc_copied", z.copied > 0);
	extra(r, "zc_copied_ids", z.copied);
	extra_str(r, "zc_ranges", z.ranges);
	if (z.other)
		extra(r, "errqueue_other", z.other);
	if (enobufs)
		extra(r, "send_enobufs", enobufs);
	if (conn_close(&c, r))
		return -1;
	r->p1 = pinstat_now();
	if (sent < (long long)len)
		return call_failed(r, "send-short");
	if (z.completed != sends) {
		fprintf(stderr, "pinload: zerocopy: %lld of %lld completions after %d ms\n",
			z.completed, sends, ZC_WAIT_MS);
		return call_failed(r, "zc-completions");
	}
	return r->verified ? 0 : call_failed(r, "verify");
}
