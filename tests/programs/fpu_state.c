/* fpu_state: the program's FPU/SSE state survives the kernel. Syscalls save only
 * xmm0-3 and leave the rest (xmm4-15, x87, MXCSR) live in the CPU, carried across
 * thread switches by the scheduler (see kernel/src/arch/x86_64/fpu.rs), so this
 * checks each piece:
 *   - all sixteen xmm registers across a trivial syscall and across a blocking one;
 *   - values on the x87 stack across a blocking syscall while another thread computes;
 *   - a per-thread rounding mode (MXCSR and the x87 control word) while two threads
 *     with different modes ping-pong through futex-backed condition variables;
 *   - a signal handler that scrambles xmm, MXCSR and the x87 control word: the
 *     interrupted code sees its own state again after the handler returns.
 * Prints "ALL OK" and exits 0 when everything holds. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check_fatal.h"

/* Rounding modes set and read straight in MXCSR and the x87 control word (both hold
 * the same two-bit RC field), so no libm is needed. */
enum { RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3 };

static void
set_rounding(int rc)
{
	uint32_t mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	mxcsr = (mxcsr & ~(3u << 13)) | (uint32_t)rc << 13;
	cw = (uint16_t)((cw & ~(3u << 10)) | (unsigned)rc << 10);
	__asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
	__asm__ volatile("fldcw %0" ::"m"(cw));
}

/* The mode if MXCSR and the x87 control word agree, else -1. */
static int
get_rounding(void)
{
	uint32_t mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	int sse = (mxcsr >> 13) & 3, x87 = (cw >> 10) & 3;
	return sse == x87 ? sse : -1;
}

typedef struct {
	uint64_t q[2];
} xmm_t;

/* Loads xmm0-15 from `in`, runs syscall `nr` (args a0, a1) and stores xmm0-15 to
 * `out`. The registers are clobbered on purpose; the compiler is told. */
static long
syscall_with_xmm(long nr, long a0, long a1, const xmm_t in[16], xmm_t out[16])
{
	long ret;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile(
	    "movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\t"
	    "movdqu 32(%[in]), %%xmm2\n\tmovdqu 48(%[in]), %%xmm3\n\t"
	    "movdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\t"
	    "movdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\t"
	    "movdqu 128(%[in]), %%xmm8\n\tmovdqu 144(%[in]), %%xmm9\n\t"
	    "movdqu 160(%[in]), %%xmm10\n\tmovdqu 176(%[in]), %%xmm11\n\t"
	    "movdqu 192(%[in]), %%xmm12\n\tmovdqu 208(%[in]), %%xmm13\n\t"
	    "movdqu 224(%[in]), %%xmm14\n\tmovdqu 240(%[in]), %%xmm15\n\t"
	    "syscall\n\t"
	    "movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\t"
	    "movdqu %%xmm2, 32(%[out])\n\tmovdqu %%xmm3, 48(%[out])\n\t"
	    "movdqu %%xmm4, 64(%[out])\n\tmovdqu %%xmm5, 80(%[out])\n\t"
	    "movdqu %%xmm6, 96(%[out])\n\tmovdqu %%xmm7, 112(%[out])\n\t"
	    "movdqu %%xmm8, 128(%[out])\n\tmovdqu %%xmm9, 144(%[out])\n\t"
	    "movdqu %%xmm10, 160(%[out])\n\tmovdqu %%xmm11, 176(%[out])\n\t"
	    "movdqu %%xmm12, 192(%[out])\n\tmovdqu %%xmm13, 208(%[out])\n\t"
	    "movdqu %%xmm14, 224(%[out])\n\tmovdqu %%xmm15, 240(%[out])\n\t"
	    : "=a"(ret), "+r"(r10)
	    : "a"(nr), "D"(a0), "S"(a1), "d"(0L), [in] "r"(in), [out] "r"(out)
	    : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
	      "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
	      "xmm14", "xmm15");
	return ret;
}

static void
fill(xmm_t v[16], uint64_t seed)
{
	for (int i = 0; i < 16; i++) {
		v[i].q[0] = seed * 0x9e3779b97f4a7c15ull + i;
		v[i].q[1] = ~v[i].q[0] ^ (uint64_t)i << 40;
	}
}

static void
check_xmm(const char *what, long nr, long a0, long a1)
{
	xmm_t in[16], out[16];
	for (int round = 0; round < 50; round++) {
		fill(in, round + 1);
		memset(out, 0, sizeof out);
		syscall_with_xmm(nr, a0, a1, in, out);
		for (int i = 0; i < 16; i++)
			CHECK(in[i].q[0] == out[i].q[0] && in[i].q[1] == out[i].q[1],
			      "%s: xmm%d changed (round %d)", what, i, round);
	}
	ok(what);
}

