/* tls_test: the original rumprun's tests/basic/tls_test.c with asserted results.  Ten
 * threads each see their own copies of a `__thread` variable with an initializer
 * (12345678) and of a zero-initialised one, change them 1000 times with a sched_yield
 * in between, and report the final values; main's copies must be untouched.  One
 * "ok: ..." line per check, then "ALL OK"; a failed check prints "FAIL: ..." and
 * exits 1. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 10
#define LOOPS 1000
#define INIT 12345678

#include "check_fatal.h"

static __thread int tinit = INIT;
static __thread long tzero;
static __thread char tbuf[64];	/* zero-initialised, larger than a word */

struct result {
	int id;
	int start_init;
	long start_zero;
	int bad_buf;
	int end_init;
	long end_zero;
	int bad_loop;
	uintptr_t addr;
};

static void *
worker(void *arg)
{
	struct result *r = arg;
	int i, j;

	r->start_init = tinit;
	r->start_zero = tzero;
	r->addr = (uintptr_t)&tinit;
	for (j = 0; j < (int)sizeof(tbuf); j++)
		if (tbuf[j] != 0)
			r->bad_buf = 1;
	for (i = 0; i < LOOPS; i++) {
		if (tinit != INIT + i || tzero != (long)i * r->id)
			r->bad_loop++;
		tinit++;
		tzero += r->id;
		tbuf[i % sizeof(tbuf)] = (char)r->id;
		sched_yield();
	}
	for (j = 0; j < (int)sizeof(tbuf); j++)
		if (tbuf[j] != (char)r->id)
			r->bad_buf = 1;
	r->end_init = tinit;
	r->end_zero = tzero;
	return NULL;
}

int
main(void)
{
	pthread_t t[NTHREADS];
	struct result res[NTHREADS];
	int i, j, e;

	CHECK(tinit == INIT && tzero == 0, "main's initial TLS values %d %ld",
	    tinit, tzero);
	memset(res, 0, sizeof(res));
	for (i = 0; i < NTHREADS; i++) {
		res[i].id = i + 1;
		e = pthread_create(&t[i], NULL, worker, &res[i]);
		CHECK(e == 0, "pthread_create %d: %s", i, strerror(e));
	}
	printf("ok: %d threads created\n", NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		e = pthread_join(t[i], NULL);
		CHECK(e == 0, "pthread_join %d: %s", i, strerror(e));
	}
	printf("ok: %d threads joined\n", NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		struct result *r = &res[i];
		CHECK(r->start_init == INIT, "thread %d started with tinit=%d",
		    r->id, r->start_init);
		CHECK(r->start_zero == 0, "thread %d started with tzero=%ld",
		    r->id, r->start_zero);
		CHECK(!r->bad_buf, "thread %d: zero-initialised array wrong",
		    r->id);
		CHECK(r->bad_loop == 0, "thread %d: %d iterations saw another "
		    "thread's values", r->id, r->bad_loop);
		CHECK(r->end_init == INIT + LOOPS, "thread %d ended with "
		    "tinit=%d, want %d", r->id, r->end_init, INIT + LOOPS);
		CHECK(r->end_zero == (long)LOOPS * r->id, "thread %d ended with "
		    "tzero=%ld, want %ld", r->id, r->end_zero,
		    (long)LOOPS * r->id);
		CHECK(r->addr != (uintptr_t)&tinit, "thread %d shares main's "
		    "tinit", r->id);
		for (j = 0; j < i; j++)
			CHECK(res[j].addr != r->addr, "threads %d and %d share "
			    "tinit", res[j].id, r->id);
	}
	printf("ok: each thread had its own initialised and zeroed copies "
	    "(%d loops with sched_yield)\n", LOOPS);
	CHECK(tinit == INIT && tzero == 0, "main's TLS values changed: %d %ld",
	    tinit, tzero);
	for (j = 0; j < (int)sizeof(tbuf); j++)
		CHECK(tbuf[j] == 0, "main's tbuf[%d] changed", j);
	printf("ok: main's copies untouched\n");
	printf("ALL OK\n");
	return 0;
}
