// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sock_format (src/output_skb.c): the socket 4-tuple of skb events, as the
 * BPF side packs it: addr = local << 32 | remote (IPv4, each in network
 * order), nr_req = family << 32 | local port << 16 | remote port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "output.h"

static __u64 addrs(const char *local, const char *remote)
{
	struct in_addr l, r;

	assert_int_equal(inet_pton(AF_INET, local, &l), 1);
	assert_int_equal(inet_pton(AF_INET, remote, &r), 1);
	return (__u64)l.s_addr << 32 | r.s_addr;
}

static __u64 ports(unsigned int family, unsigned int lport, unsigned int rport)
{
	return (__u64)family << 32 | (__u64)lport << 16 | rport;
}

static void test_inet(void **state)
{
	char buf[96];
	const char *s;

	s = sock_format(addrs("127.0.0.1", "10.0.0.2"), ports(AF_INET, 5000, 41234), buf,
			sizeof(buf));
	assert_ptr_equal(s, buf);
	assert_string_equal(buf, "127.0.0.1:5000 -> 10.0.0.2:41234");

	/* byte order: network-order words, not host-order numbers */
	sock_format((__u64)htonl(0xc0a80101) << 32 | htonl(0x08080404),
		    ports(AF_INET, 443, 65535), buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.1:443 -> 8.8.4.4:65535");

	/* an unconnected socket */
	sock_format(0, ports(AF_INET, 8080, 0), buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0:8080 -> 0.0.0.0:0");

	/* the widest tuple fits the callers' buffers */
	sock_format(addrs("255.255.255.255", "255.255.255.255"), ports(AF_INET, 65535, 65535),
		    buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255:65535 -> 255.255.255.255:65535");
}

static void test_other_family(void **state)
{
	char buf[96];

	/* IPv6: no addresses (only IPv4 ones are carried), ports and family */
	memset(buf, 'x', sizeof(buf));
	sock_format(0x1122334455667788ULL, ports(AF_INET6, 5000, 41234), buf, sizeof(buf));
	/* "family 10 :5000 -> :41234" (output.h documents "AF 10 ...") */
	assert_non_null(strstr(buf, " 10 :5000 -> :41234"));
	assert_int_equal(strlen(strstr(buf, " 10 :5000 -> :41234")), strlen(" 10 :5000 -> :41234"));
	/* the address bits mean nothing for other families: not shown */
	assert_null(strchr(buf, '.'));
	/* AF_UNIX */
	sock_format(0, ports(AF_UNIX, 0, 0), buf, sizeof(buf));
	assert_non_null(strstr(buf, " 1 :0 -> :0"));
}

static void test_no_family(void **state)
{
	char buf[96];

	/* family 0: the socket is unknown, nothing to say */
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(sock_format(addrs("127.0.0.1", "10.0.0.2"), ports(0, 5000, 41234),
					buf, sizeof(buf)), "");
	assert_string_equal(sock_format(0, 0, buf, sizeof(buf)), "");
}

static void test_truncation(void **state)
{
	char buf[12];

	memset(buf, 'x', sizeof(buf));
	sock_format(addrs("127.0.0.1", "10.0.0.2"), ports(AF_INET, 5000, 41234), buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_string_equal(buf, "127.0.0.1:5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inet),
		cmocka_unit_test(test_other_family),
		cmocka_unit_test(test_no_family),
		cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
