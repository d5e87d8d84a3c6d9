/* misc_test: the original rumprun's tests/basic/misc_test.c checks that need no file
 * system (times() does not crash, pthread_mutex_init works from a constructor), plus
 * identity and limits: uname, getpid, fork and waitpid, sched_getaffinity,
 * getrandom, prlimit/getrlimit.  `misc_test getrandom-flags`: getrandom with unknown
 * flags fails with EINVAL.  (The original's getpwnam("root") needs /etc/passwd:
 * it comes with the VFS.)  One "ok: ..." line per check, then "ALL OK"; a failed check
 * prints "FAIL: ..." and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_fatal.h"

static pthread_mutex_t ctor_mutex;
static int ctor_init_rv = -1;

static void __attribute__((constructor))
init_mutex_in_ctor(void)
{
	ctor_init_rv = pthread_mutex_init(&ctor_mutex, NULL);
}

static int
getrandom_flags(void)
{
	unsigned char buf[32];
	ssize_t n;

	errno = 0;
	n = getrandom(buf, sizeof(buf), 0x1000);
	CHECK(n == -1 && errno == EINVAL, "getrandom with unknown flags 0x1000: "
	    "%zd errno %d, want EINVAL", n, errno);
	ok("getrandom with unknown flags fails with EINVAL");
	printf("ALL OK\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct tms tms;
	struct utsname u;
	struct rlimit rl, rl2;
	cpu_set_t set;
	unsigned char buf[32];
	clock_t c;
	pid_t pid;
	size_t i, nonzero;
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "getrandom-flags") == 0)
		return getrandom_flags();

	/* times() */
	memset(&tms, 0xff, sizeof(tms));
	c = times(&tms);
	CHECK(c != (clock_t)-1, "times: %s", strerror(errno));
	CHECK(tms.tms_utime >= 0 && tms.tms_stime >= 0, "times: %ld %ld",
	    (long)tms.tms_utime, (long)tms.tms_stime);
	ok("times() does not crash");

	/* mutex from a constructor */
	CHECK(ctor_init_rv == 0, "pthread_mutex_init in a constructor: %d",
	    ctor_init_rv);
	CHECK(pthread_mutex_lock(&ctor_mutex) == 0, "lock ctor mutex");
	CHECK(pthread_mutex_unlock(&ctor_mutex) == 0, "unlock ctor mutex");
	CHECK(pthread_mutex_destroy(&ctor_mutex) == 0, "destroy ctor mutex");
	ok("pthread_mutex_init() works from a constructor");

	/* uname */
	CHECK(uname(&u) == 0, "uname: %s", strerror(errno));
	printf("uname: %s %s %s %s\n", u.sysname, u.release, u.version,
	    u.machine);
	CHECK(strcmp(u.sysname, "Linux") == 0, "sysname %s", u.sysname);
	CHECK(strcmp(u.machine, "x86_64") == 0, "machine %s", u.machine);
	CHECK(u.release[0] >= '3' && u.release[0] <= '9' && u.release[1] == '.',
	    "release %s is not one a libc accepts", u.release);
	ok("uname: sysname Linux, machine x86_64");

	/* getpid */
	CHECK(getpid() == 1, "getpid %d, want 1", (int)getpid());
	ok("getpid() == 1");

	/* fork: a child that exits 99, reaped by waitpid */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(99);
	CHECK(pid > 1, "fork returned %d errno %d", (int)pid, errno);
	{
		int st = 0;
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 99, "waitpid status %#x", st);
	}
	ok("fork() makes a child whose exit status waitpid reports");

	/* sched_getaffinity */
	CPU_ZERO(&set);
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0,
	    "sched_getaffinity: %s", strerror(errno));
	CHECK(CPU_ISSET(0, &set), "CPU 0 not in the affinity mask");
	CHECK(CPU_COUNT(&set) >= 1, "empty affinity mask");
	ok("sched_getaffinity has CPU 0");

	/* getrandom */
	memset(buf, 0, sizeof(buf));
	n = getrandom(buf, sizeof(buf), 0);
	CHECK(n == (ssize_t)sizeof(buf), "getrandom returned %zd: %s", n,
	    strerror(errno));
	for (i = 0, nonzero = 0; i < sizeof(buf); i++)
		nonzero += buf[i] != 0;
	CHECK(nonzero > 0, "getrandom left all 32 bytes zero");
	ok("getrandom fills 32 bytes");

	/* limits */
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0, "getrlimit(RLIMIT_STACK): %s",
	    strerror(errno));
	CHECK(rl.rlim_cur > 0 && (rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max >= rl.rlim_cur), "RLIMIT_STACK cur %llu max %llu",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	CHECK(prlimit(0, RLIMIT_STACK, NULL, &rl2) == 0,
	    "prlimit(RLIMIT_STACK): %s", strerror(errno));
	CHECK(rl2.rlim_cur == rl.rlim_cur && rl2.rlim_max == rl.rlim_max,
	    "prlimit and getrlimit disagree");
	printf("RLIMIT_STACK cur %llu\n", (unsigned long long)rl.rlim_cur);
	ok("prlimit/getrlimit RLIMIT_STACK return a value");

	printf("ALL OK\n");
	return 0;
}
