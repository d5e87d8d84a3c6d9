/* wait_tcp: waits until a TCP server at ADDR PORT (IPv4) is ready, trying every 50 ms
 * for up to SECONDS (default 30), then exits 0; 1 on a timeout. Ready means that a
 * connection succeeds or, with REQUEST and REPLY, that the server answers REQUEST
 * (C escapes \r \n allowed) with a reply starting with REPLY: redis accepts
 * connections while it loads its data, and answers -LOADING until it is done. The apps
 * tests run it between a server started in the background and its clients in the same
 * image (rumprun -r 'server &' -r 'wait_tcp 127.0.0.1 6379 60 "PING\r\n" +PONG' -r ...). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Turns the \r and \n escapes of `s` into the characters, in place. */
static size_t unescape(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && (s[i + 1] == 'r' || s[i + 1] == 'n')) {
			s[o++] = s[i + 1] == 'r' ? '\r' : '\n';
			i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = 0;
	return o;
}

/* Whether the server on connected socket `s` answers `req` with `want` first. */
static int answers(int s, const char *req, size_t req_len, const char *want)
{
	if (write(s, req, req_len) != (ssize_t)req_len)
		return 0;
	char buf[256];
	size_t got = 0, need = strlen(want);
	while (got < need) {
		ssize_t n = read(s, buf + got, sizeof buf - 1 - got);
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
	return memcmp(buf, want, need) == 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc == 5 || argc > 6) {
		fprintf(stderr, "usage: wait_tcp ADDR PORT [SECONDS [REQUEST REPLY]]\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "wait_tcp: bad address %s\n", argv[1]);
		return 2;
	}
	int tries = (argc > 3 ? atoi(argv[3]) : 30) * 20;
	char *req = argc > 5 ? argv[4] : NULL;
	size_t req_len = req ? unescape(req) : 0;
	for (int i = 0; i < tries; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			perror("socket");
			return 1;
		}
		int ready = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 &&
			    (!req || answers(s, req, req_len, argv[5]));
		close(s);
		if (ready) {
			printf("wait_tcp: %s:%s ready\n", argv[1], argv[2]);
			return 0;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "wait_tcp: %s:%s not ready\n", argv[1], argv[2]);
	return 1;
}
