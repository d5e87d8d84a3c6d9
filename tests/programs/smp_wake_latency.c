/* smp_wake_latency.c ROUNDS [BOUND_US]: how long a wake-up across CPUs takes, the way
 * threaded servers use them. A thread pinned to the last CPU blocks (epoll_wait on an
 * eventfd, read of a pipe, FUTEX_WAIT, read of a socketpair); a thread pinned to CPU 0
 * wakes it (write / FUTEX_WAKE), and it answers the same way; ROUNDS round trips per
 * kind. Each kind prints its median and maximum round trip in microseconds, and the
 * median is CHECKed against BOUND_US (default 5000) when there are several CPUs.
 * Every message carries its round number, checked on both sides. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* From linux/futex.h (musl's toolchain has no kernel headers). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

enum kind { EPOLL_EVENTFD, PIPE, FUTEX, SOCKETPAIR, KINDS };
static const char *names[KINDS] = {"epoll+eventfd", "pipe", "futex", "socketpair"};

static int rounds;
static int ncpus;
static int wrong; /* a message with the wrong round number (set by either side) */

/* To the answering thread (index 0) and back (index 1). */
static int efd[2], epfd, pipes[2][2], socks[2];
static volatile uint32_t fut[2];

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void pin(int cpu) {
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
		wrong++;
}

static void futex_wait_for(volatile uint32_t *w, uint32_t want) {
	uint32_t v;
	while ((v = __atomic_load_n(w, __ATOMIC_ACQUIRE)) != want)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_set(volatile uint32_t *w, uint32_t v) {
	__atomic_store_n(w, v, __ATOMIC_RELEASE);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sends round `r` in direction `dir` (0: to the answering thread). */
static void send_round(enum kind k, int dir, uint64_t r) {
	ssize_t n = 8;
	switch (k) {
	case EPOLL_EVENTFD:
		n = write(efd[dir], &r, 8);
		break;
	case PIPE:
		n = write(pipes[dir][1], &r, 8);
		break;
	case FUTEX:
		futex_set(&fut[dir], (uint32_t)r);
		break;
	case SOCKETPAIR:
		n = write(socks[dir], &r, 8);
		break;
	default:
		break;
	}
	if (n != 8)
		__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
}

/* Waits for round `r` in direction `dir`. */
static void recv_round(enum kind k, int dir, uint64_t r) {
	uint64_t got = 0;
	ssize_t n = 8;
	switch (k) {
	case EPOLL_EVENTFD:
		if (dir == 0) {
			struct epoll_event ev;
			if (epoll_wait(epfd, &ev, 1, -1) != 1)
				__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
		}
		n = read(efd[dir], &got, 8);
		break;
	case PIPE:
		n = read(pipes[dir][0], &got, 8);
		break;
	case FUTEX:
		futex_wait_for(&fut[dir], (uint32_t)r);
		got = r;
		break;
	case SOCKETPAIR:
		n = read(socks[dir ^ 1], &got, 8);
		break;
	default:
		break;
	}
	if (n != 8 || got != r)
		__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
}

struct job {
	enum kind kind;
};

static void *answerer(void *arg) {
	enum kind k = ((struct job *)arg)->kind;
	pin(ncpus - 1);
	for (int r = 1; r <= rounds; r++) {
		recv_round(k, 0, r);
		send_round(k, 1, r);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
	rounds = argc > 1 ? atoi(argv[1]) : 1000;
	long bound_us = argc > 2 ? atol(argv[2]) : 5000;
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	printf("%d CPUs, %d rounds\n", ncpus, rounds);
	CHECK(rounds > 0);
	efd[0] = eventfd(0, 0);
	efd[1] = eventfd(0, 0);
	CHECK(efd[0] >= 0 && efd[1] >= 0);
	epfd = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = efd[0]};
	CHECK(epoll_ctl(epfd, EPOLL_CTL_ADD, efd[0], &ev) == 0);
	CHECK(pipe(pipes[0]) == 0 && pipe(pipes[1]) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, socks) == 0);
	uint64_t *rt = calloc(rounds, sizeof *rt);
	CHECK(rt != NULL);
	pin(0);
	for (int k = 0; k < KINDS && rt; k++) {
		struct job job = {(enum kind)k};
		fut[0] = fut[1] = 0;
		pthread_t t;
		CHECK(pthread_create(&t, NULL, answerer, &job) == 0);
		/* Let the answerer pin itself and block before the first round. */
		usleep(20000);
		for (int r = 1; r <= rounds; r++) {
			uint64_t t0 = now_ns();
			send_round(job.kind, 0, r);
			recv_round(job.kind, 1, r);
			rt[r - 1] = now_ns() - t0;
		}
		pthread_join(t, NULL);
		qsort(rt, rounds, sizeof *rt, cmp_u64);
		uint64_t median = rt[rounds / 2] / 1000, max = rt[rounds - 1] / 1000;
		printf("%s: median %llu us, max %llu us\n", names[k], (unsigned long long)median,
		       (unsigned long long)max);
		if (ncpus > 1 && (long)median >= bound_us)
			printf("FAIL %s: median %llu us >= %ld us\n", names[k],
			       (unsigned long long)median, bound_us), check_fails++;
	}
	CHECK(wrong == 0);
	return CHECK_DONE();
}
