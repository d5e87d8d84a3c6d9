/* big_write: one blocking write() of 4 MiB to a pipe, an AF_UNIX stream socket or a
 * TCP socket over loopback returns only when all 4 MiB are written (POSIX, Linux), a
 * reader thread checks every byte; send() on the sockets does the same. A signal that
 * interrupts a blocked write after some bytes went gives the partial count; a
 * non-blocking write gives what fits, then EAGAIN. (Issue 20: the write returned
 * 65536 at once.) Prints "ok: ..." per check and "ALL OK". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

#define BIG (4 * 1024 * 1024)

static unsigned char *big;

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

struct reader {
	int fd;
	size_t got;
	size_t bad_at;	/* first wrong byte + 1, or 0 */
};

/* Reads until end of file, checking every byte against the pattern. */
static void *
reader(void *arg)
{
	struct reader *r = arg;
	static unsigned char buf[50000];	/* an odd size: reads do not line up */
	ssize_t n, i;

	for (;;) {
		n = read(r->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			if (!r->bad_at && buf[i] != pattern(r->got + i))
				r->bad_at = r->got + i + 1;
		r->got += n;
	}
	return NULL;
}

/* One call of write() (or send()) of BIG bytes on wfd while a thread reads rfd. */
static void
one_big_write(const char *what, int wfd, int rfd, int use_send)
{
	struct reader r = { rfd, 0, 0 };
	pthread_t t;
	ssize_t n;
	int e;

	e = pthread_create(&t, NULL, reader, &r);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	if (use_send)
		n = send(wfd, big, BIG, 0);
	else
		n = write(wfd, big, BIG);
	CHECK(n == BIG, "%s: one blocking %s of %d bytes returned %zd (%s)", what,
	    use_send ? "send" : "write", BIG, n, n < 0 ? strerror(errno) : "short");
	CHECK(close(wfd) == 0, "close: %s", strerror(errno));
	e = pthread_join(t, NULL);
	CHECK(e == 0, "pthread_join: %s", strerror(e));
	CHECK(r.got == BIG, "%s: the reader got %zu bytes, not %d", what, r.got, BIG);
	CHECK(r.bad_at == 0, "%s: byte %zu differs", what, r.bad_at - 1);
	close(rfd);
	printf("ok: %s: one blocking %s of 4 MiB writes it all, every byte arrives\n",
	    what, use_send ? "send" : "write");
	fflush(stdout);
}

static void
tcp_pair(int *wfd, int *rfd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0, "socket: %s", strerror(errno));
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0, "bind: %s", strerror(errno));
	CHECK(listen(l, 1) == 0, "listen: %s", strerror(errno));
	CHECK(getsockname(l, (struct sockaddr *)&a, &alen) == 0, "getsockname");
	*wfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(*wfd >= 0, "socket: %s", strerror(errno));
	CHECK(connect(*wfd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
	    strerror(errno));
	*rfd = accept(l, NULL, NULL);
	CHECK(*rfd >= 0, "accept: %s", strerror(errno));
	close(l);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

int
main(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 100 * 1000 } };
	int p[2], s[2], w, r;
	size_t i;
	ssize_t n;

	big = malloc(BIG);
	CHECK(big != NULL, "malloc");
	for (i = 0; i < BIG; i++)
		big[i] = pattern(i);

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	one_big_write("pipe", p[1], p[0], 0);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair: %s",
	    strerror(errno));
	one_big_write("AF_UNIX stream", s[0], s[1], 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair: %s",
	    strerror(errno));
	one_big_write("AF_UNIX stream", s[0], s[1], 1);

	tcp_pair(&w, &r);
	one_big_write("TCP over loopback", w, r, 0);
	tcp_pair(&w, &r);
	one_big_write("TCP over loopback", w, r, 1);

	/* A signal interrupts a write blocked on a full pipe: the partial count. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer: %s", strerror(errno));
	n = write(p[1], big, BIG);
	CHECK(n > 0 && n < BIG, "a write interrupted by a signal after some bytes "
	    "returned %zd (%s)", n, n < 0 ? strerror(errno) : "all");
	printf("ok: a signal interrupts a blocked pipe write: the partial count\n");
	fflush(stdout);
	close(p[0]);
	close(p[1]);

	/* Non-blocking: what fits, then EAGAIN. */
	CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2: %s", strerror(errno));
	n = write(p[1], big, BIG);
	CHECK(n > 0 && n < BIG, "a non-blocking write to an empty pipe returned %zd", n);
	n = write(p[1], big, BIG);
	CHECK(n == -1 && errno == EAGAIN, "a non-blocking write to a full pipe "
	    "returned %zd (%s), not EAGAIN", n, strerror(errno));
	printf("ok: a non-blocking pipe write gives what fits, then EAGAIN\n");
	printf("ALL OK\n");
	return 0;
}
