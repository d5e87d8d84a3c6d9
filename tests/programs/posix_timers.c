#define _GNU_SOURCE
/* posix_timers: timer_create and friends as Linux gives them (timer_create(2),
 * timer_settime(2)):
 *   - a one-shot CLOCK_MONOTONIC timer with SIGEV_SIGNAL runs a SA_SIGINFO handler
 *     with si_code SI_TIMER, the timer's id and the sigev_value, not before its time;
 *   - an interval timer's signals taken with sigwaitinfo, 5 of them, spaced right;
 *   - timer_gettime while armed and after disarming; timer_getoverrun;
 *   - an absolute CLOCK_REALTIME time (TIMER_ABSTIME);
 *   - SIGEV_THREAD (the C library runs the callback in a thread, on SIGEV_THREAD_ID);
 *   - a signalfd reading a timer's signal (ssi_code, ssi_ptr);
 *   - errors: EINVAL for a deleted or unknown timer, a bad clock, a bad signal.
 * Prints one "ok:" line per check and "ALL OK". */
#include "check_fatal.h"
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static double now_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile int fired, fired_code, fired_value, fired_timerid;
static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fired_code = si->si_code;
	fired_value = si->si_value.sival_int;
	fired_timerid = si->si_timerid;
	fired++;
}

static sem_t thread_sem;
static volatile int thread_value;
static void on_thread(union sigval v)
{
	thread_value = v.sival_int;
	sem_post(&thread_sem);
}

