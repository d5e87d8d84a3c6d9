#define _GNU_SOURCE
/* connect_unlistened: a non-blocking TCP connect to a port of this host that is bound
 * but not listening is refused at once (Linux's loopback answers the SYN before
 * connect() returns): a listen() right after it does not turn it into a connection
 * (asyncio's test_sock_client_connect_racing); the same socket then connects once the
 * port listens. IPv4 and IPv6 loopback. Prints "ok ..." lines and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

static void one(int fam)
{
	struct sockaddr_storage ss;
	socklen_t len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	memset(&ss, 0, sizeof ss);
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
	}
	int l = socket(fam, SOCK_STREAM, 0);
	CHECK(l >= 0 && bind(l, (struct sockaddr *)&ss, len) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&ss, &len) == 0);
	int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (struct sockaddr *)&ss, len);
	int e = errno;
	CHECK(r == -1 && (e == ECONNREFUSED || e == EINPROGRESS));
	CHECK(listen(l, 4) == 0);
	if (r == -1 && e == EINPROGRESS) {
		int err = 0;
		socklen_t el = sizeof err;
		CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED);
	}
	/* Nothing reached the listener. */
	usleep(50 * 1000);
	CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
	errno = 0;
	CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);
	/* The same socket connects now (Linux first reports the failed attempt). */
	int tries = 0;
	for (;;) {
		r = connect(c, (struct sockaddr *)&ss, len);
		e = errno;
		if (r == 0 || e == EINPROGRESS || ++tries > 2 ||
		    (e != ECONNREFUSED && e != ECONNABORTED))
			break;
	}
	CHECK(r == 0 || e == EINPROGRESS);
	struct pollfd p = {c, POLLOUT, 0};
	CHECK(poll(&p, 1, 5000) == 1);
	int err = -1;
	socklen_t el = sizeof err;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0);
	struct pollfd pl = {l, POLLIN, 0};
	CHECK(poll(&pl, 1, 5000) == 1);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK(write(c, "hi", 2) == 2);
	char buf[4] = {0};
	struct pollfd ps = {s, POLLIN, 0};
	CHECK(poll(&ps, 1, 5000) == 1 && read(s, buf, sizeof buf) == 2 && memcmp(buf, "hi", 2) == 0);
	close(s);
	close(c);
	close(l);
}

int main(void)
{
	one(AF_INET);
	one(AF_INET6);
	return CHECK_DONE();
}
