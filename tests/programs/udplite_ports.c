#define _GNU_SOURCE
/* udplite_ports: UDP-Lite has a port space of its own (udplite(7); Linux keeps
 * udplite_table apart from udp_table): a UDP and a UDP-Lite socket bind the same
 * port, each gets the datagrams of its own protocol, two UDP-Lite sockets still
 * clash (EADDRINUSE), as do two UDP ones.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "check.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

static int bound(int proto, struct sockaddr_in *a)
{
	int s = socket(AF_INET, SOCK_DGRAM, proto);
	struct timeval tv = {2, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof *a) != 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	socklen_t len = sizeof *a;
	getsockname(s, (struct sockaddr *)a, &len);
	return s;
}

/* What `s` receives (NUL-terminated into buf), or "" on timeout. */
static const char *got(int s, char *buf, size_t len)
{
	ssize_t n = recv(s, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int udp = bound(IPPROTO_UDP, &a);
	CHECK(udp >= 0);
	int lite = bound(IPPROTO_UDPLITE, &a); /* the UDP socket's port */
	CHECK(lite >= 0);
	int again = bound(IPPROTO_UDPLITE, &a);
	CHECK(again == -1 && errno == EADDRINUSE);
	int again_udp = bound(IPPROTO_UDP, &a);
	CHECK(again_udp == -1 && errno == EADDRINUSE);

	int cu = socket(AF_INET, SOCK_DGRAM, 0), cl = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	char buf[32];
	CHECK(sendto(cl, "to-lite", 7, 0, (struct sockaddr *)&a, sizeof a) == 7);
	CHECK(sendto(cu, "to-udp", 6, 0, (struct sockaddr *)&a, sizeof a) == 6);
	CHECK(strcmp(got(udp, buf, sizeof buf), "to-udp") == 0);
	CHECK(strcmp(got(lite, buf, sizeof buf), "to-lite") == 0);

	/* closing one leaves the other's port bound */
	close(lite);
	CHECK(sendto(cu, "still", 5, 0, (struct sockaddr *)&a, sizeof a) == 5);
	CHECK(strcmp(got(udp, buf, sizeof buf), "still") == 0);
	close(udp), close(cu), close(cl);
	return CHECK_DONE();
}
