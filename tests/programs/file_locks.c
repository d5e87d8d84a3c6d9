/* file_locks: advisory file locks between processes (issue 15: "file locks ...
 * across processes"), as servers that fork use them.
 *   flock    held by the open file description: a child that opens the file itself
 *            gets EWOULDBLOCK (LOCK_NB) while the parent holds LOCK_EX, shares a
 *            LOCK_SH, and holds the parent's lock through an inherited descriptor;
 *            a blocking LOCK_EX waits until the holder unlocks; closing the last
 *            descriptor and the end of the holding process release the lock.
 *   fcntl    POSIX record locks, held by the process over byte ranges: F_GETLK
 *            names the conflicting lock and its pid (F_UNLCK for the caller's own);
 *            F_SETLK gets EAGAIN/EACCES on an overlap with another process's lock
 *            and works beside it; unlocking the middle splits a lock; F_SETLKW
 *            waits until the holder closes ANY descriptor of the file (POSIX: that
 *            drops all its locks of the file); EDEADLK for a wait that would never
 *            end; the end of the holder releases; a child does not inherit locks.
 *   errors   EINVAL (bad op or l_type, negative start), EBADF (a write lock on a
 *            read-only descriptor, a bad descriptor).
 * Prints one "ok   ..." line per check and ALL OK (also on Linux). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static char path[64];

static int status_of(pid_t pid)
{
	int st = -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static int exit_code(pid_t pid)
{
	int st = status_of(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &l);
}

/* F_GETLK for [start, start+len): the lock that conflicts, in *out. */
static int getlk(int fd, short type, off_t start, off_t len, struct flock *out)
{
	*out = (struct flock){.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, F_GETLK, out);
}

static int busy(int r)
{
	return r == -1 && (errno == EAGAIN || errno == EACCES);
}

static int flock_ex(int fd)
{
	return flock(fd, LOCK_EX);
}

static int setlkw_70(int fd)
{
	return setlk(fd, F_SETLKW, F_WRLCK, 70, 5);
}

/* Forks a child that opens the file itself and takes a lock with `lock`, which must
 * wait for the caller's; it writes 'L' (or 'E' when the lock failed) to the pipe
 * whose read end goes to *rd, and exits 0 when it got the lock after a wait. */
static pid_t waiting_child(int (*lock)(int), int *rd)
{
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		int own = open(path, O_RDWR);
		double t0 = now();
		int r = lock(own);
		double waited = now() - t0;
		char b = r == 0 ? 'L' : 'E';
		write(p[1], &b, 1);
		_exit(r == 0 && waited > 0.15 ? 0 : 1);
	}
	close(p[1]);
	*rd = p[0];
	return c;
}

/* 300 ms on, the waiting child has not got its lock yet. */
static int still_waiting(int rd)
{
	usleep(300 * 1000);
	char b = 0;
	fcntl(rd, F_SETFL, O_NONBLOCK);
	int r = read(rd, &b, 1) == -1 && errno == EAGAIN;
	fcntl(rd, F_SETFL, 0);
	return r;
}

/* The waiting child got its lock (once the caller released) and ended well. */
static int got_lock(pid_t c, int rd)
{
	char b = 0;
	int r = read(rd, &b, 1) == 1 && b == 'L' && exit_code(c) == 0;
	close(rd);
	return r;
}

