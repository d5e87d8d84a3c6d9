/* syscall_fuzz [SEED [CALLS [VERBOSE]]]: random syscalls with random arguments, to show
 * that no program input can fault or hang the kernel. Ends with
 *     survived CALLS calls (seed SEED): ...
 * and status 0; anything else (a kernel fault ends the VM with 255, a hang is the
 * test's timeout) is a failure. The same seed makes the same calls, so a failure can be
 * replayed with VERBOSE=1, which prints each call before making it.
 *
 * Arguments are drawn from: small integers, -1, descriptor numbers, sizes, random 64-bit
 * values, and pointers: NULL, low unmapped addresses, kernel-half and non-canonical
 * addresses, and addresses in a scratch area of our own (read-write pages, a read-only
 * page, a PROT_NONE page, and ranges that run from read-write pages into the PROT_NONE
 * page or into unmapped memory). The scratch area is refilled with such values now and
 * then, so structures the kernel follows (iovecs, msghdrs, sigevents...) hold bad
 * pointers too.
 *
 * Every call is bounded: SIGALRM (a handler without SA_RESTART) fires every 5 ms, so a
 * blocking call ends with EINTR. A call that is still not back after 2 s of signals is
 * reported ("hang: ...") and the program exits with status 3.
 *
 * Excluded calls (they would end or wreck this program, not test the kernel; Linux
 * would do the same to it), see EXCLUDED below:
 *   mmap, mprotect, munmap, mremap, madvise, brk, pkey_mprotect, remap_file_pages,
 *   shmat, shmdt: could unmap or overwrite our own code, stack or heap;
 *   rt_sigaction, rt_sigreturn, sigaltstack: could replace the SIGALRM handler or
 *   jump to a random context;
 *   alarm, setitimer, timer_create: could stop or replace the bounding timer, or set
 *   up a fatal signal;
 *   kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal: could
 *   send ourselves a fatal signal;
 *   clone, clone3, fork, vfork, execve, execveat, exit, exit_group, reboot: end or
 *   replace this program;
 *   arch_prctl (could move our TLS), seccomp (could kill us), rseq (a bad area kills
 *   the program on Linux), setrlimit, prlimit64 (could take away our descriptors),
 *   close_range (could close our saved stdout), process_vm_writev (random writes to
 *   our own memory), rename, renameat, renameat2, unlink, unlinkat, rmdir, mount,
 *   umount2, pivot_root, swapoff (change the image's file system), prctl(PR_SET_SECCOMP).
 * Calls that take a signal mask (rt_sigprocmask, rt_sigsuspend, pselect6, ppoll,
 * epoll_pwait, epoll_pwait2) are made, but SIGALRM is cleared from a mask that lies in
 * our read-write pages (and no mask in the read-only page holds it), so they cannot
 * block the bounding signal (on Linux too, a blocked SIGALRM would leave a sleep
 * without end). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define PAGE 4096UL
#define OUT_FD 1000 /* our stdout, out of reach of the calls' descriptor arguments */
#define TICK_US 5000
#define HANG_TICKS 400 /* 2 s */
#define MAX_NR 470

static const int EXCLUDED[] = {
	SYS_mmap, SYS_mprotect, SYS_munmap, SYS_mremap, SYS_madvise, SYS_brk,
	SYS_pkey_mprotect, SYS_remap_file_pages, SYS_shmat, SYS_shmdt,
	SYS_rt_sigaction, SYS_rt_sigreturn, SYS_sigaltstack,
	SYS_alarm, SYS_setitimer, SYS_timer_create,
	SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo,
	424 /* pidfd_send_signal */,
	SYS_clone, 435 /* clone3 */, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat,
	SYS_exit, SYS_exit_group, SYS_reboot,
	SYS_arch_prctl, SYS_seccomp, 334 /* rseq */, SYS_setrlimit, SYS_prlimit64,
	436 /* close_range */, SYS_process_vm_writev,
	SYS_rename, SYS_renameat, SYS_renameat2, SYS_unlink, SYS_unlinkat, SYS_rmdir,
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_swapoff,
};

static uint64_t rng;

static uint64_t
next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static unsigned char *area;   /* RW pages [0, 8), PROT_NONE page 8, RO page 9, RW page 10, unmapped 11 */
#define RW_LEN (8 * PAGE)

static uint64_t
pointer_arg(void)
{
	uint64_t r = next();
	switch (next() % 12) {
	case 0: return 0;
	case 1: return 0x1000 + r % 0xf000;                         /* low, unmapped */
	case 2: return 0xffff800000000000ULL + (r & 0xffffff);      /* kernel direct map */
	case 3: return 0xffffffff80000000ULL + (r & 0xffffff);      /* kernel image */
	case 4: return 0x0000800000000000ULL + (r & 0xffffffffffULL); /* non-canonical */
	case 5: return 0x8000000000000000ULL ^ (r & 0xffff);        /* non-canonical */
	case 6: return (uint64_t)area + RW_LEN - 1 - r % 64;        /* into PROT_NONE */
	case 7: return (uint64_t)area + 11 * PAGE - 1 - r % 64;     /* into unmapped */
	case 8: return (uint64_t)area + 9 * PAGE + r % PAGE;        /* read-only */
	case 9: return (uint64_t)area + 8 * PAGE + r % PAGE;        /* PROT_NONE */
	default: return (uint64_t)area + (r % RW_LEN & ~7UL);       /* read-write */
	}
}

