/* pthread_test: the original rumprun's tests/basic/pthread_test.c behaviours, with
 * asserted results: pthread_join hands back the thread's value (37); a mutex keeps two
 * threads that yield inside the critical section apart; pthread_cond_timedwait returns
 * ETIMEDOUT after ~100 ms; cond signal/wait between threads; thread-specific data with
 * a destructor; an fd opened in one thread is written and closed in another.
 * One "ok: ..." line per check, then "main thread done" and "ALL OK"; a failed check
 * prints "FAIL: ..." and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* 1. join value */
static void *
return37(void *arg)
{
	(void)arg;
	sched_yield();
	return (void *)37;
}

static void
test_join(void)
{
	pthread_t t;
	void *rv = NULL;
	int e;

	e = pthread_create(&t, NULL, return37, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	e = pthread_join(t, &rv);
	CHECK(e == 0, "pthread_join: %s", strerror(e));
	CHECK(rv == (void *)37, "join value %ld, want 37", (long)rv);
	ok("pthread_join returns 37");
}

/* 2. mutex + sched_yield */
#define MUTEX_ROUNDS 200
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static volatile int inside, overlaps;
static long counter;

static void *
mutex_worker(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < MUTEX_ROUNDS; i++) {
		pthread_mutex_lock(&mtx);
		if (inside)
			overlaps++;
		inside = 1;
		long c = counter;
		sched_yield();
		counter = c + 1;
		inside = 0;
		pthread_mutex_unlock(&mtx);
		sched_yield();
	}
	return NULL;
}

static void
test_mutex_yield(void)
{
	pthread_t t[2];
	int i, e;

	for (i = 0; i < 2; i++) {
		e = pthread_create(&t[i], NULL, mutex_worker, NULL);
		CHECK(e == 0, "pthread_create: %s", strerror(e));
	}
	for (i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0, "join mutex worker");
	CHECK(overlaps == 0, "%d overlapping critical sections", overlaps);
	CHECK(counter == 2 * MUTEX_ROUNDS, "counter %ld, want %d", counter,
	    2 * MUTEX_ROUNDS);
	ok("mutex + sched_yield between two threads");
}

/* 3. cond_timedwait timeout */
static void
test_cond_timedwait(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec t0, abstime;
	long ms;
	int e;

	clock_gettime(CLOCK_REALTIME, &abstime);
	abstime.tv_nsec += 100 * 1000000L;
	if (abstime.tv_nsec >= 1000000000L) {
		abstime.tv_sec++;
		abstime.tv_nsec -= 1000000000L;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&m);
	e = pthread_cond_timedwait(&c, &m, &abstime);
	ms = ms_since(&t0);
	pthread_mutex_unlock(&m);
	CHECK(e == ETIMEDOUT, "pthread_cond_timedwait returned %d (%s), want "
	    "ETIMEDOUT", e, strerror(e));
	CHECK(ms >= 90 && ms <= 1000, "timed wait took %ld ms, want 90..1000",
	    ms);
	printf("cond_timedwait took %ld ms\n", ms);
	ok("pthread_cond_timedwait returns ETIMEDOUT after ~100 ms");
}

/* 4. cond signal/wait */
static pthread_mutex_t cmtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ccond = PTHREAD_COND_INITIALIZER;
static int cstate;

static void *
cond_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cmtx);
	while (cstate != 1)
		pthread_cond_wait(&ccond, &cmtx);
	cstate = 2;
	pthread_cond_signal(&ccond);
	pthread_mutex_unlock(&cmtx);
	return NULL;
}

