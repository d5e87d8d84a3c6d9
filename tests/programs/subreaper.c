/* subreaper: prctl(PR_SET_CHILD_SUBREAPER). A process S that made itself a subreaper
 * forks A, A forks B, B forks C. B ends while A still runs: C goes to S (the nearest
 * subreaper ancestor, past A, which is none), and getppid in C says so. Then A ends:
 * its zombie child B goes to S too. S reaps A, B and C with wait, each with its own
 * status. PR_GET_CHILD_SUBREAPER reads 1 in S and 0 in its children (fork does not
 * pass it on); it stays set over execve. Prints "ALL OK" and exits 0 (also on Linux). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int get_subreaper(void)
{
	int v = -1;
	if (prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0) != 0)
		return -2;
	return v;
}

/* Waits up to 5 s for getppid() to stop being `old`; the new parent. */
static pid_t ppid_change(pid_t old)
{
	for (int i = 0; i < 5000; i++) {
		pid_t p = getppid();
		if (p != old)
			return p;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return old;
}

/* The subreaper's part; returns its exit status (0: all good). */
static int subreaper(void)
{
	if (get_subreaper() != 0)
		return 20;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 || get_subreaper() != 1)
		return 21;
	pid_t s = getpid();
	int report[2], go_a[2];
	if (pipe(report) != 0 || pipe(go_a) != 0)
		return 22;
	pid_t a = fork();
	if (a == 0) {
		/* A: not a subreaper; forks B, waits until told, then ends */
		if (get_subreaper() != 0)
			_exit(30);
		pid_t b = fork();
		if (b == 0) {
			pid_t bpid = getpid();
			pid_t c = fork();
			if (c == 0) {
				/* C: its parent B ends; it goes to S, past A */
				pid_t msg[2] = { getpid(), ppid_change(bpid) };
				if (write(report[1], msg, sizeof msg) != sizeof msg)
					_exit(41);
				_exit(44);
			}
			/* B: tells S who C is, then ends while A still runs */
			pid_t msg[2] = { c, 0 };
			if (write(report[1], msg, sizeof msg) != sizeof msg)
				_exit(51);
			_exit(55);
		}
		char x;
		if (read(go_a[0], &x, 1) != 1)
			_exit(31);
		/* A ends without reaping B: B's zombie goes to S */
		pid_t msg[2] = { b, 0 };
		if (write(report[1], msg, sizeof msg) != sizeof msg)
			_exit(32);
		_exit(33);
	}
	close(report[1]);
	/* B names C; then C tells its new parent */
	pid_t m[2];
	if (read(report[0], m, sizeof m) != sizeof m)
		return 23;
	pid_t c = m[0];
	if (read(report[0], m, sizeof m) != sizeof m)
		return 24;
	printf("S %d: C %d now has parent %d\n", (int)s, (int)m[0], (int)m[1]);
	if (m[0] != c || m[1] != s)
		return 25;
	/* let A go; it names B */
	if (write(go_a[1], "g", 1) != 1)
		return 26;
	if (read(report[0], m, sizeof m) != sizeof m)
		return 27;
	pid_t b = m[0];
	/* reap all three: A (33), B (55), C (44) */
	int seen = 0;
	for (int i = 0; i < 3; i++) {
		int st = 0;
		pid_t w = wait(&st);
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		printf("S: reaped %d with status %d\n", (int)w, code);
		if (w == a && code == 33)
			seen |= 1;
		else if (w == b && code == 55)
			seen |= 2;
		else if (w == c && code == 44)
			seen |= 4;
		else
			return 28;
	}
	if (seen != 7)
		return 29;
	errno = 0;
	if (wait(NULL) != -1 || errno != ECHILD)
		return 35;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-check") == 0)
		return get_subreaper() == 1 ? 0 : 1;

	/* bad pointer: EFAULT */
	errno = 0;
	CHECK(prctl(PR_GET_CHILD_SUBREAPER, (int *)8, 0, 0, 0) == -1 && errno == EFAULT);

	fflush(stdout);
	pid_t s = fork();
	if (s == 0) {
		int r = subreaper();
		fflush(stdout);
		_exit(r);
	}
	int st = 0;
	CHECK(waitpid(s, &st, 0) == s);
	printf("subreaper: status %#x\n", st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* the flag stays over execve */
	pid_t x = fork();
	if (x == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		char *args[] = { argv[0], "exec-check", NULL };
		execv("/proc/self/exe", args);
		_exit(2);
	}
	CHECK(waitpid(x, &st, 0) == x);
	printf("after execve: status %#x\n", st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the main program was no subreaper: still 0, and it can be cleared again */
	CHECK(get_subreaper() == 0);
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 && get_subreaper() == 1);
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) == 0 && get_subreaper() == 0);
	return CHECK_DONE();
}
