/* bounded_calls: syscalls whose work a program's arguments could make endless must
 * still return soon (found by tests/programs/syscall_fuzz.c, where they hung the
 * kernel: it runs its own code with interrupts off, so no timer or signal could end
 * them). sendfile from an endless source or from a file onto itself gives a short
 * count; fallocate of a huge range on tmpfs gives ENOSPC at once instead of walking
 * its pages one by one. Each call must return within a second. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int
main(void)
{
	int zero = open("/dev/zero", O_RDONLY);
	int null = open("/dev/null", O_WRONLY);
	CHECK(zero >= 0 && null >= 0);

	double t = now();
	ssize_t n = sendfile(null, zero, NULL, SIZE_MAX);
	double took = now() - t;
	printf("sendfile /dev/zero -> /dev/null, SIZE_MAX: %zd bytes in %.3f s\n", n, took);
	CHECK(n > 0 && took < 1.0);

	int m = memfd_create("self", 0);
	char page[4096] = {1};
	CHECK(write(m, page, sizeof page) == sizeof page);
	CHECK(lseek(m, 0, SEEK_SET) == 0);
	t = now();
	n = sendfile(m, m, NULL, SIZE_MAX);
	took = now() - t;
	printf("sendfile of a file onto itself, SIZE_MAX: %zd bytes in %.3f s\n", n, took);
	CHECK(n > 0 && took < 1.0);

	int f = memfd_create("huge", 0);
	t = now();
	errno = 0;
	long r = syscall(SYS_fallocate, f, 0x10 /* FALLOC_FL_ZERO_RANGE */, 0x80L, 0x1ce04f9780906d4dL);
	took = now() - t;
	printf("fallocate of 2^60 bytes: %ld errno %d in %.3f s\n", r, errno, took);
	CHECK(r == -1 && errno == ENOSPC && took < 1.0);
	errno = 0;
	r = syscall(SYS_fallocate, f, 0, 0L, 0x7fffffffffff0000L);
	CHECK(r == -1 && errno == ENOSPC);

	printf("still running\n");
	return CHECK_DONE();
}
