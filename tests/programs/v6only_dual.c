#define _GNU_SOURCE
/* v6only_dual: IPV6_V6ONLY as redis's default config and nginx's Debian default site
 * use it (issue 14 item 2): a TCP listener on 0.0.0.0:P and one on [::]:P with
 * IPV6_V6ONLY both bind, and each accepts the connections of its own family; without
 * V6ONLY the second bind is EADDRINUSE; an IPv4 connection to a port where only a
 * V6ONLY listener waits is refused (RST), not left hanging.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

static int listener4(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) {
		close(s);
		return -1;
	}
	return s;
}

static int listener6(int port, int v6only)
{
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
		close(s);
		return -1;
	}
	if (listen(s, 8) != 0) {
		close(s);
		return -2;
	}
	return s;
}

static int connect4(int port)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
		int e = errno;
		close(c);
		errno = e;
		return -1;
	}
	return c;
}

static int connect6(int port)
{
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	a.sin6_addr = in6addr_loopback;
	if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
		close(c);
		return -1;
	}
	return c;
}

/* Accepts one connection on l and says which family its peer has. */
static int accepted_family(int l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int s = accept(l, (struct sockaddr *)&ss, &len);
	if (s < 0)
		return -1;
	close(s);
	return ss.ss_family;
}

int main(void)
{
	alarm(60);
	int l4 = listener4(6379);
	CHECK(l4 >= 0);
	errno = 0;
	CHECK(listener6(6379, 0) == -1 && errno == EADDRINUSE);
	int l6 = listener6(6379, 1);
	CHECK(l6 >= 0);
	for (int i = 0; i < 3; i++) {
		int c4 = connect4(6379), c6 = connect6(6379);
		CHECK(c4 >= 0 && c6 >= 0);
		CHECK(accepted_family(l4) == AF_INET);
		CHECK(accepted_family(l6) == AF_INET6);
		close(c4);
		close(c6);
	}

	/* [::]:P without V6ONLY first: 0.0.0.0:P clashes. */
	int both = listener6(6380, 0);
	CHECK(both >= 0);
	errno = 0;
	CHECK(listener4(6380) == -1 && errno == EADDRINUSE);
	int c = connect4(6380);
	CHECK(c >= 0);
	struct sockaddr_in6 peer;
	socklen_t plen = sizeof peer;
	int s = accept(both, (struct sockaddr *)&peer, &plen);
	CHECK(s >= 0 && peer.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
	close(s);
	close(c);

	/* Only a V6ONLY listener: IPv4 is refused at once. */
	int only6 = listener6(6381, 1);
	CHECK(only6 >= 0);
	errno = 0;
	CHECK(connect4(6381) == -1 && errno == ECONNREFUSED);
	c = connect6(6381);
	CHECK(c >= 0 && accepted_family(only6) == AF_INET6);
	return CHECK_DONE();
}
