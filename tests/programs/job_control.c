/* job_control: stop and continue (issue 15's WUNTRACED/WCONTINUED). SIGSTOP and
 * SIGTSTP (SIG_DFL) stop a child, every thread of it; SIGCONT continues it; wait4 and
 * waitid report WIFSTOPPED/WIFCONTINUED (once; WNOWAIT keeps the news); the parent
 * gets SIGCHLD with CLD_STOPPED/CLD_CONTINUED unless SA_NOCLDSTOP; /proc/PID/stat
 * says T; a read blocked across a stop goes on; SIGKILL ends a stopped child; a
 * handled SIGTSTP does not stop. Prints "ALL OK" and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile long *counters; /* shared with the children */
static volatile sig_atomic_t chld_codes[8], chld_status[8], nchld;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (nchld < 8) {
		chld_codes[nchld] = si->si_code;
		chld_status[nchld] = si->si_status;
		nchld++;
	}
}

static void ms(int n)
{
	struct timespec t = {n / 1000, (n % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static void *spin(void *arg)
{
	long i = (long)arg;
	for (;;)
		counters[i]++;
	return NULL;
}

/* Waits (up to 10 s) until both counters have passed a0 and a1: both threads run.
 * Polled, not a fixed sleep: a loaded host may give the guest little time. */
static int both_advance(long a0, long a1)
{
	for (int i = 0; i < 1000; i++) {
		if (counters[0] > a0 && counters[1] > a1)
			return 1;
		ms(10);
	}
	return 0;
}

/* Waits (up to 10 s) until neither counter moves over 100 ms: every thread has
 * parked (the second one at its next return to program code). */
static int both_still(void)
{
	for (int i = 0; i < 100; i++) {
		long a0 = counters[0], a1 = counters[1];
		ms(100);
		if (counters[0] == a0 && counters[1] == a1)
			return 1;
	}
	return 0;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	char st = '?';
	if (fgets(buf, sizeof buf, f)) {
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ')
			st = p[2];
	}
	fclose(f);
	return st;
}

static volatile sig_atomic_t got_tstp, got_cont;
static void on_tstp(int sig) { (void)sig; got_tstp = 1; }
static void on_cont(int sig) { (void)sig; got_cont = 1; }

int main(void)
{
	counters = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(counters != MAP_FAILED);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);

	/* 1. A child with two spinning threads: SIGSTOP stops both, SIGCONT both. */
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, spin, (void *)1);
		spin((void *)0);
	}
	CHECK(c > 0);
	CHECK(both_advance(0, 0));
	int st = 0;
	CHECK(waitpid(c, &st, WNOHANG | WUNTRACED) == 0);
	CHECK(kill(c, SIGSTOP) == 0);
	CHECK(waitpid(c, &st, WUNTRACED) == c);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	printf("stopped status %#x\n", st);
	CHECK(proc_state(c) == 'T');
	CHECK(both_still());
	long a0 = counters[0], a1 = counters[1];
	/* The news is given once; without WUNTRACED a stop is not reported. */
	CHECK(waitpid(c, &st, WNOHANG | WUNTRACED) == 0);
	CHECK(nchld >= 1 && chld_codes[0] == CLD_STOPPED && chld_status[0] == SIGSTOP);
	CHECK(kill(c, SIGCONT) == 0);
	CHECK(waitpid(c, &st, WCONTINUED) == c);
	CHECK(WIFCONTINUED(st));
	CHECK(both_advance(a0, a1));
	CHECK(proc_state(c) == 'R');
	CHECK(nchld >= 2 && chld_codes[1] == CLD_CONTINUED && chld_status[1] == SIGCONT);

	/* 2. waitid: WSTOPPED, WNOWAIT keeps the news, WCONTINUED. */
	CHECK(kill(c, SIGSTOP) == 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, c, &si, WSTOPPED | WNOWAIT) == 0);
	CHECK(si.si_pid == c && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, c, &si, WSTOPPED) == 0);
	CHECK(si.si_pid == c && si.si_code == CLD_STOPPED);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, c, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid == 0);
	CHECK(kill(c, SIGCONT) == 0);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, c, &si, WCONTINUED) == 0);
	CHECK(si.si_pid == c && si.si_code == CLD_CONTINUED && si.si_status == SIGCONT);

	/* 3. SIGKILL ends a stopped child. */
	CHECK(kill(c, SIGSTOP) == 0);
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st));
	CHECK(kill(c, SIGKILL) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* 4. raise(SIGTSTP) stops; a read blocked across a stop and continue goes on. */
	int p[2];
	CHECK(pipe(p) == 0);
	c = fork();
	if (c == 0) {
		close(p[1]);
		raise(SIGTSTP);
		char buf[16];
		ssize_t n = read(p[0], buf, sizeof buf);
		_exit(n == 5 && memcmp(buf, "hello", 5) == 0 ? 42 : 1);
	}
	close(p[0]);
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
	CHECK(kill(c, SIGCONT) == 0);
	ms(50); /* now blocked in read */
	CHECK(kill(c, SIGSTOP) == 0);
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st));
	CHECK(kill(c, SIGCONT) == 0);
	ms(20);
	CHECK(write(p[1], "hello", 5) == 5);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 42);
	close(p[1]);

	/* 5. A handled SIGTSTP does not stop; SIGCONT's handler runs after a stop. */
	c = fork();
	if (c == 0) {
		signal(SIGTSTP, on_tstp);
		signal(SIGCONT, on_cont);
		kill(getpid(), SIGTSTP);
		if (!got_tstp)
			_exit(1);
		kill(getpid(), SIGSTOP);
		/* Continued: the SIGCONT handler has run by now. */
		_exit(got_cont ? 43 : 2);
	}
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	CHECK(kill(c, SIGCONT) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 43);

	/* 6. SA_NOCLDSTOP: no SIGCHLD for stops, wait still reports them. */
	sa.sa_flags |= SA_NOCLDSTOP;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	nchld = 0;
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	CHECK(kill(c, SIGSTOP) == 0);
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st));
	CHECK(kill(c, SIGCONT) == 0);
	CHECK(waitpid(c, &st, WCONTINUED) == c && WIFCONTINUED(st));
	CHECK(nchld == 0);
	CHECK(kill(c, SIGTERM) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK(nchld == 1 && chld_codes[0] == CLD_KILLED);
	return CHECK_DONE();
}
