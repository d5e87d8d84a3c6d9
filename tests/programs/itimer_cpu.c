/* itimer_cpu: ITIMER_VIRTUAL and ITIMER_PROF (issue 20: EINVAL before). A program
 * that spins gets SIGVTALRM / SIGPROF after the CPU time it was given, again every
 * interval; getitimer says what is left; a program that sleeps uses no CPU time, so
 * its timer does not fire. Prints "ok: ..." per check and "ALL OK". */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

static volatile sig_atomic_t fired;

static void
on_sig(int sig)
{
	(void)sig;
	fired++;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void
spin_until(int n, const char *what)
{
	double t0 = now();
	volatile unsigned long x = 0;

	while (fired < n) {
		x++;
		if ((x & 0xffff) == 0 && now() - t0 > 10)
			break;
	}
	CHECK(fired >= n, "%s fired %d times in 10 s of spinning, not %d", what,
	    (int)fired, n);
}

static void
check(int which, int sig, const char *what)
{
	struct itimerval it = { { 0, 20000 }, { 0, 50000 } }, cur, off = { { 0, 0 }, { 0, 0 } };
	struct timespec nap = { 0, 200 * 1000000L };

	fired = 0;
	CHECK(signal(sig, on_sig) != SIG_ERR, "signal");
	CHECK(setitimer(which, &it, NULL) == 0, "setitimer(%s): %s", what, strerror(errno));
	CHECK(getitimer(which, &cur) == 0, "getitimer: %s", strerror(errno));
	CHECK(cur.it_interval.tv_usec == 20000 && cur.it_value.tv_sec == 0 &&
	    cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 100000,
	    "getitimer(%s): value %ld us interval %ld us", what,
	    (long)cur.it_value.tv_usec, (long)cur.it_interval.tv_usec);
	spin_until(3, what);
	CHECK(setitimer(which, &off, &cur) == 0, "setitimer off: %s", strerror(errno));
	CHECK(cur.it_interval.tv_usec == 20000, "old interval %ld", (long)cur.it_interval.tv_usec);
	CHECK(getitimer(which, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	    cur.it_value.tv_usec == 0, "still armed after disarming");
	printf("ok: %s: fires after the CPU time given, then every interval; disarms\n", what);

	/* Sleeping uses no CPU time. */
	fired = 0;
	it.it_interval.tv_usec = 0;
	CHECK(setitimer(which, &it, NULL) == 0, "setitimer: %s", strerror(errno));
	nanosleep(&nap, NULL);
	CHECK(fired == 0, "%s fired while the program slept", what);
	CHECK(getitimer(which, &cur) == 0 && cur.it_value.tv_usec > 30000,
	    "%s: %ld us left after sleeping 200 ms", what, (long)cur.it_value.tv_usec);
	spin_until(1, what);
	printf("ok: %s: sleeping does not count\n", what);
	fflush(stdout);
}

int
main(void)
{
	check(ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL");
	check(ITIMER_PROF, SIGPROF, "ITIMER_PROF");
	printf("ALL OK\n");
	return 0;
}
