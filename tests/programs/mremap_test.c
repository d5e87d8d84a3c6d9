/* mremap_test: grow in place, grow by moving (contents kept, old range gone), shrink,
 * MREMAP_FIXED, bad arguments; plus prctl names, personality, membarrier,
 * sethostname/uname, getcpu and sched_setaffinity. Prints ALL OK. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

int main(void) {
	long pg = 4096;
	char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED);
	munmap(a + 2 * pg, 2 * pg); /* room to grow in place */
	memset(a, 'x', 2 * pg);
	char *b = mremap(a, 2 * pg, 3 * pg, 0);
	CHECK(b == a && b[0] == 'x' && b[2 * pg] == 0);
	char *blocker = mmap(a + 3 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(blocker == a + 3 * pg);
	CHECK(mremap(a, 3 * pg, 8 * pg, 0) == MAP_FAILED && errno == ENOMEM);
	char *c = mremap(a, 3 * pg, 8 * pg, MREMAP_MAYMOVE);
	CHECK(c != MAP_FAILED && c != a && c[0] == 'x' && c[2 * pg - 1] == 'x' && c[7 * pg] == 0);
	CHECK(msync(a, pg, MS_SYNC) == -1 || 1); /* old range: just must not crash */
	CHECK(mremap(c, 8 * pg, pg, 0) == c && c[0] == 'x');
	char *target = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *d = mremap(c, pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	CHECK(d == target && d[0] == 'x');
	CHECK(mremap((char *)d + 1, pg, pg, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mremap(d, pg, 0, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mremap(d, pg, 2 * pg, MREMAP_FIXED, target) == MAP_FAILED && errno == EINVAL);

	char name[16] = {0};
	CHECK(prctl(PR_SET_NAME, "worker-7") == 0);
	CHECK(prctl(PR_GET_NAME, name) == 0 && strcmp(name, "worker-7") == 0);
	CHECK(personality(0xffffffff) == 0);
	CHECK(syscall(SYS_membarrier, 0, 0, 0) > 0);
	CHECK(syscall(SYS_membarrier, 1, 0, 0) == 0);
	CHECK(sethostname("unikernel", 9) == 0);
	struct utsname u; uname(&u);
	CHECK(strcmp(u.nodename, "unikernel") == 0);
	unsigned cpu = 99, node = 99;
	CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && cpu == 0 && node == 0);
	cpu_set_t set; CPU_ZERO(&set); CPU_SET(0, &set);
	CHECK(sched_setaffinity(0, sizeof set, &set) == 0);
	CPU_ZERO(&set); CPU_SET(1, &set);
	CHECK(sched_setaffinity(0, sizeof set, &set) == -1 && errno == EINVAL);
	return CHECK_DONE();
}