/* A thread that keeps the other CPU state busy: computes with SSE and x87 in a loop
 * with its own rounding mode, yielding, until told to stop. */
static volatile int stop_noise;
static void *
noise(void *arg)
{
	(void)arg;
	set_rounding(RC_ZERO);
	volatile long double ld = 1.0L;
	volatile double d = 1.0;
	while (!stop_noise) {
		ld = ld * 1.0000001L + 0.5L;
		d = d * 1.0000001 + 0.25;
		syscall(SYS_sched_yield);
	}
	return NULL;
}

/* x87 stack values held in registers across a blocking syscall (nanosleep lets the
 * noise thread run in between). */
static void
check_x87_across_sleep(void)
{
	struct timespec ts = {0, 2000000};
	for (int round = 0; round < 20; round++) {
		double a = 1.5 + round, b = -2.25 * round, got_a, got_b;
		long ret;
		__asm__ volatile("fldl %[a]\n\t"
				 "fldl %[b]\n\t"
				 "syscall\n\t"
				 "fstpl %[gb]\n\t"
				 "fstpl %[ga]\n\t"
				 : "=a"(ret), [ga] "=m"(got_a), [gb] "=m"(got_b)
				 : "a"((long)SYS_nanosleep), "D"(&ts), "S"(0L), [a] "m"(a),
				   [b] "m"(b)
				 : "rcx", "r11", "memory", "st", "st(1)");
		CHECK(ret == 0, "nanosleep returned %ld", ret);
		CHECK(got_a == a && got_b == b, "x87 stack changed: %g %g, want %g %g",
		      got_a, got_b, a, b);
	}
	ok("x87 stack across a blocking syscall");
}

/* Two threads with different rounding modes take turns through a condition
 * variable (futex waits and wakes): each sees its own mode every time. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;
enum { TURNS = 200 };

static int
rounding_ok(int mode)
{
	/* MXCSR: SSE arithmetic; x87 control word: long double arithmetic. */
	volatile double one = 1.0, three = 3.0;
	volatile long double lone = 1.0L, lthree = 3.0L;
	double d = one / three;
	long double ld = lone / lthree;
	if (get_rounding() != mode)
		return 0;
	if (mode == RC_UP)
		return d * 3.0 > 1.0 && ld * 3.0L > 1.0L;
	return d * 3.0 < 1.0 && ld * 3.0L < 1.0L; /* RC_DOWN */
}

static void *
turn_taker(void *arg)
{
	int me = (int)(intptr_t)arg;
	int mode = me ? RC_DOWN : RC_UP;
	set_rounding(mode);
	for (int i = 0; i < TURNS; i++) {
		pthread_mutex_lock(&mu);
		while (turn % 2 != me)
			pthread_cond_wait(&cv, &mu);
		if (!rounding_ok(mode)) {
			pthread_mutex_unlock(&mu);
			return (void *)1;
		}
		turn++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void
check_rounding_per_thread(void)
{
	pthread_t a, b;
	void *ra, *rb;
	CHECK(pthread_create(&a, NULL, turn_taker, (void *)0) == 0, "pthread_create");
	CHECK(pthread_create(&b, NULL, turn_taker, (void *)1) == 0, "pthread_create");
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	CHECK(ra == NULL, "thread 0 (round up) saw another rounding mode");
	CHECK(rb == NULL, "thread 1 (round down) saw another rounding mode");
	CHECK(get_rounding() == RC_NEAREST, "main thread's rounding mode changed");
	ok("rounding mode per thread across futex waits");
}

/* A handler that scrambles the FPU/SSE state; the interrupted syscall's caller must
 * not notice. */
static void
scramble(int sig)
{
	(void)sig;
	set_rounding(RC_UP);
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm15, %%xmm15" ::: "xmm0", "xmm7", "xmm15");
}

static void
check_signal_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = scramble;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	set_rounding(RC_DOWN);
	/* The signal arrives during the syscall and is delivered on its return. */
	check_xmm("xmm0-15 across a syscall that takes a signal", SYS_tkill, gettid(),
		  SIGUSR1);
	CHECK(get_rounding() == RC_DOWN, "rounding mode changed by the handler");
	set_rounding(RC_NEAREST);
	ok("FPU state restored after a signal handler");
}

int
main(void)
{
	check_xmm("xmm0-15 across getppid", SYS_getppid, 0, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, noise, NULL) == 0, "pthread_create");
	check_xmm("xmm0-15 across sched_yield with another thread", SYS_sched_yield, 0, 0);
	check_x87_across_sleep();
	stop_noise = 1;
	pthread_join(t, NULL);
	check_rounding_per_thread();
	check_signal_handler();
	printf("ALL OK\n");
	return 0;
}
