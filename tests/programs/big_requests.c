/* big_requests: a program chooses the size of many kernel allocations; none of them
 * may end the VM when memory is short (issue 15). Run in a small VM (-M 16), each
 * case gets a Linux errno or works, and the kernel goes on:
 *   maps      a child makes mappings until ENOMEM, then reads its /proc/self/maps
 *             (tens of thousands of lines) whole, every line checked, and its parent
 *             reads /proc/CHILD/maps too;
 *   argv      execve with 200000 pointers to a 128 KiB string: E2BIG;
 *   writev    1024 iovecs of 16 KiB (16 MiB) to a pipe and a UNIX socket: a partial
 *             write or EAGAIN;
 *   recvmsg   16 MiB of iovecs on a socket with a few bytes queued: they arrive;
 *   readv     16 MiB of iovecs on a pipe: what is queued arrives;
 *   getdents  getdents64 into 1 GiB: the entries;
 *   sets      poll of 1025 descriptors, select of 1 << 20, epoll_wait of more than
 *             EP_MAX_EVENTS: EINVAL; epoll_wait of 80 million events: the one ready;
 *   pipe      F_SETPIPE_SZ of 1 GiB, then non-blocking writes until EAGAIN;
 *   sockets   TCP and UDP sockets with 8 MiB SO_RCVBUF/SO_SNDBUF, listening and
 *             bound until a call fails with an errno (ENOBUFS/ENOMEM/EMFILE);
 * then fork, a pipe and malloc work (an argument runs only the case it names). Prints "ALL OK" and exits 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define BASE ((char *)0x200000000000UL)
#define STEP 8192UL
#define PIECE (16 * 1024)

static int child_status(pid_t pid)
{
	int st = -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Reads all of `path` with `chunk`-byte reads into `out` (at most `cap`); the length,
 * or -errno. */
static long read_all(const char *path, char *out, long cap, long chunk)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	long n = 0;
	for (;;) {
		long want = chunk < cap - n ? chunk : cap - n;
		if (want == 0)
			break;
		ssize_t r = read(fd, out + n, want);
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	return n;
}

/* Counts the lines of `text` that are our mappings BASE + i * STEP, in order; -1 if
 * one is missing or out of order. */
static long our_lines(const char *text, long len, long expect)
{
	long i = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		if (!nl)
			return -2;
		char line[128];
		size_t ll = nl - p < 127 ? (size_t)(nl - p) : 127;
		memcpy(line, p, ll);
		line[ll] = 0;
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a >= (unsigned long)BASE &&
		    a < (unsigned long)(BASE + expect * STEP)) {
			if (a != (unsigned long)(BASE + i * STEP) || b != a + 4096)
				return -1;
			i++;
		}
		p = nl + 1;
	}
	return i;
}

#define MAPS_CAP (4L << 20)

/* maps: the child makes mappings until ENOMEM, reads its own maps in 4 KiB and 1 MiB
 * reads into `text` (shared with the parent, touched before), and waits for the
 * parent to read them too. */
static int maps_child(char *text, int ready, int done)
{
	long n = 0;
	for (; n < 65530; n++) {
		void *want = BASE + n * STEP;
		void *m = mmap(want, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m == MAP_FAILED)
			break;
	}
	printf("maps: %ld mappings (then %s)\n", n, n < 65530 ? strerror(errno) : "the limit");
	if (n < 1000)
		return 11;
	for (long chunk = 4096; chunk <= (1L << 20); chunk <<= 8) {
		long len = read_all("/proc/self/maps", text, MAPS_CAP, chunk);
		long lines = len > 0 ? our_lines(text, len, n) : 0;
		printf("maps: own, %ld-byte reads: %ld bytes, %ld of our lines\n", chunk, len, lines);
		if (lines != n)
			return 12;
	}
	fflush(stdout);
	char c = (char)(n >> 8);
	if (write(ready, &n, sizeof n) != sizeof n || read(done, &c, 1) != 1)
		return 13;
	return 0;
}

