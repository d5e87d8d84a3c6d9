/* futex_test: the raw futex syscall as pthreads and other runtimes use it, with
 * Linux's results and errno values: WAIT on a changed value (EAGAIN), WAIT with a
 * relative timeout (ETIMEDOUT after the time), WAIT_BITSET with an absolute
 * CLOCK_MONOTONIC deadline, WAKE counts, WAKE_BITSET selecting waiters, REQUEUE and
 * CMP_REQUEUE (EAGAIN on a changed value; a requeue onto the same word loses no
 * waiter), and the errors for an unaligned address, a
 * zero bitset and an unknown operation.  Then how a threaded program ends: `exit(N)`
 * from a thread while main is blocked in pthread_join (`futex_test thread-exit`), and
 * main calling pthread_exit while a worker goes on (`futex_test main-exit`).
 * One "ok: ..." line per check, then "ALL OK"; a failed check prints "FAIL: ..." and
 * exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

/* From <linux/futex.h> (musl-gcc has no kernel headers). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

#define NS 1000000000LL
#define PRIV(op) ((op) | FUTEX_PRIVATE_FLAG)

static long
futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts,
    uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static long long
mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * NS + t.tv_nsec;
}

/* Waiters: each waits on its futex word (with an optional bitset) and records the
 * result. */
struct waiter {
	uint32_t *word;
	uint32_t bitset;
	long rv;
	int err;
	volatile int started, done;
};

static void *
wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->started = 1;
	if (w->bitset)
		w->rv = futex(w->word, PRIV(FUTEX_WAIT_BITSET), 0, NULL, NULL,
		    w->bitset);
	else
		w->rv = futex(w->word, PRIV(FUTEX_WAIT), 0, NULL, NULL, 0);
	w->err = errno;
	w->done = 1;
	return NULL;
}

static void
start_waiter(pthread_t *t, struct waiter *w, uint32_t *word, uint32_t bitset)
{
	int i;

	memset(w, 0, sizeof(*w));
	w->word = word;
	w->bitset = bitset;
	CHECK(pthread_create(t, NULL, wait_thread, w) == 0, "pthread_create");
	while (!w->started)
		sched_yield();
	/* Give it time to block in the kernel. */
	for (i = 0; i < 20; i++)
		sched_yield();
	usleep(10000);
}

static void
basic(void)
{
	static uint32_t word __attribute__((aligned(8)));
	struct timespec ts;
	long long t0, ms;
	long rv;

	word = 1;
	errno = 0;
	rv = futex(&word, PRIV(FUTEX_WAIT), 0, NULL, NULL, 0);
	CHECK(rv == -1 && errno == EAGAIN, "WAIT on a changed value: %ld errno %d, "
	    "want EAGAIN", rv, errno);
	ok("FUTEX_WAIT on a changed value fails with EAGAIN");

	word = 0;
	ts.tv_sec = 0;
	ts.tv_nsec = 30 * 1000000L;
	t0 = mono_ns();
	errno = 0;
	rv = futex(&word, PRIV(FUTEX_WAIT), 0, &ts, NULL, 0);
	ms = (mono_ns() - t0) / 1000000;
	CHECK(rv == -1 && errno == ETIMEDOUT, "WAIT with timeout: %ld errno %d, "
	    "want ETIMEDOUT", rv, errno);
	CHECK(ms >= 29 && ms < 1000, "WAIT(30 ms) took %lld ms", ms);
	ok("FUTEX_WAIT with a 30 ms timeout fails with ETIMEDOUT in time");

	t0 = mono_ns();
	ts.tv_sec = (t0 + 30 * 1000000LL) / NS;
	ts.tv_nsec = (t0 + 30 * 1000000LL) % NS;
	errno = 0;
	rv = futex(&word, PRIV(FUTEX_WAIT_BITSET), 0, &ts, NULL,
	    FUTEX_BITSET_MATCH_ANY);
	CHECK(rv == -1 && errno == ETIMEDOUT, "WAIT_BITSET absolute: %ld errno "
	    "%d, want ETIMEDOUT", rv, errno);
	CHECK(mono_ns() >= t0 + 30 * 1000000LL, "WAIT_BITSET woke early");
	ok("FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline");

	rv = futex(&word, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 0, "WAKE with no waiters returned %ld, want 0", rv);
	ok("FUTEX_WAKE with no waiters returns 0");

	errno = 0;
	rv = futex((uint32_t *)((char *)&word + 1), PRIV(FUTEX_WAIT), 0, NULL,
	    NULL, 0);
	CHECK(rv == -1 && errno == EINVAL, "WAIT on an unaligned address: %ld "
	    "errno %d, want EINVAL", rv, errno);
	errno = 0;
	rv = futex(&word, PRIV(FUTEX_WAIT_BITSET), 0, NULL, NULL, 0);
	CHECK(rv == -1 && errno == EINVAL, "WAIT_BITSET with bitset 0: %ld errno "
	    "%d, want EINVAL", rv, errno);
	errno = 0;
	rv = futex(&word, PRIV(99), 0, NULL, NULL, 0);
	CHECK(rv == -1 && errno == ENOSYS, "unknown futex op: %ld errno %d, "
	    "want ENOSYS", rv, errno);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000L;
	errno = 0;
	rv = futex(&word, PRIV(FUTEX_WAIT), 0, &ts, NULL, 0);
	CHECK(rv == -1 && errno == EINVAL, "WAIT with tv_nsec=1e9: %ld errno %d, "
	    "want EINVAL", rv, errno);
	ok("futex errors: unaligned EINVAL, zero bitset EINVAL, bad timeout "
	    "EINVAL, unknown op ENOSYS");
}

