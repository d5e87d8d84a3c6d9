/* futex_pingpong: two threads hand a token back and forth through one futex word
 * (FUTEX_WAIT/FUTEX_WAKE, private), N round trips, and print
 *     futex_pingpong: n=N total_ns=T ns_per_roundtrip=X
 * Each round trip is two wake-ups and, on one vCPU, at least two context switches.
 * Usage: futex_pingpong [N]     (default 100000) */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic int turn; /* 0: main's turn, 1: the partner's */
static long rounds;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
futex_wait(_Atomic int *w, int v)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void
futex_wake(_Atomic int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* wait until turn == me, then give the turn to the other side */
static void
pass(int me)
{
	while (atomic_load(&turn) != me)
		futex_wait(&turn, !me);
	atomic_store(&turn, !me);
	futex_wake(&turn);
}

static void *
partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++)
		pass(1);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t;
	long long t0, t1;

	rounds = argc > 1 ? atol(argv[1]) : 100000;
	if (rounds <= 0) {
		fprintf(stderr, "futex_pingpong: N must be positive\n");
		return 2;
	}
	if (pthread_create(&t, NULL, partner, NULL) != 0) {
		perror("futex_pingpong: pthread_create");
		return 1;
	}
	t0 = now_ns();
	/* main starts (turn == 0); a round trip is main -> partner -> main */
	for (long i = 0; i < rounds; i++)
		pass(0);
	while (atomic_load(&turn) != 0)
		futex_wait(&turn, 1);
	t1 = now_ns();
	pthread_join(t, NULL);
	printf("futex_pingpong: n=%ld total_ns=%lld ns_per_roundtrip=%.1f\n", rounds, t1 - t0,
	    (double)(t1 - t0) / rounds);
	return 0;
}
