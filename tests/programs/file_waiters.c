/* file_waiters: a thread waiting only for files no network event can change (an
 * eventfd in epoll_wait, a pipe in poll, a pipe in select) must sleep through
 * socket traffic and still wake for its own file. 300 loopback TCP round trips run
 * while the three threads wait; then each file is written, and each thread counts
 * how often it blocked (getrusage RUSAGE_THREAD's voluntary context switches).
 * With one wait queue for every file, every socket event woke them all to look and
 * sleep again: hundreds of sleeps each (memcached's idle worker threads, each in
 * epoll on its eventfd, woke for every frame). Prints "ok: ..." and "ALL OK", or
 * "FAIL: ..." and exits 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROUNDS 300
/* Sleeps allowed per waiter: a few for the start and the wake-up. */
#define LIMIT 20

static void fail(const char *what)
{
	printf("FAIL: %s\n", what);
	exit(1);
}

static long sleeps(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		fail("getrusage");
	return ru.ru_nvcsw;
}

static int efd, pfd[2], sfd[2];
static long slept[3];
static pthread_barrier_t started;

static void *epoll_waiter(void *p)
{
	(void)p;
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, out;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0)
		fail("epoll setup");
	pthread_barrier_wait(&started);
	long before = sleeps();
	if (epoll_wait(ep, &out, 1, 20000) != 1)
		fail("epoll_wait on the eventfd did not return it");
	slept[0] = sleeps() - before;
	return NULL;
}

static void *poll_waiter(void *p)
{
	(void)p;
	struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
	pthread_barrier_wait(&started);
	long before = sleeps();
	if (poll(&pf, 1, 20000) != 1)
		fail("poll on the pipe did not return it");
	slept[1] = sleeps() - before;
	return NULL;
}

static void *select_waiter(void *p)
{
	(void)p;
	fd_set r;
	struct timeval tv = { .tv_sec = 20 };
	pthread_barrier_wait(&started);
	long before = sleeps();
	FD_ZERO(&r);
	FD_SET(sfd[0], &r);
	if (select(sfd[0] + 1, &r, NULL, NULL, &tv) != 1)
		fail("select on the pipe did not return it");
	slept[2] = sleeps() - before;
	return NULL;
}

/* The other end of the round trips, in its own thread: the main thread blocks in
 * each recv, so the waiters get the CPU whenever something wakes them. */
static void *echo(void *p)
{
	int fd = *(int *)p;
	for (char c;;) {
		if (read(fd, &c, 1) != 1)
			return NULL;
		if (write(fd, &c, 1) != 1)
			fail("echo write");
	}
}

int main(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof addr;
	int one = 1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(listener, 4) != 0 ||
	    getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
		fail("listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof addr) != 0)
		fail("connect");
	int s = accept(listener, NULL, NULL);
	if (s < 0)
		fail("accept");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	pthread_t echoer, w[3];
	if (pthread_create(&echoer, NULL, echo, &s) != 0)
		fail("pthread_create");

	efd = eventfd(0, 0);
	if (efd < 0 || pipe(pfd) != 0 || pipe(sfd) != 0)
		fail("eventfd/pipe");
	pthread_barrier_init(&started, NULL, 4);
	if (pthread_create(&w[0], NULL, epoll_waiter, NULL) != 0 ||
	    pthread_create(&w[1], NULL, poll_waiter, NULL) != 0 ||
	    pthread_create(&w[2], NULL, select_waiter, NULL) != 0)
		fail("pthread_create");
	pthread_barrier_wait(&started);
	usleep(50000); /* let them reach their waits */

	for (int i = 0; i < ROUNDS; i++) {
		char b = (char)i, back;
		if (send(c, &b, 1, 0) != 1 || recv(c, &back, 1, 0) != 1 || back != b)
			fail("ping-pong");
	}
	uint64_t one64 = 1;
	if (write(efd, &one64, 8) != 8 || write(pfd[1], "x", 1) != 1 ||
	    write(sfd[1], "x", 1) != 1)
		fail("writing the waited-for files");
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	printf("sleeps during %d loopback round trips: epoll on an eventfd %ld, poll on a pipe "
	       "%ld, select on a pipe %ld\n",
	       ROUNDS, slept[0], slept[1], slept[2]);
	if (slept[0] > LIMIT || slept[1] > LIMIT || slept[2] > LIMIT)
		fail("a waiter on a file that is not a socket woke for socket events");
	printf("ok: waiters on an eventfd or a pipe alone sleep through socket traffic and "
	       "wake for their file\n");
	close(c);
	pthread_join(echoer, NULL);
	printf("ALL OK\n");
	return 0;
}
