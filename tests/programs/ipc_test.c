#define _GNU_SOURCE
/* ipc_test: pipes (blocking across threads, EOF, EPIPE, O_NONBLOCK, O_CLOEXEC), poll, select,
 * epoll (edge-triggered, EEXIST), eventfd and timerfd (one-shot + interval, in epoll).
 * Prints one line per check and ALL OK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include "check.h"
static int p[2];
static void *writer(void *a) { (void)a; usleep(20000); write(p[1], "hello", 5); usleep(20000); close(p[1]); return NULL; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void) {
    char buf[64];
    CHECK(pipe(p) == 0);
    pthread_t t; pthread_create(&t, NULL, writer, NULL);
    ssize_t n = read(p[0], buf, sizeof buf);   /* blocks until the writer writes */
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 0);   /* EOF after close */
    pthread_join(t, NULL);
    close(p[0]);
    CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    CHECK(read(p[0], buf, 1) == -1 && errno == EAGAIN);
    CHECK((fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0);
    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    CHECK(poll(pf, 2, 0) == 1 && pf[1].revents == POLLOUT && pf[0].revents == 0);
    double t0 = now(); CHECK(poll(pf, 1, 50) == 0); CHECK(now() - t0 >= 0.045);
    write(p[1], "x", 1);
    CHECK(poll(pf, 1, -1) == 1 && (pf[0].revents & POLLIN));
    fd_set rf; FD_ZERO(&rf); FD_SET(p[0], &rf); struct timeval tv = {1, 0};
    CHECK(select(p[0] + 1, &rf, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &rf));
    int ep = epoll_create1(0); CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 77};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1 && errno == EEXIST);
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u64 == 77);
    CHECK(epoll_wait(ep, out, 4, 0) == 0);   /* edge already reported */
    write(p[1], "y", 1);
    CHECK(epoll_wait(ep, out, 4, 100) == 1); /* new edge */
    int efd = eventfd(3, EFD_NONBLOCK); uint64_t v;
    CHECK(read(efd, &v, 8) == 8 && v == 3);
    CHECK(read(efd, &v, 8) == -1 && errno == EAGAIN);
    v = 5; CHECK(write(efd, &v, 8) == 8);
    struct epoll_event ev2 = {.events = EPOLLIN, .data.u64 = 9};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev2) == 0);
    CHECK(epoll_wait(ep, out, 4, 0) >= 1);
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0); CHECK(tfd >= 0);
    struct itimerspec its = {{0, 10000000}, {0, 30000000}};
    CHECK(timerfd_settime(tfd, 0, &its, NULL) == 0);
    t0 = now(); CHECK(read(tfd, &v, 8) == 8 && v >= 1); double dt = now() - t0;
    CHECK(dt > 0.025 && dt < 0.5);
    usleep(35000); CHECK(read(tfd, &v, 8) == 8 && v >= 3);
    int ep2 = epoll_create1(0); struct epoll_event ev3 = {.events = EPOLLIN, .data.u64 = 5};
    epoll_ctl(ep2, EPOLL_CTL_ADD, tfd, &ev3);
    CHECK(epoll_wait(ep2, out, 4, 1000) == 1 && out[0].data.u64 == 5);
    signal(SIGPIPE, SIG_IGN); /* else the write below would end the program */
    close(p[0]); CHECK(write(p[1], "z", 1) == -1 && errno == EPIPE);
    return CHECK_DONE();
}