static void flock_cases(void)
{
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(flock(fd, LOCK_EX) == 0);

	/* 1: a separate open conflicts, the inherited description does not. */
	pid_t c = fork();
	if (c == 0) {
		int own = open(path, O_RDWR);
		int code = 0;
		if (flock(own, LOCK_EX | LOCK_NB) != -1 || errno != EWOULDBLOCK)
			code |= 1;
		if (flock(own, LOCK_SH | LOCK_NB) != -1 || errno != EWOULDBLOCK)
			code |= 2;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) /* the parent's own description */
			code |= 4;
		_exit(code);
	}
	CHECK(exit_code(c) == 0);

	/* 2: a blocking LOCK_EX waits until the holder unlocks. */
	int rd;
	c = waiting_child(flock_ex, &rd);
	CHECK(still_waiting(rd));
	CHECK(flock(fd, LOCK_UN) == 0);
	CHECK(got_lock(c, rd));
	/* The child ended: its lock went with its descriptor. */
	CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);

	/* 3: shared locks of two processes coexist; exclusive waits for both. */
	CHECK(flock(fd, LOCK_SH) == 0); /* converted */
	c = fork();
	if (c == 0) {
		int own = open(path, O_RDONLY);
		_exit(flock(own, LOCK_SH | LOCK_NB) == 0 ? 0 : 1);
	}
	CHECK(exit_code(c) == 0);

	/* 4: closing the holder's last descriptor releases; so does its end. */
	CHECK(close(fd) == 0);
	c = fork();
	if (c == 0) {
		int own = open(path, O_RDWR);
		_exit(flock(own, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	CHECK(exit_code(c) == 0);
	int sync_pipe[2];
	CHECK(pipe(sync_pipe) == 0);
	c = fork();
	if (c == 0) {
		int own = open(path, O_RDWR);
		char ok = flock(own, LOCK_EX) == 0 ? 'y' : 'n';
		write(sync_pipe[1], &ok, 1);
		pause(); /* killed holding the lock */
		_exit(0);
	}
	char b = 0;
	CHECK(read(sync_pipe[0], &b, 1) == 1 && b == 'y');
	fd = open(path, O_RDWR);
	CHECK(flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
	kill(c, SIGKILL);
	CHECK(WIFSIGNALED(status_of(c)));
	CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
	CHECK(flock(fd, LOCK_UN) == 0);
	close(sync_pipe[0]);
	close(sync_pipe[1]);

	/* Errors. */
	CHECK(flock(fd, 0) == -1 && errno == EINVAL);
	CHECK(flock(fd, LOCK_SH | LOCK_EX) == -1 && errno == EINVAL);
	CHECK(flock(999, LOCK_SH) == -1 && errno == EBADF);
	close(fd);
}

static void record_cases(void)
{
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	pid_t me = getpid();
	CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 100) == 0);
	struct flock l;
	CHECK(getlk(fd, F_WRLCK, 0, 10, &l) == 0 && l.l_type == F_UNLCK); /* own lock */

	/* 1: another process sees it, conflicts, and locks beside it. */
	pid_t c = fork();
	if (c == 0) {
		int code = 0;
		struct flock g;
		if (getlk(fd, F_RDLCK, 50, 10, &g) != 0 || g.l_type != F_WRLCK || g.l_pid != me ||
		    g.l_start != 0 || g.l_len != 100 || g.l_whence != SEEK_SET)
			code |= 1;
		if (!busy(setlk(fd, F_SETLK, F_WRLCK, 50, 10))) /* not inherited: a conflict */
			code |= 2;
		if (!busy(setlk(fd, F_SETLK, F_RDLCK, 0, 1)))
			code |= 4;
		if (setlk(fd, F_SETLK, F_WRLCK, 100, 100) != 0) /* adjacent */
			code |= 8;
		if (getlk(fd, F_WRLCK, 200, 0, &g) != 0 || g.l_type != F_UNLCK)
			code |= 16;
		_exit(code);
	}
	CHECK(exit_code(c) == 0);
	/* The child's lock of [100, 200) went with it. */
	CHECK(getlk(fd, F_WRLCK, 100, 100, &l) == 0 && l.l_type == F_UNLCK);

	/* 2: unlocking the middle splits the lock. */
	CHECK(setlk(fd, F_SETLK, F_UNLCK, 40, 20) == 0);
	c = fork();
	if (c == 0) {
		int code = 0;
		if (setlk(fd, F_SETLK, F_WRLCK, 45, 10) != 0)
			code |= 1;
		if (!busy(setlk(fd, F_SETLK, F_WRLCK, 35, 10)))
			code |= 2;
		struct flock g;
		if (getlk(fd, F_WRLCK, 70, 1, &g) != 0 || g.l_start != 60 || g.l_len != 40)
			code |= 4;
		_exit(code);
	}
	CHECK(exit_code(c) == 0);

	/* 3: F_SETLKW waits until the holder closes any descriptor of the file. */
	int rd;
	c = waiting_child(setlkw_70, &rd);
	CHECK(still_waiting(rd));
	int other = open(path, O_RDONLY);
	CHECK(other >= 0 && close(other) == 0); /* drops all our locks of the file */
	CHECK(got_lock(c, rd));
	char b;
	CHECK(getlk(fd, F_WRLCK, 0, 0, &l) == 0 && l.l_type == F_UNLCK);

	/* 4: EDEADLK: the child holds B and waits for A; we hold A and ask for B. */
	CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 1) == 0);
	int go[2], done[2];
	CHECK(pipe(go) == 0 && pipe(done) == 0);
	c = fork();
	if (c == 0) {
		int own = open(path, O_RDWR);
		char x = setlk(own, F_SETLK, F_WRLCK, 1, 1) == 0 ? 'y' : 'n';
		write(go[1], &x, 1);
		int r = setlk(own, F_SETLKW, F_WRLCK, 0, 1); /* waits for us */
		x = r == 0 ? 'L' : 'E';
		write(done[1], &x, 1);
		_exit(r == 0 ? 0 : 1);
	}
	CHECK(read(go[0], &b, 1) == 1 && b == 'y');
	usleep(200 * 1000); /* let the child block */
	CHECK(setlk(fd, F_SETLKW, F_WRLCK, 1, 1) == -1 && errno == EDEADLK);
	CHECK(setlk(fd, F_SETLK, F_UNLCK, 0, 1) == 0);
	CHECK(read(done[0], &b, 1) == 1 && b == 'L');
	CHECK(exit_code(c) == 0);

	/* 5: the end of a holder (killed) releases its locks. */
	c = fork();
	if (c == 0) {
		int own = open(path, O_RDWR);
		char x = setlk(own, F_SETLK, F_WRLCK, 0, 0) == 0 ? 'y' : 'n';
		write(go[1], &x, 1);
		pause();
		_exit(0);
	}
	CHECK(read(go[0], &b, 1) == 1 && b == 'y');
	CHECK(busy(setlk(fd, F_SETLK, F_RDLCK, 500, 1)));
	kill(c, SIGKILL);
	CHECK(WIFSIGNALED(status_of(c)));
	CHECK(setlk(fd, F_SETLK, F_RDLCK, 500, 1) == 0);

	/* Errors. */
	CHECK(setlk(fd, F_SETLK, 7, 0, 1) == -1 && errno == EINVAL);
	CHECK(setlk(fd, F_SETLK, F_WRLCK, -5, 1) == -1 && errno == EINVAL);
	int ro = open(path, O_RDONLY);
	CHECK(setlk(ro, F_SETLK, F_WRLCK, 0, 1) == -1 && errno == EBADF);
	CHECK(setlk(ro, F_SETLK, F_RDLCK, 0, 1) == 0);
	CHECK(setlk(999, F_SETLK, F_RDLCK, 0, 1) == -1 && errno == EBADF);
	close(ro);
	close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* progress shows even if a case hangs */
	snprintf(path, sizeof path, "/tmp/file_locks.%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "0123456789", 10) == 10);
	close(fd);
	flock_cases();
	record_cases();
	unlink(path);
	return CHECK_DONE();
}
