/* bad_pointers: syscalls that take a buffer, given bad ones: NULL, a low unmapped
 * address, kernel-half addresses, non-canonical addresses, a read-only buffer for an
 * output, and a buffer that runs from mapped into unmapped (or PROT_NONE) memory. Each
 * must fail with EFAULT, or give Linux's partial result where Linux documents one (a
 * write, a pipe read and getrandom stop at the first bad byte), with the data past
 * that point left in place; the kernel stays up and the program goes on. Raw syscalls
 * throughout: libc wrappers (and the vDSO) would touch the buffers themselves. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define PAGE 4096L

static long
sys(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

/* The bad addresses every buffer argument is tried with. */
static const struct {
	const char *what;
	uint64_t addr;
} BAD[] = {
	{"NULL", 0},
	{"low unmapped", 0x1000},
	{"kernel direct map", 0xffff800000001000ULL},
	{"kernel image", 0xffffffff80001000ULL},
	{"non-canonical", 0x0000800000000000ULL},
	{"non-canonical high", 0xdead000000000000ULL},
};
#define NBAD (sizeof BAD / sizeof BAD[0])

static int failures;

/* Expects -1/EFAULT from `call` for every bad address. */
#define EXPECT_EFAULT(name, call)                                                          \
	do {                                                                               \
		for (size_t i_ = 0; i_ < NBAD; i_++) {                                     \
			long p = (long)BAD[i_].addr;                                       \
			errno = 0;                                                         \
			long r_ = (call);                                                  \
			if (r_ != -1 || errno != EFAULT) {                                 \
				printf("FAIL %s with %s (%#lx): returned %ld errno %d\n", \
				    name, BAD[i_].what, p, r_, errno);                     \
				failures++;                                                \
			}                                                                  \
		}                                                                          \
		printf("ok   %s: EFAULT for every bad address\n", name);                 \
	} while (0)

/* The same, for arguments where NULL means "none" (Linux gives no error for it). */
#define EXPECT_EFAULT_NONNULL(name, call)                                                  \
	do {                                                                               \
		for (size_t i_ = 1; i_ < NBAD; i_++) {                                     \
			long p = (long)BAD[i_].addr;                                       \
			errno = 0;                                                         \
			long r_ = (call);                                                  \
			if (r_ != -1 || errno != EFAULT) {                                 \
				printf("FAIL %s with %s (%#lx): returned %ld errno %d\n", \
				    name, BAD[i_].what, p, r_, errno);                     \
				failures++;                                                \
			}                                                                  \
		}                                                                          \
		printf("ok   %s: EFAULT for every bad address but NULL\n", name);       \
	} while (0)

#define EXPECT(name, cond)                                                                 \
	do {                                                                               \
		if (cond) {                                                                \
			printf("ok   %s\n", name);                                         \
		} else {                                                                   \
			printf("FAIL %s (errno %d) line %d\n", name, errno, __LINE__);     \
			failures++;                                                        \
		}                                                                          \
	} while (0)

