/* tty_jobs: the console's job control (issue 15), as Linux's tty layer does it.
 * Once this program has made its group the console's foreground group (tcsetpgrp),
 * a child in a background group that reads the console is stopped by SIGTTIN (and
 * reads once continued in the foreground), gets EIO when it ignores or blocks
 * SIGTTIN, and writes freely unless TOSTOP is set (then SIGTTOU stops it; an ignored
 * SIGTTOU lets the write through); tcsetpgrp and tcsetattr from the background get
 * SIGTTOU. A background group that is orphaned (its parent gone; the child adopted
 * by pid 1) gets EIO instead of SIGTTIN and is not stopped by SIGTSTP, and a group
 * orphaned while a member is stopped gets SIGHUP and SIGCONT (POSIX): a handler sees
 * both, and without one SIGHUP ends it. Prints "ALL OK" and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void ms(int n)
{
	struct timespec t = {n / 1000, (n % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* A read of the console, non-blocking (no input need come): 0 when it was let
 * through (data or EAGAIN), else the errno. */
static int try_read(void)
{
	char c;
	int fd = open("/dev/tty", O_RDWR | O_NONBLOCK);
	if (fd < 0)
		return 1000 + errno;
	ssize_t n = read(fd, &c, 1);
	int e = n >= 0 || errno == EAGAIN ? 0 : errno;
	close(fd);
	return e;
}

/* A child in a new background group; runs `fn` and exits with what it returns. */
static pid_t bg_child(int (*fn)(void))
{
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGTTOU, SIG_DFL); /* ours is ignored */
		_exit(fn());
	}
	setpgid(c, c);
	return c;
}

static int reader(void) { return try_read() == 0 ? 40 : 1; }
static int reader_ign(void)
{
	signal(SIGTTIN, SIG_IGN);
	return try_read() == EIO ? 41 : 1;
}
static int reader_blocked(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTTIN);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return try_read() == EIO ? 42 : 1;
}
static int writer(void) { return write(1, "background write\n", 17) == 17 ? 43 : 1; }
static int writer_ign(void)
{
	signal(SIGTTOU, SIG_IGN);
	return write(1, "background write, SIGTTOU ignored\n", 34) == 34 ? 44 : 1;
}
static int setter(void) { return tcsetpgrp(0, getpgrp()) == 0 ? 45 : 1; }
static int attr_setter(void)
{
	struct termios t;
	if (tcgetattr(0, &t) != 0)
		return 1;
	return tcsetattr(0, TCSANOW, &t) == 0 ? 46 : 2;
}

/* Expects `c` to stop with `sig`, then makes its group the foreground one,
 * continues it and expects it to exit with `code`; the foreground is ours again. */
static void stops_then_runs(pid_t c, int sig, int code)
{
	int st;
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == sig);
	CHECK(tcsetpgrp(0, c) == 0 && tcgetpgrp(0) == c);
	CHECK(kill(c, SIGCONT) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == code);
	CHECK(tcsetpgrp(0, getpgrp()) == 0 && tcgetpgrp(0) == getpgrp());
}

static void exits(pid_t c, int code)
{
	int st;
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFEXITED(st) && WEXITSTATUS(st) == code);
}

static volatile sig_atomic_t got_hup, got_cont;
static void on_hup(int sig) { (void)sig; got_hup = 1; }
static void on_cont(int sig) { (void)sig; got_cont = 1; }

/* Waits (up to 10 s) until our parent is pid 1: the middle process has ended. */
static int adopted(void)
{
	for (int i = 0; i < 1000 && getppid() != 1; i++)
		ms(10);
	return getppid() == 1;
}

/* Forks a middle process that forks `fn`'s child in a new group and (after
 * `before_exit`, if any, which gets the child's pid) ends: the child is adopted by
 * us, its group orphaned. Returns the child's pid (read from a pipe). */
