/* proc_cost: the cost of making processes.  Times N rounds of one of
 *     fork     fork() + _exit(0) in the child + waitpid()
 *     exec     fork() + execv("/proc/self/exe", "child") + waitpid()  (this program,
 *              static: the child only exits)
 *     execdyn  fork() + execv(DYN, "child") + waitpid(), DYN = /usr/bin/proc_cost-dyn:
 *              this program linked dynamically (glibc through ld.so: the child maps
 *              libc.so.6 and relocates, then only exits)
 *     spawn    posix_spawn("/proc/self/exe", "child") + waitpid()
 *     fork256  fork() + _exit + waitpid() of a process with 256 MiB touched
 *     sh       one `BUSYBOX sh -c SCRIPT` (posix_spawn + waitpid) whose script runs
 *              N external commands (`BUSYBOX true`, each a fork + exec of the shell);
 *              ns per command, the shell's start included. BUSYBOX: /bin/busybox,
 *              else /usr/bin/busybox (the unikernel takes every /bin/NAME of its
 *              image for a program to start)
 * with clock_gettime(CLOCK_MONOTONIC) around the loop, after one warm-up round, and
 * prints
 *     proc_cost: MODE n=N total_ns=T ns_per_op=X
 * Usage: proc_cost MODE [N]       (default 200) */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DYN "/usr/bin/proc_cost-dyn"

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
one(const char *mode)
{
	char *argv[] = {"proc_cost", "child", NULL};
	int st;
	pid_t pid;

	if (strcmp(mode, "spawn") == 0) {
		if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0)
			return -1;
	} else {
		pid = fork();
		if (pid == 0) {
			if (strcmp(mode, "exec") == 0)
				execv("/proc/self/exe", argv);
			else if (strcmp(mode, "execdyn") == 0)
				execv(DYN, argv);
			_exit(strcmp(mode, "fork") == 0 ? 0 : 127);
		}
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

/* `busybox sh` running `n` external commands; 0 when it exited 0. */
static int
shell(long n)
{
	char script[256];
	char *argv[] = {"busybox", "sh", "-c", script, NULL};
	const char *bb = access("/bin/busybox", X_OK) == 0 ? "/bin/busybox" : "/usr/bin/busybox";
	int st;
	pid_t pid;

	snprintf(script, sizeof script,
	    "i=0; while [ $i -lt %ld ]; do %s true; i=$((i + 1)); done", n, bb);
	if (posix_spawn(&pid, bb, NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? atol(argv[2]) : 200;
	long long t0, t1;

	if (strcmp(mode, "child") == 0)
		return 0;
	if (strcmp(mode, "sh") == 0 && n > 0) {
		if (shell(2) != 0) { /* warm-up, and /bin/busybox is there */
			fprintf(stderr, "proc_cost: busybox sh failed\n");
			return 1;
		}
		t0 = now_ns();
		if (shell(n) != 0) {
			fprintf(stderr, "proc_cost: busybox sh failed\n");
			return 1;
		}
		t1 = now_ns();
		printf("proc_cost: sh n=%ld total_ns=%lld ns_per_op=%.1f\n", n, t1 - t0,
		    (double)(t1 - t0) / n);
		return 0;
	}
	if (n <= 0 || (strcmp(mode, "fork") != 0 && strcmp(mode, "exec") != 0 &&
	    strcmp(mode, "spawn") != 0 && strcmp(mode, "fork256") != 0 &&
	    strcmp(mode, "execdyn") != 0)) {
		fprintf(stderr, "usage: proc_cost fork|exec|execdyn|spawn|fork256|sh [N]\n");
		return 2;
	}
	if (strcmp(mode, "fork256") == 0) {
		size_t len = 256 << 20;
		char *mem = malloc(len);
		if (mem == NULL)
			return 1;
		memset(mem, 1, len);
		mode = "fork";
	}
	if (one(mode) != 0) {
		fprintf(stderr, "proc_cost: %s failed\n", mode);
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (one(mode) != 0) {
			fprintf(stderr, "proc_cost: %s failed at round %ld\n", mode, i);
			return 1;
		}
	t1 = now_ns();
	printf("proc_cost: %s n=%ld total_ns=%lld ns_per_op=%.1f\n", argv[1], n, t1 - t0,
	    (double)(t1 - t0) / n);
	return 0;
}
