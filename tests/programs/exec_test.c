/* exec_test: execve inside the unikernel. Run as `exec_test main PROG...` it forks
 * and execs each PROG (the same program built static, static-pie, musl, dynamic;
 * paths in /bin) and checks exit statuses, argv and environment as the child sees
 * them (through a pipe), then `#!` scripts (with an argument), posix_spawn, vfork +
 * exec, close-on-exec descriptors, handled signals reset (ignored ones stay), re-exec
 * through /proc/self/exe, execveat and fexecve, sched_getscheduler of the parent, and
 * the errors: ENOENT, EACCES (no x bit, a
 * directory), ENOEXEC, E2BIG, ELOOP, each leaving the caller untouched.
 * Other first arguments are the child's roles (see child()). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static int child(int argc, char **argv)
{
	const char *mode = argv[1];

	if (strcmp(mode, "exit") == 0)
		return atoi(argv[2]);
	if (strcmp(mode, "argv") == 0) {
		for (int i = 0; i < argc; i++)
			printf("%s%s", i ? "|" : "", argv[i]);
		printf("\nenv=%s\n", getenv("EXEC_TEST") ? getenv("EXEC_TEST") : "(none)");
		return 0;
	}
	if (strcmp(mode, "fd") == 0) { /* exit 0: fd argv[2] closed, argv[3] open */
		int closed = fcntl(atoi(argv[2]), F_GETFD) == -1 && errno == EBADF;
		int open = fcntl(atoi(argv[3]), F_GETFD) == 0;
		return closed && open ? 0 : 1;
	}
	if (strcmp(mode, "sig") == 0) {
		struct sigaction a1, a2;
		sigaction(SIGUSR1, NULL, &a1);
		sigaction(SIGUSR2, NULL, &a2);
		return a1.sa_handler == SIG_DFL && a2.sa_handler == SIG_IGN ? 0 : 1;
	}
	if (strcmp(mode, "pid") == 0) { /* exec keeps the pid and the parent */
		return getpid() == atoi(argv[2]) && getppid() == atoi(argv[3]) ? 0 : 1;
	}
	printf("exec_test: unknown role %s\n", mode);
	return 100;
}

static int status_of(pid_t pid)
{
	int st = -1;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* fork, exec `path` with `argv` (environment EXEC_TEST=value), collect its stdout
 * into `out` and return its wait status. */
static int run(const char *path, char *const argv[], char *out, size_t outlen)
{
	int p[2];
	char *envp[] = {"EXEC_TEST=value", "OTHER=1", NULL};
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	pipe(p);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execve(path, argv, envp);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < outlen && (n = read(p[0], out + got, outlen - 1 - got)) > 0)
		got += n;
	out[got] = 0;
	close(p[0]);
	return status_of(pid);
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	write(fd, data, strlen(data));
	close(fd);
	chmod(path, mode);
}

