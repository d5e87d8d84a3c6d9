#define _GNU_SOURCE
/* udp_ancillary: IP ancillary data on UDP sockets over loopback, as DNS servers
 * (dnsmasq, unbound: IP_PKTINFO/IPV6_PKTINFO) and RFC 3542 programs use it:
 *   - IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS give, in this order, an
 *     in6_pktinfo (::1 on lo), the hop limit (64 by default, 2 after an
 *     IPV6_HOPLIMIT control message of 2, 64 again on the next plain send) and the
 *     traffic class; getsockopt reports the options;
 *   - IP_PKTINFO, IP_RECVTTL, IP_RECVTOS give an in_pktinfo (127.0.0.1 on lo), the
 *     TTL (an IP_TTL message of 5 arrives as 5) and a one-byte TOS;
 *   - sendmsg with IPV6_PKTINFO / IP_PKTINFO choosing the source address;
 *   - a control buffer with room for part of a message gets that part, its
 *     cmsg_len saying so, and MSG_CTRUNC (Linux's put_cmsg);
 *   - an IPV6_TCLASS message one byte too long is EINVAL.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

static char control[512];

/* Receives one datagram into buf with the control buffer of `clen` bytes. */
static ssize_t recv_with(int s, char *buf, size_t len, size_t clen, struct msghdr *m)
{
	static struct iovec iov;
	iov.iov_base = buf, iov.iov_len = len;
	memset(m, 0, sizeof *m);
	memset(control, 0xee, sizeof control);
	m->msg_iov = &iov, m->msg_iovlen = 1;
	m->msg_control = control, m->msg_controllen = clen;
	return recvmsg(s, m, 0);
}

/* Sends "ping" to `to` with one control message (level, type, data). */
static ssize_t send_with(int s, struct sockaddr *to, socklen_t tolen, int level, int type,
			 const void *data, size_t dlen)
{
	char buf[CMSG_SPACE(64)];
	struct iovec iov = {"ping", 4};
	struct msghdr m = {.msg_name = to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};
	if (level >= 0) {
		memset(buf, 0, sizeof buf);
		m.msg_control = buf, m.msg_controllen = CMSG_SPACE(dlen);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = level, c->cmsg_type = type, c->cmsg_len = CMSG_LEN(dlen);
		memcpy(CMSG_DATA(c), data, dlen);
	}
	return sendmsg(s, &m, 0);
}

static int cmsg_int(struct cmsghdr *c)
{
	int v;
	memcpy(&v, CMSG_DATA(c), sizeof v);
	return v;
}

