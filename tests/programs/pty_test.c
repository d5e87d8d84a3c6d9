/* pty_test: pseudo-terminals (issue 20): posix_openpt, grantpt, unlockpt, ptsname,
 * TIOCGPTN, a locked slave (EIO), isatty and ttyname, output processing (ONLCR),
 * canonical input with echo and erase, raw mode (cfmakeraw), ^C sending SIGINT, ^D
 * as end of file, openpty with a window size, poll, and hang-ups both ways (master
 * reads EIO after the slave closed; the slave reads EOF and writes EIO after the
 * master closed). Prints "ok: ..." per check and "ALL OK". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "check_fatal.h"

static volatile sig_atomic_t got_int;

static void
on_int(int sig)
{
	(void)sig;
	got_int = 1;
}

/* Reads what is there (the master is non-blocking), as a string. */
static const char *
drain(int fd)
{
	static char buf[256];
	ssize_t n, total = 0;

	while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	buf[total] = 0;
	return buf;
}

int
main(void)
{
	struct termios t, raw;
	struct winsize ws = { 33, 101, 0, 0 }, ws2;
	struct stat st;
	struct pollfd pfd;
	char buf[64], name[64];
	const char *out, *pn;
	int m, s, m2, s2, n, lock;
	unsigned ptn;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0, "posix_openpt: %s", strerror(errno));
	CHECK(ioctl(m, TIOCGPTN, &ptn) == 0, "TIOCGPTN: %s", strerror(errno));
	pn = ptsname(m);
	snprintf(name, sizeof(name), "/dev/pts/%u", ptn);
	CHECK(pn && strcmp(pn, name) == 0, "ptsname %s, TIOCGPTN %u", pn ? pn : "NULL", ptn);
	CHECK(open(name, O_RDWR | O_NOCTTY) == -1 && errno == EIO,
	    "opening a locked slave: %s", strerror(errno));
	CHECK(ioctl(m, TIOCGPTLCK, &lock) == 0 && lock == 1, "TIOCGPTLCK %d", lock);
	CHECK(grantpt(m) == 0, "grantpt: %s", strerror(errno));
	CHECK(unlockpt(m) == 0, "unlockpt: %s", strerror(errno));
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0, "open %s: %s", name, strerror(errno));
	CHECK(stat(name, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 &&
	    minor(st.st_rdev) == ptn, "stat %s: mode %o rdev %lx", name, st.st_mode,
	    (unsigned long)st.st_rdev);
	ok("posix_openpt, grantpt, unlockpt, ptsname = TIOCGPTN, a locked slave is EIO");

	CHECK(isatty(m) && isatty(s), "isatty master %d slave %d", isatty(m), isatty(s));
	CHECK(ttyname(s) && strcmp(ttyname(s), name) == 0, "ttyname %s",
	    ttyname(s) ? ttyname(s) : strerror(errno));
	ok("isatty on both ends, ttyname of the slave");

	fcntl(m, F_SETFL, O_NONBLOCK);
	CHECK(write(s, "hello\n", 6) == 6, "slave write: %s", strerror(errno));
	pfd.fd = m;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN), "poll master");
	out = drain(m);
	CHECK(strcmp(out, "hello\r\n") == 0, "master read \"%s\"", out);
	ok("the slave's output reaches the master with ONLCR (\\n -> \\r\\n), poll says so");

	CHECK(tcgetattr(s, &t) == 0, "tcgetattr: %s", strerror(errno));
	CHECK((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG) &&
	    (t.c_oflag & ONLCR) && (t.c_iflag & ICRNL), "default termios %o %o %o",
	    t.c_iflag, t.c_oflag, t.c_lflag);
	CHECK(write(m, "abc\x7f" "d\r", 6) == 6, "master write: %s", strerror(errno));
	n = read(s, buf, sizeof(buf));
	CHECK(n == 4 && memcmp(buf, "abd\n", 4) == 0, "canonical read %d \"%.*s\"",
	    n, n > 0 ? n : 0, buf);
	out = drain(m);
	CHECK(strcmp(out, "abc\b \bd\r\n") == 0, "echo \"%s\"", out);
	ok("canonical input: erase edits the line, \\r becomes \\n, echo to the master");

	CHECK(write(m, "one\ntwo\n", 8) == 8, "master write");
	n = read(s, buf, sizeof(buf));
	CHECK(n == 4 && memcmp(buf, "one\n", 4) == 0, "first line %d", n);
	n = read(s, buf, sizeof(buf));
	CHECK(n == 4 && memcmp(buf, "two\n", 4) == 0, "second line %d", n);
	drain(m);
	CHECK(write(m, "\x04", 1) == 1, "write ^D");
	CHECK(read(s, buf, sizeof(buf)) == 0, "^D at the start of a line is end of file");
	ok("canonical reads return one line each; ^D gives end of file");

	raw = t;
	cfmakeraw(&raw);
	CHECK(tcsetattr(s, TCSANOW, &raw) == 0, "tcsetattr raw: %s", strerror(errno));
	CHECK(write(m, "xy\r", 3) == 3, "master write");
	n = read(s, buf, sizeof(buf));
	CHECK(n == 3 && memcmp(buf, "xy\r", 3) == 0, "raw read %d", n);
	CHECK(read(m, buf, sizeof(buf)) == -1 && errno == EAGAIN, "raw mode echoed");
	CHECK(write(s, "a\n", 2) == 2, "slave write");
	out = drain(m);
	CHECK(strcmp(out, "a\n") == 0, "raw output \"%s\"", out);
	ok("raw mode (cfmakeraw): bytes as written, no echo, no output processing");

	CHECK(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr: %s", strerror(errno));
	/* Make it our controlling terminal with us in the foreground (Linux needs a
	 * session of our own for that; where setsid fails we may already lead one). */
	setsid();
	ioctl(s, TIOCSCTTY, 0);
	CHECK(tcsetpgrp(s, getpgrp()) == 0, "tcsetpgrp: %s", strerror(errno));
	CHECK(tcgetpgrp(s) == getpgrp(), "tcgetpgrp %d, getpgrp %d", tcgetpgrp(s), getpgrp());
	signal(SIGINT, on_int);
	CHECK(write(m, "zz\x03", 3) == 3, "write ^C");
	/* Linux's line discipline runs the input from a worker, after write returns:
	 * give the signal up to 2 s to arrive. */
	for (int i = 0; i < 200 && !got_int; i++)
		usleep(10000);
	CHECK(got_int, "^C did not send SIGINT");
	out = drain(m);
	CHECK(strcmp(out, "^C") == 0, "echo of ^C \"%s\"", out);
	CHECK(write(m, "q\n", 2) == 2, "master write");
	n = read(s, buf, sizeof(buf));
	CHECK(n == 2 && memcmp(buf, "q\n", 2) == 0, "^C flushed the line: read %d", n);
	drain(m);
	ok("^C sends SIGINT to the foreground group, flushes both queues, echoes ^C");

	CHECK(openpty(&m2, &s2, name, NULL, &ws) == 0, "openpty: %s", strerror(errno));
	CHECK(ioctl(s2, TIOCGWINSZ, &ws2) == 0 && ws2.ws_row == 33 && ws2.ws_col == 101,
	    "window size %d x %d", ws2.ws_row, ws2.ws_col);
	CHECK(strncmp(name, "/dev/pts/", 9) == 0 && strcmp(name, ptsname(m)) != 0,
	    "openpty name %s", name);
	ok("openpty: a second pair, the window size set through it");

	CHECK(close(s) == 0, "close slave");
	CHECK(read(m, buf, sizeof(buf)) == -1 && errno == EIO,
	    "master read after the slave closed: %s", strerror(errno));
	CHECK(close(m2) == 0, "close master");
	CHECK(read(s2, buf, sizeof(buf)) == 0, "slave read after the master closed");
	CHECK(write(s2, "x", 1) == -1 && errno == EIO, "slave write after the master "
	    "closed: %s", strerror(errno));
	CHECK(access(name, F_OK) == -1, "%s is still there after its master closed", name);
	ok("hang-ups: the master reads EIO, the slave reads EOF and writes EIO");
	printf("ALL OK\n");
	return 0;
}