static pid_t orphan(int (*fn)(void), void (*before_exit)(pid_t))
{
	int p[2];
	pid_t c = -1, m;
	if (pipe(p) != 0)
		return -1;
	m = fork();
	if (m == 0) {
		pid_t g = fork();
		if (g == 0) {
			setpgid(0, 0);
			signal(SIGTTOU, SIG_DFL);
			close(p[0]);
			close(p[1]);
			_exit(fn());
		}
		setpgid(g, g);
		if (before_exit)
			before_exit(g);
		write(p[1], &g, sizeof g);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, sizeof c) != sizeof c)
		c = -1;
	close(p[0]);
	int st;
	CHECK(waitpid(m, &st, 0) == m && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return c;
}

static int orphan_reader(void) { return adopted() && try_read() == EIO ? 50 : 1; }
static int orphan_tstp(void)
{
	if (!adopted())
		return 1;
	/* discarded in an orphaned group (a stop here shows in our waitpid) */
	raise(SIGTSTP);
	return 51;
}
static int stopped_handled(void)
{
	signal(SIGHUP, on_hup);
	signal(SIGCONT, on_cont);
	raise(SIGSTOP);
	/* continued by the kernel's SIGCONT; SIGHUP came first */
	for (int i = 0; i < 1000 && !(got_hup && got_cont); i++)
		ms(10);
	return got_hup && got_cont ? 52 : 3;
}
static int stopped_default(void)
{
	raise(SIGSTOP);
	return 4; /* SIGHUP should have ended it */
}
static void wait_stopped(pid_t g)
{
	int st;
	if (waitpid(g, &st, WUNTRACED) != g || !WIFSTOPPED(st))
		printf("FAIL the grandchild %d did not stop\n", (int)g);
}

int main(void)
{
	pid_t c;
	int st;

	/* Shells ignore SIGTTOU: we set the foreground group from the background. */
	signal(SIGTTOU, SIG_IGN);
	alarm(120); /* a stopped child never continued must not hang the test */
	CHECK(tcsetpgrp(0, getpgrp()) == 0 && tcgetpgrp(0) == getpgrp());

	/* 1. A background reader stops with SIGTTIN; in the foreground it reads. */
	stops_then_runs(bg_child(reader), SIGTTIN, 40);
	/* 2. SIGTTIN ignored or blocked: EIO. */
	exits(bg_child(reader_ign), 41);
	exits(bg_child(reader_blocked), 42);
	/* 3. Writes from the background go through without TOSTOP. */
	exits(bg_child(writer), 43);
	/* 4. With TOSTOP, a background writer stops with SIGTTOU, unless it ignores it. */
	struct termios t;
	CHECK(tcgetattr(0, &t) == 0 && !(t.c_lflag & TOSTOP));
	t.c_lflag |= TOSTOP;
	CHECK(tcsetattr(0, TCSANOW, &t) == 0);
	CHECK(tcgetattr(0, &t) == 0 && (t.c_lflag & TOSTOP));
	stops_then_runs(bg_child(writer), SIGTTOU, 43);
	exits(bg_child(writer_ign), 44);
	t.c_lflag &= ~TOSTOP;
	CHECK(tcsetattr(0, TCSANOW, &t) == 0);
	/* 5. tcsetpgrp and tcsetattr from the background: SIGTTOU. */
	stops_then_runs(bg_child(setter), SIGTTOU, 45);
	CHECK(tcsetpgrp(0, getpgrp()) == 0);
	stops_then_runs(bg_child(attr_setter), SIGTTOU, 46);
	/* tcsetpgrp to no group, or a negative one */
	CHECK(tcsetpgrp(0, 99999) == -1 && errno == ESRCH);
	CHECK(tcsetpgrp(0, -2) == -1 && errno == EINVAL);

	/* 6. An orphaned background group: EIO for a reader, SIGTSTP does not stop. */
	c = orphan(orphan_reader, NULL);
	CHECK(c > 0);
	exits(c, 50);
	c = orphan(orphan_tstp, NULL);
	CHECK(c > 0);
	exits(c, 51);

	/* 7. Orphaned while stopped: SIGHUP then SIGCONT. */
	c = orphan(stopped_handled, wait_stopped);
	CHECK(c > 0);
	exits(c, 52);
	c = orphan(stopped_default, wait_stopped);
	CHECK(c > 0);
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);

	CHECK(tcsetpgrp(0, getpgrp()) == 0);
	return CHECK_DONE();
}
