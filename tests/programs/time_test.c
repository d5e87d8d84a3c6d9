/* time_test: clocks and sleeping.  CLOCK_REALTIME is a real date (after 2024-01-01);
 * CLOCK_MONOTONIC never goes back; nanosleep and clock_nanosleep (relative and
 * TIMER_ABSTIME) sleep at least as long as asked and not absurdly longer;
 * clock_getres, gettimeofday and time agree with CLOCK_REALTIME; bad clock ids and
 * bad timespecs give EINVAL.  `time_test cputime` checks that the CPU-time clocks do
 * not advance while the program sleeps; `time_test cputime-sleep` that the
 * clock_nanosleep syscall refuses CLOCK_THREAD_CPUTIME_ID with EOPNOTSUPP (what the
 * syscall gives on Linux; glibc's wrapper turns it into EINVAL).  One "ok: ..." line per check, then "ALL OK"; a failed
 * check prints "FAIL: ..." and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

#define NS 1000000000LL
#define JAN_1_2024 1704067200LL

static long long
ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * NS + t->tv_nsec;
}

static long long
now_ns(clockid_t c)
{
	struct timespec t;

	CHECK(clock_gettime(c, &t) == 0, "clock_gettime(%d): %s", (int)c,
	    strerror(errno));
	CHECK(t.tv_nsec >= 0 && t.tv_nsec < NS, "clock %d: tv_nsec %ld",
	    (int)c, t.tv_nsec);
	return ts_ns(&t);
}

static int
cputime(void)
{
	struct timespec ts = { 0, 100 * 1000000L };
	long long p0, t0, m0, dp, dt, dm;

	p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	m0 = now_ns(CLOCK_MONOTONIC);
	CHECK(nanosleep(&ts, NULL) == 0, "nanosleep: %s", strerror(errno));
	dp = now_ns(CLOCK_PROCESS_CPUTIME_ID) - p0;
	dt = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	dm = now_ns(CLOCK_MONOTONIC) - m0;
	printf("over a 100 ms sleep: process CPU %lld us, thread CPU %lld us, "
	    "monotonic %lld us\n", dp / 1000, dt / 1000, dm / 1000);
	CHECK(dm >= 100 * 1000000LL, "slept only %lld us", dm / 1000);
	CHECK(dp >= 0 && dp < 50 * 1000000LL, "CLOCK_PROCESS_CPUTIME_ID advanced "
	    "%lld us while the program slept 100 ms", dp / 1000);
	CHECK(dt >= 0 && dt < 50 * 1000000LL, "CLOCK_THREAD_CPUTIME_ID advanced "
	    "%lld us while the thread slept 100 ms", dt / 1000);
	ok("CPU-time clocks do not advance while sleeping");
	printf("ALL OK\n");
	return 0;
}

/* The raw syscall: glibc's clock_nanosleep() refuses this clock itself (EINVAL);
 * Linux's syscall has no sleep for it and says EOPNOTSUPP. */
static int
cputime_sleep(void)
{
	struct timespec ts = { 0, 1000 };
	long rv;

	errno = 0;
	rv = syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL);
	CHECK(rv == -1 && errno == EOPNOTSUPP, "clock_nanosleep syscall with "
	    "CLOCK_THREAD_CPUTIME_ID: %ld errno %d, want EOPNOTSUPP", rv, errno);
	ok("clock_nanosleep syscall with CLOCK_THREAD_CPUTIME_ID fails with "
	    "EOPNOTSUPP");
	printf("ALL OK\n");
	return 0;
}

