// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pinload: the few rtnetlink requests that set up a veth pair between two
 * network namespaces (what `ip link add NAME type veth peer name PEER netns
 * PID`, `ip addr add` and `ip link set up` do). Each request is sent on a
 * NETLINK_ROUTE socket of the caller's current network namespace and waits
 * for the kernel's ack. Functions return 0 or -errno.
 */
#include "pinload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

struct nlreq {
	struct nlmsghdr n;
	char buf[1024];
};

#define NLTAIL(n) ((struct rtattr *)((char *)(n) + NLMSG_ALIGN((n)->nlmsg_len)))

static void nl_init(struct nlreq *q, int type, int flags, const void *hdr, size_t len)
{
	memset(q, 0, sizeof(*q));
	q->n.nlmsg_type = type;
	q->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->n.nlmsg_len = NLMSG_LENGTH(len);
	q->n.nlmsg_seq = 1;
	memcpy(NLMSG_DATA(&q->n), hdr, len);
}

/* Append an attribute (data may be NULL: zeroes); returns it for nesting. */
static struct rtattr *nl_attr(struct nlreq *q, int type, const void *data, size_t len)
{
	struct rtattr *a = NLTAIL(&q->n);

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (data)
		memcpy(RTA_DATA(a), data, len);
	else
		memset(RTA_DATA(a), 0, len);
	q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

/* Raw bytes inside a nest (VETH_INFO_PEER starts with a struct ifinfomsg). */
static void nl_raw(struct nlreq *q, size_t len)
{
	memset(NLTAIL(&q->n), 0, NLMSG_ALIGN(len));
	q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + NLMSG_ALIGN(len);
}

static void nl_nest_end(struct nlreq *q, struct rtattr *nest)
{
	nest->rta_len = (char *)NLTAIL(&q->n) - (char *)nest;
}

static int nl_talk(struct nlreq *q)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (sendto(fd, q, q->n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		for (int len = n; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
		}
		if (n == 0) {
			err = -EPROTO;
			break;
		}
	}
out:
	close(fd);
	return err;
}

/* A veth pair: NAME here, PEER in the network namespace of process peer_pid. */
int rtnl_veth_add(const char *name, const char *peer, int peer_pid)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *linkinfo, *data, *peerinfo;
	uint32_t pid = peer_pid;
	struct nlreq q;

	nl_init(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_attr(&q, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = nl_attr(&q, IFLA_LINKINFO, NULL, 0);
	nl_attr(&q, IFLA_INFO_KIND, "veth", 5);
	data = nl_attr(&q, IFLA_INFO_DATA, NULL, 0);
	peerinfo = nl_attr(&q, VETH_INFO_PEER, NULL, 0);
	nl_raw(&q, sizeof(struct ifinfomsg));
	nl_attr(&q, IFLA_IFNAME, peer, strlen(peer) + 1);
	nl_attr(&q, IFLA_NET_NS_PID, &pid, sizeof(pid));
	nl_nest_end(&q, peerinfo);
	nl_nest_end(&q, data);
	nl_nest_end(&q, linkinfo);
	return nl_talk(&q);
}

/* Give ifname the IPv4 address addr/prefixlen, then set it up. */
int rtnl_addr_up(const char *ifname, const char *addr, int prefixlen)
{
	unsigned int idx = if_nametoindex(ifname);
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = prefixlen,
				 .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = idx };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)idx,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct in_addr in;
	struct nlreq q;
	int err;

	if (!idx)
		return -errno;
	if (inet_pton(AF_INET, addr, &in) != 1)
		return -EINVAL;
	nl_init(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	nl_attr(&q, IFA_LOCAL, &in, sizeof(in));
	nl_attr(&q, IFA_ADDRESS, &in, sizeof(in));
	err = nl_talk(&q);
	if (err)
		return err;
	nl_init(&q, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return nl_talk(&q);
}
