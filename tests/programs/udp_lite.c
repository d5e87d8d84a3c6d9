#define _GNU_SOURCE
/* udp_lite: UDP-Lite sockets (IPPROTO_UDPLITE, udplite(7)) over loopback, IPv4 and
 * IPv6:
 *   - socket, bind, sendto/recvfrom with the sender's address, connect and send/recv,
 *     SO_PROTOCOL 136;
 *   - UDPLITE_SEND_CSCOV: partial checksum coverage arrives intact; a coverage
 *     below the 8-byte header reads back as 8;
 *   - UDPLITE_RECV_CSCOV: a datagram covering less than the receiver asks for is
 *     dropped, a fully covered one arrives.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#define SOL_UDPLITE 136
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11

static int readable(int s)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	return poll(&p, 1, 300) == 1;
}

static void family(int fam)
{
	struct sockaddr_storage a, from, cli_addr;
	socklen_t alen = sizeof a, flen = sizeof from, clen = sizeof cli_addr;
	memset(&a, 0, sizeof a);
	if (fam == AF_INET) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
		a4->sin_family = AF_INET, a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
		a6->sin6_family = AF_INET6, a6->sin6_addr = in6addr_loopback;
	}
	int srv = socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE);
	int cli = socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE);
	CHECK(srv >= 0 && cli >= 0);
	int v = 0;
	socklen_t vlen = sizeof v;
	CHECK(getsockopt(srv, SOL_SOCKET, SO_PROTOCOL, &v, &vlen) == 0 && v == IPPROTO_UDPLITE);
	CHECK(bind(srv, (struct sockaddr *)&a, fam == AF_INET ? sizeof(struct sockaddr_in)
							    : sizeof(struct sockaddr_in6)) == 0);
	CHECK(getsockname(srv, (struct sockaddr *)&a, &alen) == 0);

	char buf[256];
	CHECK(sendto(cli, "hello lite", 10, 0, (struct sockaddr *)&a, alen) == 10);
	CHECK(readable(srv));
	CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 10 &&
	      !memcmp(buf, "hello lite", 10));
	/* The sender's port (sin_port and sin6_port are at the same offset). */
	CHECK(getsockname(cli, (struct sockaddr *)&cli_addr, &clen) == 0 && flen == clen &&
	      ((struct sockaddr_in *)&from)->sin_port == ((struct sockaddr_in *)&cli_addr)->sin_port);

	/* Partial coverage: the first 20 bytes (header and 12 of data). */
	int cov = 20;
	CHECK(setsockopt(cli, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &cov, sizeof cov) == 0);
	CHECK(getsockopt(cli, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &v, &vlen) == 0 && v == 20);
	char big[200];
	for (int i = 0; i < 200; i++)
		big[i] = (char)i;
	CHECK(connect(cli, (struct sockaddr *)&a, alen) == 0);
	CHECK(send(cli, big, sizeof big, 0) == 200);
	CHECK(readable(srv) && recv(srv, buf, sizeof buf, 0) == 200 && !memcmp(buf, big, 200));

	/* The receiver wants 100 bytes covered: 20 are dropped, full coverage arrives. */
	int want = 100;
	CHECK(setsockopt(srv, SOL_UDPLITE, UDPLITE_RECV_CSCOV, &want, sizeof want) == 0);
	CHECK(send(cli, big, sizeof big, 0) == 200);
	CHECK(!readable(srv));
	cov = 0;
	CHECK(setsockopt(cli, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &cov, sizeof cov) == 0);
	CHECK(send(cli, big, sizeof big, 0) == 200);
	CHECK(readable(srv) && recv(srv, buf, sizeof buf, 0) == 200 && !memcmp(buf, big, 200));

	/* Below the header: 8. */
	cov = 3;
	CHECK(setsockopt(cli, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &cov, sizeof cov) == 0);
	CHECK(getsockopt(cli, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &v, &vlen) == 0 && v == 8);
	close(srv), close(cli);
}

int main(void)
{
	family(AF_INET);
	family(AF_INET6);
	return CHECK_DONE();
}
