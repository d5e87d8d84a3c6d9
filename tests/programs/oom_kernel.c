/* oom_kernel: running out of memory in the kernel's own structures for a process
 * (issue 15: "never a kernel panic"). Each case runs in a child, and the kernel, this
 * parent and the next case go on:
 *   sparse   touching one byte per 2 MiB of a huge mapping costs a page-table frame
 *            per data frame: the child is killed (SIGKILL, with a report) when memory
 *            runs out, and its page tables do not eat the kernel's reserve;
 *   fork     a process whose page tables fill a good part of memory forks again and
 *            again: each fork works or fails with ENOMEM/EAGAIN, never ends the VM;
 *   threads  threads are made until pthread_create fails (EAGAIN/ENOMEM), each
 *            touching a little of its stack;
 *   files    pipes, eventfds and sockets are opened (RLIMIT_NOFILE raised to the
 *            hard limit) until a call fails with an errno, not the VM;
 * (mappings without end: many_maps.c)
 * and afterwards fork, a pipe and malloc work again. Prints "ALL OK" and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MIB (1UL << 20)
#define SPAN (2 * MIB)

static long free_kib(void)
{
	struct sysinfo si;
	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / 1024);
}

/* Touches one byte per 2 MiB of a 1 TiB reservation until `stop_kib` is left (0:
 * without end); returns how many spans it touched. */
static long sparse(long stop_kib)
{
	char *m = mmap(NULL, 1UL << 40, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	long n = 0;
	for (unsigned long off = 0; off < (1UL << 40); off += SPAN) {
		if (stop_kib && (n & 63) == 0 && free_kib() < stop_kib)
			break;
		m[off] = 1;
		n++;
	}
	return n;
}

static int child_status(pid_t pid)
{
	int st = -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static void *idle_thread(void *arg)
{
	volatile char buf[2048];
	buf[0] = 1;
	(void)arg;
	(void)buf[0];
	pause();
	return NULL;
}

int main(void)
{
	long start_kib = free_kib();
	printf("free at start: %ld KiB\n", start_kib);

	/* sparse: killed when memory runs out */
	pid_t c = fork();
	if (c == 0) {
		sparse(0);
		_exit(3);
	}
	int st = child_status(c);
	printf("sparse child: status %#x\n", st);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* fork of a process with big page tables */
	c = fork();
	if (c == 0) {
		long n = sparse(start_kib / 3);
		int ok = 0, nomem = 0, other = 0;
		printf("fork: %ld spans touched, %ld KiB free\n", n, free_kib());
		for (int i = 0; i < 8; i++) {
			pid_t g = fork();
			if (g == 0)
				_exit(7);
			if (g > 0) {
				int gs = child_status(g);
				if (WIFEXITED(gs) && WEXITSTATUS(gs) == 7)
					ok++;
				else
					other++;
			} else if (errno == ENOMEM || errno == EAGAIN) {
				nomem++;
			} else {
				other++;
			}
		}
		printf("fork: %d worked, %d ENOMEM/EAGAIN, %d else\n", ok, nomem, other);
		_exit(other == 0 ? 0 : 4);
	}
	st = child_status(c);
	printf("fork child: status %#x\n", st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* threads until pthread_create fails */
	c = fork();
	if (c == 0) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 * 1024);
		long n = 0;
		int err = 0;
		for (;;) {
			pthread_t t;
			err = pthread_create(&t, &a, idle_thread, NULL);
			if (err != 0)
				break;
			n++;
		}
		printf("threads: %ld made, then error %d (%s)\n", n, err, strerror(err));
		_exit(err == EAGAIN || err == ENOMEM ? 0 : 5);
	}
	st = child_status(c);
	printf("threads child: status %#x\n", st);
	CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));

	/* descriptors until a call fails */
	c = fork();
	if (c == 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		long n = 0;
		int e = 0;
		for (;;) {
			int p[2], sv[2];
			if (pipe(p) != 0 || eventfd(0, 0) < 0 ||
			    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
				e = errno;
				break;
			}
			n++;
		}
		printf("files: %ld rounds, then errno %d (%s)\n", n, e, strerror(e));
		_exit(e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS ? 0 : 6);
	}
	st = child_status(c);
	printf("files child: status %#x\n", st);
	CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));

	/* everything works again */
	long end_kib = free_kib();
	printf("free at the end: %ld KiB\n", end_kib);
	CHECK(end_kib > start_kib * 9 / 10);
	int p[2];
	CHECK(pipe(p) == 0);
	c = fork();
	if (c == 0)
		_exit(write(p[1], "x", 1) == 1 ? 9 : 1);
	st = child_status(c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	char *m = malloc(4 * MIB);
	CHECK(m != NULL);
	if (m)
		memset(m, 1, 4 * MIB);
	return CHECK_DONE();
}
