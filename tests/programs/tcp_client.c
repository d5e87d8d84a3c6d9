#define _GNU_SOURCE
/* tcp_client: connects to the host on the port in argv[1], at QEMU user networking's
 * host address: 10.0.2.2, or argv[2] (an IPv4 or IPv6 address, e.g. fec0::2); sends
 * "ping from the unikernel\n" and prints what comes back and its own address.
 * With an HTTP path in argv[3], it GETs that path instead and reads the answer to its
 * end: prints the status line, the body's length and a checksum of the body. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* GETs `path` over connected socket `s` (HTTP/1.0: the server closes at the end). */
static int http_get(int s, const char *path)
{
	char req[512];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
	if (write(s, req, (size_t)n) != n) {
		perror("write");
		return 1;
	}
	static char resp[(2 << 20) + 4096];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(s, resp + got, sizeof resp - got);
		if (r < 0) {
			perror("read");
			return 1;
		}
		if (r == 0 || (got += (size_t)r) == sizeof resp)
			break;
	}
	char *end = memmem(resp, got, "\r\n\r\n", 4);
	if (!end) {
		printf("no HTTP header in %zu bytes\n", got);
		return 1;
	}
	printf("status: %.*s\n", (int)strcspn(resp, "\r"), resp);
	unsigned long sum = 0;
	for (char *p = end + 4; p < resp + got; p++)
		sum = sum * 31 + (unsigned char)*p;
	printf("body: %zu bytes, hash %lx\n", (size_t)(resp + got - end - 4), sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *host = argc > 2 ? argv[2] : "10.0.2.2";
	unsigned short port = htons((unsigned short)atoi(argv[1]));
	struct sockaddr_storage ss = {0};
	socklen_t alen;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = port;
		inet_pton(AF_INET6, host, &a->sin6_addr);
		alen = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = port;
		inet_pton(AF_INET, host, &a->sin_addr);
		alen = sizeof *a;
	}
	int s = socket(ss.ss_family, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&ss, alen) < 0) {
		perror("connect");
		return 1;
	}
	if (argc > 3)
		return http_get(s, argv[3]);
	const char *msg = "ping from the unikernel\n";
	if (write(s, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
		perror("write");
		return 1;
	}
	char buf[256];
	ssize_t n = read(s, buf, sizeof buf - 1);
	if (n <= 0) {
		perror("read");
		return 1;
	}
	buf[n] = 0;
	printf("got: %s", buf);
	struct sockaddr_storage me;
	socklen_t len = sizeof me;
	getsockname(s, (struct sockaddr *)&me, &len);
	char text[INET6_ADDRSTRLEN];
	void *addr = me.ss_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&me)->sin6_addr
					      : (void *)&((struct sockaddr_in *)&me)->sin_addr;
	inet_ntop(me.ss_family, addr, text, sizeof text);
	printf("local address %s\n", text);
	close(s);
	return 0;
}
