#define _GNU_SOURCE
/* unix_sockets: AF_UNIX sockets as Linux gives them (man 7 unix): socketpair (stream,
 * datagram, seqpacket), a path-bound listener served to several client threads,
 * datagrams between threads, abstract names and autobind, SCM_RIGHTS passing a pipe,
 * poll/epoll readiness and wake-ups (EPOLLRDHUP/POLLHUP on peer close), shutdown and
 * end of file, options (SO_PEERCRED, SO_RCVBUF, SO_RCVTIMEO), FIONREAD, MSG_PEEK/
 * MSG_TRUNC/MSG_WAITALL, 1 MiB through a stream, and the error cases (ENOENT,
 * ECONNREFUSED, EADDRINUSE, EPROTOTYPE, ENOTCONN, EPIPE, ECONNRESET, ...).
 * Prints one line per check and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

/* An abstract name: NUL, then `name` (no trailing NUL counted). */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void test_socketpair_stream(void) {
	int sv[2];
	char buf[64];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK((fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
	struct stat st;
	CHECK(fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK(write(sv[0], "ping", 4) == 4);
	int avail = -1;
	CHECK(ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 4);
	CHECK(recv(sv[1], buf, 2, MSG_PEEK) == 2 && memcmp(buf, "pi", 2) == 0);
	CHECK(read(sv[1], buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
	CHECK(send(sv[1], "pong", 4, 0) == 4);
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0);
	CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN);

	struct ucred cred;
	socklen_t len = sizeof cred;
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred &&
	      cred.pid == getpid() && cred.uid == 0 && cred.gid == 0);
	int v = 0;
	len = sizeof v;
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM);
	struct sockaddr_un a;
	len = sizeof a;
	CHECK(getsockname(sv[0], (struct sockaddr *)&a, &len) == 0 && len == sizeof(sa_family_t) &&
	      a.sun_family == AF_UNIX);
	len = sizeof a;
	CHECK(getpeername(sv[0], (struct sockaddr *)&a, &len) == 0 && len == sizeof(sa_family_t));

	/* shutdown(SHUT_WR): the peer reads what was sent, then end of file; the other
	 * direction still works; our own sends fail with EPIPE. */
	CHECK(send(sv[0], "last", 4, 0) == 4);
	CHECK(shutdown(sv[0], SHUT_WR) == 0);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 4);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
	CHECK(send(sv[1], "back", 4, 0) == 4);
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 4 && memcmp(buf, "back", 4) == 0);
	CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	CHECK(shutdown(sv[0], 7) == -1 && errno == EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* Closing with data unread resets the peer: ECONNRESET once, then end of file. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(send(sv[1], "unread", 6, 0) == 6);
	close(sv[0]);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == -1 && errno == ECONNRESET);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
	CHECK(send(sv[1], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	close(sv[1]);

	/* SO_ERROR reports the reset once and clears it. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(send(sv[1], "unread", 6, 0) == 6);
	close(sv[0]);
	int err = -1;
	len = sizeof err;
	CHECK(getsockopt(sv[1], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ECONNRESET);
	CHECK(getsockopt(sv[1], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
	close(sv[1]);
}

static void test_socketpair_messages(void) {
	int sv[2];
	char buf[64];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0);
	CHECK((fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0);
	CHECK(send(sv[0], "one", 3, 0) == 3);
	CHECK(send(sv[0], "second", 6, 0) == 6);
	int avail = -1;
	CHECK(ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 3); /* the next datagram */
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 3);
	/* A short buffer truncates; MSG_TRUNC reports the real length. */
	CHECK(recv(sv[1], buf, 2, MSG_TRUNC) == 6 && memcmp(buf, "se", 2) == 0);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == -1 && errno == EAGAIN);
	CHECK(send(sv[0], "", 0, 0) == 0); /* an empty datagram is a datagram */
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
	close(sv[0]);
	/* The peer is gone: refused once, then no longer connected. */
	CHECK(send(sv[1], "x", 1, 0) == -1 && errno == ECONNREFUSED);
	CHECK(send(sv[1], "x", 1, 0) == -1 && errno == ENOTCONN);
	close(sv[1]);

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CHECK(send(sv[0], "abc", 3, 0) == 3 && send(sv[0], "de", 2, 0) == 2);
	struct iovec iov = {buf, 2};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK(recvmsg(sv[1], &m, 0) == 2 && (m.msg_flags & MSG_TRUNC));
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 2 && memcmp(buf, "de", 2) == 0);
	close(sv[0]);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 0); /* end of file */
	close(sv[1]);

	CHECK(socketpair(AF_INET, SOCK_STREAM, 0, sv) == -1 && errno == EOPNOTSUPP);
	CHECK(socket(AF_UNIX, SOCK_STREAM, 6) == -1 && errno == EPROTONOSUPPORT);
}