int
main(int argc, char **argv)
{
	static const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC,
		CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
		CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME };
	struct timespec ts, res;
	struct timeval tv;
	long long a, b, prev, ms, target;
	time_t t;
	size_t i;
	int rv;

	if (argc > 1 && strcmp(argv[1], "cputime") == 0)
		return cputime();
	if (argc > 1 && strcmp(argv[1], "cputime-sleep") == 0)
		return cputime_sleep();

	/* CLOCK_REALTIME is a plausible date */
	a = now_ns(CLOCK_REALTIME);
	CHECK(a / NS > JAN_1_2024, "CLOCK_REALTIME %lld s is before 2024-01-01",
	    a / NS);
	CHECK(a / NS < 4102444800LL, "CLOCK_REALTIME %lld s is after 2100",
	    a / NS);
	ok("CLOCK_REALTIME is after 2024-01-01");

	/* MONOTONIC never goes back */
	prev = now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < 1000; i++) {
		b = now_ns(CLOCK_MONOTONIC);
		CHECK(b >= prev, "CLOCK_MONOTONIC went back: %lld -> %lld", prev,
		    b);
		prev = b;
	}
	ok("CLOCK_MONOTONIC non-decreasing over 1000 reads");

	/* every clock a libc uses answers, clock_getres too */
	for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		now_ns(clocks[i]);
		memset(&res, 0xff, sizeof(res));
		CHECK(clock_getres(clocks[i], &res) == 0,
		    "clock_getres(%d): %s", (int)clocks[i], strerror(errno));
		CHECK(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000,
		    "clock_getres(%d) = %ld.%09ld", (int)clocks[i],
		    (long)res.tv_sec, res.tv_nsec);
	}
	CHECK(clock_getres(CLOCK_MONOTONIC, NULL) == 0,
	    "clock_getres(CLOCK_MONOTONIC, NULL): %s", strerror(errno));
	ok("clock_gettime and clock_getres for REALTIME, MONOTONIC, CPUTIME, "
	    "RAW, COARSE, BOOTTIME");

	/* nanosleep 50 ms */
	a = now_ns(CLOCK_MONOTONIC);
	ts.tv_sec = 0;
	ts.tv_nsec = 50 * 1000000L;
	CHECK(nanosleep(&ts, NULL) == 0, "nanosleep: %s", strerror(errno));
	ms = (now_ns(CLOCK_MONOTONIC) - a) / 1000000;
	printf("nanosleep(50 ms) took %lld ms\n", ms);
	CHECK(ms >= 45 && ms <= 1000, "nanosleep(50 ms) took %lld ms, want "
	    "45..1000", ms);
	ok("nanosleep(50 ms) sleeps 45..1000 ms");

	/* clock_nanosleep relative */
	a = now_ns(CLOCK_MONOTONIC);
	ts.tv_sec = 0;
	ts.tv_nsec = 30 * 1000000L;
	rv = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	CHECK(rv == 0, "clock_nanosleep relative: %s", strerror(rv));
	ms = (now_ns(CLOCK_MONOTONIC) - a) / 1000000;
	CHECK(ms >= 29 && ms <= 1000, "clock_nanosleep(30 ms) took %lld ms", ms);
	ok("clock_nanosleep relative (30 ms)");

	/* clock_nanosleep TIMER_ABSTIME on MONOTONIC and REALTIME */
	target = now_ns(CLOCK_MONOTONIC) + 40 * 1000000LL;
	ts.tv_sec = target / NS;
	ts.tv_nsec = target % NS;
	rv = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	CHECK(rv == 0, "clock_nanosleep TIMER_ABSTIME: %s", strerror(rv));
	b = now_ns(CLOCK_MONOTONIC);
	CHECK(b >= target, "TIMER_ABSTIME woke %lld ns early", target - b);
	CHECK(b - target < 1000 * 1000000LL, "TIMER_ABSTIME woke %lld ms late",
	    (b - target) / 1000000);
	target = now_ns(CLOCK_REALTIME) + 40 * 1000000LL;
	ts.tv_sec = target / NS;
	ts.tv_nsec = target % NS;
	rv = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
	CHECK(rv == 0, "clock_nanosleep REALTIME TIMER_ABSTIME: %s",
	    strerror(rv));
	b = now_ns(CLOCK_REALTIME);
	CHECK(b >= target, "REALTIME TIMER_ABSTIME woke %lld ns early",
	    target - b);
	/* a deadline in the past returns at once */
	a = now_ns(CLOCK_MONOTONIC);
	ts.tv_sec = 0;
	ts.tv_nsec = 1;
	rv = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	CHECK(rv == 0, "clock_nanosleep past deadline: %s", strerror(rv));
	ms = (now_ns(CLOCK_MONOTONIC) - a) / 1000000;
	CHECK(ms < 20, "past TIMER_ABSTIME deadline slept %lld ms", ms);
	ok("clock_nanosleep TIMER_ABSTIME (MONOTONIC, REALTIME, past deadline)");

	/* gettimeofday and time agree with CLOCK_REALTIME */
	CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday: %s", strerror(errno));
	a = now_ns(CLOCK_REALTIME);
	b = (long long)tv.tv_sec * NS + tv.tv_usec * 1000LL;
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec %ld",
	    (long)tv.tv_usec);
	CHECK(llabs(a - b) < NS, "gettimeofday %lld vs CLOCK_REALTIME %lld", b,
	    a);
	ok("gettimeofday agrees with CLOCK_REALTIME within 1 s");
	struct timezone tz = {99, 99};
	CHECK(syscall(SYS_gettimeofday, &tv, &tz) == 0 && tz.tz_minuteswest == 0 &&
	    tz.tz_dsttime == 0, "gettimeofday's timezone: %d %d", tz.tz_minuteswest,
	    tz.tz_dsttime);
	ok("gettimeofday's obsolete timezone is UTC");
	t = time(NULL);
	a = now_ns(CLOCK_REALTIME) / NS;
	CHECK(llabs(a - (long long)t) <= 1, "time() %lld vs CLOCK_REALTIME %lld",
	    (long long)t, a);
	CHECK(time(&t) == t, "time(&t) stores what it returns");
	ok("time() agrees with CLOCK_REALTIME within 1 s");

	/* errors */
	errno = 0;
	CHECK(clock_gettime((clockid_t)999, &ts) == -1 && errno == EINVAL,
	    "clock_gettime(999): errno %d, want EINVAL", errno);
	errno = 0;
	CHECK(clock_getres((clockid_t)999, &res) == -1 && errno == EINVAL,
	    "clock_getres(999): errno %d, want EINVAL", errno);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000;
	rv = clock_nanosleep((clockid_t)999, 0, &ts, NULL);
	CHECK(rv == EINVAL, "clock_nanosleep(999) returned %d, want EINVAL", rv);
	ok("an invalid clock id gives EINVAL");
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000L;
	errno = 0;
	CHECK(nanosleep(&ts, NULL) == -1 && errno == EINVAL,
	    "nanosleep tv_nsec=1e9: errno %d, want EINVAL", errno);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	errno = 0;
	CHECK(nanosleep(&ts, NULL) == -1 && errno == EINVAL,
	    "nanosleep tv_sec=-1: errno %d, want EINVAL", errno);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000L;
	rv = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	CHECK(rv == EINVAL, "clock_nanosleep tv_nsec=1e9 returned %d, want "
	    "EINVAL", rv);
	ok("nanosleep/clock_nanosleep with a bad timespec give EINVAL");

	printf("ALL OK\n");
	return 0;
}
