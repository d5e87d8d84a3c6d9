#define _GNU_SOURCE
/* tos_tclass: a socket's traffic class, as ip(7) and ipv6(7) describe it:
 *   - IP_TOS reads back what was set (on TCP without the two ECN bits, which the
 *     stack owns); IPV6_TCLASS reads back 0..255, -1 restores the default 0, and a
 *     value outside -1..255 is EINVAL;
 *   - datagrams carry the sender's TOS / traffic class: a receiver asking with
 *     IP_RECVTOS / IPV6_RECVTCLASS gets the sender's value in its control message
 *     (over loopback, where nothing rewrites it), and 0 from a sender that set none.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

/* Receives one datagram on `s`; the value of its first control message of (level,
 * type) (an int, or one byte when `byte`), or -1 when there is none. */
static int recv_class(int s, int level, int type, int byte)
{
	char buf[64], control[256];
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			   .msg_controllen = sizeof control};
	if (recvmsg(s, &m, 0) != 4)
		return -2;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != level || c->cmsg_type != type)
			continue;
		if (byte)
			return c->cmsg_len == CMSG_LEN(1) ? *(unsigned char *)CMSG_DATA(c) : -3;
		int v;
		memcpy(&v, CMSG_DATA(c), sizeof v);
		return c->cmsg_len == CMSG_LEN(sizeof v) ? v : -3;
	}
	return -1;
}

static int get_int(int s, int level, int name)
{
	int v = -100;
	socklen_t len = sizeof v;
	return getsockopt(s, level, name, &v, &len) == 0 ? v : -101;
}

static int set_int(int s, int level, int name, int v)
{
	return setsockopt(s, level, name, &v, sizeof v);
}

static void ipv4(void)
{
	int srv = socket(AF_INET, SOCK_DGRAM, 0), cli = socket(AF_INET, SOCK_DGRAM, 0),
	    plain = socket(AF_INET, SOCK_DGRAM, 0), tcp = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	CHECK(get_int(cli, IPPROTO_IP, IP_TOS) == 0);
	CHECK(set_int(cli, IPPROTO_IP, IP_TOS, 0x28) == 0);
	CHECK(get_int(cli, IPPROTO_IP, IP_TOS) == 0x28);
	CHECK(set_int(tcp, IPPROTO_IP, IP_TOS, 0x2b) == 0);
	CHECK(get_int(tcp, IPPROTO_IP, IP_TOS) == 0x28);

	CHECK(bind(srv, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(srv, (struct sockaddr *)&a, &alen) == 0);
	CHECK(set_int(srv, IPPROTO_IP, IP_RECVTOS, 1) == 0);
	CHECK(sendto(cli, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4);
	CHECK(recv_class(srv, IPPROTO_IP, IP_TOS, 1) == 0x28);
	CHECK(sendto(plain, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4);
	CHECK(recv_class(srv, IPPROTO_IP, IP_TOS, 1) == 0);
	/* changed on a socket that has sent already */
	CHECK(set_int(cli, IPPROTO_IP, IP_TOS, 0x10) == 0);
	CHECK(sendto(cli, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4);
	CHECK(recv_class(srv, IPPROTO_IP, IP_TOS, 1) == 0x10);
	close(srv), close(cli), close(plain), close(tcp);
}

static void ipv6(void)
{
	int srv = socket(AF_INET6, SOCK_DGRAM, 0), cli = socket(AF_INET6, SOCK_DGRAM, 0),
	    plain = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t alen = sizeof a;
	CHECK(get_int(cli, IPPROTO_IPV6, IPV6_TCLASS) == 0);
	CHECK(set_int(cli, IPPROTO_IPV6, IPV6_TCLASS, 256) == -1 && errno == EINVAL);
	CHECK(set_int(cli, IPPROTO_IPV6, IPV6_TCLASS, -2) == -1 && errno == EINVAL);
	CHECK(set_int(cli, IPPROTO_IPV6, IPV6_TCLASS, 0x48) == 0);
	CHECK(get_int(cli, IPPROTO_IPV6, IPV6_TCLASS) == 0x48);
	CHECK(set_int(plain, IPPROTO_IPV6, IPV6_TCLASS, 0x20) == 0);
	CHECK(set_int(plain, IPPROTO_IPV6, IPV6_TCLASS, -1) == 0);
	CHECK(get_int(plain, IPPROTO_IPV6, IPV6_TCLASS) == 0);

	CHECK(bind(srv, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(srv, (struct sockaddr *)&a, &alen) == 0);
	CHECK(set_int(srv, IPPROTO_IPV6, IPV6_RECVTCLASS, 1) == 0);
	CHECK(sendto(cli, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4);
	CHECK(recv_class(srv, IPPROTO_IPV6, IPV6_TCLASS, 0) == 0x48);
	CHECK(sendto(plain, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4);
	CHECK(recv_class(srv, IPPROTO_IPV6, IPV6_TCLASS, 0) == 0);
	close(srv), close(cli), close(plain);
}

int main(void)
{
	ipv4();
	ipv6();
	return CHECK_DONE();
}
