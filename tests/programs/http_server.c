/* http_server: a minimal HTTP/1.0 server: listens on port 80, answers requests with
 * a fixed body or, for /big, 1 MiB of a known pattern, until a request for /quit;
 * then prints how many it served and exits 0. Used with rumprun -I/-W/-F. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int served = 0;
	/* Like real servers: a client that resets must not kill the server (SIGPIPE). */
	signal(SIGPIPE, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
		perror("server setup");
		return 1;
	}
	printf("listening on port 80\n");
	fflush(stdout);
	static char big[1 << 20];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof peer;
		int c = accept(s, (struct sockaddr *)&peer, &plen);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		char req[2048] = {0};
		size_t got = 0;
		while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
			ssize_t r = read(c, req + got, sizeof req - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = 0;
		}
		if (strncmp(req, "GET /quit ", 10) == 0) {
			write_all(c, "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nbye\n", 42);
			close(c);
			break;
		}
		served++;
		const char *body = "hello from the unikernel\n";
		size_t blen = strlen(body);
		if (strncmp(req, "GET /big ", 9) == 0) {
			body = big;
			blen = sizeof big;
		}
		char head[128];
		int hl = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
		write_all(c, head, (size_t)hl);
		write_all(c, body, blen);
		close(c);
	}
	printf("served %d requests\n", served);
	return 0;
}
