#define _GNU_SOURCE
/* sigpipe: writing to a pipe or stream socket whose reader is gone.
 *   sigpipe pipe|unix|tcp|thread   the default action: the write never returns, the
 *                                  program dies by SIGPIPE (status 141); "thread"
 *                                  writes to the pipe from a second thread
 *   sigpipe safe                   MSG_NOSIGNAL, a handler, a blocked and an ignored
 *                                  SIGPIPE: the write fails with EPIPE and the program
 *                                  goes on; prints one line per check and ALL OK */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

/* A pipe's write end whose read end is closed. */
static int broken_pipe(void) {
	int p[2];
	if (pipe(p) != 0)
		return -1;
	close(p[0]);
	return p[1];
}

/* A connected AF_UNIX stream socket whose peer is closed. */
static int broken_unix(void) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	close(sv[1]);
	return sv[0];
}

/* A loopback TCP connection shut down for writing. */
static int broken_tcp(void) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7777)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0)
		return -1;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	if (shutdown(c, SHUT_WR) != 0)
		return -1;
	return c;
}

static void *thread_writer(void *arg) {
	int fd = (int)(long)arg;
	write(fd, "x", 1);
	printf("FAIL the thread's write returned (errno %d)\n", errno);
	return NULL;
}

static int die_by_default(const char *what) {
	int fd = !strcmp(what, "unix") ? broken_unix() : !strcmp(what, "tcp") ? broken_tcp() : broken_pipe();
	if (fd < 0) {
		printf("FAIL setting up %s (errno %d)\n", what, errno);
		return 1;
	}
	printf("sigpipe: writing to a broken %s\n", what);
	fflush(stdout);
	if (!strcmp(what, "thread")) {
		pthread_t t;
		pthread_create(&t, NULL, thread_writer, (void *)(long)fd);
		pthread_join(t, NULL);
	} else if (!strcmp(what, "pipe")) {
		write(fd, "x", 1);
	} else {
		send(fd, "x", 1, 0);
	}
	printf("FAIL still alive after the write (errno %d)\n", errno);
	return 1;
}

static volatile int handled;
static volatile int handled_code = -1;
static void on_sigpipe(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	if (sig == SIGPIPE)
		handled++;
	handled_code = si->si_code;
}

static int survive(void) {
	char c = 'x';
	struct iovec iov = {&c, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	/* MSG_NOSIGNAL: EPIPE and no signal, under the default disposition. */
	int u = broken_unix(), t = broken_tcp();
	CHECK(u >= 0 && t >= 0);
	CHECK(send(u, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	CHECK(sendmsg(u, &m, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	CHECK(sendto(t, "x", 1, MSG_NOSIGNAL, NULL, 0) == -1 && errno == EPIPE);

	/* A handler runs once per failed write, with si_code SI_USER. */
	struct sigaction sa = {.sa_sigaction = on_sigpipe, .sa_flags = SA_SIGINFO};
	sigaction(SIGPIPE, &sa, NULL);
	int p = broken_pipe();
	CHECK(write(p, "x", 1) == -1 && errno == EPIPE && handled == 1 && handled_code == SI_USER);
	CHECK(writev(p, &iov, 1) == -1 && errno == EPIPE && handled == 2);
	CHECK(send(u, "x", 1, 0) == -1 && errno == EPIPE && handled == 3);
	CHECK(send(t, "x", 1, 0) == -1 && errno == EPIPE && handled == 4);
	CHECK(send(u, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE && handled == 4);

	/* Blocked: EPIPE, and SIGPIPE stays pending. */
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	CHECK(write(p, "x", 1) == -1 && errno == EPIPE);
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGPIPE) == 1 && handled == 4);

	/* Ignored: EPIPE; setting SIG_IGN discards the pending one, so unblocking
	 * delivers nothing. */
	signal(SIGPIPE, SIG_IGN);
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGPIPE) == 0);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	CHECK(write(p, "x", 1) == -1 && errno == EPIPE);
	CHECK(send(u, "x", 1, 0) == -1 && errno == EPIPE);
	CHECK(send(t, "x", 1, 0) == -1 && errno == EPIPE);
	CHECK(handled == 4);
	return CHECK_DONE();
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: sigpipe pipe|unix|tcp|thread|safe\n");
		return 2;
	}
	if (!strcmp(argv[1], "safe"))
		return survive();
	return die_by_default(argv[1]);
}
