#define _GNU_SOURCE
/* exit_blocked_threads: when a program ends (exit_group, a fatal signal, execve)
 * while another of its threads is blocked in a syscall on a descriptor, that
 * descriptor is released as on Linux: the reader of a pipe the blocked thread was
 * writing to sees end of file, the writer of a pipe it was reading from gets EPIPE
 * (asyncio's subprocess tests waited forever for a child's pipe to reach EOF).
 *   1. child: a thread blocks writing 256 KiB to a pipe; main thread _exit(0);
 *   2. the same, the child killed by SIGKILL;
 *   3. child: a thread blocks reading a pipe; main thread exit(0): the parent's
 *      write gets EPIPE;
 *   4. child: a thread blocks in poll() on a pipe's write end (full); the main
 *      thread execs /bin/true-like self (argv "exec-done"): EOF after the exec'd
 *      program ends;
 *   5. the process's threads are gone (the child is reaped) in each case.
 * Each wait is bounded by poll() timeouts, so a regression fails instead of hanging.
 * Prints "ok ..." lines and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static int wfd, rfd;

static void *blocked_writer(void *a)
{
	(void)a;
	static char buf[256 * 1024];
	memset(buf, 'x', sizeof buf);
	write(wfd, buf, sizeof buf); /* fills the pipe, then blocks */
	return NULL;
}

static void *blocked_reader(void *a)
{
	(void)a;
	char c;
	read(rfd, &c, 1); /* nothing comes */
	return NULL;
}

static void *blocked_poller(void *a)
{
	(void)a;
	struct pollfd p = {wfd, POLLOUT, 0};
	poll(&p, 1, -1); /* the pipe is full: never writable */
	return NULL;
}

/* Reads the pipe until EOF, each read waiting at most 5 s; returns the byte count, or
 * -1 if no EOF came. */
static long drain(int fd)
{
	long total = 0;
	char buf[65536];
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) != 1)
			return -1;
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		total += n;
	}
}

/* Child: start `fn` on a thread, let it block, then end as `how` says. */
static void child(void *(*fn)(void *), int how, char *self)
{
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	usleep(200 * 1000);
	if (how == 0)
		_exit(0);
	if (how == 1)
		exit(0);
	if (how == 2) {
		char *argv[] = {self, "exec-done", NULL};
		execv("/proc/self/exe", argv);
		_exit(99);
	}
	pause(); /* killed by the parent */
	_exit(98);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-done") == 0) {
		usleep(100 * 1000);
		return 7;
	}
	signal(SIGPIPE, SIG_IGN);
	int p[2], st;
	pid_t pid;

	/* 1. writer thread, _exit */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	wfd = p[1];
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(blocked_writer, 0, argv[0]);
	}
	close(p[1]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	long got = drain(p[0]);
	CHECK(got == 65536);
	close(p[0]);

	/* 2. writer thread, SIGKILL */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	wfd = p[1];
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(blocked_writer, 3, argv[0]);
	}
	close(p[1]);
	usleep(300 * 1000);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	got = drain(p[0]);
	CHECK(got == 65536);
	close(p[0]);

	/* 3. reader thread, exit: the writer gets EPIPE */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	rfd = p[0];
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		child(blocked_reader, 1, argv[0]);
	}
	close(p[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	errno = 0;
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
	close(p[1]);

	/* 4. poller thread on a full pipe's write end, execve: EOF once the new program
	 * ends (the pipe is close-on-exec) */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	wfd = p[1];
	CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
	static char fill[65536];
	CHECK(write(p[1], fill, sizeof fill) == (ssize_t)sizeof fill);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(blocked_poller, 2, argv[0]);
	}
	close(p[1]);
	got = drain(p[0]);
	CHECK(got == 65536);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	close(p[0]);

	return CHECK_DONE();
}