static void
test_cond_signal(void)
{
	pthread_t t;
	int e, i;

	e = pthread_create(&t, NULL, cond_worker, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	/* Let the worker block in pthread_cond_wait first. */
	for (i = 0; i < 10; i++)
		sched_yield();
	pthread_mutex_lock(&cmtx);
	cstate = 1;
	pthread_cond_signal(&ccond);
	while (cstate != 2)
		pthread_cond_wait(&ccond, &cmtx);
	pthread_mutex_unlock(&cmtx);
	CHECK(pthread_join(t, NULL) == 0, "join cond worker");
	ok("cond signal/wait between threads");
}

/* 5. TSD */
static pthread_key_t key;
static int dtor_calls, dtor_sum;
static pthread_mutex_t dmtx = PTHREAD_MUTEX_INITIALIZER;

static void
tsd_dtor(void *v)
{
	pthread_mutex_lock(&dmtx);
	dtor_calls++;
	dtor_sum += *(int *)v;
	pthread_mutex_unlock(&dmtx);
}

static int tsd_values[2] = { 100, 200 };

static void *
tsd_worker(void *arg)
{
	int *mine = arg, i;

	if (pthread_getspecific(key) != NULL)
		return (void *)1;
	if (pthread_setspecific(key, mine) != 0)
		return (void *)2;
	for (i = 0; i < 50; i++) {
		sched_yield();
		if (pthread_getspecific(key) != mine)
			return (void *)3;
	}
	return NULL;
}

static void
test_tsd(void)
{
	pthread_t t[2];
	void *rv;
	int i, e, main_value = 7;

	e = pthread_key_create(&key, tsd_dtor);
	CHECK(e == 0, "pthread_key_create: %s", strerror(e));
	CHECK(pthread_setspecific(key, &main_value) == 0, "setspecific in main");
	for (i = 0; i < 2; i++) {
		e = pthread_create(&t[i], NULL, tsd_worker, &tsd_values[i]);
		CHECK(e == 0, "pthread_create: %s", strerror(e));
	}
	for (i = 0; i < 2; i++) {
		CHECK(pthread_join(t[i], &rv) == 0, "join tsd worker");
		CHECK(rv == NULL, "tsd worker %d failed at step %ld", i,
		    (long)rv);
	}
	CHECK(pthread_getspecific(key) == &main_value,
	    "main's value changed by the other threads");
	CHECK(dtor_calls == 2 && dtor_sum == 300,
	    "destructor ran %d times (sum %d), want 2 (sum 300)", dtor_calls,
	    dtor_sum);
	CHECK(pthread_key_delete(key) == 0, "pthread_key_delete");
	ok("thread-specific data per thread, destructor ran at thread exit");
}

/* 6. fd shared between threads */
static int shared_fd = -1;

static void *
fd_opener(void *arg)
{
	(void)arg;
	shared_fd = open("/dev/null", O_RDWR);
	return NULL;
}

static void *
fd_user(void *arg)
{
	char buf[8];
	long *res = arg;

	res[0] = write(shared_fd, "hello", 5);
	res[1] = read(shared_fd, buf, sizeof(buf));
	res[2] = close(shared_fd);
	return NULL;
}

static void
test_fd_between_threads(void)
{
	pthread_t t;
	long res[3] = { -2, -2, -2 };
	int fd;

	/* Opened in main, used and closed in a thread. */
	fd = open("/dev/null", O_RDWR);
	CHECK(fd >= 0, "open /dev/null: %s", strerror(errno));
	shared_fd = fd;
	CHECK(pthread_create(&t, NULL, fd_user, res) == 0, "pthread_create");
	CHECK(pthread_join(t, NULL) == 0, "join fd user");
	CHECK(res[0] == 5, "write in thread returned %ld, want 5", res[0]);
	CHECK(res[1] == 0, "read of /dev/null in thread returned %ld, want 0",
	    res[1]);
	CHECK(res[2] == 0, "close in thread returned %ld, want 0", res[2]);
	errno = 0;
	CHECK(write(fd, "x", 1) == -1 && errno == EBADF,
	    "write after close in another thread: errno %d, want EBADF", errno);

	/* Opened in a thread, used and closed in main. */
	shared_fd = -1;
	CHECK(pthread_create(&t, NULL, fd_opener, NULL) == 0, "pthread_create");
	CHECK(pthread_join(t, NULL) == 0, "join fd opener");
	CHECK(shared_fd >= 0, "open /dev/null in thread failed");
	CHECK(write(shared_fd, "hello", 5) == 5, "write in main: %s",
	    strerror(errno));
	CHECK(close(shared_fd) == 0, "close in main: %s", strerror(errno));
	ok("fd opened in one thread, written and closed in another");
}

int
main(void)
{
	test_join();
	test_mutex_yield();
	test_cond_timedwait();
	test_cond_signal();
	test_tsd();
	test_fd_between_threads();
	printf("main thread done\n");
	printf("ALL OK\n");
	return 0;
}
