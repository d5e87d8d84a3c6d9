#define _GNU_SOURCE
/* reopen_pipe: opening /dev/stdin, /dev/fd/N or /proc/self/fd/N of a pipe opens that
 * pipe again (Linux's magic links; the link text, pipe:[ino], names nothing):
 * asyncio's test_devstdin_input child does open("/dev/stdin").read() on a pipe, and
 * shell scripts `cat /dev/stdin`.
 *   - a read end through /proc/self/fd/N reads what the write end wrote;
 *   - a write end through /dev/fd/N writes into the pipe; the reader sees EOF only
 *     when every write end (the reopened one too) is closed;
 *   - /dev/stdin with stdin a pipe reads its data to EOF;
 *   - the link of a closed descriptor is gone (ENOENT).
 * Prints "ok ..." lines and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	int p[2];
	char path[64], buf[16];
	CHECK(pipe(p) == 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	int r2 = open(path, O_RDONLY);
	CHECK(r2 >= 0);
	CHECK(write(p[1], "abc", 3) == 3);
	CHECK(read(r2, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);

	snprintf(path, sizeof path, "/dev/fd/%d", p[1]);
	int w2 = open(path, O_WRONLY);
	CHECK(w2 >= 0);
	CHECK(write(w2, "xyz", 3) == 3);
	CHECK(read(p[0], buf, sizeof buf) == 3 && memcmp(buf, "xyz", 3) == 0);
	CHECK(close(p[1]) == 0);
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	errno = 0;
	CHECK(read(p[0], buf, sizeof buf) == -1 && errno == EAGAIN);
	CHECK(close(w2) == 0);
	CHECK(read(p[0], buf, sizeof buf) == 0);
	close(r2);
	close(p[0]);

	/* /dev/stdin */
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "hello", 5) == 5);
	close(p[1]);
	int saved = dup(0);
	CHECK(dup2(p[0], 0) == 0);
	close(p[0]);
	int in = open("/dev/stdin", O_RDONLY);
	CHECK(in >= 0);
	ssize_t n = read(in, buf, sizeof buf);
	CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK(read(in, buf, sizeof buf) == 0);
	close(in);
	dup2(saved, 0);
	close(saved);

	/* a closed descriptor's link is gone */
	CHECK(pipe(p) == 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	close(p[0]);
	close(p[1]);
	errno = 0;
	CHECK(open(path, O_RDONLY) == -1 && errno == ENOENT);
	return CHECK_DONE();
}