static void case_maps(void)
{
	int up[2], down[2];
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	/* one buffer for the child's text and then the parent's: the memory the child
	 * leaves is too little for another */
	char *text = mmap(NULL, MAPS_CAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(text != MAP_FAILED);
	memset(text, 1, MAPS_CAP);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(up[0]);
		close(down[1]);
		_exit(maps_child(text, up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	long n = 0;
	if (read(up[0], &n, sizeof n) == sizeof n) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/maps", (int)c);
		long len = read_all(path, text, MAPS_CAP, 65536);
		long lines = len > 0 ? our_lines(text, len, n) : 0;
		printf("maps: the parent read %ld bytes of %s, %ld of %ld lines\n", len, path, lines, n);
		CHECK(lines == n);
	}
	CHECK(write(down[1], "x", 1) == 1);
	int st = child_status(c);
	printf("maps child: status %#x\n", st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(up[0]);
	close(down[1]);
	munmap(text, MAPS_CAP);
}

static void case_argv(void)
{
	const long count = 200000;
	char **argv = malloc((count + 1) * sizeof *argv);
	char *s = malloc(128 * 1024);
	CHECK(argv && s);
	if (!argv || !s)
		return;
	memset(s, 'a', 128 * 1024 - 1);
	s[128 * 1024 - 1] = 0;
	for (long i = 0; i < count; i++)
		argv[i] = i == 0 ? "/bin/true" : s;
	argv[count] = NULL;
	char *envp[] = { NULL };
	int r = execve("/proc/self/exe", argv, envp);
	printf("argv: execve with %ld long arguments: %d errno %d\n", count, r, errno);
	CHECK(r == -1 && errno == E2BIG);
	/* the same in the environment */
	argv[1] = NULL;
	r = execve("/proc/self/exe", argv, argv + 2);
	printf("argv: execve with a long environment: %d errno %d\n", r, errno);
	CHECK(r == -1 && errno == E2BIG);
	free(argv);
	free(s);
}

/* 1024 iovecs of 16 KiB over one buffer */
static struct iovec *big_iov(char *buf)
{
	static struct iovec iov[1024];
	for (int i = 0; i < 1024; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = PIECE;
	}
	return iov;
}

static void case_vectors(void)
{
	char *buf = malloc(PIECE);
	CHECK(buf != NULL);
	if (!buf)
		return;
	memset(buf, 'v', PIECE);
	struct iovec *iov = big_iov(buf);

	int p[2];
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	ssize_t w = writev(p[1], iov, 1024);
	printf("writev: 16 MiB to a pipe: %zd (errno %d)\n", w, w < 0 ? errno : 0);
	CHECK((w > 0 && w < 16L << 20) || (w < 0 && (errno == EAGAIN || errno == ENOMEM)));
	/* readv of 16 MiB: what is queued */
	ssize_t r = readv(p[0], iov, 1024);
	printf("readv: 16 MiB from the pipe: %zd\n", r);
	CHECK(r == (w > 0 ? w : -1) || (r < 0 && errno == ENOMEM));
	close(p[0]);
	close(p[1]);

	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 1024 };
	w = sendmsg(sv[0], &m, 0);
	printf("sendmsg: 16 MiB to a UNIX socket: %zd (errno %d)\n", w, w < 0 ? errno : 0);
	CHECK((w > 0 && w < 16L << 20) || (w < 0 && (errno == EAGAIN || errno == ENOMEM || errno == ENOBUFS)));
	/* recvmsg of 16 MiB with a few bytes queued: they arrive */
	int s2[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s2) == 0);
	CHECK(write(s2[0], "hello", 5) == 5);
	memset(buf, 0, 16);
	r = recvmsg(s2[1], &m, 0);
	printf("recvmsg: 16 MiB of iovecs: %zd\n", r);
	CHECK(r == 5 && memcmp(buf, "hello", 5) == 0);
	close(sv[0]);
	close(sv[1]);
	close(s2[0]);
	close(s2[1]);
	free(buf);
}

static void case_getdents(void)
{
	char *big = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(big != MAP_FAILED);
	int d = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);
	long r = syscall(SYS_getdents64, d, big, 1UL << 30);
	printf("getdents64: 1 GiB buffer: %ld\n", r);
	CHECK(r > 0);
	close(d);
	munmap(big, 1UL << 30);
}

