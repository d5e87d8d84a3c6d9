#define _GNU_SOURCE
/* tcp_close_reset: a TCP peer that closed its socket does not take more data (RFC
 * 1122, Linux's tcp_rcv_state_process): data that reaches a closed socket is answered
 * with a reset, so a sender that keeps writing after the peer's close gets EPIPE or
 * ECONNRESET within moments instead of filling the dead peer's window and waiting
 * forever (asyncio's test_sendfile_close_peer_in_the_middle_of_receiving hung so).
 * Also: close() with unread data resets at once (the peer's recv: ECONNRESET).
 * Over loopback, one thread, non-blocking sends bounded by poll.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static char buf[65536];

/* A connected pair over loopback: *c the client, returns the accepted end. */
static int pair(int l, struct sockaddr_in *a, int *c)
{
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (struct sockaddr *)a, sizeof *a) != 0)
		return -1;
	return accept(l, NULL, NULL);
}

/* Sends on c (non-blocking) until an error, at most 64 MiB or `ms` without progress;
 * returns the errno of the failed send (0: no error came). */
static int send_until_error(int c, int ms)
{
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	long total = 0;
	while (total < 64L << 20) {
		ssize_t n = send(c, buf, sizeof buf, MSG_NOSIGNAL);
		if (n > 0) {
			total += n;
			continue;
		}
		if (errno != EAGAIN)
			return errno;
		struct pollfd p = {.fd = c, .events = POLLOUT};
		if (poll(&p, 1, ms) != 1) {
			printf("     no progress for %d ms after %ld bytes\n", ms, total);
			return 0;
		}
	}
	printf("     sent %ld bytes without an error\n", total);
	return 0;
}

int main(void)
{
	alarm(60);
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0);
	getsockname(l, (struct sockaddr *)&a, &al);

	/* The peer reads what came, then closes with nothing unread: a FIN. */
	int c, s = pair(l, &a, &c);
	CHECK(s >= 0);
	CHECK(send(c, buf, 1024, 0) == 1024);
	struct pollfd p = {.fd = s, .events = POLLIN};
	CHECK(poll(&p, 1, 5000) == 1 && recv(s, buf, 1024, MSG_WAITALL) == 1024);
	CHECK(close(s) == 0);
	int e = send_until_error(c, 5000);
	CHECK(e == EPIPE || e == ECONNRESET);
	/* Once reset, the socket stays failed. */
	errno = 0;
	CHECK(send(c, buf, 16, MSG_NOSIGNAL) == -1 && (errno == EPIPE || errno == ECONNRESET));
	close(c);

	/* The peer closes with unread data: a reset at once. */
	s = pair(l, &a, &c);
	CHECK(s >= 0);
	CHECK(send(c, buf, 1024, 0) == 1024);
	p.fd = s;
	CHECK(poll(&p, 1, 5000) == 1);
	CHECK(close(s) == 0);
	p.fd = c;
	CHECK(poll(&p, 1, 5000) == 1);
	errno = 0;
	CHECK(recv(c, buf, sizeof buf, 0) == -1 && errno == ECONNRESET);
	close(c);
	close(l);
	return CHECK_DONE();
}
