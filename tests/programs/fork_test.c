/* fork_test: processes inside the unikernel. fork and wait statuses (exit, signal,
 * killed by the parent), copy-on-write isolation both ways (data, heap, stack, a
 * large touched heap), MAP_SHARED memory shared, pipes between processes, WNOHANG,
 * ECHILD, getppid, zombies until reaped, SIGCHLD handlers and SIG_IGN auto-reaping,
 * fork with threads (only the caller is copied), orphans reparented to pid 1 (this
 * program), PR_SET_PDEATHSIG, process groups and kill(-pgid), setsid, vfork sharing
 * memory until _exit, waitid, and a fork bomb that gets EAGAIN.
 * With the argument "cow-oom": a child that copies more memory than is left is
 * killed (SIGKILL, with a report), and the parent goes on. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int global = 1;
static volatile sig_atomic_t got_chld, got_usr1;

static void on_chld(int sig) { (void)sig; got_chld++; }
static void on_usr1(int sig) { (void)sig; got_usr1++; }

static int wait_status(pid_t pid)
{
	int st = -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static volatile int spin_counter;
static void *spinner(void *arg)
{
	(void)arg;
	for (;;) {
		spin_counter++;
		usleep(1000);
	}
	return NULL;
}

static int cow_oom(void)
{
	struct sysinfo si;
	size_t len;
	char *mem;
	pid_t pid;
	int st;

	sysinfo(&si);
	len = (size_t)si.freeram * si.mem_unit / 10 * 6;
	mem = malloc(len);
	CHECK(mem != NULL);
	memset(mem, 1, len);
	printf("touched %zu MiB of %lu MiB free\n", len >> 20,
	    (unsigned long)(si.freeram * si.mem_unit >> 20));
	pid = fork();
	if (pid == 0) {
		volatile char *v = mem;
		for (size_t i = 0; i < len; i += 4096)
			v[i] = 2; /* copies every page: more than is left */
		_exit(v[len / 2] == 2 ? 0 : 1);
	}
	CHECK(pid > 0);
	st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(mem[0] == 1 && mem[len - 1] == 1);
	pid = fork();
	if (pid == 0)
		_exit(mem[len / 2] == 1 ? 0 : 1);
	CHECK(wait_status(pid) == 0);
	return CHECK_DONE();
}