int main(void)
{
	/* 1. one-shot, SIGEV_SIGNAL, handler */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGRTMIN + 2, &sa, NULL) == 0, "sigaction");
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 2;
	ev.sigev_value.sival_int = 42;
	timer_t t1;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t1) == 0, "timer_create: %s", strerror(errno));
	struct itimerspec its = {{0, 0}, {0, 50 * 1000 * 1000}};
	double t0 = now_s(CLOCK_MONOTONIC);
	CHECK(timer_settime(t1, 0, &its, NULL) == 0, "timer_settime: %s", strerror(errno));
	while (!fired && now_s(CLOCK_MONOTONIC) - t0 < 5)
		pause();
	double waited = now_s(CLOCK_MONOTONIC) - t0;
	CHECK(fired == 1, "the timer fired %d times", fired);
	CHECK(waited >= 0.049 && waited < 2, "fired after %.3f s, want 0.05", waited);
	CHECK(fired_code == SI_TIMER, "si_code %d, want SI_TIMER", fired_code);
	CHECK(fired_value == 42, "si_value %d, want 42", fired_value);
	CHECK(fired_timerid == (int)(intptr_t)t1, "si_timerid %d, want %d", fired_timerid,
	      (int)(intptr_t)t1);
	ok("one-shot CLOCK_MONOTONIC timer: handler with SI_TIMER and sigev_value after 50 ms");

	/* 2. interval timer, sigwaitinfo */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask");
	static int cookie;
	ev.sigev_signo = SIGRTMIN + 3;
	ev.sigev_value.sival_ptr = &cookie;
	timer_t t2;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t2) == 0, "timer_create 2");
	struct itimerspec every = {{0, 20 * 1000 * 1000}, {0, 20 * 1000 * 1000}};
	t0 = now_s(CLOCK_MONOTONIC);
	CHECK(timer_settime(t2, 0, &every, NULL) == 0, "timer_settime 2");
	for (int i = 0; i < 5; i++) {
		siginfo_t si;
		CHECK(sigwaitinfo(&set, &si) == SIGRTMIN + 3, "sigwaitinfo: %s", strerror(errno));
		CHECK(si.si_code == SI_TIMER && si.si_value.sival_ptr == &cookie,
		      "interval signal %d: code %d ptr %p", i, si.si_code, si.si_value.sival_ptr);
	}
	waited = now_s(CLOCK_MONOTONIC) - t0;
	CHECK(waited >= 0.099 && waited < 3, "5 intervals of 20 ms took %.3f s", waited);
	CHECK(timer_getoverrun(t2) >= 0, "timer_getoverrun: %s", strerror(errno));
	ok("interval timer: 5 signals 20 ms apart through sigwaitinfo, sigev_value pointer");

	/* 3. timer_gettime, disarm, delete */
	struct itimerspec cur, later = {{0, 0}, {1, 0}};
	CHECK(timer_settime(t2, 0, &later, &cur) == 0, "re-arm");
	CHECK(cur.it_interval.tv_nsec == 20 * 1000 * 1000, "old interval %ld", cur.it_interval.tv_nsec);
	CHECK(timer_gettime(t2, &cur) == 0, "timer_gettime");
	CHECK(cur.it_value.tv_sec == 0 || (cur.it_value.tv_sec == 1 && cur.it_value.tv_nsec == 0),
	      "left %ld.%09ld", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
	CHECK(cur.it_value.tv_sec + cur.it_value.tv_nsec > 0 && cur.it_interval.tv_nsec == 0,
	      "armed one-shot shows nothing left");
	struct itimerspec off = {{0, 0}, {0, 0}};
	CHECK(timer_settime(t2, 0, &off, NULL) == 0, "disarm");
	CHECK(timer_gettime(t2, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
	      "disarmed timer shows time left");
	CHECK(timer_delete(t2) == 0, "timer_delete");
	CHECK(timer_settime(t2, 0, &later, NULL) == -1 && errno == EINVAL,
	      "timer_settime on a deleted timer: %s", strerror(errno));
	ok("timer_gettime armed and disarmed, timer_delete, EINVAL afterwards");

	/* 4. absolute CLOCK_REALTIME */
	fired = 0;
	ev.sigev_signo = SIGRTMIN + 2;
	ev.sigev_value.sival_int = 7;
	timer_t t3;
	CHECK(timer_create(CLOCK_REALTIME, &ev, &t3) == 0, "timer_create realtime");
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	rt.tv_nsec += 100 * 1000 * 1000;
	if (rt.tv_nsec >= 1000000000) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000;
	}
	struct itimerspec abs_its = {{0, 0}, rt};
	t0 = now_s(CLOCK_MONOTONIC);
	CHECK(timer_settime(t3, TIMER_ABSTIME, &abs_its, NULL) == 0, "timer_settime abstime");
	while (!fired && now_s(CLOCK_MONOTONIC) - t0 < 5)
		pause();
	waited = now_s(CLOCK_MONOTONIC) - t0;
	CHECK(fired == 1 && fired_value == 7, "absolute timer: fired %d value %d", fired, fired_value);
	CHECK(waited >= 0.09 && waited < 2, "absolute timer after %.3f s, want 0.1", waited);
	timer_delete(t3);
	ok("absolute CLOCK_REALTIME timer (TIMER_ABSTIME) fired at its time");

	/* 5. SIGEV_THREAD */
	sem_init(&thread_sem, 0, 0);
	struct sigevent tev = {0};
	tev.sigev_notify = SIGEV_THREAD;
	tev.sigev_notify_function = on_thread;
	tev.sigev_value.sival_int = 99;
	timer_t t4;
	CHECK(timer_create(CLOCK_MONOTONIC, &tev, &t4) == 0, "timer_create SIGEV_THREAD: %s",
	      strerror(errno));
	struct itimerspec soon = {{0, 0}, {0, 30 * 1000 * 1000}};
	CHECK(timer_settime(t4, 0, &soon, NULL) == 0, "timer_settime SIGEV_THREAD");
	struct timespec limit;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 5;
	CHECK(sem_timedwait(&thread_sem, &limit) == 0, "the SIGEV_THREAD callback did not run");
	CHECK(thread_value == 99, "callback got %d, want 99", thread_value);
	timer_delete(t4);
	ok("SIGEV_THREAD: the callback ran in a thread with sigev_value");

	/* 6. signalfd */
	sigset_t fdset;
	sigemptyset(&fdset);
	sigaddset(&fdset, SIGRTMIN + 4);
	CHECK(sigprocmask(SIG_BLOCK, &fdset, NULL) == 0, "sigprocmask 4");
	int sfd = signalfd(-1, &fdset, 0);
	CHECK(sfd >= 0, "signalfd: %s", strerror(errno));
	ev.sigev_signo = SIGRTMIN + 4;
	ev.sigev_value.sival_ptr = &cookie;
	timer_t t5;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t5) == 0, "timer_create 5");
	CHECK(timer_settime(t5, 0, &soon, NULL) == 0, "timer_settime 5");
	struct signalfd_siginfo ssi;
	CHECK(read(sfd, &ssi, sizeof ssi) == sizeof ssi, "read signalfd: %s", strerror(errno));
	CHECK(ssi.ssi_signo == (uint32_t)(SIGRTMIN + 4) && ssi.ssi_code == SI_TIMER &&
		  ssi.ssi_ptr == (uint64_t)(uintptr_t)&cookie,
	      "signalfd: signo %u code %d ptr %#llx", ssi.ssi_signo, ssi.ssi_code,
	      (unsigned long long)ssi.ssi_ptr);
	timer_delete(t5);
	ok("signalfd reads a timer's signal with SI_TIMER and ssi_ptr");

	/* 7. errors */
	timer_t bad;
	CHECK(timer_create((clockid_t)99, &ev, &bad) == -1 && errno == EINVAL, "bad clock: %s",
	      strerror(errno));
	ev.sigev_signo = 200;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &bad) == -1 && errno == EINVAL, "bad signal: %s",
	      strerror(errno));
	ok("EINVAL for a bad clock and a bad signal number");

	printf("ALL OK\n");
	return 0;
}
