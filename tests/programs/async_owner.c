/* async_owner: what nginx's master does to each worker's channel (a socketpair)
 * before forking it: FIOASYNC, F_SETOWN to the worker, FD_CLOEXEC, non-blocking. The
 * flag and the owner read back as set (signal-driven I/O itself, SIGIO, is not sent). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	int sv[2], on = 1, off = 0;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(ioctl(sv[0], FIONBIO, &on) == 0);
	CHECK(ioctl(sv[0], FIOASYNC, &on) == 0);
	CHECK((fcntl(sv[0], F_GETFL) & O_ASYNC) != 0);
	CHECK(fcntl(sv[0], F_GETOWN) == 0);
	CHECK(fcntl(sv[0], F_SETOWN, getpid()) == 0);
	CHECK(fcntl(sv[0], F_GETOWN) == getpid());
	CHECK(fcntl(sv[0], F_SETOWN, -getpgrp()) == 0);
	CHECK(fcntl(sv[0], F_GETOWN) == -getpgrp());
	CHECK(ioctl(sv[0], FIOASYNC, &off) == 0);
	CHECK((fcntl(sv[0], F_GETFL) & O_ASYNC) == 0);
	CHECK(fcntl(sv[1], F_SETFL, O_ASYNC | O_NONBLOCK) == 0);
	CHECK((fcntl(sv[1], F_GETFL) & (O_ASYNC | O_NONBLOCK)) == (O_ASYNC | O_NONBLOCK));
	/* the owner belongs to the open file: a forked child sees it */
	pid_t pid = fork();
	if (pid == 0)
		_exit(fcntl(sv[0], F_GETOWN) == -getpgrp() ? 0 : 1);
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return CHECK_DONE();
}