static uint64_t
arg(void)
{
	uint64_t r = next();
	switch (next() % 10) {
	case 0: return r % 8;
	case 1: return (uint64_t)-1;
	case 2: return r % 24;                                   /* descriptors */
	case 3: return (uint64_t[]){16, 64, 128, 4096, 65536, 1 << 20, 0x7fffffff}[r % 7];
	case 4: return r;
	case 5: return r & 0xffffffff;
	default: return pointer_arg();
	}
}

/* Refills the read-write pages with values the generator makes: the kernel follows
 * the pointers in them (iovecs, msghdrs, ...). */
static void
refill(void)
{
	uint64_t *w = (uint64_t *)area;
	for (size_t i = 0; i < RW_LEN / 8; i++)
		w[i] = (next() & 1) ? arg() : next() % 256;
}

static volatile sig_atomic_t ticks;
static volatile int in_call;
static volatile long call_nr;
static long interrupted;

static void
say(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(OUT_FD, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
on_alarm(int sig)
{
	(void)sig;
	if (in_call && ++ticks > HANG_TICKS) {
		char msg[96];
		/* snprintf is not async-signal-safe in general; we are about to exit. */
		snprintf(msg, sizeof msg, "hang: syscall %ld did not return within 2 s of signals\n",
		    (long)call_nr);
		say(msg);
		_exit(3);
	}
}

static int
excluded(long nr)
{
	for (size_t i = 0; i < sizeof EXCLUDED / sizeof EXCLUDED[0]; i++)
		if (EXCLUDED[i] == nr)
			return 1;
	return 0;
}

/* Clears SIGALRM in a signal mask that lies in our read-write pages. */
static void
keep_alarm(uint64_t mask)
{
	if (mask >= (uint64_t)area && mask <= (uint64_t)area + RW_LEN - 8)
		*(uint64_t *)mask &= ~(1ULL << (SIGALRM - 1));
}

static void
sanitize(long nr, uint64_t *a)
{
	switch (nr) {
	case SYS_rt_sigprocmask: keep_alarm(a[1]); break;
	case SYS_rt_sigsuspend: keep_alarm(a[0]); break;
	case SYS_ppoll: keep_alarm(a[3]); break;
	case SYS_epoll_pwait: keep_alarm(a[4]); break;
	case 441 /* epoll_pwait2 */: keep_alarm(a[4]); break;
	case SYS_pselect6:
		/* { const sigset_t *ss; size_t len }, in the read-write or read-only pages */
		if ((a[5] >= (uint64_t)area && a[5] <= (uint64_t)area + RW_LEN - 16) ||
		    (a[5] >= (uint64_t)area + 9 * PAGE && a[5] <= (uint64_t)area + 10 * PAGE - 16))
			keep_alarm(*(uint64_t *)a[5]);
		break;
	case SYS_prctl:
		if (a[0] == 22 /* PR_SET_SECCOMP */)
			a[0] = 15 /* PR_SET_NAME */;
		break;
	}
}

int
main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	long calls = argc > 2 ? strtol(argv[2], NULL, 0) : 20000;
	int verbose = argc > 3 && atoi(argv[3]) != 0;
	long errors = 0, made = 0;

	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	/* Our stdout moves out of the way; the calls see /dev/null on 0, 1 and 2. */
	if (dup2(1, OUT_FD) != OUT_FD) {
		perror("dup2");
		return 1;
	}
	int null = open("/dev/null", O_RDWR);
	if (null < 0) {
		perror("/dev/null");
		return 1;
	}
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);

	area = mmap(NULL, 12 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		dprintf(OUT_FD, "mmap failed\n");
		return 1;
	}
	refill();
	/* The read-only page: bit 5 of every byte clear, so no 8 bytes there read as a
	 * signal mask holding SIGALRM (bit 13), wherever they start. */
	for (size_t i = 0; i < PAGE; i++)
		area[9 * PAGE + i] = area[i] & ~0x20;
	if (mprotect(area + 8 * PAGE, PAGE, PROT_NONE) || mprotect(area + 9 * PAGE, PAGE, PROT_READ) ||
	    munmap(area + 11 * PAGE, PAGE)) {
		dprintf(OUT_FD, "setting up the scratch area failed\n");
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: blocking calls end with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, TICK_US}, {0, TICK_US}};
	setitimer(ITIMER_REAL, &it, NULL);

	for (long i = 0; i < calls; i++) {
		long nr;
		uint64_t a[6];
		if (i % 64 == 0)
			refill();
		/* Mostly real numbers, now and then one past the table or a random one. */
		switch (next() % 32) {
		case 0: nr = (long)next(); break;
		case 1: nr = 335 + (long)(next() % 200); break;
		default: nr = (long)(next() % MAX_NR); break;
		}
		if (excluded(nr))
			continue;
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		sanitize(nr, a);
		if (verbose)
			dprintf(OUT_FD, "call %ld: %ld(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n", i, nr,
			    (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2],
			    (unsigned long long)a[3], (unsigned long long)a[4], (unsigned long long)a[5]);
		call_nr = nr;
		ticks = 0;
		in_call = 1;
		long rv = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		in_call = 0;
		made++;
		if (rv == -1) {
			errors++;
			if (errno == EINTR)
				interrupted++;
		}
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	dprintf(OUT_FD, "survived %ld calls (seed %llu): %ld made, %ld failed, %ld interrupted\n", calls,
	    (unsigned long long)seed, made, errors, interrupted);
	_exit(0);
}
