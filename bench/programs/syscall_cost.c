/* syscall_cost: the cost of one trivial system call.  Times N getppid() calls (raw
 * syscall(2), so no libc caching) with clock_gettime(CLOCK_MONOTONIC) around the loop,
 * after a warm-up of N/10, and prints
 *     syscall_cost: getppid n=N total_ns=T ns_per_op=X
 * Usage: syscall_cost [N]       (default 1000000) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long long t0, t1;
	volatile long sink = 0;

	if (n <= 0) {
		fprintf(stderr, "syscall_cost: N must be positive\n");
		return 2;
	}
	for (long i = 0; i < n / 10; i++)
		sink += syscall(SYS_getppid);
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		sink += syscall(SYS_getppid);
	t1 = now_ns();
	printf("syscall_cost: getppid n=%ld total_ns=%lld ns_per_op=%.1f\n", n, t1 - t0,
	    (double)(t1 - t0) / n);
	return 0;
}
