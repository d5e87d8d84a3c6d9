#define _GNU_SOURCE
/* sndbuf_after_connect: SO_SNDBUF set on a TCP connection after connect() bounds what
 * the connection queues from then on, as Linux's sk_sndbuf does (asyncio's
 * test_sendfile_close_peer_in_the_middle_of_receiving shrinks the client's buffer to
 * 4 KiB after connecting and expects a 256 KiB sendfile to be cut by the peer's
 * close; with a connection's buffer fixed when it was made, the whole file fit).
 * Over loopback, a peer with a 4 KiB receive buffer reads nothing; the client, its
 * SO_SNDBUF set to 4096 after connect, writes without blocking until it is no longer
 * writable:
 *   - SO_SNDBUF reads back 8192 (twice what was set, as Linux reports it);
 *   - it wrote at most 64 KiB (Linux: about 8 KiB queued + what the peer's window
 *     took; a 512 KiB buffer took all 256 KiB), and at least 1 KiB;
 *   - the peer closes without reading: the client's next writes fail (EPIPE or
 *     ECONNRESET), not succeed.
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
#include <unistd.h>
#include "check.h"

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	CHECK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	int p = accept(l, NULL, NULL);
	CHECK(p >= 0);

	CHECK(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
	int v = -1;
	socklen_t vlen = sizeof v;
	CHECK(getsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, &vlen) == 0 && v == 8192);
	CHECK(fcntl(c, F_SETFL, O_NONBLOCK) == 0);
	static char chunk[1024];
	memset(chunk, 'x', sizeof chunk);
	long total = 0;
	for (;;) {
		ssize_t n = write(c, chunk, sizeof chunk);
		if (n > 0) {
			total += n;
			if (total > 1 << 20)
				break;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			break;
		/* Full: wait a little for the peer's window to take more. */
		struct pollfd pf = {.fd = c, .events = POLLOUT};
		if (poll(&pf, 1, 300) <= 0)
			break;
	}
	printf("wrote %ld bytes with SO_SNDBUF 4096 set after connect\n", total);
	CHECK(total >= 1024 && total <= 64 * 1024);

	close(p);
	int failed = 0;
	for (int i = 0; i < 100 && !failed; i++) {
		ssize_t n = write(c, chunk, sizeof chunk);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			failed = 1;
		else
			usleep(10000);
	}
	CHECK(failed);
	return CHECK_DONE();
}
