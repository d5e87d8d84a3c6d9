/* many_maps: a process that makes mappings without end gets ENOMEM, as on Linux at
 * vm.max_map_count (65530 areas), or earlier when the kernel's memory for them runs
 * low; the kernel's heap never runs out (that ended the VM). A child maps one page
 * every 8 KiB (separate areas, placed by hint) until mmap fails; at the limit an
 * mprotect that would split a mapping fails with ENOMEM too; after munmap of them all
 * mapping works again, and so does everything in the parent. Prints "ALL OK" and
 * exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define BASE ((char *)0x200000000000UL)
#define STEP 8192UL

static int child(void)
{
	/* a three-page mapping to split at the limit */
	char *three = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (three == MAP_FAILED)
		return 10;
	long n = 0;
	int e = 0;
	for (;;) {
		void *want = BASE + n * STEP;
		void *m = mmap(want, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			e = errno;
			break;
		}
		if (m != want)
			return 11;
		if (++n > 1000000)
			return 12;
	}
	printf("child: %ld mappings, then errno %d (%s)\n", n, e, strerror(e));
	if (e != ENOMEM)
		return 13;
	if (n < 1000)
		return 14;
	/* at the limit: fork works or fails with ENOMEM/EAGAIN */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	int st = -1;
	if (c > 0 && (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
		return 19;
	printf("child: fork at the limit: %s\n", c > 0 ? "worked" : strerror(errno));
	if (c < 0 && errno != ENOMEM && errno != EAGAIN)
		return 20;
	/* a split is refused too */
	int r = mprotect(three + 4096, 4096, PROT_READ);
	printf("child: mprotect splitting a mapping at the limit: %d errno %d\n", r, r ? errno : 0);
	if (r == 0 || errno != ENOMEM)
		return 15;
	if (munmap(BASE, n * STEP) != 0)
		return 16;
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 17;
	memset(m, 1, 1 << 20);
	if (mprotect(three + 4096, 4096, PROT_READ) != 0)
		return 18;
	return 0;
}

int main(void)
{
	for (int round = 0; round < 2; round++) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			int r = child();
			fflush(stdout);
			_exit(r);
		}
		int st = 0;
		CHECK(waitpid(c, &st, 0) == c);
		printf("round %d: child status %#x\n", round, st);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	char *m = malloc(1 << 20);
	CHECK(m != NULL);
	if (m)
		memset(m, 2, 1 << 20);
	return CHECK_DONE();
}
