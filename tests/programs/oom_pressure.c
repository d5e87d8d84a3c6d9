/* oom_pressure: processes when memory runs out. A child that touches memory without
 * end is killed (SIGKILL in its wait status) and the rest goes on; while another child
 * holds nearly all free memory, fork, exec, mmap and pipes either work or fail with
 * ENOMEM/EAGAIN (never a hang or a kernel panic), and once that child is gone
 * everything works again. Prints "ALL OK" and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MIB (1L << 20)

static long free_kib(void)
{
	struct sysinfo si;
	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / 1024);
}

/* Touches 1 MiB chunks until `stop_kib` of memory is left (0: without end). */
static void fill(long stop_kib)
{
	for (;;) {
		if (stop_kib && free_kib() < stop_kib)
			return;
		char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED)
			continue; /* address space is not what runs out */
		for (long i = 0; i < MIB; i += 4096)
			p[i] = (char)i;
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "noop") == 0)
		return 7;

	/* 1. A child that wants all the memory is killed; the parent goes on. */
	pid_t hog = fork();
	if (hog == 0) {
		fill(0);
		_exit(0);
	}
	CHECK(hog > 0);
	int st = 0;
	CHECK(waitpid(hog, &st, 0) == hog);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	printf("hog status %#x\n", st);

	/* 2. A child holds all but a few MiB; the parent tries everything. */
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t holder = fork();
	if (holder == 0) {
		fill(4096);
		write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	CHECK(holder > 0);
	close(ready[1]);
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	printf("free while held: %ld KiB\n", free_kib());
	int forks_ok = 0, forks_refused = 0, other = 0;
	for (int i = 0; i < 20; i++) {
		pid_t p = fork();
		if (p == 0) {
			/* Touch a little more than is left: killed or fine. */
			fill(1);
			_exit(0);
		}
		if (p > 0) {
			forks_ok++;
			int s;
			if (waitpid(p, &s, 0) != p ||
			    !((WIFEXITED(s) && WEXITSTATUS(s) == 0) ||
			      (WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL)))
				other++;
		} else if (errno == ENOMEM || errno == EAGAIN) {
			forks_refused++;
		} else {
			other++;
		}
	}
	printf("forks: %d ran, %d refused\n", forks_ok, forks_refused);
	CHECK(other == 0);
	/* Pipes filled to their capacity: the kernel holds their data. */
	static int fds[64][2];
	static char buf[65536];
	int pipes = 0, pipes_bad = 0;
	long piped = 0;
	for (int i = 0; i < 64; i++) {
		if (pipe2(fds[pipes], O_NONBLOCK) != 0) {
			if (errno != ENOMEM && errno != EMFILE && errno != ENFILE)
				pipes_bad++;
			continue;
		}
		ssize_t n = write(fds[pipes][1], buf, sizeof buf);
		if (n > 0)
			piped += n;
		else if (errno != EAGAIN && errno != ENOMEM)
			pipes_bad++;
		pipes++;
	}
	printf("pipes: %d made, %ld KiB in them\n", pipes, piped / 1024);
	for (int i = 0; i < pipes; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	CHECK(pipes_bad == 0);
	pid_t ex = fork();
	if (ex == 0) {
		execl("/proc/self/exe", argv[0], "noop", (char *)NULL);
		_exit(errno == ENOMEM ? 12 : 99);
	}
	if (ex > 0) {
		CHECK(waitpid(ex, &st, 0) == ex);
		printf("exec under pressure: status %#x\n", st);
		CHECK((WIFEXITED(st) && (WEXITSTATUS(st) == 7 || WEXITSTATUS(st) == 12)) ||
		      (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
	} else {
		CHECK(errno == ENOMEM || errno == EAGAIN);
	}

	/* 3. The holder goes: everything works again. */
	CHECK(kill(holder, SIGKILL) == 0);
	CHECK(waitpid(holder, &st, 0) == holder && WIFSIGNALED(st));
	ex = fork();
	if (ex == 0) {
		execl("/proc/self/exe", argv[0], "noop", (char *)NULL);
		_exit(99);
	}
	CHECK(ex > 0);
	CHECK(waitpid(ex, &st, 0) == ex && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	char *p = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		memset(p, 1, 8 * MIB);
		CHECK(p[8 * MIB - 1] == 1);
	}
	return CHECK_DONE();
}