int
main(void)
{
	/* [rw page][rw page][PROT_NONE page][read-only page][rw page][unmapped page] */
	char *m = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 1;
	memset(m, 'x', 6 * PAGE);
	mprotect(m + 2 * PAGE, PAGE, PROT_NONE);
	mprotect(m + 3 * PAGE, PAGE, PROT_READ);
	munmap(m + 5 * PAGE, PAGE);
	char *ro = m + 3 * PAGE;
	char *to_none = m + 2 * PAGE - 8;     /* 8 good bytes, then PROT_NONE */
	char *to_unmapped = m + 5 * PAGE - 8; /* 8 good bytes, then unmapped */
	int fds[2];
	char buf[256];

	if (pipe2(fds, O_NONBLOCK) != 0)
		return 1;

	/* ---- the kernel reads the buffer ---- */
	EXPECT_EFAULT("write", sys(SYS_write, fds[1], p, 16, 0, 0, 0));
	EXPECT("write from a buffer running into PROT_NONE writes the 8 good bytes",
	    sys(SYS_write, fds[1], (long)to_none, 16, 0, 0, 0) == 8);
	EXPECT("write from a buffer running into unmapped memory writes the 8 good bytes",
	    sys(SYS_write, fds[1], (long)to_unmapped, 16, 0, 0, 0) == 8);
	EXPECT("the pipe holds exactly those 16 bytes",
	    sys(SYS_read, fds[0], (long)buf, sizeof buf, 0, 0, 0) == 16 && memcmp(buf, "xxxxxxxxxxxxxxxx", 16) == 0);
	{
		struct iovec iov = {0, 16};
		EXPECT_EFAULT("writev (the iovec array)", sys(SYS_writev, fds[1], p, 1, 0, 0, 0));
		EXPECT_EFAULT("writev (an iovec's base)",
		    (iov.iov_base = (void *)p, sys(SYS_writev, fds[1], (long)&iov, 1, 0, 0, 0)));
	}
	EXPECT_EFAULT("open (the path)", sys(SYS_open, p, O_RDONLY, 0, 0, 0, 0));
	EXPECT_EFAULT("newfstatat (the path)", sys(SYS_newfstatat, AT_FDCWD, p, (long)buf, 0, 0, 0));
	EXPECT("open with a path running into PROT_NONE is EFAULT",
	    (memset(to_none, 'a', 8), sys(SYS_open, (long)to_none, O_RDONLY, 0, 0, 0, 0) == -1 && errno == EFAULT));
	EXPECT_EFAULT("sethostname", sys(SYS_sethostname, p, 8, 0, 0, 0, 0));
	EXPECT_EFAULT("nanosleep (the request)", sys(SYS_nanosleep, p, 0, 0, 0, 0, 0));
	EXPECT_EFAULT_NONNULL("rt_sigaction (the new action)", sys(SYS_rt_sigaction, SIGUSR1, p, 0, 8, 0, 0));
	EXPECT_EFAULT_NONNULL("rt_sigprocmask (the new mask)", sys(SYS_rt_sigprocmask, SIG_BLOCK, p, 0, 8, 0, 0));
	EXPECT_EFAULT("futex wait (the word)", sys(SYS_futex, p, 0 /* FUTEX_WAIT */, 0, 0, 0, 0));
	EXPECT_EFAULT("poll (the array)", sys(SYS_poll, p, 1, 0, 0, 0, 0));
	int ep = epoll_create1(0);
	EXPECT_EFAULT("epoll_ctl (the event)", sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fds[0], p, 0, 0));
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_EFAULT("bind (the address)", sys(SYS_bind, udp, p, sizeof(struct sockaddr_in), 0, 0, 0));
	EXPECT_EFAULT("connect (the address)", sys(SYS_connect, udp, p, sizeof(struct sockaddr_in), 0, 0, 0));
	EXPECT_EFAULT("setsockopt (the value)", sys(SYS_setsockopt, udp, SOL_SOCKET, SO_RCVBUF, p, 4, 0));
	{
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		bind(udp, (struct sockaddr *)&a, sizeof a);
		getsockname(udp, (struct sockaddr *)&a, &al);
		EXPECT_EFAULT("sendto (the data)", sys(SYS_sendto, udp, p, 8, 0, (long)&a, sizeof a));
		EXPECT_EFAULT_NONNULL("sendto (the address)", sys(SYS_sendto, udp, (long)buf, 8, 0, p, sizeof a));
		struct msghdr mh = {0};
		EXPECT_EFAULT("sendmsg (the msghdr)", sys(SYS_sendmsg, udp, p, 0, 0, 0, 0));
		EXPECT_EFAULT("sendmsg (the iovec array)",
		    (mh.msg_name = &a, mh.msg_namelen = sizeof a, mh.msg_iov = (void *)p, mh.msg_iovlen = 1,
			sys(SYS_sendmsg, udp, (long)&mh, 0, 0, 0, 0)));
		/* datagrams to ourselves (Linux may drop one a bad buffer could not take),
		 * then bad receive buffers */
		for (size_t i = 0; i < NBAD + 2; i++)
			sendto(udp, "datagram", 8, 0, (struct sockaddr *)&a, sizeof a);
		EXPECT_EFAULT("recvfrom (the buffer)", sys(SYS_recvfrom, udp, p, 8, MSG_DONTWAIT, 0, 0));
		EXPECT("recvfrom into a read-only buffer is EFAULT",
		    sys(SYS_recvfrom, udp, (long)ro, 8, MSG_DONTWAIT, 0, 0) == -1 && errno == EFAULT);
		EXPECT("recvfrom into a good buffer still gets a datagram",
		    sys(SYS_recvfrom, udp, (long)buf, sizeof buf, MSG_DONTWAIT, 0, 0) == 8 && memcmp(buf, "datagram", 8) == 0);
		EXPECT_EFAULT_NONNULL("getsockname (the address)", sys(SYS_getsockname, udp, p, (long)&al, 0, 0, 0));
		EXPECT_EFAULT_NONNULL("getsockname (the length)", sys(SYS_getsockname, udp, (long)buf, p, 0, 0, 0));
		al = 4;
		EXPECT_EFAULT("getsockopt (the value)", sys(SYS_getsockopt, udp, SOL_SOCKET, SO_RCVBUF, p, (long)&al, 0));
	}

	/* ---- the kernel writes the buffer ---- */
	write(fds[1], "0123456789abcdef", 16);
	EXPECT_EFAULT("read", sys(SYS_read, fds[0], p, 16, 0, 0, 0));
	EXPECT("read into a read-only buffer is EFAULT",
	    sys(SYS_read, fds[0], (long)ro, 16, 0, 0, 0) == -1 && errno == EFAULT);
	EXPECT("read into a buffer running into PROT_NONE reads the 8 bytes that fit",
	    sys(SYS_read, fds[0], (long)to_none, 16, 0, 0, 0) == 8 && memcmp(to_none, "01234567", 8) == 0);
	EXPECT("read into a buffer running into unmapped memory reads the next 8",
	    sys(SYS_read, fds[0], (long)to_unmapped, 16, 0, 0, 0) == 8 && memcmp(to_unmapped, "89abcdef", 8) == 0);
	write(fds[1], "xy", 2);
	EXPECT("no data was lost to the bad buffers",
	    sys(SYS_read, fds[0], (long)buf, sizeof buf, 0, 0, 0) == 2 && memcmp(buf, "xy", 2) == 0);
	{
		int f = memfd_create("data", 0);
		write(f, "\177ELF0123456789abcdef", 20);
		EXPECT_EFAULT("pread64", sys(SYS_pread64, f, p, 16, 0, 0, 0));
		EXPECT("pread64 into a read-only buffer is EFAULT",
		    sys(SYS_pread64, f, (long)ro, 16, 0, 0, 0) == -1 && errno == EFAULT);
		EXPECT("pread64 into a buffer running into PROT_NONE reads 8 bytes",
		    sys(SYS_pread64, f, (long)to_none, 16, 0, 0, 0) == 8 && memcmp(to_none, "\177ELF", 4) == 0);
		struct iovec iov = {0, 16};
		EXPECT_EFAULT("readv (an iovec's base)",
		    (iov.iov_base = (void *)p, sys(SYS_readv, f, (long)&iov, 1, 0, 0, 0)));
		EXPECT_EFAULT("fstat", sys(SYS_fstat, f, p, 0, 0, 0, 0));
		EXPECT("fstat into a read-only buffer is EFAULT",
		    sys(SYS_fstat, f, (long)ro, 0, 0, 0, 0) == -1 && errno == EFAULT);
		close(f);
	}
	EXPECT_EFAULT("getrandom", sys(SYS_getrandom, p, 16, 0, 0, 0, 0));
	EXPECT("getrandom into a buffer running into PROT_NONE fills the 8 bytes that fit",
	    sys(SYS_getrandom, (long)to_none, 16, 0, 0, 0, 0) == 8);
	EXPECT("getrandom into a read-only buffer is EFAULT",
	    sys(SYS_getrandom, (long)ro, 16, 0, 0, 0, 0) == -1 && errno == EFAULT);
	EXPECT_EFAULT("clock_gettime", sys(SYS_clock_gettime, CLOCK_MONOTONIC, p, 0, 0, 0, 0));
	EXPECT_EFAULT_NONNULL("gettimeofday", sys(SYS_gettimeofday, p, 0, 0, 0, 0, 0));
	EXPECT_EFAULT("uname", sys(SYS_uname, p, 0, 0, 0, 0, 0));
	EXPECT("uname into a buffer running into PROT_NONE is EFAULT",
	    sys(SYS_uname, (long)(m + 2 * PAGE - 100), 0, 0, 0, 0, 0) == -1 && errno == EFAULT);
	EXPECT_EFAULT("sysinfo", sys(SYS_sysinfo, p, 0, 0, 0, 0, 0));
	EXPECT_EFAULT("getcwd", sys(SYS_getcwd, p, 4096, 0, 0, 0, 0));
	EXPECT_EFAULT("readlink", sys(SYS_readlink, (long)"/proc/self/exe", p, 64, 0, 0, 0));
	EXPECT_EFAULT("statfs", sys(SYS_statfs, (long)"/", p, 0, 0, 0, 0));
	EXPECT_EFAULT("getrlimit", sys(SYS_getrlimit, RLIMIT_NOFILE, p, 0, 0, 0, 0));
	EXPECT_EFAULT_NONNULL("rt_sigaction (the old action)", sys(SYS_rt_sigaction, SIGUSR1, 0, p, 8, 0, 0));
	EXPECT_EFAULT_NONNULL("rt_sigprocmask (the old mask)", sys(SYS_rt_sigprocmask, SIG_BLOCK, 0, p, 8, 0, 0));
	EXPECT_EFAULT("rt_sigpending", sys(SYS_rt_sigpending, p, 8, 0, 0, 0, 0));
	EXPECT_EFAULT_NONNULL("sigaltstack (the old stack)", sys(SYS_sigaltstack, 0, p, 0, 0, 0, 0));
	EXPECT_EFAULT("sched_getaffinity", sys(SYS_sched_getaffinity, 0, 128, p, 0, 0, 0));
	EXPECT_EFAULT("ioctl TCGETS", sys(SYS_ioctl, 1, 0x5401 /* TCGETS */, p, 0, 0, 0));
	{
		int dfd = open("/", O_RDONLY | O_DIRECTORY);
		EXPECT_EFAULT("getdents64", sys(SYS_getdents64, dfd, p, 4096, 0, 0, 0));
		EXPECT("getdents64 after the bad buffers still lists entries",
		    sys(SYS_getdents64, dfd, (long)buf, sizeof buf, 0, 0, 0) > 0);
		close(dfd);
	}
	{
		int before = open("/dev/null", O_RDONLY);
		close(before);
		EXPECT_EFAULT("pipe2", sys(SYS_pipe2, p, 0, 0, 0, 0, 0));
		EXPECT("pipe2 into a read-only buffer is EFAULT",
		    sys(SYS_pipe2, (long)ro, 0, 0, 0, 0, 0) == -1 && errno == EFAULT);
		int after = open("/dev/null", O_RDONLY);
		EXPECT("the failed pipe2 calls left no descriptors behind", after == before);
		close(after);
	}
	{
		struct epoll_event ev = {.events = EPOLLIN};
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
		write(fds[1], "z", 1);
		EXPECT_EFAULT("epoll_wait (the events)", sys(SYS_epoll_wait, ep, p, 4, 0, 0, 0));
		EXPECT("epoll_wait into a read-only buffer is EFAULT",
		    sys(SYS_epoll_wait, ep, (long)ro, 4, 0, 0, 0) == -1 && errno == EFAULT);
		EXPECT("epoll_wait still reports the ready pipe",
		    sys(SYS_epoll_wait, ep, (long)buf, 4, 0, 0, 0) == 1);
	}
	EXPECT_EFAULT("timerfd_gettime", sys(SYS_timerfd_gettime, syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0), p, 0, 0, 0, 0));

	printf("still running\n");
	printf(failures ? "SOME FAILED\n" : "ALL OK\n");
	return failures != 0;
}