/* A path-bound listener; each client thread sends its number and expects it back
 * with 1000 added. */
#define CLIENTS 5
static const char *listen_path = "/tmp/srv.sock";

static void *stream_client(void *arg) {
	int id = (int)(intptr_t)arg;
	struct sockaddr_un a;
	socklen_t alen = path_addr(&a, listen_path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, alen) != 0)
		return (void *)(intptr_t)-1;
	if (send(s, &id, sizeof id, 0) != sizeof id)
		return (void *)(intptr_t)-2;
	int reply = 0;
	if (recv(s, &reply, sizeof reply, MSG_WAITALL) != sizeof reply)
		return (void *)(intptr_t)-3;
	char c;
	if (recv(s, &c, 1, 0) != 0) /* the server closes: end of file */
		return (void *)(intptr_t)-4;
	close(s);
	return (void *)(intptr_t)reply;
}

static void test_listener_and_clients(void) {
	struct sockaddr_un a;
	socklen_t alen = path_addr(&a, listen_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(l >= 0);
	CHECK(listen(l, 4) == -1 && errno == EINVAL); /* not bound yet */
	CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
	struct stat st;
	CHECK(stat(listen_path, &st) == 0 && S_ISSOCK(st.st_mode));
	int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l2, (struct sockaddr *)&a, alen) == -1 && errno == EADDRINUSE);
	close(l2);
	CHECK(listen(l, CLIENTS) == 0);
	int v = 0;
	socklen_t len = sizeof v;
	CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 1);
	struct sockaddr_un got;
	len = sizeof got;
	CHECK(getsockname(l, (struct sockaddr *)&got, &len) == 0 && len == alen &&
	      strcmp(got.sun_path, listen_path) == 0);

	pthread_t t[CLIENTS];
	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&t[i], NULL, stream_client, (void *)(intptr_t)i);
	int served = 0;
	for (int i = 0; i < CLIENTS; i++) {
		struct sockaddr_un peer;
		socklen_t plen = sizeof peer;
		int c = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (c < 0)
			break;
		int id = -1;
		if (recv(c, &id, sizeof id, MSG_WAITALL) == sizeof id && plen == sizeof(sa_family_t)) {
			id += 1000;
			if (send(c, &id, sizeof id, 0) == sizeof id)
				served++;
		}
		close(c);
	}
	CHECK(served == CLIENTS);
	int sum = 0;
	for (int i = 0; i < CLIENTS; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (int)(intptr_t)r;
	}
	CHECK(sum == CLIENTS * 1000 + CLIENTS * (CLIENTS - 1) / 2);

	/* Connected client sees the listener's path as its peer. */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
	len = sizeof got;
	CHECK(getpeername(c, (struct sockaddr *)&got, &len) == 0 && strcmp(got.sun_path, listen_path) == 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == -1 && errno == EISCONN);
	close(c);

	/* Once the listener is closed the file stays, and connecting is refused; unlink
	 * removes it and the path can be bound again. */
	close(l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == -1 && errno == ECONNREFUSED);
	CHECK(unlink(listen_path) == 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == -1 && errno == ENOENT);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
	close(l);
	close(c);
	unlink(listen_path);
}

/* A full backlog: a non-blocking connect says EAGAIN; the listener polls readable. */
static void test_backlog(void) {
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, "backlog");
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, alen) == 0 && listen(l, 1) == 0);
	struct pollfd pf = {l, POLLIN, 0};
	CHECK(poll(&pf, 1, 0) == 0);
	int c[3], ok = 0;
	for (int i = 0; i < 3; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(c[i], (struct sockaddr *)&a, alen) == 0)
			ok++;
		else
			CHECK(errno == EAGAIN);
	}
	CHECK(ok == 2); /* backlog 1 holds 2 pending connections, as on Linux */
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN);
	for (int i = 0; i < ok; i++) {
		int s = accept(l, NULL, NULL);
		CHECK(s >= 0);
		close(s);
	}
	CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
	CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);
	/* A connection the listener never accepted is reset when it closes. */
	CHECK(connect(c[2], (struct sockaddr *)&a, alen) == 0);
	close(l);
	char buf[4];
	CHECK(recv(c[2], buf, sizeof buf, 0) == -1 && errno == ECONNRESET);
	CHECK(recv(c[2], buf, sizeof buf, 0) == 0);
	for (int i = 0; i < 3; i++)
		close(c[i]);
}