int main(int argc, char **argv)
{
	char out[512], expect[512];
	int st;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "main") != 0)
		return child(argc, argv);
	setvbuf(stdout, NULL, _IONBF, 0);

	/* each build of the program: exit status, argv, environment */
	for (int i = 2; i < argc; i++) {
		char *a1[] = {"name0", "exit", "7", NULL};
		char *a2[] = {argv[i], "argv", "two words", "", "x", NULL};
		st = run(argv[i], a1, out, sizeof out);
		printf("%s: status %#x\n", argv[i], st);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
		st = run(argv[i], a2, out, sizeof out);
		snprintf(expect, sizeof expect, "%s|argv|two words||x\nenv=value\n", argv[i]);
		CHECK(st == 0 && strcmp(out, expect) == 0);
		if (strcmp(out, expect) != 0)
			printf("got: %s\n", out);
	}

	/* #! scripts: interpreter with an argument, relative script path */
	mkdir("/tmp/x", 0755);
	snprintf(expect, sizeof expect, "#!%s argv\nignored\n", argv[2]);
	write_file("/tmp/x/script", expect, 0755);
	{
		char *a[] = {"script", "one", "two", NULL};
		st = run("/tmp/x/script", a, out, sizeof out);
		snprintf(expect, sizeof expect, "%s|argv|/tmp/x/script|one|two\nenv=value\n",
		    argv[2]);
		CHECK(st == 0 && strcmp(out, expect) == 0);
		if (strcmp(out, expect) != 0)
			printf("got: %s\n", out);
		chdir("/tmp/x");
		st = run("./script", a, out, sizeof out);
		CHECK(st == 0 && strstr(out, "|argv|/tmp/x/./script|one|two") != NULL);
		chdir("/");
	}

	/* errors, each leaving us as we were */
	{
		char *a[] = {"x", NULL};
		char big[150000];
		char *abig[] = {"x", big, NULL};
		CHECK(execve("/nonexistent", a, environ) == -1 && errno == ENOENT);
		write_file("/tmp/x/nox", "#!/bin/sh\n", 0644);
		CHECK(execve("/tmp/x/nox", a, environ) == -1 && errno == EACCES);
		CHECK(execve("/tmp", a, environ) == -1 && errno == EACCES);
		write_file("/tmp/x/garbage", "this is not a program\n", 0755);
		CHECK(execve("/tmp/x/garbage", a, environ) == -1 && errno == ENOEXEC);
		write_file("/tmp/x/loop", "#!/tmp/x/loop\n", 0755);
		CHECK(execve("/tmp/x/loop", a, environ) == -1 && errno == ELOOP);
		write_file("/tmp/x/nointerp", "#!/no/such/interpreter\n", 0755);
		CHECK(execve("/tmp/x/nointerp", a, environ) == -1 && errno == ENOENT);
		memset(big, 'b', sizeof big - 1);
		big[sizeof big - 1] = 0;
		CHECK(execve(argv[2], abig, environ) == -1 && errno == E2BIG);
		CHECK(getpid() > 0);
	}

	/* close-on-exec descriptors close, others stay */
	{
		int keep = open("/tmp/x/script", O_RDONLY);
		int gone = open("/tmp/x/script", O_RDONLY | O_CLOEXEC);
		char k[16], g[16];
		snprintf(k, sizeof k, "%d", keep);
		snprintf(g, sizeof g, "%d", gone);
		char *a[] = {"x", "fd", g, k, NULL};
		st = run(argv[2], a, out, sizeof out);
		CHECK(st == 0);
		close(keep);
		close(gone);
	}

	/* handled signals go back to SIG_DFL, ignored ones stay ignored */
	{
		struct sigaction sa = {0};
		sa.sa_handler = (void (*)(int))child; /* any handler */
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGUSR2, SIG_IGN);
		char *a[] = {"x", "sig", NULL};
		st = run(argv[2], a, out, sizeof out);
		CHECK(st == 0);
		signal(SIGUSR1, SIG_DFL);
		signal(SIGUSR2, SIG_DFL);
	}

	/* exec keeps the pid and the parent */
	{
		char p1[16], p2[16];
		int p[2];
		pipe(p);
		pid = fork();
		if (pid == 0) {
			snprintf(p1, sizeof p1, "%d", getpid());
			snprintf(p2, sizeof p2, "%d", getppid());
			char *a[] = {"x", "pid", p1, p2, NULL};
			execv(argv[2], a);
			_exit(127);
		}
		CHECK(status_of(pid) == 0);
		close(p[0]);
		close(p[1]);
	}

	/* posix_spawn, and vfork + exec */
	for (int i = 2; i < argc; i++) {
		char *a[] = {"x", "exit", "9", NULL};
		CHECK(posix_spawn(&pid, argv[i], NULL, NULL, a, environ) == 0);
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
		pid = vfork();
		if (pid == 0) {
			execv(argv[i], a);
			_exit(127);
		}
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	}
	{
		char *a[] = {"x", NULL};
		int err = posix_spawn(&pid, "/nonexistent", NULL, NULL, a, environ);
		/* the vfork child shares our memory: glibc reads its errno from there,
		 * musl from a pipe */
		CHECK(err == ENOENT);
	}

	/* /proc/self/exe re-executes this program; execveat relative to a dirfd */
	{
		char *a[] = {"self", "exit", "55", NULL};
		st = run("/proc/self/exe", a, out, sizeof out);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 55);
		int dir = open("/bin", O_RDONLY | O_DIRECTORY);
		const char *base = strrchr(argv[2], '/') + 1;
		pid = fork();
		if (pid == 0) {
			char *e[] = {NULL};
			syscall(SYS_execveat, dir, base, a, e, 0);
			_exit(127);
		}
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 55);
		close(dir);
		/* fexecve: execveat(fd, "", AT_EMPTY_PATH) on a file opened for reading */
		int fd = open(argv[2], O_RDONLY);
		CHECK(fd >= 0);
		pid = fork();
		if (pid == 0) {
			fexecve(fd, a, environ);
			_exit(127);
		}
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 55);
		close(fd);
	}

	/* The scheduling calls accept another process's pid (the child asks about its
	 * parent, as CPython's test_posix does), and a missing one is ESRCH. Raw
	 * syscalls: musl's wrappers return ENOSYS without asking the kernel. */
	pid = fork();
	if (pid == 0) {
		struct sched_param sp;
		errno = 0;
		if (syscall(SYS_sched_getscheduler, 999999) != -1 || errno != ESRCH)
			_exit(1);
		if (syscall(SYS_sched_getscheduler, getppid()) != SCHED_OTHER)
			_exit(2);
		_exit(syscall(SYS_sched_getparam, getppid(), &sp) == 0 ? 0 : 3);
	}
	st = status_of(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	return CHECK_DONE();
}
