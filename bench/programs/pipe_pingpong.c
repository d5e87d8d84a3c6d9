/* pipe_pingpong: two threads bounce one byte through two pipes, N round trips, and
 * print
 *     pipe_pingpong: n=N total_ns=T ns_per_roundtrip=X
 * Each round trip is two writes, two blocking reads and (on one vCPU) two context
 * switches.
 * Usage: pipe_pingpong [N]      (default 100000) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ping[2], pong[2];
static long rounds;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
xfer(int from, int to)
{
	char c;

	if (read(from, &c, 1) != 1 || write(to, &c, 1) != 1) {
		perror("pipe_pingpong: read/write");
		exit(1);
	}
}

static void *
partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++)
		xfer(ping[0], pong[1]);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t;
	long long t0, t1;
	char c = 'x';

	rounds = argc > 1 ? atol(argv[1]) : 100000;
	if (rounds <= 0) {
		fprintf(stderr, "pipe_pingpong: N must be positive\n");
		return 2;
	}
	if (pipe(ping) != 0 || pipe(pong) != 0) {
		perror("pipe_pingpong: pipe");
		return 1;
	}
	if (pthread_create(&t, NULL, partner, NULL) != 0) {
		perror("pipe_pingpong: pthread_create");
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < rounds; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) {
			perror("pipe_pingpong: read/write");
			return 1;
		}
	}
	t1 = now_ns();
	pthread_join(t, NULL);
	printf("pipe_pingpong: n=%ld total_ns=%lld ns_per_roundtrip=%.1f\n", rounds, t1 - t0,
	    (double)(t1 - t0) / rounds);
	return 0;
}
