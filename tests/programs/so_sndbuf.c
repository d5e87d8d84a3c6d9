#define _GNU_SOURCE
/* so_sndbuf: getsockopt(SO_SNDBUF) on a TCP socket tells how much it can hold (issue
 * 14). Linux reports twice the send buffer's byte budget (and twice what was set);
 * a program sizing its writes by it (or checking it) must not be told 131072 when
 * the connection holds four times that. Over loopback, a client writes without
 * blocking to a peer that reads nothing (its receive buffer made small) until it is
 * no longer writable; what it wrote is then what its send buffer and the peer's
 * receive buffer hold:
 *   - with no SO_SNDBUF set: written <= SO_SNDBUF + the peer's SO_RCVBUF, and at
 *     least a quarter of SO_SNDBUF (Linux's budget counts its own overhead);
 *   - with SO_SNDBUF 32768 set before connect: it reads back 65536, and the same holds.
 * Prints one "ok   ..." line per check and ALL OK. */
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

static int getint(int s, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	if (getsockopt(s, SOL_SOCKET, name, &v, &len) != 0)
		return -1;
	return v;
}

/* Writes to non-blocking `c` until it stays unwritable for 300 ms; returns the bytes
 * written. */
static long fill(int c)
{
	static char chunk[4096];
	long total = 0;
	memset(chunk, 'x', sizeof chunk);
	for (;;) {
		ssize_t n = write(c, chunk, sizeof chunk);
		if (n > 0) {
			total += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return -1;
		struct pollfd p = { .fd = c, .events = POLLOUT };
		if (poll(&p, 1, 300) == 0)
			return total;
	}
}

/* One connection over loopback to port `port`, the client's SO_SNDBUF set to `set`
 * before connecting (0: not set); checks what it holds against what it reports. */
static void one(int port, int set)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1, small = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* The smallest receive buffer, inherited by the accepted connection. */
	CHECK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (set)
		CHECK(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &set, sizeof set) == 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK(fcntl(c, F_SETFL, O_NONBLOCK) == 0);
	long written = fill(c);
	long sndbuf = getint(c, SO_SNDBUF), rcvbuf = getint(s, SO_RCVBUF);
	printf("SO_SNDBUF set %d: reported %ld, the peer's SO_RCVBUF %ld, written %ld\n", set,
	       sndbuf, rcvbuf, written);
	if (set)
		CHECK(sndbuf == 2L * set);
	CHECK(written > 0 && sndbuf > 0 && rcvbuf > 0);
	CHECK(written <= sndbuf + rcvbuf);
	CHECK(written >= sndbuf / 4);
	close(s);
	close(c);
	close(l);
}

int main(void)
{
	one(7411, 0);
	one(7412, 32768);
	return CHECK_DONE();
}
