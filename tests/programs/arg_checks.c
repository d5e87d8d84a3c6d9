#define _GNU_SOURCE
/* arg_checks: argument checks and small calls CPython's test suite found wrong or
 * missing (issue 20 item 6), each with Linux's answer:
 *   - sched_getscheduler(-1), sched_getparam(-1): EINVAL; sched_get_priority_min/max
 *     per policy (1..99 for SCHED_FIFO/RR, 0 for the others) and EINVAL for -23;
 *     sched_rr_get_interval gives a time slice;
 *   - epoll_ctl on a regular file: EPERM; fchdir on a bad fd: EBADF;
 *   - setpriority changes what getpriority returns; a bad `which`: EINVAL;
 *   - clock_gettime on pthread_getcpuclockid's clock (own thread and another);
 *   - F_GETPIPE_SZ and F_SETPIPE_SZ on a non-pipe: EBADF (Linux's pipe_fcntl); F_SETPIPE_SZ within the capacity;
 *     F_SETPIPE_SZ rounds up to a power-of-two number of pages, F_GETPIPE_SZ then
 *     says so and a full pipe holds exactly that; EBUSY below what is queued; above
 *     pipe-max-size (1 MiB) only with CAP_SYS_RESOURCE (root has it: 2 MiB works);
 *   - splice from a pipe to a file and from a file to a pipe, with offsets;
 *   - sendfile from a pipe: EINVAL (ESPIPE with an offset); from a file to a pipe;
 *   - clock_settime on a thread's CPU clock: EPERM; on CLOCK_PROCESS_CPUTIME_ID: EINVAL;
 *   - clock_settime/settimeofday set the wall clock (root may), CLOCK_MONOTONIC does
 *     not move and cannot be set (EINVAL); chroot("/") works, chroot of
 *     another directory is refused with EPERM, of a missing one ENOENT.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile int stop;
static volatile unsigned long spins;
static void *spinner(void *a)
{
	(void)a;
	while (!stop)
		spins++;
	return NULL;
}

int main(void)
{
	alarm(60);
	/* Raw syscalls: musl's wrappers of these say ENOSYS without asking the kernel. */
	struct sched_param sp;
	errno = 0;
	CHECK(syscall(SYS_sched_getscheduler, -1) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(syscall(SYS_sched_getparam, -1, &sp) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
	sp.sched_priority = 0;
	CHECK(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp) == 0);
	errno = 0;
	CHECK(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER + 77, &sp) == -1 && errno == EINVAL);
	CHECK(sched_get_priority_min(SCHED_FIFO) == 1 && sched_get_priority_max(SCHED_FIFO) == 99);
	CHECK(sched_get_priority_min(SCHED_RR) == 1 && sched_get_priority_max(SCHED_RR) == 99);
	CHECK(sched_get_priority_min(SCHED_OTHER) == 0 && sched_get_priority_max(SCHED_OTHER) == 0);
	errno = 0;
	CHECK(sched_get_priority_min(-23) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(sched_get_priority_max(-23) == -1 && errno == EINVAL);
	struct timespec ts = {-1, -1};
	CHECK(sched_rr_get_interval(0, &ts) == 0 && ts.tv_sec >= 0 && ts.tv_nsec > 0);

	int ep = epoll_create1(0);
	int file = open("/tmp/argfile", O_CREAT | O_RDWR, 0644);
	struct epoll_event ev = {.events = EPOLLIN};
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev) == -1 && errno == EPERM);
	errno = 0;
	CHECK(fchdir(999) == -1 && errno == EBADF);
	errno = 0;
	CHECK(fchdir(file) == -1 && errno == ENOTDIR);

	errno = 0;
	CHECK(getpriority(PRIO_PROCESS, 0) == 0 && errno == 0);
	CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
	errno = 0;
	CHECK(getpriority(PRIO_PROCESS, 0) == 5 && errno == 0);
	CHECK(setpriority(PRIO_PROCESS, 0, 100) == 0); /* clamped to 19 */
	CHECK(getpriority(PRIO_PROCESS, 0) == 19);
	errno = 0;
	CHECK(setpriority(42, 0, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(getpriority(42, 0) == -1 && errno == EINVAL);

	clockid_t self, other;
	pthread_t t;
	pthread_create(&t, NULL, spinner, NULL);
	CHECK(pthread_getcpuclockid(pthread_self(), &self) == 0);
	CHECK(pthread_getcpuclockid(t, &other) == 0);
	CHECK(clock_gettime(self, &ts) == 0 && (ts.tv_sec > 0 || ts.tv_nsec > 0));
	while (spins < 1000000)
		sched_yield();
	CHECK(clock_gettime(other, &ts) == 0 && (ts.tv_sec > 0 || ts.tv_nsec > 0));
	/* A thread's CPU clock cannot be set (EPERM); the fixed CPU-time ids have no
	 * setter at all (EINVAL). */
	errno = 0;
	CHECK(clock_settime(self, &ts) == -1 && errno == EPERM);
	errno = 0;
	CHECK(clock_settime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1 && errno == EINVAL);
	stop = 1;
	pthread_join(t, NULL);

	int p[2];
	CHECK(pipe(p) == 0);
	errno = 0;
	CHECK(fcntl(file, F_GETPIPE_SZ) == -1 && errno == EBADF);
	errno = 0;
	CHECK(fcntl(file, F_SETPIPE_SZ, 65536) == -1 && errno == EBADF);
	CHECK(fcntl(p[0], F_GETPIPE_SZ) >= 4096);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 32768) == 32768);
	CHECK(fcntl(p[0], F_GETPIPE_SZ) == 32768);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 5000) == 8192);
	CHECK(fcntl(p[1], F_GETPIPE_SZ) == 8192);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 100) == 4096);
	{
		static char big[65536];
		int fl = fcntl(p[1], F_GETFL);
		CHECK(fcntl(p[1], F_SETPIPE_SZ, 8192) == 8192);
		CHECK(fcntl(p[1], F_SETFL, fl | O_NONBLOCK) == 0);
		CHECK(write(p[1], big, sizeof big) == 8192);
		errno = 0;
		CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == -1 && errno == EBUSY);
		CHECK(read(p[0], big, sizeof big) == 8192);
		CHECK(fcntl(p[1], F_SETFL, fl) == 0);
		CHECK(fcntl(p[1], F_SETPIPE_SZ, (2 << 20) - 1) == 2 << 20);
		CHECK(fcntl(p[1], F_SETPIPE_SZ, 65536) == 65536);
	}

	/* splice: pipe to file at an offset, then file to pipe. */
	CHECK(write(p[1], "spliced!", 8) == 8);
	loff_t off = 100;
	CHECK(splice(p[0], NULL, file, &off, 8, 0) == 8 && off == 108);
	char buf[16] = "";
	CHECK(pread(file, buf, 8, 100) == 8 && memcmp(buf, "spliced!", 8) == 0);
	off = 102;
	CHECK(splice(file, &off, p[1], NULL, 4, 0) == 4 && off == 106);
	CHECK(read(p[0], buf, sizeof buf) == 4 && memcmp(buf, "lice", 4) == 0);
	errno = 0;
	CHECK(splice(file, NULL, file, NULL, 4, 0) == -1 && errno == EINVAL);
	errno = 0;
	off = 0;
	CHECK(splice(p[0], &off, file, NULL, 4, 0) == -1 && errno == ESPIPE);

	/* A pipe cannot be sendfile's source (Linux: no splice_read): EINVAL, with an
	 * offset ESPIPE; a pipe as its output is fine. */
	{
		int q[2];
		off_t qoff = 0;
		CHECK(pipe(q) == 0 && write(p[1], "abcd", 4) == 4);
		errno = 0;
		CHECK(sendfile(q[1], p[0], NULL, 4) == -1 && errno == EINVAL);
		errno = 0;
		CHECK(sendfile(q[1], p[0], &qoff, 4) == -1 && errno == ESPIPE);
		CHECK(read(p[0], buf, sizeof buf) == 4 && memcmp(buf, "abcd", 4) == 0);
		qoff = 100;
		CHECK(sendfile(q[1], file, &qoff, 4) == 4 && qoff == 104);
		CHECK(read(q[0], buf, sizeof buf) == 4 && memcmp(buf, "spli", 4) == 0);
		close(q[0]);
		close(q[1]);
	}

	/* root sets the wall clock; the monotonic clock does not move */
	struct timespec now, back, mono0, mono1;
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_MONOTONIC, &mono0);
	back = now;
	back.tv_sec -= 3600;
	CHECK(clock_settime(CLOCK_REALTIME, &back) == 0);
	clock_gettime(CLOCK_REALTIME, &back);
	clock_gettime(CLOCK_MONOTONIC, &mono1);
	CHECK(back.tv_sec >= now.tv_sec - 3600 && back.tv_sec <= now.tv_sec - 3590);
	CHECK(mono1.tv_sec >= mono0.tv_sec && mono1.tv_sec <= mono0.tv_sec + 10);
	struct timeval tv = {.tv_sec = now.tv_sec + 1, .tv_usec = 0};
	CHECK(settimeofday(&tv, NULL) == 0);
	CHECK(time(NULL) >= now.tv_sec + 1 && time(NULL) <= now.tv_sec + 10);
	CHECK(clock_settime(CLOCK_REALTIME, &now) == 0);
	errno = 0;
	CHECK(clock_settime(CLOCK_MONOTONIC, &now) == -1 && errno == EINVAL);
	CHECK(chroot("/") == 0);
	errno = 0;
	CHECK(chroot("/tmp") == -1 && errno == EPERM);
	errno = 0;
	CHECK(chroot("/no/such/dir") == -1 && errno == ENOENT);
	return CHECK_DONE();
}
