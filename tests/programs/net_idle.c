/* net_idle: an idle network server must not keep waking up. With a listening TCP
 * socket and a bound UDP socket, it waits for nothing in epoll_wait (1 s), poll (1 s)
 * and select (0.5 s), and checks that the timeouts are kept and that it went to sleep
 * at most argv[2] times meanwhile (getrusage's voluntary context switches; a kernel
 * that polls its network cards every 2 ms wakes and sleeps again ~1250 times). It
 * prints the CPU time used too (informative only: under TCG, host preemption counts
 * as guest time). Then it connects to the host (10.0.2.2, port argv[1]), whose server
 * answers after a delay, and blocks in read(): the frame's interrupt must wake it.
 * Prints "idle: ..." and "got: ..." lines. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

static long long now_us(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static int bound(int type, int port)
{
	int s = socket(AF_INET, type, 0);
	CHECK(s >= 0, "socket");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0, "bind %d", port);
	return s;
}

int main(int argc, char **argv)
{
	CHECK(argc == 3, "usage: net_idle HOSTPORT MAX_SLEEPS");
	long max_sleeps = atol(argv[2]);
	int tcp = bound(SOCK_STREAM, 80), udp = bound(SOCK_DGRAM, 9000);
	CHECK(listen(tcp, 8) == 0, "listen");

	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	long long wall0 = now_us(CLOCK_MONOTONIC), cpu0 = now_us(CLOCK_PROCESS_CPUTIME_ID);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, tcp, &ev) == 0, "epoll_ctl");
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev) == 0, "epoll_ctl");
	CHECK(epoll_wait(ep, &ev, 1, 1000) == 0, "epoll_wait: something arrived");
	struct pollfd pfd[2] = {{.fd = tcp, .events = POLLIN}, {.fd = udp, .events = POLLIN}};
	CHECK(poll(pfd, 2, 1000) == 0, "poll: something arrived");
	fd_set r;
	FD_ZERO(&r);
	FD_SET(tcp, &r);
	FD_SET(udp, &r);
	struct timeval tv = {.tv_usec = 500000};
	CHECK(select((tcp > udp ? tcp : udp) + 1, &r, NULL, NULL, &tv) == 0, "select: something arrived");
	long long wall = now_us(CLOCK_MONOTONIC) - wall0, cpu = now_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	getrusage(RUSAGE_SELF, &ru1);
	long sleeps = ru1.ru_nvcsw - ru0.ru_nvcsw;
	printf("idle: %lld ms waited, slept %ld times, %lld us of CPU\n", wall / 1000, sleeps, cpu);
	CHECK(wall >= 2500000 && wall < 4000000, "the timeouts took %lld ms, not 2.5 s", wall / 1000);
	CHECK(sleeps >= 3, "three waits but only %ld sleeps counted", sleeps);
	CHECK(sleeps <= max_sleeps, "waiting for nothing woke up %ld times (at most %ld allowed)", sleeps, max_sleeps);
	ok("idle waits do not poll");

	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in host = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	inet_pton(AF_INET, "10.0.2.2", &host.sin_addr);
	CHECK(connect(c, (struct sockaddr *)&host, sizeof host) == 0, "connect");
	char buf[64];
	ssize_t n = read(c, buf, sizeof buf - 1);
	CHECK(n > 0, "read");
	buf[n] = 0;
	printf("got: %s", buf);
	return 0;
}
