#define _GNU_SOURCE
/* tcp_slow_reader: a reader that lets the receive window fill, then reads it back
 * in pieces of every size, gets every byte in order and keeps its sender going
 * (a read that opens the window must get the window announced: the stack polls
 * after a read only when it may, see rumprun-net's tcp_recv). Over loopback TCP, a
 * writer thread sends 2 MiB of a counting pattern with blocking sends; the reader
 * pauses now and then (the window fills and the writer blocks) and reads 1, 7, 100,
 * 1000, 4096 and 60000 bytes in turn. Once with the default receive buffer and once
 * with SO_RCVBUF 4096 (a buffer of a few segments). Each transfer must end within
 * 10 s (a lost window update stalls the writer on zero-window probes).
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define TOTAL (2 << 20)

static int writer_fd;
static long written;

static unsigned char pattern(long i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static void *writer(void *arg)
{
	static unsigned char buf[8192];
	long off = 0;
	(void)arg;
	while (off < TOTAL) {
		int n = TOTAL - off < (long)sizeof buf ? (int)(TOTAL - off) : (int)sizeof buf;
		for (int i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		ssize_t k = send(writer_fd, buf, n, 0);
		if (k <= 0)
			break;
		off += k;
	}
	written = off;
	shutdown(writer_fd, SHUT_WR);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One transfer; rcvbuf 0: the default buffer. Returns the bytes read in order. */
static long transfer(int rcvbuf, double *secs)
{
	static unsigned char buf[60000];
	static const int sizes[] = {1, 7, 100, 1000, 4096, 60000};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s;
	pthread_t t;
	long got = 0;
	int k = 0, reads = 0;

	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (rcvbuf && setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf))
		return -1;
	if (connect(c, (struct sockaddr *)&a, sizeof a))
		return -1;
	s = accept(l, NULL, NULL);
	if (s < 0)
		return -1;
	writer_fd = s;
	double t0 = now_s();
	pthread_create(&t, NULL, writer, NULL);
	for (;;) {
		if (reads++ % 64 == 0)
			usleep(20000); /* the window fills, the writer blocks */
		ssize_t n = recv(c, buf, sizes[k++ % 6], 0);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(got + i))
				return -2;
		got += n;
		if (now_s() - t0 > 10)
			break;
	}
	*secs = now_s() - t0;
	pthread_join(t, NULL);
	close(c);
	close(s);
	close(l);
	return got;
}

int main(void)
{
	double secs = 0;
	long got = transfer(0, &secs);
	printf("default buffer: %ld bytes in %.2f s\n", got, secs);
	CHECK(got == TOTAL && written == TOTAL);
	CHECK(secs < 10);
	got = transfer(4096, &secs);
	printf("SO_RCVBUF 4096: %ld bytes in %.2f s\n", got, secs);
	CHECK(got == TOTAL && written == TOTAL);
	CHECK(secs < 10);
	return CHECK_DONE();
}
