#define _GNU_SOURCE
/* udp_v6only: UDP datagrams go to the socket of their family, as on Linux:
 *   - a V6ONLY socket on [::]:P alone gets no IPv4 datagram sent to port P, and an
 *     AF_INET socket on 0.0.0.0:Q alone no IPv6 datagram sent to port Q;
 *   - with an AF_INET socket on 0.0.0.0:P and a V6ONLY one on [::]:P (DNS servers
 *     and redis bind both), each gets the datagrams of its family, whichever was
 *     bound first;
 *   - a dual-stack [::]:R socket gets IPv4 datagrams as ::ffff:127.0.0.1.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

static int udp4(int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	return s;
}

static int udp6(int port, int v6only)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	return s;
}

static void send4(int port, const char *msg)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a);
	close(s);
}

static void send6(int port, const char *msg)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port),
				 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a);
	close(s);
}

/* The next datagram on s within 300 ms as a string ("" when none came). */
static const char *next(int s)
{
	static char buf[64];
	struct pollfd p = {.fd = s, .events = POLLIN};
	buf[0] = 0;
	if (poll(&p, 1, 300) == 1) {
		ssize_t n = recv(s, buf, sizeof buf - 1, MSG_DONTWAIT);
		buf[n > 0 ? n : 0] = 0;
	}
	return buf;
}

static void both(int port, int v4_first)
{
	int s4 = -1, s6 = -1;
	if (v4_first) {
		s4 = udp4(port);
		s6 = udp6(port, 1);
	} else {
		s6 = udp6(port, 1);
		s4 = udp4(port);
	}
	CHECK(s4 >= 0 && s6 >= 0);
	send6(port, "six");
	send4(port, "four");
	send6(port, "six again");
	CHECK(strcmp(next(s6), "six") == 0);
	CHECK(strcmp(next(s6), "six again") == 0);
	CHECK(strcmp(next(s4), "four") == 0);
	CHECK(strcmp(next(s4), "") == 0 && strcmp(next(s6), "") == 0);
	close(s4), close(s6);
}

int main(void)
{
	int s6 = udp6(17001, 1);
	CHECK(s6 >= 0);
	send4(17001, "four");
	CHECK(strcmp(next(s6), "") == 0);
	send6(17001, "six");
	CHECK(strcmp(next(s6), "six") == 0);
	close(s6);

	int s4 = udp4(17002);
	CHECK(s4 >= 0);
	send6(17002, "six");
	CHECK(strcmp(next(s4), "") == 0);
	send4(17002, "four");
	CHECK(strcmp(next(s4), "four") == 0);
	close(s4);

	both(17003, 1);
	both(17004, 0);

	int dual = udp6(17005, 0);
	struct sockaddr_in6 from;
	socklen_t flen = sizeof from;
	char buf[16];
	send4(17005, "four");
	CHECK(recvfrom(dual, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4 &&
	      IN6_IS_ADDR_V4MAPPED(&from.sin6_addr));
	close(dual);
	return CHECK_DONE();
}
