#define _GNU_SOURCE
/* pidfd_test: process descriptors as asyncio's PidfdChildWatcher uses them:
 * pidfd_open's argument checks (EINVAL, ESRCH), the descriptor is close-on-exec and
 * not readable while the process runs; poll and epoll report POLLIN once a child
 * exits, and waitpid then reaps it with its status; pidfd_send_signal kills a child,
 * and gives ESRCH once the child is gone; an open /proc/PID directory works as a
 * pidfd there too (CPython's test_pidfd_send_signal), another directory is EBADF.
 * Raw syscalls: musl has no wrappers.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static int pidfd_open(pid_t pid, unsigned flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

/* A child that sleeps `ms` milliseconds and exits with `status`. */
static pid_t child(int ms, int status)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		_exit(status);
	}
	return pid;
}

int main(void)
{
	alarm(60);
	errno = 0;
	CHECK(pidfd_open(-1, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(pidfd_open(999999, 0) == -1 && errno == ESRCH);
	errno = 0;
	CHECK(pidfd_open(getpid(), 12345) == -1 && errno == EINVAL);
	int self = pidfd_open(getpid(), 0);
	CHECK(self >= 0);
	CHECK(fcntl(self, F_GETFD) == FD_CLOEXEC);
	struct pollfd p = {.fd = self, .events = POLLIN};
	CHECK(poll(&p, 1, 0) == 0);
	close(self);

	/* poll: readable once the child exits; waitpid then has its status */
	pid_t pid = child(200, 7);
	int fd = pidfd_open(pid, 0);
	CHECK(fd >= 0);
	p.fd = fd;
	CHECK(poll(&p, 1, 0) == 0);
	CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN));
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	close(fd);

	/* epoll, non-blocking descriptor */
	pid = child(200, 3);
	fd = pidfd_open(pid, O_NONBLOCK);
	CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, out;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	CHECK(epoll_wait(ep, &out, 1, 10000) == 1 && out.data.fd == fd);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3);
	close(ep);
	close(fd);

	/* pidfd_send_signal kills; ESRCH once reaped */
	pid = child(30000, 0);
	fd = pidfd_open(pid, 0);
	CHECK(pidfd_send_signal(fd, SIGTERM) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	errno = 0;
	CHECK(pidfd_send_signal(fd, SIGTERM) == -1 && errno == ESRCH);
	p.fd = fd;
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
	close(fd);
	errno = 0;
	CHECK(pidfd_send_signal(0, SIGTERM) == -1 && errno == EBADF);

	/* a /proc/PID directory as the pidfd: a child's, and our own */
	pid = child(30000, 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && pidfd_send_signal(fd, SIGKILL) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(fd);
	signal(SIGUSR1, on_usr1);
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && pidfd_send_signal(fd, SIGUSR1) == 0 && got_usr1 == 1);
	close(fd);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	errno = 0;
	CHECK(pidfd_send_signal(fd, SIGUSR1) == -1 && errno == EBADF);
	close(fd);
	return CHECK_DONE();
}
