/* signal_test: signal delivery within the program. Each argument names one subtest;
 * each prints "<name>: ok" when its checks pass, or "<name>: FAIL ..." and exits 1.
 * "sigterm" ends the program with SIGTERM's default action (status 143). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define CHECK(name, cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("%s: FAIL line %d: %s (errno %d)\n", name,      \
			    __LINE__, #cond, errno);                           \
			exit(1);                                               \
		}                                                              \
	} while (0)

static volatile sig_atomic_t hits;
static volatile int got_sig, got_code, got_pid;
static void *volatile got_addr;
static volatile uintptr_t got_rip, got_rsp, got_local, got_frame;
static volatile long got_tid;
static sigjmp_buf jump;

static void
install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		printf("sigaction(%d): FAIL errno %d\n", sig, errno);
		exit(1);
	}
	/* each subtest starts with its signal unblocked */
	sigaddset(&sa.sa_mask, sig);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
record(int sig, siginfo_t *si, void *ctx)
{
	volatile int local = 0;
	ucontext_t *uc = ctx;
	hits++;
	got_sig = si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_addr = si->si_addr;
	got_rip = uc->uc_mcontext.gregs[REG_RIP];
	got_rsp = uc->uc_mcontext.gregs[REG_RSP];
	got_local = (uintptr_t)&local;
	got_frame = (uintptr_t)__builtin_frame_address(0);
	got_tid = syscall(SYS_gettid);
	(void)sig;
}

extern char __executable_start[], etext[];

static void
t_raise(void)
{
	volatile int marker = 0;
	install(SIGUSR1, record, 0);
	hits = 0;
	CHECK("raise", raise(SIGUSR1) == 0);
	CHECK("raise", hits == 1);
	CHECK("raise", got_sig == SIGUSR1);
	CHECK("raise", got_code == SI_TKILL);
	CHECK("raise", got_pid == getpid());
	/* ucontext: the interrupted rip is in the program's code, rsp on this stack
	 * below our locals; the handler ran below the red zone, aligned like a call. */
	CHECK("raise", got_rip >= (uintptr_t)__executable_start && got_rip < (uintptr_t)etext);
	CHECK("raise", got_rsp < (uintptr_t)&marker && (uintptr_t)&marker - got_rsp < 65536);
	CHECK("raise", got_local < got_rsp - 128);
	CHECK("raise", got_frame % 16 == 0);
	/* kill() to ourselves: SI_USER */
	CHECK("raise", kill(getpid(), SIGUSR1) == 0);
	CHECK("raise", hits == 2 && got_code == SI_USER && got_pid == getpid());
	printf("raise: ok\n");
}

static char altbuf[65536] __attribute__((aligned(16)));
static volatile int alt_flags, alt_eperm;

static void
on_alt(int sig, siginfo_t *si, void *ctx)
{
	stack_t cur, other;
	record(sig, si, ctx);
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
	other.ss_sp = altbuf;
	other.ss_size = 8192;
	other.ss_flags = 0;
	alt_eperm = sigaltstack(&other, NULL) == -1 && errno == EPERM;
}

static void
t_altstack(void)
{
	stack_t ss, old;
	ss.ss_sp = altbuf;
	ss.ss_size = 1024;
	ss.ss_flags = 0;
	CHECK("altstack", sigaltstack(&ss, NULL) == -1 && errno == ENOMEM);
	ss.ss_size = sizeof altbuf;
	CHECK("altstack", sigaltstack(&ss, &old) == 0);
	CHECK("altstack", old.ss_flags == SS_DISABLE);
	install(SIGUSR2, on_alt, SA_ONSTACK);
	hits = 0;
	raise(SIGUSR2);
	CHECK("altstack", hits == 1);
	CHECK("altstack", got_local >= (uintptr_t)altbuf && got_local < (uintptr_t)altbuf + sizeof altbuf);
	CHECK("altstack", alt_flags == SS_ONSTACK);
	CHECK("altstack", alt_eperm);
	CHECK("altstack", sigaltstack(NULL, &old) == 0);
	CHECK("altstack", old.ss_flags == 0 && old.ss_sp == altbuf && old.ss_size == sizeof altbuf);
	/* without SA_ONSTACK the handler stays on the normal stack */
	install(SIGUSR2, record, 0);
	raise(SIGUSR2);
	CHECK("altstack", hits == 2);
	CHECK("altstack", !(got_local >= (uintptr_t)altbuf && got_local < (uintptr_t)altbuf + sizeof altbuf));
	ss.ss_flags = SS_DISABLE;
	CHECK("altstack", sigaltstack(&ss, NULL) == 0);
	CHECK("altstack", sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE);
	printf("altstack: ok\n");
}