static void ipv6(void)
{
	int srv = socket(AF_INET6, SOCK_DGRAM, 0), cli = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t alen = sizeof a;
	int one = 1, v = 0;
	socklen_t vlen = sizeof v;
	CHECK(bind(srv, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(srv, (struct sockaddr *)&a, &alen) == 0);
	CHECK(setsockopt(srv, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0);
	CHECK(setsockopt(srv, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) == 0);
	CHECK(setsockopt(srv, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one) == 0);
	CHECK(getsockopt(srv, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, &vlen) == 0 && v == 1);

	char buf[16];
	struct msghdr m;
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, -1, 0, NULL, 0) == 4);
	CHECK(recv_with(srv, buf, sizeof buf, sizeof control, &m) == 4 && !memcmp(buf, "ping", 4));
	CHECK(!(m.msg_flags & MSG_CTRUNC));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
	      c->cmsg_len == CMSG_LEN(sizeof(struct in6_pktinfo)));
	if (c) {
		struct in6_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof pi);
		CHECK(IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr) && pi.ipi6_ifindex == 1);
		c = CMSG_NXTHDR(&m, c);
	}
	CHECK(c && c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len == CMSG_LEN(sizeof(int)) &&
	      cmsg_int(c) == 64);
	if (c)
		c = CMSG_NXTHDR(&m, c);
	CHECK(c && c->cmsg_type == IPV6_TCLASS && cmsg_int(c) >= 0 && cmsg_int(c) <= 255);
	if (c)
		CHECK(CMSG_NXTHDR(&m, c) == NULL);

	/* One datagram with hop limit 2, then the socket's default again. */
	int two = 2;
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, IPPROTO_IPV6, IPV6_HOPLIMIT, &two,
			sizeof two) == 4);
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, -1, 0, NULL, 0) == 4);
	int hops[2] = {-1, -1};
	for (int i = 0; i < 2; i++) {
		recv_with(srv, buf, sizeof buf, sizeof control, &m);
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_type == IPV6_HOPLIMIT)
				hops[i] = cmsg_int(c);
	}
	CHECK(hops[0] == 2 && hops[1] == 64);

	/* The source address chosen by IPV6_PKTINFO. */
	struct in6_pktinfo src = {.ipi6_addr = IN6ADDR_LOOPBACK_INIT};
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, IPPROTO_IPV6, IPV6_PKTINFO, &src,
			sizeof src) == 4);
	CHECK(recv_with(srv, buf, sizeof buf, sizeof control, &m) == 4);

	/* Room for a header and two bytes of the pktinfo: that much, MSG_CTRUNC. */
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, -1, 0, NULL, 0) == 4);
	CHECK(recv_with(srv, buf, sizeof buf, CMSG_LEN(2), &m) == 4);
	c = CMSG_FIRSTHDR(&m);
	CHECK((m.msg_flags & MSG_CTRUNC) && m.msg_controllen == CMSG_LEN(2) && c &&
	      c->cmsg_type == IPV6_PKTINFO && c->cmsg_len == CMSG_LEN(2));
	/* Less than a header: nothing, MSG_CTRUNC. */
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, -1, 0, NULL, 0) == 4);
	CHECK(recv_with(srv, buf, sizeof buf, sizeof(struct cmsghdr) - 1, &m) == 4);
	CHECK((m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);

	/* A traffic class message one byte too long. */
	char odd[5] = {0};
	errno = 0;
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, IPPROTO_IPV6, IPV6_TCLASS, odd,
			sizeof odd) < 0 && errno == EINVAL);
	close(srv), close(cli);
}

static void ipv4(void)
{
	int srv = socket(AF_INET, SOCK_DGRAM, 0), cli = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	int one = 1, v = 0;
	socklen_t vlen = sizeof v;
	CHECK(bind(srv, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(srv, (struct sockaddr *)&a, &alen) == 0);
	CHECK(setsockopt(srv, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0);
	CHECK(setsockopt(srv, IPPROTO_IP, IP_RECVTTL, &one, sizeof one) == 0);
	CHECK(setsockopt(srv, IPPROTO_IP, IP_RECVTOS, &one, sizeof one) == 0);
	CHECK(getsockopt(srv, IPPROTO_IP, IP_PKTINFO, &v, &vlen) == 0 && v == 1);

	char buf[16];
	struct msghdr m;
	int five = 5;
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, IPPROTO_IP, IP_TTL, &five,
			sizeof five) == 4);
	CHECK(recv_with(srv, buf, sizeof buf, sizeof control, &m) == 4);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
	      c->cmsg_len == CMSG_LEN(sizeof(struct in_pktinfo)));
	if (c) {
		struct in_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof pi);
		CHECK(pi.ipi_ifindex == 1 && pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		      pi.ipi_spec_dst.s_addr == htonl(INADDR_LOOPBACK));
		c = CMSG_NXTHDR(&m, c);
	}
	CHECK(c && c->cmsg_type == IP_TTL && cmsg_int(c) == 5);
	if (c)
		c = CMSG_NXTHDR(&m, c);
	CHECK(c && c->cmsg_type == IP_TOS && c->cmsg_len == CMSG_LEN(1));

	/* The source address chosen by IP_PKTINFO's ipi_spec_dst. */
	struct in_pktinfo src = {.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	CHECK(send_with(cli, (struct sockaddr *)&a, sizeof a, IPPROTO_IP, IP_PKTINFO, &src,
			sizeof src) == 4);
	CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4 &&
	      from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	close(srv), close(cli);
}

int main(void)
{
	ipv6();
	ipv4();
	return CHECK_DONE();
}