static void case_sets(void)
{
	struct pollfd *fds = calloc(1025, sizeof *fds);
	CHECK(fds != NULL);
	for (int i = 0; fds && i < 1025; i++)
		fds[i].fd = -1;
	errno = 0;
	CHECK(poll(fds, 1025, 0) == -1 && errno == EINVAL);
	free(fds);
	errno = 0;
	CHECK(syscall(SYS_select, 1 << 20, NULL, NULL, NULL, NULL) == -1 && errno == EINVAL);
	/* epoll_wait: EINVAL above Linux's EP_MAX_EVENTS; below, a big buffer is fine */
	int ep = epoll_create1(0);
	struct epoll_event ev;
	errno = 0;
	CHECK(syscall(SYS_epoll_wait, ep, &ev, 178956971, 0) == -1 && errno == EINVAL);
	char *big = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(big != MAP_FAILED);
	int p[2];
	CHECK(pipe(p) == 0 && write(p[1], "e", 1) == 1);
	ev.events = EPOLLIN;
	ev.data.u64 = 77;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	long r = syscall(SYS_epoll_wait, ep, big, 80000000, 0);
	printf("epoll_wait: 80000000 events: %ld\n", r);
	CHECK(r == 1 && ((struct epoll_event *)big)->data.u64 == 77);
	munmap(big, 1UL << 30);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void case_pipe(void)
{
	int p[2];
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	int size = fcntl(p[1], F_SETPIPE_SZ, 1 << 30);
	printf("pipe: F_SETPIPE_SZ 1 GiB: %d (errno %d)\n", size, size < 0 ? errno : 0);
	CHECK(size == 1 << 30 || (size < 0 && errno == ENOMEM));
	char *buf = malloc(1 << 20);
	CHECK(buf != NULL);
	memset(buf, 'p', 1 << 20);
	long total = 0;
	int e = 0;
	for (;;) {
		ssize_t w = write(p[1], buf, 1 << 20);
		if (w < 0) {
			e = errno;
			break;
		}
		total += w;
		if (total > (1L << 30))
			break;
	}
	printf("pipe: %ld MiB queued, then %s\n", total >> 20, strerror(e));
	CHECK(e == EAGAIN || e == ENOMEM);
	close(p[0]);
	close(p[1]);
	free(buf);
}

static void case_sockets(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	long n = 0;
	int e = 0;
	int fds[2048];
	int big = 8 << 20;
	for (; n < 2048; n++) {
		int udp = n & 1;
		int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (s < 0) {
			e = errno;
			break;
		}
		fds[n] = s;
		if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) != 0 ||
		    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof big) != 0) {
			e = errno;
			n++;
			break;
		}
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || (!udp && listen(s, 4) != 0)) {
			e = errno;
			n++;
			break;
		}
	}
	printf("sockets: %ld with 8 MiB buffers, then %s\n", n, strerror(e));
	CHECK(e == ENOBUFS || e == ENOMEM || e == EMFILE);
	for (long i = 0; i < n; i++)
		close(fds[i]);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} cases[] = {
		{ "maps", case_maps }, { "argv", case_argv }, { "vectors", case_vectors },
		{ "getdents", case_getdents }, { "sets", case_sets }, { "pipe", case_pipe },
		{ "sockets", case_sockets },
	};
	/* all cases, or the one named */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (argc < 2 || strcmp(argv[1], cases[i].name) == 0)
			cases[i].run();
	/* everything works again */
	struct sysinfo si;
	sysinfo(&si);
	printf("free at the end: %lu KiB\n", si.freeram * si.mem_unit / 1024);
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t c = fork();
	if (c == 0)
		_exit(write(p[1], "x", 1) == 1 ? 9 : 1);
	if (c < 0)
		printf("fork: %s\n", strerror(errno));
	int st = child_status(c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	char *m = malloc(4 << 20);
	CHECK(m != NULL);
	if (m)
		memset(m, 1, 4 << 20);
	return CHECK_DONE();
}
