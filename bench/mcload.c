/* bench/mcload.c: a small memcached load client for bench/apps (Debian 12 has no
 * memtier_benchmark, and libmemcached-tools' memaslap counts its own prefill of sets in
 * a "get" run).  Runs on the host, built with the host's gcc.
 *
 *     mcload HOST PORT CONNS SECONDS set|get
 *
 * CONNS threads, one blocking TCP connection each, one request at a time (text
 * protocol).  set: "set KEY 0 0 32" with a 32-byte value, expects "STORED".  get: each
 * connection first stores its 100 keys (not timed), then all start together and "get"
 * them round robin; every reply is checked byte for byte (the VALUE line, the 32 bytes,
 * END).  Prints "mcload: OP CONNS conns: N ops in S s, ops_per_s=R" and exits 0, or a
 * one-line error and exits 1 on the first wrong or missing reply.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NKEYS 100
#define VLEN 32

static struct sockaddr_in addr;
static int set_mode;
static atomic_long total;
static atomic_int ready, go, stop;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, long conn)
{
	fprintf(stderr, "mcload: connection %ld: %s\n", conn, what);
	exit(1);
}

static void
send_all(int fd, const char *buf, size_t len, long conn)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n <= 0)
			die("write failed", conn);
		buf += n;
		len -= n;
	}
}

/* reads exactly len bytes and compares them with want */
static void
expect(int fd, const char *want, size_t len, long conn)
{
	char buf[256];
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			die("the server closed the connection or read failed", conn);
		got += n;
	}
	if (memcmp(buf, want, len) != 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "wrong reply: %.*s", (int)len, buf);
		die(msg, conn);
	}
}

static void
value_of(long conn, int key, char *v)
{
	for (int i = 0; i < VLEN; i++)
		v[i] = 'a' + (conn * 7 + key * 13 + i) % 26;
}

static int
do_set(int fd, long conn, int key)
{
	char req[128], v[VLEN];
	int n = snprintf(req, sizeof(req), "set k%ld_%d 0 0 %d\r\n", conn, key, VLEN);

	value_of(conn, key, v);
	memcpy(req + n, v, VLEN);
	memcpy(req + n + VLEN, "\r\n", 2);
	send_all(fd, req, n + VLEN + 2, conn);
	expect(fd, "STORED\r\n", 8, conn);
	return 0;
}

static void
do_get(int fd, long conn, int key)
{
	char req[64], want[200], v[VLEN];
	int n = snprintf(req, sizeof(req), "get k%ld_%d\r\n", conn, key);
	int w;

	send_all(fd, req, n, conn);
	value_of(conn, key, v);
	w = snprintf(want, sizeof(want), "VALUE k%ld_%d 0 %d\r\n", conn, key, VLEN);
	memcpy(want + w, v, VLEN);
	memcpy(want + w + VLEN, "\r\nEND\r\n", 7);
	expect(fd, want, w + VLEN + 7, conn);
}

static void *
client(void *arg)
{
	long conn = (long)arg, ops = 0;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		die("connect failed", conn);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!set_mode)
		for (int k = 0; k < NKEYS; k++)
			do_set(fd, conn, k);
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&go))
		usleep(100);
	while (!atomic_load(&stop)) {
		if (set_mode)
			do_set(fd, conn, ops % NKEYS);
		else
			do_get(fd, conn, ops % NKEYS);
		ops++;
	}
	atomic_fetch_add(&total, ops);
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 6 || (strcmp(argv[5], "set") != 0 && strcmp(argv[5], "get") != 0)) {
		fprintf(stderr, "usage: mcload HOST PORT CONNS SECONDS set|get\n");
		return 2;
	}
	int conns = atoi(argv[3]);
	double secs = atof(argv[4]);
	if (conns < 1 || conns > 1000 || secs <= 0) {
		fprintf(stderr, "mcload: CONNS must be 1..1000 and SECONDS > 0\n");
		return 2;
	}
	set_mode = strcmp(argv[5], "set") == 0;
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "mcload: %s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	pthread_t *t = calloc(conns, sizeof(*t));
	for (long i = 0; i < conns; i++)
		if (pthread_create(&t[i], NULL, client, (void *)i) != 0) {
			fprintf(stderr, "mcload: pthread_create failed\n");
			return 1;
		}
	/* the clock starts when every connection is up (and, for get, filled) */
	while (atomic_load(&ready) < conns)
		usleep(1000);
	double t0 = now();
	atomic_store(&go, 1);
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, 1);
	double dt = now() - t0;
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	long n = atomic_load(&total);
	printf("mcload: %s %d conns: %ld ops in %.2f s, ops_per_s=%.1f\n", argv[5], conns, n,
	    dt, n / dt);
	return n > 0 ? 0 : 1;
}