/* Datagrams from a client thread to a bound server: boundaries and sender address. */
static const char *dgram_srv = "/tmp/dgram.sock";
static const char *dgram_cli = "/tmp/dgram-client.sock";

static void *dgram_client(void *arg) {
	(void)arg;
	struct sockaddr_un me, srv;
	socklen_t mlen = path_addr(&me, dgram_cli), slen = path_addr(&srv, dgram_srv);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(s, (struct sockaddr *)&me, mlen) != 0)
		return (void *)1;
	usleep(20000); /* the server is already blocked in recvfrom */
	for (int i = 0; i < 10; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof msg, "datagram %d", i);
		if (sendto(s, msg, n, 0, (struct sockaddr *)&srv, slen) != n)
			return (void *)2;
	}
	char reply[16];
	if (recv(s, reply, sizeof reply, 0) != 4 || memcmp(reply, "done", 4) != 0)
		return (void *)3;
	close(s);
	return NULL;
}

static void test_datagrams_between_threads(void) {
	struct sockaddr_un a;
	socklen_t alen = path_addr(&a, dgram_srv);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(s, (struct sockaddr *)&a, alen) == 0);
	CHECK(listen(s, 1) == -1 && errno == EOPNOTSUPP);
	pthread_t t;
	pthread_create(&t, NULL, dgram_client, NULL);
	int good = 0;
	struct sockaddr_un from;
	socklen_t flen = 0;
	for (int i = 0; i < 10; i++) {
		char buf[64], want[32];
		flen = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		int wn = snprintf(want, sizeof want, "datagram %d", i);
		if (n == wn && memcmp(buf, want, n) == 0)
			good++;
	}
	CHECK(good == 10);
	CHECK(strcmp(from.sun_path, dgram_cli) == 0 &&
	      flen == offsetof(struct sockaddr_un, sun_path) + strlen(dgram_cli) + 1);
	CHECK(sendto(s, "done", 4, 0, (struct sockaddr *)&from, flen) == 4);
	void *r;
	pthread_join(t, &r);
	CHECK(r == NULL);

	/* A connected datagram socket: send without an address; an unbound sender has no
	 * address to report; a socket connected elsewhere refuses others (EPERM). */
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(send(c, "x", 1, 0) == -1 && errno == ENOTCONN);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
	CHECK(send(c, "hello", 5, 0) == 5);
	char buf[16];
	flen = sizeof from;
	CHECK(recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 5 && flen == 0);
	struct sockaddr_un xa;
	socklen_t xlen = abstract_addr(&xa, "dgram-x");
	int x = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(x, (struct sockaddr *)&xa, xlen) == 0 && connect(x, (struct sockaddr *)&a, alen) == 0);
	CHECK(sendto(c, "no", 2, 0, (struct sockaddr *)&xa, xlen) == -1 && errno == EPERM);
	CHECK(connect(c, (struct sockaddr *)&xa, xlen) == -1 && errno == EPERM);
	close(x);
	int stream = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(stream, (struct sockaddr *)&a, alen) == -1 && errno == EPROTOTYPE);
	close(stream);
	close(c);
	close(s);
	unlink(dgram_srv);
	unlink(dgram_cli);
}

