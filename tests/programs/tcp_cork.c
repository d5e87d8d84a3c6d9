#define _GNU_SOURCE
/* tcp_cork: TCP_CORK as nginx's default `tcp_nopush on` uses it (issue 14 item 5):
 * the option is accepted and read back; while corked a partial segment is held back
 * (the peer sees nothing), uncorking sends it at once; a held partial segment goes out
 * by itself after about 200 ms, as on Linux; corked headers plus a sendfile body
 * arrive whole; setting TCP_NODELAY while corked pushes what is held.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Whether s has something to read within ms milliseconds. */
static int readable(int s, int ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

static int set_int(int s, int opt, int v)
{
	return setsockopt(s, IPPROTO_TCP, opt, &v, sizeof v);
}

int main(void)
{
	alarm(60);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0);
	getsockname(l, (struct sockaddr *)&a, &al);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	char buf[8192];

	CHECK(set_int(c, TCP_CORK, 1) == 0);
	int v = 0;
	socklen_t vl = sizeof v;
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_CORK, &v, &vl) == 0 && v == 1);
	CHECK(write(c, "HTTP/1.1 200 OK\r\n", 17) == 17);
	CHECK(!readable(s, 80)); /* held back */
	CHECK(set_int(c, TCP_CORK, 0) == 0);
	CHECK(readable(s, 1000) && read(s, buf, sizeof buf) == 17);

	/* Held alone, it goes out after about 200 ms. */
	CHECK(set_int(c, TCP_CORK, 1) == 0);
	double t0 = now_ms();
	CHECK(write(c, "tail", 4) == 4);
	CHECK(readable(s, 3000));
	double waited = now_ms() - t0;
	printf("a corked partial segment left after %.0f ms\n", waited);
	CHECK(waited >= 150 && waited < 2000);
	CHECK(read(s, buf, sizeof buf) == 4);

	/* nginx: corked headers, the body by sendfile, uncork, close: all arrives. */
	int fd = open("/tmp/cork-body", O_CREAT | O_RDWR | O_TRUNC, 0644);
	static char body[100000], got[100005 + 16];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (char)(i * 7 + i / 251);
	CHECK(write(fd, body, sizeof body) == sizeof body);
	CHECK(write(c, "HDR\r\n", 5) == 5);
	fcntl(c, F_SETFL, O_NONBLOCK);
	off_t off = 0;
	size_t sent = 0, have = 0;
	while (sent < sizeof body) {
		ssize_t n = sendfile(c, fd, &off, sizeof body - sent);
		if (n > 0)
			sent += n;
		else if (n < 0 && errno != EAGAIN)
			break;
		while (readable(s, n > 0 ? 0 : 10)) {
			ssize_t r = read(s, got + have, sizeof got - have);
			if (r <= 0)
				break;
			have += r;
		}
	}
	CHECK(sent == sizeof body);
	CHECK(set_int(c, TCP_CORK, 0) == 0);
	close(c);
	for (;;) {
		ssize_t r = read(s, got + have, sizeof got - have);
		if (r <= 0)
			break;
		have += r;
	}
	CHECK(have == 5 + sizeof body);
	CHECK(memcmp(got, "HDR\r\n", 5) == 0 && memcmp(got + 5, body, sizeof body) == 0);
	close(s);
	close(fd);

	/* TCP_NODELAY while corked pushes what is held. */
	int c2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c2, (struct sockaddr *)&a, sizeof a) == 0);
	int s2 = accept(l, NULL, NULL);
	CHECK(set_int(c2, TCP_CORK, 1) == 0 && write(c2, "x", 1) == 1);
	CHECK(!readable(s2, 50));
	CHECK(set_int(c2, TCP_NODELAY, 1) == 0);
	CHECK(readable(s2, 100) && read(s2, buf, 1) == 1 && buf[0] == 'x');
	return CHECK_DONE();
}