int main(int argc, char **argv)
{
	int st, p[2], q[2];
	pid_t pid, me = getpid();
	char buf[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "cow-oom") == 0)
		return cow_oom();

	/* exit status */
	pid = fork();
	if (pid == 0)
		_exit(42);
	CHECK(pid > 0 && pid != me);
	st = wait_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);

	/* killed by a signal it sent itself, and by the parent */
	pid = fork();
	if (pid == 0) {
		kill(getpid(), SIGTERM);
		_exit(0);
	}
	st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		write(p[1], "r", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	CHECK(read(p[0], buf, 1) == 1);
	CHECK(waitpid(pid, &st, WNOHANG) == 0);
	CHECK(kill(pid, SIGKILL) == 0);
	st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(p[0]);

	/* copy on write, both ways */
	{
		int local = 7;
		char *heap = malloc(100000);
		size_t big = 32 << 20;
		char *large = malloc(big);
		memset(heap, 'h', 100000);
		memset(large, 'L', big);
		pipe(p);
		pipe(q);
		pid = fork();
		if (pid == 0) {
			int ok = global == 1 && local == 7 && heap[5000] == 'h' &&
			    large[big - 1] == 'L' && getppid() == me;
			global = 2;
			local = 8;
			heap[5000] = 'c';
			large[12345] = 'c';
			/* wait until the parent changed its copies */
			read(q[0], buf, 1);
			ok = ok && global == 2 && local == 8 && heap[5000] == 'c' &&
			    heap[6000] == 'h' && large[12345] == 'c' && large[0] == 'L';
			write(p[1], ok ? "Y" : "N", 1);
			_exit(0);
		}
		global = 3;
		local = 9;
		heap[6000] = 'p';
		large[0] = 'p';
		write(q[1], "go", 1);
		CHECK(read(p[0], buf, 1) == 1 && buf[0] == 'Y');
		st = wait_status(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK(global == 3 && local == 9 && heap[5000] == 'h' && heap[6000] == 'p');
		CHECK(large[12345] == 'L' && large[0] == 'p' && large[big - 1] == 'L');
		close(p[0]); close(p[1]); close(q[0]); close(q[1]);
		free(heap);
		free(large);
	}

	/* MAP_SHARED anonymous memory is shared; MAP_PRIVATE is not */
	{
		int *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		int *private = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		shared[0] = 1;
		private[0] = 1;
		pid = fork();
		if (pid == 0) {
			shared[0] = 100;
			shared[1024] = 200; /* a page neither side touched before */
			private[0] = 100;
			_exit(0);
		}
		wait_status(pid);
		CHECK(shared[0] == 100 && shared[1024] == 200);
		CHECK(private[0] == 1);
	}

	/* a pipe between processes: data both ways and end of file */
	pipe(p);
	pipe(q);
	pid = fork();
	if (pid == 0) {
		char b[64];
		ssize_t n, total = 0;
		close(p[1]);
		close(q[0]);
		while ((n = read(p[0], b, sizeof b)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				b[i] = b[i] - 'a' + 'A';
			write(q[1], b, n);
			total += n;
		}
		_exit(total == 26 ? 0 : 1);
	}
	close(p[0]);
	close(q[1]);
	write(p[1], "abcdefghijklm", 13);
	write(p[1], "nopqrstuvwxyz", 13);
	close(p[1]);
	{
		char all[64] = {0};
		ssize_t n, got = 0;
		while ((n = read(q[0], all + got, sizeof all - 1 - got)) > 0)
			got += n;
		CHECK(got == 26 && strcmp(all, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 0);
	}
	close(q[0]);
	st = wait_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* zombies stay until reaped; SIGCHLD reaches a handler */
	signal(SIGCHLD, on_chld);
	got_chld = 0;
	pid = fork();
	if (pid == 0)
		_exit(5);
	while (!got_chld)
		usleep(1000);
	CHECK(kill(pid, 0) == 0); /* a zombie still exists */
	st = wait_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	CHECK(kill(pid, 0) == -1 && errno == ESRCH);

	/* SIGCHLD ignored: children are reaped at once */
	signal(SIGCHLD, SIG_IGN);
	pid = fork();
	if (pid == 0)
		_exit(6);
	usleep(20000);
	CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD);
	signal(SIGCHLD, SIG_DFL);

	/* waitid */
	{
		siginfo_t si;
		pid = fork();
		if (pid == 0)
			_exit(9);
		memset(&si, 0, sizeof si);
		CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
		CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 9);
		memset(&si, 0, sizeof si);
		CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0 && si.si_pid == pid);
		CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 && errno == ECHILD);
	}

	/* fork with threads: the child has only the forking thread */
	{
		pthread_t t;
		pthread_create(&t, NULL, spinner, NULL);
		usleep(5000);
		pid = fork();
		if (pid == 0) {
			int before = spin_counter;
			usleep(30000);
			_exit(spin_counter == before ? 0 : 1);
		}
		st = wait_status(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		int before = spin_counter;
		usleep(20000);
		CHECK(spin_counter != before); /* the parent's thread still runs */
	}

	/* orphans go to pid 1 (this program is pid 1) and get their death signal */
	if (me == 1) {
		pipe(p);
		pid = fork();
		if (pid == 0) {
			pid_t g = fork();
			if (g == 0) {
				signal(SIGUSR1, on_usr1);
				prctl(PR_SET_PDEATHSIG, SIGUSR1);
				write(p[1], "g", 1);
				while (getppid() != 1 || !got_usr1)
					usleep(1000);
				_exit(got_usr1 == 1 ? 33 : 34);
			}
			char c;
			read(p[0], &c, 1);
			_exit(0);
		}
		st = wait_status(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		/* the grandchild is ours now */
		pid_t g = wait(&st);
		CHECK(g > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 33);
		close(p[0]);
		close(p[1]);
	} else {
		printf("note: not pid 1 (%d): orphan test skipped\n", (int)me);
		CHECK(0);
	}

	/* process groups: kill(-pgid) reaches every member; setsid */
	{
		pid_t a, b;
		pipe(p);
		a = fork();
		if (a == 0) {
			setpgid(0, 0);
			write(p[1], "a", 1);
			for (;;)
				pause();
		}
		setpgid(a, a);
		b = fork();
		if (b == 0) {
			setpgid(0, a);
			write(p[1], "b", 1);
			for (;;)
				pause();
		}
		setpgid(b, a);
		read(p[0], buf, 2);
		CHECK(getpgid(a) == a && getpgid(b) == a);
		CHECK(getpgid(0) == getpgrp() && getpgrp() != a);
		CHECK(kill(-a, SIGTERM) == 0);
		st = wait_status(a);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
		st = wait_status(b);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
		close(p[0]);
		close(p[1]);
		CHECK(kill(-a, 0) == -1 && errno == ESRCH);
		pid = fork();
		if (pid == 0)
			_exit(setsid() == getpid() && getsid(0) == getpid() &&
			    getpgrp() == getpid() ? 0 : 1);
		st = wait_status(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	/* vfork: the child borrows our memory until it exits */
	{
		volatile int shared_by_vfork = 0;
		pid = vfork();
		if (pid == 0) {
			shared_by_vfork = 77;
			_exit(3);
		}
		st = wait_status(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
		CHECK(shared_by_vfork == 77);
	}

	/* a fork bomb gets EAGAIN, and everything goes on */
	{
		pid_t kids[2000];
		int n = 0, err = 0;
		pipe(p);
		while (n < 2000) {
			pid = fork();
			if (pid == 0) {
				char c;
				close(p[1]);
				read(p[0], &c, 1); /* until the parent closes the pipe */
				_exit(0);
			}
			if (pid < 0) {
				err = errno;
				break;
			}
			kids[n++] = pid;
		}
		printf("fork bomb: %d children, then errno %d\n", n, err);
		CHECK(n >= 50 && (err == EAGAIN || err == ENOMEM));
		close(p[0]);
		close(p[1]);
		int reaped = 0;
		for (int i = 0; i < n; i++) {
			st = wait_status(kids[i]);
			reaped += WIFEXITED(st) && WEXITSTATUS(st) == 0;
		}
		CHECK(reaped == n);
		pid = fork();
		if (pid == 0)
			_exit(0);
		CHECK(pid > 0 && wait_status(pid) == 0);
	}

	return CHECK_DONE();
}
