/* socket_waiters: threads blocked on idle TCP connections must not slow down the
 * connections that have traffic. A loopback TCP ping-pong (1-byte send, recv of the
 * echo) is timed while 25 other threads with idle connections wait on a condition
 * variable, and again while they are blocked in recv() on those connections. With one wait queue woken for every socket event, each round trip
 * also woke the 25 idle threads, and each polled the stack and went back to sleep:
 * the round trip took 12-21 times longer (Linux: 1.4x). The two phases alternate 3
 * times and each keeps its best timing, so load on the machine moves both alike. Prints "ok: ..." and "ALL OK", or
 * "FAIL: ..." and exits 1. (CPython's test_asyncio ssl-over-ssl test, 25 client threads
 * in blocking send, timed out at 300 s where it takes 30 s.) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IDLE 25
#define ROUNDS 300
#define LIMIT 4.0

static int listener;
static struct sockaddr_in addr;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	printf("FAIL: %s\n", what);
	exit(1);
}

/* A connected pair over loopback: fd[0] the client, fd[1] the accepted end. */
static void pair(int fd[2])
{
	int one = 1;
	fd[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fd[0] < 0 || connect(fd[0], (struct sockaddr *)&addr, sizeof addr) != 0)
		fail("connect");
	fd[1] = accept(listener, NULL, NULL);
	if (fd[1] < 0)
		fail("accept");
	setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The idle threads: parked on a condition variable (not on a socket) while `in_recv`
 * is 0; blocked in recv() on their idle connection while it is 1, until a byte comes:
 * 'z' parks them again, 'q' ends them. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int in_recv, parked;

static void *idle(void *p)
{
	int fd = *(int *)p;
	for (;;) {
		char c;
		pthread_mutex_lock(&mu);
		parked++;
		pthread_cond_broadcast(&cv);
		while (!in_recv)
			pthread_cond_wait(&cv, &mu);
		parked--;
		pthread_mutex_unlock(&mu);
		if (recv(fd, &c, 1, 0) != 1 || (c != 'z' && c != 'q'))
			fail("an idle thread's recv");
		if (c == 'q')
			return NULL;
	}
}

/* Sets where the idle threads wait; back to parked means waking each with byte `b`
 * (none when 0: they are not in recv yet) and waiting until all are parked again. */
static void idle_phase(int recv_phase, int (*fds)[2], char b)
{
	pthread_mutex_lock(&mu);
	in_recv = recv_phase;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (recv_phase) {
		usleep(50000); /* let them all reach recv() */
		return;
	}
	for (int i = 0; b && i < IDLE; i++)
		if (send(fds[i][0], &b, 1, 0) != 1)
			fail("waking an idle thread");
	pthread_mutex_lock(&mu);
	while (parked < IDLE && b != 'q')
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *echo(void *p)
{
	int fd = *(int *)p;
	char c;
	while (recv(fd, &c, 1, 0) == 1)
		if (send(fd, &c, 1, 0) != 1)
			fail("echo send");
	return NULL;
}

/* Microseconds per round trip over `fd` (echoed): ROUNDS round trips. */
static double pingpong(int fd)
{
	double t0 = now();
	for (int i = 0; i < ROUNDS; i++) {
		char c = (char)i, back;
		if (send(fd, &c, 1, 0) != 1 || recv(fd, &back, 1, 0) != 1 || back != c)
			fail("ping-pong");
	}
	return (now() - t0) / ROUNDS * 1e6;
}

int main(void)
{
	static int fds[IDLE][2];
	pthread_t ts[IDLE];
	socklen_t len = sizeof addr;

	listener = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(listener, 64) != 0 ||
	    getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
		fail("listen");

	int busy[2];
	pthread_t echoer;
	pair(busy);
	if (pthread_create(&echoer, NULL, echo, &busy[1]) != 0)
		fail("pthread_create");
	for (int i = 0; i < IDLE; i++) {
		pair(fds[i]);
		if (pthread_create(&ts[i], NULL, idle, &fds[i][1]) != 0)
			fail("pthread_create");
	}
	idle_phase(0, fds, 0); /* wait until all are parked */
	/* The same sockets either way; only where the idle threads wait differs. The
	 * phases alternate, and each side keeps its best timing. */
	double alone = 1e30, loaded = 1e30;
	for (int k = 0; k < 3; k++) {
		double us = pingpong(busy[0]);
		alone = us < alone ? us : alone;
		idle_phase(1, fds, 0);
		us = pingpong(busy[0]);
		loaded = us < loaded ? us : loaded;
		idle_phase(0, fds, 'z');
	}
	printf("round trip: %.1f us with %d idle threads parked, %.1f us with them blocked in "
	       "recv (%.2fx)\n",
	       alone, IDLE, loaded, loaded / alone);
	if (loaded / alone > LIMIT)
		fail("threads blocked on idle sockets slow down a busy one more than 4x");
	printf("ok: %d threads blocked on idle sockets cost a busy socket less than %.0fx\n", IDLE,
	       LIMIT);
	idle_phase(1, fds, 0);
	idle_phase(0, fds, 'q');
	for (int i = 0; i < IDLE; i++)
		pthread_join(ts[i], NULL);
	printf("ok: every idle thread woke for its own byte\n");
	close(busy[0]);
	pthread_join(echoer, NULL);
	printf("ALL OK\n");
	return 0;
}
