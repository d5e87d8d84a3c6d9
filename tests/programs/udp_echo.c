/* udp_echo: UDP through QEMU user networking (or a tap device), both ways.
 *   udp_echo to-host PORT SIZE...  sends one datagram of each SIZE (a known pattern)
 *                                  to the host (10.0.2.2:PORT) and checks the echo,
 *                                  resending after 2 s without an answer (UDP may
 *                                  drop; resends are counted and printed), after
 *                                  checking that SO_RCVTIMEO ends a recv;
 *   udp_echo to ADDR PORT SIZE...  the same with the host at ADDR;
 *   udp_echo serve PORT            echoes every datagram back to its sender until
 *                                  one says "quit", then prints how many it echoed.
 * Sizes above the MTU (1472 bytes of payload) travel as IP fragments. */
#include "check_fatal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_DGRAM 65507

static unsigned char out[MAX_DGRAM], in[MAX_DGRAM];

static int to_host(const char *addr, int port, int nsizes, char **sizes)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0, "socket: %s", strerror(errno));
	struct timeval tv = {.tv_sec = 2};
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
	struct sockaddr_in host = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	CHECK(inet_pton(AF_INET, addr, &host.sin_addr) == 1, "bad address %s", addr);
	/* Nothing was sent yet: the receive timeout must end the wait with EAGAIN. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t none = recv(s, in, sizeof in, 0);
	int err = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(none < 0 && err == EAGAIN, "recv with nothing to read: %zd (%s)", none, strerror(err));
	CHECK(waited >= 1.9 && waited < 10, "SO_RCVTIMEO of 2 s waited %.2f s", waited);
	ok("SO_RCVTIMEO: recv gave EAGAIN after 2 s");
	/* It bounds a plain read() too (socket(7)); connect() sets the peer for read. */
	CHECK(connect(s, (struct sockaddr *)&host, sizeof host) == 0, "connect: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	none = read(s, in, sizeof in);
	err = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(none < 0 && err == EAGAIN, "read with nothing to read: %zd (%s)", none, strerror(err));
	CHECK(waited >= 1.9 && waited < 10, "SO_RCVTIMEO of 2 s bounded read() by %.2f s", waited);
	ok("SO_RCVTIMEO: read gave EAGAIN after 2 s");
	int resends = 0;
	for (int i = 0; i < nsizes; i++) {
		size_t len = (size_t)atoi(sizes[i]);
		CHECK(len > 0 && len <= MAX_DGRAM, "bad size %s", sizes[i]);
		for (size_t k = 0; k < len; k++)
			out[k] = (unsigned char)(k * 7 + i);
		for (int attempt = 0;; attempt++) {
			CHECK(attempt < 10, "no echo of %zu bytes after 10 tries", len);
			ssize_t w = sendto(s, out, len, 0, (struct sockaddr *)&host, sizeof host);
			CHECK(w == (ssize_t)len, "sendto %zu bytes: %zd (%s)", len, w, strerror(errno));
			struct sockaddr_in from;
			socklen_t flen;
			ssize_t r;
			do { /* skip late echoes of earlier, resent sizes */
				flen = sizeof from;
				r = recvfrom(s, in, sizeof in, 0, (struct sockaddr *)&from, &flen);
			} while (r >= 0 && r != (ssize_t)len);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				resends++;
				continue;
			}
			CHECK(r == (ssize_t)len, "echo of %zu bytes came back with %zd (%s)", len, r,
			      strerror(errno));
			CHECK(memcmp(in, out, len) == 0, "echo of %zu bytes differs", len);
			CHECK(from.sin_addr.s_addr == host.sin_addr.s_addr && from.sin_port == host.sin_port,
			      "echo from %s:%d", inet_ntoa(from.sin_addr), ntohs(from.sin_port));
			break;
		}
		printf("ok: the host echoed %zu bytes\n", len);
	}
	printf("resends: %d\n", resends);
	return 0;
}

static int serve(int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0, "bind: %s", strerror(errno));
	printf("echoing on UDP port %d\n", port);
	fflush(stdout);
	int echoed = 0;
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof from;
		ssize_t r = recvfrom(s, in, sizeof in, 0, (struct sockaddr *)&from, &flen);
		CHECK(r >= 0, "recvfrom: %s", strerror(errno));
		if (r == 4 && memcmp(in, "quit", 4) == 0)
			break;
		ssize_t w = sendto(s, in, (size_t)r, 0, (struct sockaddr *)&from, flen);
		CHECK(w == r, "sendto %zd bytes: %zd (%s)", r, w, strerror(errno));
		printf("echoed %zd bytes\n", r);
		echoed++;
	}
	printf("echoed %d datagrams\n", echoed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "to-host") == 0)
		return to_host("10.0.2.2", atoi(argv[2]), argc - 3, argv + 3);
	if (argc >= 5 && strcmp(argv[1], "to") == 0)
		return to_host(argv[2], atoi(argv[3]), argc - 4, argv + 4);
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	fprintf(stderr, "usage: udp_echo to-host PORT SIZE... | to ADDR PORT SIZE... | serve PORT\n");
	return 2;
}
