/* http_server: a small HTTP/1.1 server in the style of nginx: one thread, non-blocking
 * sockets, epoll in edge-triggered mode (every ready descriptor is read or written
 * until EAGAIN, since the edge is not reported again). Listens on port 80 (or argv[1])
 * with a backlog of 1024; keeps connections alive (HTTP/1.1 default, or HTTP/1.0 with
 * "Connection: keep-alive"); answers GET / with a short body, GET /big with 1 MiB of
 * a known pattern, GET /quit with "bye" and then prints how many requests it served
 * and exits 0. Used by the network tests and by bench/ (wrk) through rumprun -F. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIG_LEN (1 << 20)
#define REQ_MAX 8192

static char big[BIG_LEN];
static const char small_body[] = "hello from the unikernel\n";
static long served;
static int quitting;

struct conn {
	int fd;
	char req[REQ_MAX];
	size_t req_len;
	/* The response being sent: a header, then a body (not copied). */
	char head[160];
	size_t head_len, head_off;
	const char *body;
	size_t body_len, body_off;
	int sending, keep_alive, quit_after;
};

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Parses one complete request at the start of c->req (if there is one), sets up its
 * response and removes it from the buffer. Returns 1 if a response was set up. */
static int take_request(struct conn *c)
{
	char *end = memmem(c->req, c->req_len, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t len = (size_t)(end - c->req) + 4;
	char saved = c->req[len - 1];
	c->req[len - 1] = 0; /* make the request one string for strcasestr */
	int http11 = strstr(c->req, " HTTP/1.1\r\n") != NULL;
	int says_close = strcasestr(c->req, "\r\nConnection: close") != NULL;
	int says_keep = strcasestr(c->req, "\r\nConnection: keep-alive") != NULL;
	c->keep_alive = http11 ? !says_close : says_keep;
	c->quit_after = 0;
	if (strncmp(c->req, "GET /quit ", 10) == 0) {
		c->body = "bye\n";
		c->quit_after = 1;
		c->keep_alive = 0;
	} else if (strncmp(c->req, "GET /big ", 9) == 0) {
		c->body = big;
		served++;
	} else {
		c->body = small_body;
		served++;
	}
	c->req[len - 1] = saved;
	c->body_len = c->body == big ? BIG_LEN : strlen(c->body);
	c->body_off = 0;
	/* Answer in the request's version (HTTP/1.0 clients get HTTP/1.0). */
	c->head_len = (size_t)snprintf(c->head, sizeof c->head,
				       "HTTP/1.%d 200 OK\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n",
				       http11, c->body_len, c->keep_alive ? "keep-alive" : "close");
	c->head_off = 0;
	memmove(c->req, c->req + len, c->req_len - len);
	c->req_len -= len;
	c->sending = 1;
	return 1;
}

/* Writes what it can of one part; returns 1 when the part is done, 0 on EAGAIN,
 * -1 on an error. */
static int send_part(int fd, const char *p, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t w = send(fd, p + *off, len - *off, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		*off += (size_t)w;
	}
	return 1;
}

/* Does all the work the edge allows: send, parse, read, until EAGAIN. */
static void conn_serve(int ep, struct conn *c)
{
	for (;;) {
		if (c->sending) {
			int r = send_part(c->fd, c->head, c->head_len, &c->head_off);
			if (r == 1)
				r = send_part(c->fd, c->body, c->body_len, &c->body_off);
			if (r == 0)
				return;
			if (r < 0) {
				conn_close(ep, c);
				return;
			}
			c->sending = 0;
			if (c->quit_after)
				quitting = 1;
			if (!c->keep_alive) {
				conn_close(ep, c);
				return;
			}
			continue;
		}
		if (take_request(c))
			continue;
		if (c->req_len == sizeof c->req) { /* a request this long is not ours */
			conn_close(ep, c);
			return;
		}
		ssize_t r = read(c->fd, c->req + c->req_len, sizeof c->req - c->req_len);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			conn_close(ep, c);
			return;
		}
		c->req_len += (size_t)r;
	}
}

static void accept_all(int ep, int s)
{
	for (;;) {
		int fd = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != ECONNABORTED)
				perror("accept4");
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("epoll_ctl");
			close(fd);
			free(c);
			continue;
		}
		/* Data may have arrived before the registration: serve now. */
		conn_serve(ep, c);
	}
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 80;
	/* Like real servers: a client that resets must not kill the server (SIGPIPE;
	 * responses are sent with MSG_NOSIGNAL anyway). */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1024) < 0) {
		perror("server setup");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s, &lev) < 0) {
		perror("epoll setup");
		return 1;
	}
	printf("listening on port %d (epoll, edge-triggered)\n", port);
	fflush(stdout);
	struct epoll_event evs[64];
	while (!quitting) {
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < n && !quitting; i++) {
			if (evs[i].data.ptr == NULL)
				accept_all(ep, s);
			else
				conn_serve(ep, evs[i].data.ptr);
		}
	}
	printf("served %ld requests\n", served);
	return 0;
}
