/* resolver_test: getaddrinfo as programs use it, through the C library's own resolver:
 * numeric addresses (IPv4 and IPv6), names from /etc/hosts (baked from
 * tests/programs/resolver-root) and a name only DNS knows, asked of the nameserver in
 * the baked /etc/resolv.conf (127.0.0.1). That nameserver is a thread of this program:
 * a tiny DNS responder on UDP 127.0.0.1:53 that knows dns.rumprun.test (A 192.0.2.53)
 * and answers NXDOMAIN for anything else, counting the queries it answered. An
 * AF_UNSPEC lookup asks A and AAAA at once (glibc: in one sendmmsg). */
#include "check_fatal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile int queries, listening;

/* Appends the wire form of a DNS question name to `name` (dotted); returns the
 * offset after it, or 0 if malformed. */
static size_t read_qname(const unsigned char *p, size_t len, size_t off, char *name, size_t cap)
{
	size_t n = 0;
	while (off < len && p[off] != 0) {
		size_t l = p[off++];
		if (l > 63 || off + l > len || n + l + 2 > cap)
			return 0;
		if (n)
			name[n++] = '.';
		memcpy(name + n, p + off, l);
		n += l;
		off += l;
	}
	name[n] = 0;
	return off < len ? off + 1 : 0;
}

static void *dns_server(void *arg)
{
	(void)arg;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0, "DNS bind: %s", strerror(errno));
	listening = 1;
	for (;;) {
		unsigned char q[512], r[600];
		struct sockaddr_in from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(s, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
		if (n < 12)
			continue;
		char name[256];
		size_t end = read_qname(q, (size_t)n, 12, name, sizeof name);
		if (!end || end + 4 > (size_t)n)
			continue;
		int qtype = q[end] << 8 | q[end + 1];
		end += 4;
		int known = strcasecmp(name, "dns.rumprun.test") == 0;
		int answer = known && qtype == 1;
		memcpy(r, q, end);
		r[2] = 0x81 | (q[2] & 1);   /* QR, opcode 0, RD copied */
		r[3] = known ? 0x80 : 0x83; /* RA; NOERROR or NXDOMAIN */
		r[4] = 0, r[5] = 1;         /* one question */
		r[6] = 0, r[7] = (unsigned char)answer;
		memset(r + 8, 0, 4); /* no authority, no additional */
		size_t rlen = end;
		if (answer) {
			static const unsigned char rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 53};
			memcpy(r + rlen, rr, sizeof rr);
			rlen += sizeof rr;
		}
		/* Counted before the answer leaves: the asking thread may run (and read
		 * the count) as soon as it arrives. */
		queries++;
		sendto(s, r, rlen, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

/* The first address getaddrinfo gives for `host` in `family`, as text, or the
 * gai_strerror. */
static const char *lookup(const char *host, int family, int flags)
{
	static char out[INET6_ADDRSTRLEN + 16];
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
	struct addrinfo *res;
	int e = getaddrinfo(host, "80", &hints, &res);
	if (e != 0) {
		snprintf(out, sizeof out, "error %d", e);
		return out;
	}
	void *addr = res->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
					       : (void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	inet_ntop(res->ai_family, addr, out, sizeof out);
	freeaddrinfo(res);
	return out;
}

static void expect(const char *host, int family, int flags, const char *want)
{
	const char *got = lookup(host, family, flags);
	CHECK(strcmp(got, want) == 0, "getaddrinfo(%s) = %s, want %s", host, got, want);
	printf("ok: %s -> %s\n", host, got);
}

int main(void)
{
	expect("192.0.2.1", AF_UNSPEC, AI_NUMERICHOST, "192.0.2.1");
	expect("2001:db8::7", AF_UNSPEC, AI_NUMERICHOST, "2001:db8::7");
	CHECK(strncmp(lookup("not-a-number", AF_UNSPEC, AI_NUMERICHOST), "error", 5) == 0,
	      "AI_NUMERICHOST accepted a name");
	ok("AI_NUMERICHOST refuses a name");
	expect("baked.rumprun.test", AF_INET, 0, "192.0.2.44");
	expect("baked-alias", AF_INET, 0, "192.0.2.44");
	expect("localhost", AF_INET, 0, "127.0.0.1");
	CHECK(queries == 0, "/etc/hosts names went to DNS (%d queries)", queries);
	ok("names in /etc/hosts did not ask DNS");

	pthread_t t;
	CHECK(pthread_create(&t, NULL, dns_server, NULL) == 0, "pthread_create");
	while (!listening)
		usleep(1000);
	expect("dns.rumprun.test", AF_INET, 0, "192.0.2.53");
	CHECK(queries >= 1, "no DNS query was answered");
	/* AF_UNSPEC: glibc sends the A and AAAA queries together with sendmmsg. */
	int before = queries;
	expect("dns.rumprun.test", AF_UNSPEC, 0, "192.0.2.53");
	CHECK(queries >= before + 2, "AF_UNSPEC asked %d queries, want A and AAAA", queries - before);
	ok("AF_UNSPEC asked for A and AAAA");
	const char *missing = lookup("missing.rumprun.test", AF_INET, 0);
	char want[32];
	snprintf(want, sizeof want, "error %d", EAI_NONAME);
	CHECK(strcmp(missing, want) == 0, "missing.rumprun.test: %s, want EAI_NONAME", missing);
	ok("an unknown name gives EAI_NONAME");
	printf("DNS queries answered: %d\n", queries);
	return 0;
}