static void
wake_counts(void)
{
	static uint32_t word, word2;
	struct waiter w[3];
	pthread_t t[3];
	long rv;
	int i, done;

	/* WAKE 1 of 3, then the rest. */
	word = 0;
	for (i = 0; i < 3; i++)
		start_waiter(&t[i], &w[i], &word, 0);
	rv = futex(&word, PRIV(FUTEX_WAKE), 1, NULL, NULL, 0);
	CHECK(rv == 1, "WAKE 1 of 3 waiters returned %ld", rv);
	usleep(10000);
	for (i = 0, done = 0; i < 3; i++)
		done += w[i].done;
	CHECK(done == 1, "WAKE 1 woke %d waiters", done);
	rv = futex(&word, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 2, "WAKE all of the other 2 returned %ld", rv);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].rv == 0, "waiter %d returned %ld errno %d", i, w[i].rv,
		    w[i].err);
	}
	ok("FUTEX_WAKE wakes and counts exactly the waiters asked for");

	/* WAKE_BITSET only wakes waiters whose bitset intersects. */
	start_waiter(&t[0], &w[0], &word, 0x1);
	start_waiter(&t[1], &w[1], &word, 0x2);
	rv = futex(&word, PRIV(FUTEX_WAKE_BITSET), INT_MAX, NULL, NULL, 0x2);
	CHECK(rv == 1, "WAKE_BITSET 0x2 returned %ld, want 1", rv);
	pthread_join(t[1], NULL);
	CHECK(!w[0].done, "WAKE_BITSET 0x2 woke the 0x1 waiter");
	rv = futex(&word, PRIV(FUTEX_WAKE_BITSET), INT_MAX, NULL, NULL, 0x1);
	CHECK(rv == 1, "WAKE_BITSET 0x1 returned %ld, want 1", rv);
	pthread_join(t[0], NULL);
	ok("FUTEX_WAKE_BITSET wakes only matching waiters");

	/* REQUEUE: wake 1, move the other 2 to word2. */
	word = 0;
	word2 = 0;
	for (i = 0; i < 3; i++)
		start_waiter(&t[i], &w[i], &word, 0);
	rv = futex(&word, PRIV(FUTEX_REQUEUE), 1, (void *)(uintptr_t)INT_MAX,
	    &word2, 0);
	CHECK(rv == 3, "REQUEUE returned %ld, want 3 (1 woken + 2 moved)", rv);
	rv = futex(&word, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 0, "WAKE on the old word after REQUEUE returned %ld", rv);
	rv = futex(&word2, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 2, "WAKE on the new word after REQUEUE returned %ld", rv);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ok("FUTEX_REQUEUE wakes one and moves the rest");

	/* CMP_REQUEUE: EAGAIN when the word changed, else like REQUEUE. */
	start_waiter(&t[0], &w[0], &word, 0);
	start_waiter(&t[1], &w[1], &word, 0);
	errno = 0;
	rv = futex(&word, PRIV(FUTEX_CMP_REQUEUE), 0, (void *)(uintptr_t)1,
	    &word2, 7);
	CHECK(rv == -1 && errno == EAGAIN, "CMP_REQUEUE with a wrong value: %ld "
	    "errno %d, want EAGAIN", rv, errno);
	rv = futex(&word, PRIV(FUTEX_CMP_REQUEUE), 0, (void *)(uintptr_t)1,
	    &word2, 0);
	CHECK(rv == 1, "CMP_REQUEUE wake 0 move 1 returned %ld, want 1", rv);
	rv = futex(&word, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 1, "one waiter left on the old word, WAKE returned %ld", rv);
	rv = futex(&word2, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 1, "one waiter moved to the new word, WAKE returned %ld", rv);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	ok("FUTEX_CMP_REQUEUE checks the value, wakes and moves");

	/* REQUEUE of some waiters onto the same word: Linux counts them and leaves
	 * every waiter queued; none may be lost. */
	for (i = 0; i < 3; i++)
		start_waiter(&t[i], &w[i], &word, 0);
	rv = futex(&word, PRIV(FUTEX_REQUEUE), 0, (void *)(uintptr_t)1, &word, 0);
	CHECK(rv == 1, "REQUEUE of 1 onto the same word returned %ld, want 1", rv);
	rv = futex(&word, PRIV(FUTEX_WAKE), INT_MAX, NULL, NULL, 0);
	CHECK(rv == 3, "WAKE after a REQUEUE onto the same word returned %ld, "
	    "want 3 (a waiter was lost)", rv);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ok("FUTEX_REQUEUE onto the same word keeps every waiter");
}

static void *
exit_from_thread(void *arg)
{
	(void)arg;
	usleep(20000);
	printf("worker calls exit(7)\n");
	fflush(stdout);
	exit(7);
}

static void *
outlive_main(void *arg)
{
	(void)arg;
	usleep(50000);
	printf("worker done after main's pthread_exit\n");
	fflush(stdout);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1 && strcmp(argv[1], "thread-exit") == 0) {
		CHECK(pthread_create(&t, NULL, exit_from_thread, NULL) == 0,
		    "pthread_create");
		pthread_join(t, NULL);
		printf("FAIL: pthread_join returned after exit() in the thread\n");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "main-exit") == 0) {
		CHECK(pthread_create(&t, NULL, outlive_main, NULL) == 0,
		    "pthread_create");
		printf("main calls pthread_exit\n");
		fflush(stdout);
		pthread_exit(NULL);
	}
	basic();
	wake_counts();
	printf("ALL OK\n");
	return 0;
}
