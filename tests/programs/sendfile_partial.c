#define _GNU_SOURCE
/* sendfile_partial: calls that copy in pieces report what they really copied (issue 14
 * item 1). nginx and lighttpd send files with sendfile(2) to non-blocking sockets;
 * when the socket fills up, Linux returns the bytes sent so far and moves *offset (or
 * the file position) by exactly that much. Checked here:
 *   - a 1.5 MiB file sent with sendfile(offset) to a non-blocking loopback TCP socket
 *     whose reader is slow: every byte arrives once, in order (hash and count);
 *   - the same with a NULL offset (the file position moves by what was sent);
 *   - a negative *offset gives EINVAL;
 *   - copy_file_range between files, and a partial count at end of file;
 *   - readv on a socket whose first iovec is filled exactly returns at once (it
 *     must not wait for more to fill the next one), and takes one datagram only.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define FILE_SIZE (1536 * 1024 + 123)
#define PATH "/tmp/sendfile-src"

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

struct reader {
	int port;
	size_t got;
	uint64_t hash;
};

/* Connects, then reads slowly (small reads with pauses) until end of file. */
static void *slow_reader(void *arg)
{
	struct reader *r = arg;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(r->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("connect");
		return NULL;
	}
	unsigned char buf[8192];
	r->hash = 14695981039346656037ull;
	int reads = 0;
	for (;;) {
		ssize_t n = read(s, buf, sizeof buf);
		if (n <= 0)
			break;
		r->hash = fnv(r->hash, buf, n);
		r->got += n;
		if (++reads % 8 == 0) {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
	}
	close(s);
	return NULL;
}

/* Serves the file once over a fresh connection with non-blocking sendfile, with an
 * offset pointer or (use_offset = 0) the file position. Returns 0 when all is right. */
static int serve_once(int use_offset, uint64_t want_hash)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0)
		return 1;
	socklen_t al = sizeof a;
	getsockname(l, (struct sockaddr *)&a, &al);
	struct reader r = {.port = ntohs(a.sin_port)};
	pthread_t t;
	pthread_create(&t, NULL, slow_reader, &r);
	int c = accept(l, NULL, NULL);
	close(l);
	fcntl(c, F_SETFL, O_NONBLOCK);
	int fd = open(PATH, O_RDONLY);
	off_t off = 0;
	size_t sent = 0;
	int eagains = 0, partial = 0;
	while (sent < FILE_SIZE) {
		ssize_t n = use_offset ? sendfile(c, fd, &off, FILE_SIZE - sent)
				       : sendfile(c, fd, NULL, FILE_SIZE - sent);
		if (n < 0 && errno == EAGAIN) {
			eagains++;
			struct pollfd p = {.fd = c, .events = POLLOUT};
			poll(&p, 1, 1000);
			continue;
		}
		if (n <= 0) {
			printf("sendfile returned %zd errno %d after %zu bytes\n", n, errno, sent);
			break;
		}
		if ((size_t)n < FILE_SIZE - sent)
			partial++;
		sent += n;
		off_t pos = use_offset ? off : lseek(fd, 0, SEEK_CUR);
		if ((size_t)pos != sent) {
			printf("after %zu bytes sent the %s is %lld\n", sent,
			       use_offset ? "offset" : "file position", (long long)pos);
			break;
		}
	}
	close(c);
	pthread_join(t, NULL);
	close(fd);
	printf("sent %zu bytes (%d partial counts, %d EAGAIN), reader got %zu\n", sent, partial,
	       eagains, r.got);
	CHECK(partial > 0);
	CHECK(sent == FILE_SIZE);
	CHECK(r.got == FILE_SIZE);
	CHECK(r.hash == want_hash);
	return !(sent == FILE_SIZE && r.got == FILE_SIZE && r.hash == want_hash);
}

static void readv_on_sockets(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write(sv[0], "abcd", 4) == 4);
	char x[4], y[4];
	struct iovec iov[2] = {{x, 4}, {y, 4}};
	CHECK(readv(sv[1], iov, 2) == 4); /* must not wait to fill y */
	CHECK(memcmp(x, "abcd", 4) == 0);
	close(sv[0]);
	close(sv[1]);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	CHECK(bind(u, (struct sockaddr *)&a, sizeof a) == 0);
	getsockname(u, (struct sockaddr *)&a, &al);
	CHECK(sendto(u, "1234", 4, 0, (struct sockaddr *)&a, al) == 4);
	CHECK(sendto(u, "5678", 4, 0, (struct sockaddr *)&a, al) == 4);
	struct iovec iov2[2] = {{x, 4}, {y, 4}};
	CHECK(readv(u, iov2, 2) == 4); /* one datagram */
	CHECK(memcmp(x, "1234", 4) == 0);
	CHECK(recv(u, y, 4, MSG_DONTWAIT) == 4 && memcmp(y, "5678", 4) == 0);
	close(u);
}

int main(void)
{
	alarm(60); /* a hang is a failure, not a stuck test */
	signal(SIGPIPE, SIG_IGN);
	unsigned char *data = malloc(FILE_SIZE);
	uint32_t x = 12345;
	for (size_t i = 0; i < FILE_SIZE; i++) {
		x = x * 1103515245 + 12345;
		data[i] = x >> 16;
	}
	uint64_t want = fnv(14695981039346656037ull, data, FILE_SIZE);
	int fd = open(PATH, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, data, FILE_SIZE) == FILE_SIZE);
	close(fd);

	printf("-- sendfile with an offset\n");
	serve_once(1, want);
	printf("-- sendfile at the file position\n");
	serve_once(0, want);

	fd = open(PATH, O_RDONLY);
	off_t neg = -1;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	errno = 0;
	CHECK(sendfile(sv[0], fd, &neg, 10) == -1 && errno == EINVAL);
	off_t near_end = FILE_SIZE - 100;
	CHECK(sendfile(sv[0], fd, &near_end, 4096) == 100 && near_end == FILE_SIZE);
	close(sv[0]);
	close(sv[1]);

	int out = open("/tmp/sendfile-copy", O_CREAT | O_TRUNC | O_RDWR, 0644);
	loff_t in_off = 1000, out_off = 0;
	/* A short count is allowed (Linux's too; ours stops a copy after a time slice,
	 * which a loaded host reaches): copy until end of file gives 0. */
	ssize_t copied = 0, got;
	while ((got = copy_file_range(fd, &in_off, out, &out_off, FILE_SIZE, 0)) > 0)
		copied += got;
	CHECK(got == 0 && copied == FILE_SIZE - 1000);
	CHECK(in_off == FILE_SIZE && out_off == FILE_SIZE - 1000);
	unsigned char *back = malloc(FILE_SIZE);
	CHECK(pread(out, back, FILE_SIZE, 0) == FILE_SIZE - 1000);
	CHECK(memcmp(back, data + 1000, FILE_SIZE - 1000) == 0);
	/* Linux: an offset that wraps when the length is added is EOVERFLOW (-5 + 10),
	 * else a negative one is EINVAL (-5 + 3), for either side. */
	loff_t negl = -5;
	errno = 0;
	CHECK(copy_file_range(fd, &negl, out, NULL, 10, 0) == -1 && errno == EOVERFLOW);
	errno = 0;
	CHECK(copy_file_range(fd, &negl, out, NULL, 3, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(copy_file_range(fd, NULL, out, &negl, 10, 0) == -1 && errno == EOVERFLOW);
	errno = 0;
	CHECK(copy_file_range(fd, NULL, out, &negl, 0, 0) == -1 && errno == EINVAL);
	close(out);
	close(fd);

	readv_on_sockets();
	return CHECK_DONE();
}