static void test_abstract_names(void) {
	struct sockaddr_un a, got;
	socklen_t alen = abstract_addr(&a, "rumprun-abstract");
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, alen) == 0 && listen(l, 8) == 0);
	socklen_t len = sizeof got;
	CHECK(getsockname(l, (struct sockaddr *)&got, &len) == 0 && len == alen && got.sun_path[0] == 0 &&
	      memcmp(got.sun_path + 1, "rumprun-abstract", 16) == 0);
	int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l2, (struct sockaddr *)&a, alen) == -1 && errno == EADDRINUSE);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0 && send(c, "abs", 3, 0) == 3);
	char buf[8];
	CHECK(recv(s, buf, sizeof buf, 0) == 3);
	/* Abstract names leave no file and are free again once the socket closes. */
	CHECK(access("rumprun-abstract", F_OK) == -1);
	close(l);
	CHECK(bind(l2, (struct sockaddr *)&a, alen) == 0);
	close(l2);
	struct sockaddr_un other;
	socklen_t olen = abstract_addr(&other, "nobody-here");
	int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c2, (struct sockaddr *)&other, olen) == -1 && errno == ECONNREFUSED);
	/* bind with only the family: autobind to a five-hex-digit abstract name. */
	sa_family_t fam = AF_UNIX;
	CHECK(bind(c2, (struct sockaddr *)&fam, sizeof fam) == 0);
	len = sizeof got;
	CHECK(getsockname(c2, (struct sockaddr *)&got, &len) == 0 && len == sizeof(sa_family_t) + 6 &&
	      got.sun_path[0] == 0);
	close(c2);
	close(c);
	close(s);
}

/* Sends fd `fd` with one byte over `sock`. */
static int send_fd(int sock, int fd) {
	char byte = 'F';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return sendmsg(sock, &m, 0);
}

/* The first descriptor of a received SCM_RIGHTS message, or -1. */
static int received_fd(struct msghdr *m) {
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);
	int fd = -1;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

static void test_scm_rights(void) {
	int sv[2], p[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0);
	CHECK(send(sv[0], "plain", 5, 0) == 5);
	CHECK(send_fd(sv[0], p[0]) == 1);
	close(p[0]); /* the message keeps the pipe's read end open */

	char buf[16];
	struct iovec iov = {buf, sizeof buf};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	/* Bytes before the message with files come with it; the read stops after it. */
	CHECK(recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) == 6 && memcmp(buf, "plainF", 6) == 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	      cm->cmsg_len == CMSG_LEN(sizeof(int)));
	int got = -1;
	if (cm)
		memcpy(&got, CMSG_DATA(cm), sizeof got);
	CHECK(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
	CHECK(write(p[1], "through", 7) == 7);
	CHECK(read(got, buf, sizeof buf) == 7 && memcmp(buf, "through", 7) == 0);
	close(got);
	/* The reader is gone with the last descriptor of the passed file. */
	signal(SIGPIPE, SIG_IGN);
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);

	/* No room for the control message: MSG_CTRUNC, and the file is not installed. */
	CHECK(pipe(p) == 0 && send_fd(sv[0], p[1]) == 1);
	m.msg_controllen = 0;
	m.msg_control = NULL;
	iov.iov_len = sizeof buf;
	CHECK(recvmsg(sv[1], &m, 0) == 1 && (m.msg_flags & MSG_CTRUNC));
	close(p[1]);
	CHECK(read(p[0], buf, 1) == 0); /* the dropped copy did not keep the writer alive */
	close(p[0]);
	/* MSG_PEEK hands out a copy of the files and leaves the message queued. */
	CHECK(pipe(p) == 0 && send_fd(sv[0], p[0]) == 1);
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	CHECK(recvmsg(sv[1], &m, MSG_PEEK) == 1);
	int peeked = received_fd(&m);
	m.msg_controllen = sizeof u.buf;
	CHECK(recvmsg(sv[1], &m, 0) == 1);
	got = received_fd(&m);
	CHECK(peeked >= 0 && got >= 0 && peeked != got);
	CHECK(write(p[1], "pq", 2) == 2 && read(peeked, buf, 1) == 1 && buf[0] == 'p' &&
	      read(got, buf, 1) == 1 && buf[0] == 'q');
	close(peeked);
	close(got);
	close(p[0]);
	close(p[1]);
	/* A bad descriptor in SCM_RIGHTS fails the send. */
	CHECK(send_fd(sv[0], 999) == -1 && errno == EBADF);

	/* Datagrams carry files too. */
	int dv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dv) == 0 && pipe(p) == 0);
	CHECK(send_fd(dv[0], p[1]) == 1);
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	CHECK(recvmsg(dv[1], &m, 0) == 1 && CMSG_FIRSTHDR(&m) != NULL);
	memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof got);
	CHECK(write(got, "d", 1) == 1 && read(p[0], buf, 1) == 1 && buf[0] == 'd');
	close(got);
	close(p[0]);
	close(p[1]);
	close(dv[0]);
	close(dv[1]);
	close(sv[0]);
	close(sv[1]);
}

