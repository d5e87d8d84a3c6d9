#define _GNU_SOURCE
/* rt_signals: real-time signals queue, standard ones do not (man 7 signal):
 *   - five sigqueue()s of a blocked SIGRTMIN with values 0..4 are all pending and
 *     sigwaitinfo takes them oldest first, each with SI_QUEUE, our pid and its value;
 *   - two kills of a blocked SIGUSR1 leave one pending;
 *   - lower-numbered real-time signals come first (SIGRTMIN+1 queued before SIGRTMIN
 *     is still taken after it);
 *   - unblocking runs a SA_SIGINFO handler once per queued send, values in order;
 *   - a signalfd reads a queued value (ssi_int);
 *   - sigqueue to another pid gives ESRCH.
 * Prints one "ok:" line per check and "ALL OK". */
#include "check_fatal.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static int got[16], ngot;
static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (ngot < 16 && si->si_code == SI_QUEUE)
		got[ngot++] = si->si_value.sival_int;
}

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask");
	struct timespec none = {0, 0};

	for (int i = 0; i < 5; i++)
		CHECK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i}) == 0,
		      "sigqueue %d: %s", i, strerror(errno));
	for (int i = 0; i < 5; i++) {
		siginfo_t si;
		CHECK(sigtimedwait(&set, &si, &none) == SIGRTMIN, "take %d: %s", i, strerror(errno));
		CHECK(si.si_code == SI_QUEUE && si.si_pid == getpid() && si.si_value.sival_int == i,
		      "queued send %d came back as code %d pid %d value %d", i, si.si_code, si.si_pid,
		      si.si_value.sival_int);
	}
	CHECK(sigtimedwait(&set, NULL, &none) == -1 && errno == EAGAIN, "a sixth SIGRTMIN");
	ok("five queued SIGRTMIN, taken oldest first with SI_QUEUE, pid and value");

	CHECK(kill(getpid(), SIGUSR1) == 0 && kill(getpid(), SIGUSR1) == 0, "kill");
	CHECK(sigtimedwait(&set, NULL, &none) == SIGUSR1, "first SIGUSR1");
	CHECK(sigtimedwait(&set, NULL, &none) == -1 && errno == EAGAIN, "a second SIGUSR1 was pending");
	ok("two kills of a standard signal leave one pending");

	CHECK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 11}) == 0, "queue +1");
	CHECK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 10}) == 0, "queue +0");
	CHECK(sigtimedwait(&set, NULL, &none) == SIGRTMIN, "lowest first");
	CHECK(sigtimedwait(&set, NULL, &none) == SIGRTMIN + 1, "then the next");
	ok("lower-numbered real-time signals are taken first");

	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGRTMIN, &sa, NULL) == 0, "sigaction");
	for (int i = 0; i < 4; i++)
		CHECK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 20 + i}) == 0, "queue");
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	CHECK(sigprocmask(SIG_UNBLOCK, &rt, NULL) == 0, "unblock");
	CHECK(ngot == 4, "the handler ran %d times, want 4", ngot);
	for (int i = 0; i < 4; i++)
		CHECK(got[i] == 20 + i, "handler call %d got %d", i, got[i]);
	CHECK(sigprocmask(SIG_BLOCK, &rt, NULL) == 0, "block again");
	ok("unblocking runs the handler once per queued send, in order");

	int fd = signalfd(-1, &set, 0);
	CHECK(fd >= 0, "signalfd: %s", strerror(errno));
	CHECK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 77}) == 0, "queue 77");
	CHECK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 78}) == 0, "queue 78");
	struct signalfd_siginfo ssi[2];
	CHECK(read(fd, ssi, sizeof ssi) == sizeof ssi, "read two from the signalfd: %s", strerror(errno));
	CHECK(ssi[0].ssi_int == 77 && ssi[1].ssi_int == 78 && ssi[0].ssi_code == SI_QUEUE,
	      "signalfd values %d %d code %d", ssi[0].ssi_int, ssi[1].ssi_int, ssi[0].ssi_code);
	ok("a signalfd reads two queued sends with their values");

	CHECK(sigqueue(getpid() + 1000, SIGRTMIN, (union sigval){.sival_int = 0}) == -1 && errno == ESRCH,
	      "sigqueue to another pid: %s", strerror(errno));
	ok("sigqueue to another pid gives ESRCH");

	printf("ALL OK\n");
	return 0;
}
