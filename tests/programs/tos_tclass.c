#define _GNU_SOURCE
/* tos_tclass: a socket's traffic class, as ip(7) and ipv6(7) describe it:
 *   - IP_TOS reads back what was set (on TCP without the two ECN bits, which the
 *     stack owns); IPV6_TCLASS reads back 0..255, -1 restores the default 0, and a
 *     value outside -1..255 is EINVAL;
 *   - datagrams carry the sender's TOS / traffic class: a receiver asking with
 *     IP_RECVTOS / IPV6_RECVTCLASS gets the sender's value in its control message
 *     (over loopback, where nothing rewrites it), and 0 from a sender that set none;
 *   - an IP_TOS (int or byte) / IPV6_TCLASS control message on sendmsg gives that one
 *     datagram its class; the next without one has the socket's again; out-of-range
 *     values are EINVAL;
 *   - `tos_tclass wire PORT`: a TCP connection to 10.0.2.2:PORT with IP_TOS 0x28 sends
 *     "tcp with tos 0x28\n" and reads the answer; UDP datagrams "a".."d" go to the
 *     same port with classes 0xb8 (message), 0 (socket), 0x20 (message over the
 *     socket's 0x10), 0x10 (socket). The system test captures the frames on the
 *     host side and checks every segment's and datagram's TOS byte.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
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

/* sendmsg of `data` to `to` with one control message (level, type) holding `v`
 * (`len` bytes of it: 4 for an int, 1 for a byte); none when len is 0. */
static ssize_t send_with(int s, const void *to, socklen_t tolen, const char *data, int level,
			 int type, int v, int len)
{
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov,
			   .msg_iovlen = 1};
	if (len) {
		m.msg_control = control;
		m.msg_controllen = CMSG_SPACE(len);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = level;
		c->cmsg_type = type;
		c->cmsg_len = CMSG_LEN(len);
		if (len == 1) {
			unsigned char b = (unsigned char)v;
			memcpy(CMSG_DATA(c), &b, 1);
		} else {
			memcpy(CMSG_DATA(c), &v, sizeof v);
		}
	}
	return sendmsg(s, &m, 0);
}

/* "ping" from `s` to `srv` (at `to`) with a control message as send_with's: the
 * class `srv` saw (IP_TOS or IPV6_TCLASS, as `to` is IPv4 or IPv6), or < 0. */
static int class_seen(int s, const void *to, socklen_t tolen, int srv, int level, int type,
		      int v, int len)
{
	if (send_with(s, to, tolen, "ping", level, type, v, len) != 4)
		return -10;
	if (((const struct sockaddr *)to)->sa_family == AF_INET)
		return recv_class(srv, IPPROTO_IP, IP_TOS, 1);
	return recv_class(srv, IPPROTO_IPV6, IPV6_TCLASS, 0);
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
	/* one datagram's class from a control message (int, then byte), then the
	 * socket's again */
	CHECK(class_seen(cli, &a, sizeof a, srv, IPPROTO_IP, IP_TOS, 0xb8, 4) == 0xb8);
	CHECK(class_seen(cli, &a, sizeof a, srv, 0, 0, 0, 0) == 0x10);
	CHECK(class_seen(plain, &a, sizeof a, srv, IPPROTO_IP, IP_TOS, 0x04, 1) == 0x04);
	CHECK(class_seen(plain, &a, sizeof a, srv, IPPROTO_IP, IP_TOS, 0, 4) == 0);
	CHECK(send_with(cli, &a, sizeof a, "ping", IPPROTO_IP, IP_TOS, 256, 4) == -1 &&
	      errno == EINVAL);
	CHECK(send_with(cli, &a, sizeof a, "ping", IPPROTO_IP, IP_TOS, -1, 4) == -1 &&
	      errno == EINVAL);
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
	/* one datagram's class from a control message (-1 there, RFC 3542's "kernel
	 * default", is not checked: Linux 6.1 sends 0xff) */
	CHECK(class_seen(plain, &a, sizeof a, srv, IPPROTO_IPV6, IPV6_TCLASS, 0xb8, 4) == 0xb8);
	CHECK(class_seen(plain, &a, sizeof a, srv, 0, 0, 0, 0) == 0);
	CHECK(class_seen(cli, &a, sizeof a, srv, IPPROTO_IPV6, IPV6_TCLASS, 0, 4) == 0);
	CHECK(class_seen(cli, &a, sizeof a, srv, 0, 0, 0, 0) == 0x48);
	CHECK(send_with(cli, &a, sizeof a, "ping", IPPROTO_IPV6, IPV6_TCLASS, 256, 4) == -1 &&
	      errno == EINVAL);
	close(srv), close(cli), close(plain);
}

/* The wire half (see the top): TCP and UDP to the host at 10.0.2.2:port. */
static void wire(int port)
{
	struct sockaddr_in h = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "10.0.2.2", &h.sin_addr);
	int t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(set_int(t, IPPROTO_IP, IP_TOS, 0x28) == 0);
	CHECK(connect(t, (struct sockaddr *)&h, sizeof h) == 0);
	const char msg[] = "tcp with tos 0x28\n";
	CHECK(write(t, msg, sizeof msg - 1) == (ssize_t)sizeof msg - 1);
	char buf[64];
	ssize_t n = read(t, buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	printf("host said: %s", buf);
	close(t);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct {
		const char *data;
		int tos; /* the message's; -1: none */
	} sends[] = {{"a", 0xb8}, {"b", -1}, {"c", 0x20}, {"d", -1}};
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			CHECK(set_int(u, IPPROTO_IP, IP_TOS, 0x10) == 0);
		int tos = sends[i].tos;
		CHECK(send_with(u, &h, sizeof h, sends[i].data, IPPROTO_IP, IP_TOS, tos,
				tos >= 0 ? 4 : 0) == 1);
	}
	close(u);
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "wire") == 0) {
		wire(atoi(argv[2]));
		return CHECK_DONE();
	}
	ipv4();
	ipv6();
	return CHECK_DONE();
}