/* SO_PASSCRED: every message comes with SCM_CREDENTIALS, our own identity. */
static void test_credentials(void) {
	int sv[2], on = 1;
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
	CHECK(send(sv[0], "c", 1, 0) == 1);
	char buf[4];
	struct iovec iov = {buf, sizeof buf};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	CHECK(recvmsg(sv[1], &m, 0) == 1 && m.msg_controllen == CMSG_SPACE(sizeof(struct ucred)));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
	      cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)));
	struct ucred cr = {0, 1, 1};
	if (cm)
		memcpy(&cr, CMSG_DATA(cm), sizeof cr);
	CHECK(cr.pid == getpid() && cr.uid == 0 && cr.gid == 0);
	/* A sender with SO_PASSCRED gets a name (autobind), so the receiver sees who sent. */
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
	CHECK(send(sv[0], "n", 1, 0) == 1);
	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	CHECK(recvfrom(sv[1], buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 1 &&
	      flen == sizeof(sa_family_t) + 6 && from.sun_path[0] == 0);
	close(sv[0]);
	close(sv[1]);
}

/* A seqpacket listener: connection-oriented like a stream, message boundaries like
 * datagrams; a destination address on send is ignored. */
static void test_seqpacket_listener(void) {
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, "seqpacket");
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHECK(bind(l, (struct sockaddr *)&a, alen) == 0 && listen(l, 2) == 0);
	int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK(sendto(c, "first", 5, 0, (struct sockaddr *)&a, alen) == 5 && send(c, "2nd", 3, 0) == 3);
	char buf[16];
	CHECK(recv(s, buf, sizeof buf, 0) == 5 && recv(s, buf, sizeof buf, 0) == 3);
	close(c);
	CHECK(recv(s, buf, sizeof buf, 0) == 0);
	close(s);
	close(l);
}

static int wake_fd;
static void *late_sender(void *arg) {
	(void)arg;
	usleep(30000);
	send(wake_fd, "wake", 4, 0);
	return NULL;
}

static void test_readiness(void) {
	int sv[2];
	char buf[16];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	struct pollfd pf = {sv[0], POLLIN | POLLOUT | POLLRDHUP, 0};
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT);
	CHECK(send(sv[1], "r", 1, 0) == 1);
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLOUT));
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 1);

	/* epoll wakes a blocked waiter when another thread sends. */
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = sv[0]}, out[2];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == 0);
	CHECK(epoll_wait(ep, out, 2, 0) == 0);
	wake_fd = sv[1];
	pthread_t t;
	pthread_create(&t, NULL, late_sender, NULL);
	double t0 = now();
	CHECK(epoll_wait(ep, out, 2, 2000) == 1 && out[0].events == EPOLLIN && now() - t0 >= 0.02);
	pthread_join(t, NULL);
	CHECK(epoll_wait(ep, out, 2, 0) == 0); /* edge-triggered: reported once */

	/* The peer closes: EPOLLIN | EPOLLRDHUP | EPOLLHUP, reads drain then end of file. */
	close(sv[1]);
	CHECK(epoll_wait(ep, out, 2, 100) == 1 &&
	      out[0].events == (EPOLLIN | EPOLLRDHUP | EPOLLHUP));
	pf.events = POLLIN | POLLRDHUP;
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLRDHUP | POLLHUP));
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 4 && recv(sv[0], buf, sizeof buf, 0) == 0);
	close(ep);
	close(sv[0]);

	/* SHUT_RD on our side: POLLRDHUP without POLLHUP; select sees it readable. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && shutdown(sv[0], SHUT_RD) == 0);
	pf = (struct pollfd){sv[0], POLLIN | POLLRDHUP, 0};
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLRDHUP));
	fd_set rf;
	FD_ZERO(&rf);
	FD_SET(sv[0], &rf);
	struct timeval tv = {0, 0};
	CHECK(select(sv[0] + 1, &rf, NULL, NULL, &tv) == 1);
	CHECK(send(sv[1], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	close(sv[0]);
	close(sv[1]);
}

static void test_options(void) {
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int v = 4096;
	socklen_t len = sizeof v;
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) == 0);
	CHECK(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v == 8192); /* doubled */
	v = 1 << 30;
	CHECK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0);
	len = sizeof v;
	CHECK(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v == 2 * 212992); /* capped */
	CHECK(setsockopt(s, IPPROTO_TCP, 1, &v, sizeof v) == -1 && errno == EOPNOTSUPP);
	struct ucred cred;
	len = sizeof cred;
	CHECK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid == 0);
	char buf[4];
	CHECK(recv(s, buf, sizeof buf, 0) == -1 && errno == EINVAL); /* not connected */
	CHECK(send(s, "x", 1, 0) == -1 && errno == ENOTCONN);
	CHECK(accept(s, NULL, NULL) == -1 && errno == EINVAL);
	close(s);

	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	/* A datagram larger than the send buffer allows: EMSGSIZE. */
	int dv[2];
	static char big[9000];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dv) == 0);
	v = 4096;
	CHECK(setsockopt(dv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0);
	CHECK(send(dv[0], big, sizeof big, 0) == -1 && errno == EMSGSIZE);
	CHECK(send(dv[0], big, 8000, 0) == 8000);
	close(dv[0]);
	close(dv[1]);

	struct timeval tv = {0, 50000};
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	double t0 = now();
	CHECK(recv(sv[0], buf, sizeof buf, 0) == -1 && errno == EAGAIN && now() - t0 >= 0.045);
	/* The timeout bounds a plain read() too (socket(7)). */
	t0 = now();
	CHECK(read(sv[0], buf, sizeof buf) == -1 && errno == EAGAIN && now() - t0 >= 0.045);
	close(sv[0]);
	close(sv[1]);
}

