/* write_protect: read-only memory stays read-only although the program runs in ring 0.
 *   write_protect checks   system calls that would write into read-only memory fail
 *                          with EFAULT (read into .rodata and into a PROT_READ page,
 *                          clock_gettime into one); a SIGSEGV handler sees SEGV_ACCERR
 *                          for a write to a PROT_READ page, makes it writable and the
 *                          write is retried (a GC write barrier); prints "ALL OK".
 *   write_protect rodata   writes to a string literal: the kernel must report SIGSEGV
 *                          in write_rodata() and end with status 139. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

static const char message[] = "constant text that must not change";

void __attribute__((noinline))
write_rodata(void)
{
	char *volatile p = (char *)message;
	p[0] = 'X';
}

static char *page;
static volatile int accerr_seen;

static void
on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SEGV_ACCERR && (char *)si->si_addr == page + 100)
		accerr_seen = 1;
	/* Make the page writable; returning retries the faulting write. */
	if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0)
		_exit(3);
}

static void
checks(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe");
	CHECK(write(fds[1], "abcdef", 6) == 6, "write");

	errno = 0;
	CHECK(read(fds[0], (char *)message, 6) == -1 && errno == EFAULT,
	      "read into .rodata: errno %d, want EFAULT", errno);
	CHECK(strcmp(message, "constant text that must not change") == 0,
	      ".rodata changed");
	ok("read() into .rodata fails with EFAULT");

	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED, "mmap");
	errno = 0;
	CHECK(read(fds[0], page, 6) == -1 && errno == EFAULT,
	      "read into a PROT_READ page: errno %d, want EFAULT", errno);
	errno = 0;
	CHECK(clock_gettime(CLOCK_REALTIME, (struct timespec *)page) == -1 &&
		  errno == EFAULT,
	      "clock_gettime into a PROT_READ page: errno %d, want EFAULT", errno);
	CHECK(page[0] == 0, "the read-only page changed");
	ok("syscalls writing into a PROT_READ page fail with EFAULT");

	CHECK(read(fds[0], page + 0, 0) == 0, "zero-length read");
	CHECK(mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect RW");
	CHECK(read(fds[0], page, 6) == 6 && memcmp(page, "abcdef", 6) == 0,
	      "read after mprotect RW");
	ok("the same read works once the page is writable");

	CHECK(mprotect(page, 4096, PROT_READ) == 0, "mprotect R");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
	((volatile char *)page)[100] = 'W';
	CHECK(accerr_seen, "the handler did not see SEGV_ACCERR at the written address");
	CHECK(page[100] == 'W', "the retried write did not land");
	ok("a write to a PROT_READ page raises SIGSEGV (SEGV_ACCERR); after mprotect the write is retried");
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "rodata") == 0) {
		printf("writing to .rodata\n");
		fflush(stdout);
		write_rodata();
		printf("the write to .rodata did not fault\n");
		return 0;
	}
	checks();
	printf("ALL OK\n");
	return 0;
}
