#define _GNU_SOURCE
/* mmsg_test: sendmmsg(2) and recvmmsg(2) as glibc's resolver (A and AAAA queries in one
 * sendmmsg) and DNS/QUIC servers use them (issue 14 item 3), on UDP over loopback and
 * on AF_UNIX datagram sockets:
 *   - sendmmsg sends each message as its own datagram, fills each msg_len, returns
 *     the count; recvmmsg takes one datagram per entry, with msg_len and the sender;
 *   - MSG_WAITFORONE returns what is there after the first; MSG_DONTWAIT with
 *     nothing queued is EAGAIN; without it all vlen entries are filled;
 *   - a failing message after the first ends sendmmsg with the count sent so far,
 *     a failing first one gives its error; vlen 0 sends nothing.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static void send_recv(int tx, int rx, struct sockaddr *to, socklen_t tolen)
{
	char a[] = "first", b[] = "second one", c[] = "3";
	struct iovec iov[4] = {{a, 5}, {b, 6}, {b + 6, 4}, {c, 1}};
	struct mmsghdr m[3];
	memset(m, 0, sizeof m);
	m[0].msg_hdr.msg_iov = &iov[0], m[0].msg_hdr.msg_iovlen = 1;
	m[1].msg_hdr.msg_iov = &iov[1], m[1].msg_hdr.msg_iovlen = 2; /* gathered */
	m[2].msg_hdr.msg_iov = &iov[3], m[2].msg_hdr.msg_iovlen = 1;
	for (int i = 0; i < 3; i++)
		m[i].msg_hdr.msg_name = to, m[i].msg_hdr.msg_namelen = tolen;
	CHECK(sendmmsg(tx, m, 3, 0) == 3);
	CHECK(m[0].msg_len == 5 && m[1].msg_len == 10 && m[2].msg_len == 1);

	char r[4][32];
	struct iovec riov[4];
	struct mmsghdr rm[4];
	struct sockaddr_storage from[4];
	memset(rm, 0, sizeof rm);
	for (int i = 0; i < 4; i++) {
		riov[i].iov_base = r[i], riov[i].iov_len = sizeof r[i];
		rm[i].msg_hdr.msg_iov = &riov[i], rm[i].msg_hdr.msg_iovlen = 1;
		rm[i].msg_hdr.msg_name = &from[i], rm[i].msg_hdr.msg_namelen = sizeof from[i];
	}
	/* Three are queued: MSG_WAITFORONE takes them and does not wait for a fourth. */
	CHECK(recvmmsg(rx, rm, 4, MSG_WAITFORONE, NULL) == 3);
	CHECK(rm[0].msg_len == 5 && memcmp(r[0], "first", 5) == 0);
	CHECK(rm[1].msg_len == 10 && memcmp(r[1], "second one", 10) == 0);
	CHECK(rm[2].msg_len == 1 && r[2][0] == '3');
	CHECK(rm[0].msg_hdr.msg_namelen > 0 && from[0].ss_family == to->sa_family);
	errno = 0;
	CHECK(recvmmsg(rx, rm, 4, MSG_DONTWAIT, NULL) == -1 && errno == EAGAIN);

	/* Without MSG_WAITFORONE it fills all vlen entries (with a timeout given). */
	CHECK(sendto(tx, "late", 4, 0, to, tolen) == 4);
	CHECK(sendto(tx, "later", 5, 0, to, tolen) == 5);
	struct timespec ts = {5, 0};
	CHECK(recvmmsg(rx, rm, 2, 0, &ts) == 2 && rm[0].msg_len == 4 && rm[1].msg_len == 5);

	CHECK(sendmmsg(tx, m, 0, 0) == 0);
}

int main(void)
{
	alarm(60);
	/* UDP over loopback */
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	CHECK(bind(rx, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(rx, (struct sockaddr *)&a, &al) == 0);
	printf("-- UDP\n");
	send_recv(tx, rx, (struct sockaddr *)&a, sizeof a);

	/* The first message failing gives its error; a later one, the count so far. */
	static char big[70000];
	struct iovec ok_iov = {"x", 1}, big_iov = {big, sizeof big};
	struct mmsghdr m[2];
	memset(m, 0, sizeof m);
	m[0].msg_hdr.msg_iov = &ok_iov, m[0].msg_hdr.msg_iovlen = 1;
	m[1].msg_hdr.msg_iov = &big_iov, m[1].msg_hdr.msg_iovlen = 1;
	for (int i = 0; i < 2; i++)
		m[i].msg_hdr.msg_name = &a, m[i].msg_hdr.msg_namelen = sizeof a;
	CHECK(sendmmsg(tx, m, 2, 0) == 1 && m[0].msg_len == 1);
	errno = 0;
	CHECK(sendmmsg(tx, &m[1], 1, 0) == -1 && errno == EMSGSIZE);
	char one;
	CHECK(recv(rx, &one, 1, MSG_DONTWAIT) == 1 && one == 'x');
	errno = 0;
	CHECK(sendmmsg(999, m, 1, 0) == -1 && errno == EBADF);

	/* AF_UNIX datagrams */
	printf("-- AF_UNIX\n");
	int u_rx = socket(AF_UNIX, SOCK_DGRAM, 0), u_tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	strcpy(un.sun_path, "/tmp/mmsg.sock");
	unlink(un.sun_path);
	CHECK(bind(u_rx, (struct sockaddr *)&un, sizeof un) == 0);
	struct sockaddr_un me = {.sun_family = AF_UNIX};
	strcpy(me.sun_path, "/tmp/mmsg-tx.sock");
	unlink(me.sun_path);
	CHECK(bind(u_tx, (struct sockaddr *)&me, sizeof me) == 0);
	send_recv(u_tx, u_rx, (struct sockaddr *)&un, sizeof un);
	return CHECK_DONE();
}