/* 1 MiB through a stream from a writer thread, with a small receive buffer so the
 * writer blocks and is woken many times. */
#define BULK (1 << 20)
static int bulk_fd;
static void *bulk_writer(void *arg) {
	(void)arg;
	static unsigned char data[BULK];
	for (int i = 0; i < BULK; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 12));
	size_t off = 0;
	while (off < BULK) {
		ssize_t n = write(bulk_fd, data + off, BULK - off);
		if (n <= 0)
			return (void *)1;
		off += n;
	}
	close(bulk_fd);
	return NULL;
}

static void test_bulk(void) {
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int v = 16384;
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &v, sizeof v) == 0);
	bulk_fd = sv[0];
	pthread_t t;
	pthread_create(&t, NULL, bulk_writer, NULL);
	static unsigned char buf[65536];
	size_t total = 0;
	int bad = 0;
	for (;;) {
		ssize_t n = read(sv[1], buf, sizeof buf);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			size_t at = total + i;
			if (buf[i] != (unsigned char)(at * 7 + (at >> 12)))
				bad++;
		}
		total += n;
	}
	void *r;
	pthread_join(t, &r);
	CHECK(r == NULL && total == BULK && bad == 0);
	close(sv[1]);
}

static void test_connect_errors(void) {
	struct sockaddr_un a;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t alen = path_addr(&a, "/tmp/no-such-socket");
	CHECK(connect(s, (struct sockaddr *)&a, alen) == -1 && errno == ENOENT);
	alen = path_addr(&a, "/tmp/missing-dir/sock");
	CHECK(bind(s, (struct sockaddr *)&a, alen) == -1 && errno == ENOENT);
	alen = path_addr(&a, "/etc/passwd"); /* exists, not a socket */
	CHECK(connect(s, (struct sockaddr *)&a, alen) == -1 && errno == ECONNREFUSED);
	CHECK(bind(s, (struct sockaddr *)&a, alen) == -1 && errno == EADDRINUSE);
	a.sun_family = AF_INET;
	CHECK(connect(s, (struct sockaddr *)&a, alen) == -1 && errno == EINVAL);
	close(s);
	int p[2];
	CHECK(pipe(p) == 0);
	socklen_t len = sizeof a;
	CHECK(getsockname(p[0], (struct sockaddr *)&a, &len) == -1 && errno == ENOTSOCK);
	close(p[0]);
	close(p[1]);
}

int main(void) {
	test_socketpair_stream();
	test_socketpair_messages();
	test_listener_and_clients();
	test_backlog();
	test_datagrams_between_threads();
	test_abstract_names();
	test_scm_rights();
	test_credentials();
	test_seqpacket_listener();
	test_readiness();
	test_options();
	test_bulk();
	test_connect_errors();
	return CHECK_DONE();
}