static void
jump_out(int sig, siginfo_t *si, void *ctx)
{
	record(sig, si, ctx);
	siglongjmp(jump, 1);
}

static void
t_segv_longjmp(void)
{
	volatile int *volatile p = NULL;
	install(SIGSEGV, jump_out, 0);
	hits = 0;
	for (int round = 0; round < 2; round++) {
		if (sigsetjmp(jump, 1) == 0) {
			*p = 42;
			CHECK("segv_longjmp", !"the NULL write did not fault");
		}
		CHECK("segv_longjmp", hits == round + 1);
		CHECK("segv_longjmp", got_sig == SIGSEGV && got_code == SEGV_MAPERR);
		CHECK("segv_longjmp", got_addr == NULL);
	}
	printf("segv_longjmp: ok\n");
}

static char *volatile guarded;

static void
unprotect(int sig, siginfo_t *si, void *ctx)
{
	record(sig, si, ctx);
	if (mprotect(guarded, 4096, PROT_READ | PROT_WRITE) != 0)
		_exit(3);
}

static void
t_segv_mprotect(void)
{
	guarded = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("segv_mprotect", guarded != MAP_FAILED);
	install(SIGSEGV, unprotect, 0);
	hits = 0;
	guarded[100] = 7;
	CHECK("segv_mprotect", hits == 1);
	CHECK("segv_mprotect", got_code == SEGV_ACCERR);
	CHECK("segv_mprotect", got_addr == guarded + 100);
	CHECK("segv_mprotect", guarded[100] == 7);
	printf("segv_mprotect: ok\n");
}

static void
t_fpe(void)
{
	volatile int zero = 0, x = 1;
	install(SIGFPE, jump_out, 0);
	hits = 0;
	if (sigsetjmp(jump, 1) == 0) {
		x = x / zero;
		CHECK("fpe", !"the division did not fault");
	}
	CHECK("fpe", hits == 1 && got_sig == SIGFPE && got_code == FPE_INTDIV);
	printf("fpe: ok\n");
}

static void
t_pending(void)
{
	sigset_t set, pend;
	install(SIGUSR2, record, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	CHECK("pending", sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	raise(SIGUSR2);
	CHECK("pending", hits == 0);
	CHECK("pending", sigpending(&pend) == 0 && sigismember(&pend, SIGUSR2));
	/* SIGKILL and SIGSTOP cannot be blocked */
	sigset_t all, cur;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &cur);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK("pending", !sigismember(&cur, SIGKILL) && !sigismember(&cur, SIGSTOP));
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	CHECK("pending", hits == 1 && got_sig == SIGUSR2);
	CHECK("pending", sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR2));
	printf("pending: ok\n");
}

