/* preempt_test: one thread spins forever in a loop without syscalls; main sleeps 50 ms,
 * then must get the CPU back (the timer preempts the spinner), see that the spinner
 * ran, do some work of its own while the spinner keeps running, and end the whole
 * program by returning from main.  Without preemption this hangs (the harness's
 * timeout catches it).  Prints "ok: ..." per check and "ALL OK". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_fatal.h"

static volatile unsigned long spins;
static volatile int started;

static void *
spinner(void *arg)
{
	(void)arg;
	started = 1;
	for (;;)
		spins++;
	return NULL;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

int
main(void)
{
	struct timespec t0, d = { 0, 50 * 1000000L };
	pthread_t t;
	unsigned long s1, s2, work = 0;
	long ms;
	int e, i;

	e = pthread_create(&t, NULL, spinner, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	printf("ok: spinner created\n");
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(nanosleep(&d, NULL) == 0, "nanosleep");
	ms = ms_since(&t0);
	CHECK(ms >= 45, "slept only %ld ms", ms);
	CHECK(ms < 5000, "main got the CPU back only after %ld ms", ms);
	s1 = spins;
	CHECK(started && s1 > 0, "the spinner never ran while main slept");
	printf("ok: main woke up after %ld ms while the spinner spun\n", ms);
	fflush(stdout);

	/* Busy work in main: both threads must make progress. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; ms_since(&t0) < 100; i++)
		work += (unsigned long)i * i;
	s2 = spins;
	CHECK(s2 > s1, "the spinner made no progress while main worked "
	    "(%lu -> %lu)", s1, s2);
	printf("ok: both threads progress (work %lu)\n", work % 1000);
	printf("ALL OK\n");
	fflush(stdout);
	return 0;	/* exit_group ends the spinner too */
}