static void
t_sigtimedwait(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec ts = {1, 0};
	install(SIGUSR1, record, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	CHECK("sigtimedwait", sigtimedwait(&set, &si, &ts) == SIGUSR1);
	CHECK("sigtimedwait", si.si_signo == SIGUSR1);
	CHECK("sigtimedwait", hits == 0);
	ts.tv_sec = 0;
	ts.tv_nsec = 100000000;
	double t0 = now();
	CHECK("sigtimedwait", sigtimedwait(&set, &si, &ts) == -1 && errno == EAGAIN);
	double dt = now() - t0;
	CHECK("sigtimedwait", dt >= 0.09 && dt < 2);
	printf("sigtimedwait: ok (%.0f ms)\n", dt * 1000);
}

static void
t_sigsuspend(void)
{
	sigset_t set, empty, cur;
	install(SIGUSR1, record, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	CHECK("sigsuspend", hits == 0);
	sigemptyset(&empty);
	CHECK("sigsuspend", sigsuspend(&empty) == -1 && errno == EINTR);
	CHECK("sigsuspend", hits == 1);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK("sigsuspend", sigismember(&cur, SIGUSR1));
	printf("sigsuspend: ok\n");
}

static void
t_alarm(void)
{
	install(SIGALRM, record, 0);
	hits = 0;
	double t0 = now();
	CHECK("alarm", alarm(1) == 0);
	CHECK("alarm", pause() == -1 && errno == EINTR);
	double dt = now() - t0;
	CHECK("alarm", hits == 1 && got_sig == SIGALRM);
	CHECK("alarm", dt >= 0.95 && dt < 3);
	CHECK("alarm", alarm(10) == 0);
	CHECK("alarm", alarm(0) == 10);
	printf("alarm: ok (%.2f s)\n", dt);
}

static void
t_itimer(void)
{
	struct itimerval it, old;
	install(SIGALRM, record, 0);
	hits = 0;
	memset(&it, 0, sizeof it);
	it.it_value.tv_usec = 50000;
	it.it_interval.tv_usec = 50000;
	double t0 = now();
	CHECK("itimer", setitimer(ITIMER_REAL, &it, NULL) == 0);
	while (hits < 3)
		pause();
	/* also while spinning: delivered on the way back from the timer interrupt */
	while (hits < 6)
		;
	double dt = now() - t0;
	CHECK("itimer", getitimer(ITIMER_REAL, &old) == 0);
	CHECK("itimer", old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 50000);
	memset(&it, 0, sizeof it);
	CHECK("itimer", setitimer(ITIMER_REAL, &it, &old) == 0);
	CHECK("itimer", old.it_interval.tv_usec == 50000);
	CHECK("itimer", getitimer(ITIMER_REAL, &old) == 0);
	CHECK("itimer", old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0);
	CHECK("itimer", dt >= 0.25 && dt < 3);
	printf("itimer: ok (%d signals in %.2f s)\n", (int)hits, dt);
}

/* ITIMER_VIRTUAL and ITIMER_PROF are accepted (disarmed, they read back zero; how
 * they fire is tests/programs/itimer_cpu.c); an unknown timer is EINVAL */
static void
t_itimer_other(void)
{
	struct itimerval it;
	memset(&it, 0, sizeof it);
	CHECK("itimer_other", setitimer(ITIMER_VIRTUAL, &it, NULL) == 0);
	CHECK("itimer_other", getitimer(ITIMER_PROF, &it) == 0 && it.it_value.tv_sec == 0 &&
	    it.it_value.tv_usec == 0);
	CHECK("itimer_other", setitimer(3, &it, NULL) == -1 && errno == EINVAL);
	CHECK("itimer_other", getitimer(3, &it) == -1 && errno == EINVAL);
	printf("itimer_other: ok\n");
}

static volatile long sleeper_tid;

static void *
sleeper(void *arg)
{
	struct timespec req = {5, 0}, rem = {0, 0};
	sleeper_tid = syscall(SYS_gettid);
	int r = nanosleep(&req, &rem);
	int e = errno;
	CHECK("thread_eintr", r == -1 && e == EINTR);
	CHECK("thread_eintr", rem.tv_sec >= 3 && rem.tv_sec <= 5);
	CHECK("thread_eintr", hits == 1 && got_tid == sleeper_tid);
	(void)arg;
	return (void *)42;
}

static void
t_thread_eintr(void)
{
	pthread_t t;
	void *ret;
	struct timespec pause_ts = {0, 100000000};
	install(SIGUSR1, record, 0);
	hits = 0;
	CHECK("thread_eintr", pthread_create(&t, NULL, sleeper, NULL) == 0);
	nanosleep(&pause_ts, NULL);
	double t0 = now();
	CHECK("thread_eintr", pthread_kill(t, SIGUSR1) == 0);
	CHECK("thread_eintr", pthread_join(t, &ret) == 0 && ret == (void *)42);
	CHECK("thread_eintr", now() - t0 < 2);
	CHECK("thread_eintr", got_tid != syscall(SYS_gettid));
	printf("thread_eintr: ok\n");
}

static volatile int futex_word, waiter_result = 99, waiter_errno, waiter_done;

static void *
futex_waiter(void *arg)
{
	long r = syscall(SYS_futex, &futex_word, 128 /* FUTEX_WAIT_PRIVATE */, 0, NULL, NULL, 0);
	waiter_errno = errno;
	waiter_result = (int)r;
	waiter_done = 1;
	(void)arg;
	return NULL;
}

/* futex wait without timeout: SA_RESTART restarts it after the handler; without it,
 * the wait ends with EINTR. */
static void
t_restart(void)
{
	struct timespec ms100 = {0, 100000000};
	for (int restart = 1; restart >= 0; restart--) {
		pthread_t t;
		futex_word = 0;
		waiter_done = 0;
		install(SIGUSR2, record, restart ? SA_RESTART : 0);
		hits = 0;
		CHECK("restart", pthread_create(&t, NULL, futex_waiter, NULL) == 0);
		nanosleep(&ms100, NULL);
		CHECK("restart", pthread_kill(t, SIGUSR2) == 0);
		nanosleep(&ms100, NULL);
		CHECK("restart", hits == 1);
		if (restart) {
			CHECK("restart", !waiter_done);
			futex_word = 1;
			syscall(SYS_futex, &futex_word, 129 /* FUTEX_WAKE_PRIVATE */, 1, NULL, NULL, 0);
		}
		CHECK("restart", pthread_join(t, NULL) == 0);
		if (restart)
			CHECK("restart", waiter_result == 0);
		else
			CHECK("restart", waiter_result == -1 && waiter_errno == EINTR);
	}
	printf("restart: ok\n");
}

static volatile int nodefer_blocked = -1;

static void
check_mask(int sig, siginfo_t *si, void *ctx)
{
	sigset_t cur;
	record(sig, si, ctx);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	nodefer_blocked = sigismember(&cur, sig);
}

/* SA_RESETHAND: the disposition is back to SIG_DFL after one delivery; SA_NODEFER:
 * the signal is not blocked inside its handler (it is without the flag). */
static void
t_flags(void)
{
	struct sigaction now_sa;
	install(SIGUSR1, check_mask, SA_RESETHAND | SA_NODEFER);
	hits = 0;
	raise(SIGUSR1);
	CHECK("flags", hits == 1 && nodefer_blocked == 0);
	CHECK("flags", sigaction(SIGUSR1, NULL, &now_sa) == 0 && now_sa.sa_handler == SIG_DFL);
	install(SIGUSR1, check_mask, 0);
	raise(SIGUSR1);
	CHECK("flags", hits == 2 && nodefer_blocked == 1);
	/* SIG_IGN: nothing happens */
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	CHECK("flags", hits == 2);
	printf("flags: ok\n");
}

/* ppoll, pselect, epoll_pwait and epoll_pwait2 wait with their own signal mask:
 * SIGALRM, blocked in the thread, interrupts them when their mask lets it in; the
 * handler runs, and the thread's mask (SIGALRM blocked) is back afterwards. A mask
 * that blocks the signal keeps it pending through the wait. */
static void
arm_alarm_ms(int ms)
{
	struct itimerval it = {{0, 0}, {0, ms * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

enum { PW_PPOLL, PW_PSELECT, PW_EPOLL_PWAIT, PW_EPOLL_PWAIT2 };

static int
pwait(int how, int fd, int ep, int timeout_ms, const sigset_t *mask)
{
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
	struct pollfd pf = {fd, POLLIN, 0};
	struct epoll_event ev;
	fd_set r;
	switch (how) {
	case PW_PPOLL:
		return ppoll(&pf, 1, &ts, mask);
	case PW_PSELECT:
		FD_ZERO(&r);
		FD_SET(fd, &r);
		return pselect(fd + 1, &r, NULL, NULL, &ts, mask);
	case PW_EPOLL_PWAIT:
		return epoll_pwait(ep, &ev, 1, timeout_ms, mask);
	default: /* no wrapper in older C libraries */
		return syscall(441, ep, &ev, 1, &ts, mask, 8);
	}
}

static void
t_pwait_mask(void)
{
	static const char *names[] = {"ppoll", "pselect", "epoll_pwait", "epoll_pwait2"};
	sigset_t alrm, empty, cur;
	int p[2];
	install(SIGALRM, record, 0);
	sigemptyset(&empty);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	CHECK("pwait_mask", pipe(p) == 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	CHECK("pwait_mask", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	for (int how = PW_PPOLL; how <= PW_EPOLL_PWAIT2; how++) {
		/* SIGALRM blocked; the wait's empty mask lets it in. */
		sigprocmask(SIG_BLOCK, &alrm, NULL);
		hits = 0;
		arm_alarm_ms(20);
		double t0 = now();
		int r = pwait(how, p[0], ep, 5000, &empty);
		if (!(r == -1 && errno == EINTR && hits == 1 && now() - t0 < 4)) {
			printf("pwait_mask: FAIL %s with an empty mask: r %d errno %d hits %d\n",
			    names[how], r, errno, (int)hits);
			exit(1);
		}
		sigprocmask(SIG_BLOCK, NULL, &cur);
		CHECK(names[how], sigismember(&cur, SIGALRM));
		/* SIGALRM unblocked; the wait's mask blocks it: a timeout, then the
		 * pending signal is delivered once the old mask is back. */
		sigprocmask(SIG_UNBLOCK, &alrm, NULL);
		hits = 0;
		arm_alarm_ms(10);
		r = pwait(how, p[0], ep, 100, &alrm);
		CHECK(names[how], r == 0);
		CHECK(names[how], hits == 1);
		/* NULL mask: the thread's own mask applies (SIGALRM unblocked). */
		hits = 0;
		arm_alarm_ms(10);
		r = pwait(how, p[0], ep, 5000, NULL);
		CHECK(names[how], r == -1 && errno == EINTR && hits == 1);
	}
	close(ep);
	close(p[0]);
	close(p[1]);
	printf("pwait_mask: ok\n");
}

/* signalfd: blocked signals read as data, with poll/epoll readiness and a blocking
 * read that a signal from another thread ends; their handler never runs. */
static void *
kill_later(void *arg)
{
	(void)arg;
	usleep(20000);
	kill(getpid(), SIGUSR2);
	return NULL;
}

static void
t_signalfd(void)
{
	sigset_t set;
	struct signalfd_siginfo si[2];
	install(SIGUSR1, record, 0);
	install(SIGUSR2, record, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK("signalfd", sfd >= 0);
	CHECK("signalfd", read(sfd, si, sizeof si) == -1 && errno == EAGAIN);
	struct pollfd pf = {sfd, POLLIN, 0};
	CHECK("signalfd", poll(&pf, 1, 0) == 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET}, got;
	CHECK("signalfd", epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == 0);
	raise(SIGUSR1);
	CHECK("signalfd", poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN));
	CHECK("signalfd", epoll_wait(ep, &got, 1, 0) == 1);
	CHECK("signalfd", epoll_wait(ep, &got, 1, 0) == 0); /* edge-triggered */
	CHECK("signalfd", read(sfd, si, sizeof si) == (ssize_t)sizeof si[0]);
	CHECK("signalfd", si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL);
	CHECK("signalfd", poll(&pf, 1, 0) == 0 && hits == 0);
	/* the set can be changed; a blocking read waits for a kill from a thread */
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	CHECK("signalfd", signalfd(sfd, &set, 0) == sfd);
	int fl = fcntl(sfd, F_GETFL);
	CHECK("signalfd", fcntl(sfd, F_SETFL, fl & ~O_NONBLOCK) == 0);
	pthread_t t;
	pthread_create(&t, NULL, kill_later, NULL);
	CHECK("signalfd", read(sfd, si, sizeof si) == (ssize_t)sizeof si[0]);
	CHECK("signalfd", si[0].ssi_signo == SIGUSR2 && si[0].ssi_code == SI_USER &&
	    si[0].ssi_pid == (uint32_t)getpid());
	pthread_join(t, NULL);
	CHECK("signalfd", hits == 0);
	close(ep);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("signalfd: ok\n");
}

static void
t_sigterm(void)
{
	printf("sigterm: sending SIGTERM to myself\n");
	fflush(stdout);
	kill(getpid(), SIGTERM);
	printf("sigterm: FAIL still alive\n");
	exit(1);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
    {"raise", t_raise},
    {"altstack", t_altstack},
    {"segv_longjmp", t_segv_longjmp},
    {"segv_mprotect", t_segv_mprotect},
    {"fpe", t_fpe},
    {"pending", t_pending},
    {"sigtimedwait", t_sigtimedwait},
    {"sigsuspend", t_sigsuspend},
    {"alarm", t_alarm},
    {"itimer", t_itimer},
    {"itimer_other", t_itimer_other},
    {"thread_eintr", t_thread_eintr},
    {"restart", t_restart},
    {"flags", t_flags},
    {"pwait_mask", t_pwait_mask},
    {"signalfd", t_signalfd},
    {"sigterm", t_sigterm},
};

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		size_t k;
		for (k = 0; k < sizeof tests / sizeof tests[0]; k++) {
			if (strcmp(argv[i], tests[k].name) == 0) {
				tests[k].fn();
				break;
			}
		}
		if (k == sizeof tests / sizeof tests[0]) {
			printf("unknown test %s\n", argv[i]);
			return 2;
		}
	}
	printf("signal_test: done\n");
	return 0;
}
