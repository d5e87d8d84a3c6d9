#define _GNU_SOURCE
/* avx_state: AVX works and the program's full ymm state survives the kernel. The kernel
 * enables AVX (CR4.OSXSAVE, XCR0 = x87|SSE|AVX) when the CPU has it, saves only xmm0-3
 * on a syscall and leaves the ymm upper halves live (its own SSE code is legacy-
 * encoded), switches threads with XSAVE, and puts the AVX state in signal frames.
 * Checks, each with all sixteen 256-bit registers holding distinct patterns:
 *   - CPUID says OSXSAVE and AVX2, and XGETBV says XCR0 has x87, SSE and AVX;
 *   - AVX2 arithmetic (vpaddd on 256-bit vectors) gives the right sums;
 *   - ymm0-15 across a trivial syscall (getppid);
 *   - ymm0-15 across a blocking one (nanosleep) while another thread runs and fills
 *     every ymm register with its own values;
 *   - ymm0-15 across a signal handler that sets every ymm register to all ones, entered
 *     at a syscall's return (tgkill to itself) and at an interrupt's return (SIGALRM
 *     from setitimer while the code spins);
 *   - the signal frame's fpstate is Linux's extended form (FP_XSTATE_MAGIC1).
 * Needs a CPU with AVX2 (QEMU's -cpu max under TCG has it). Prints "ALL OK". */
#include "check_fatal.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

typedef struct {
	uint8_t b[32];
} __attribute__((aligned(32))) ymm_t;

#define CLOBBER_YMM                                                            \
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",  \
	    "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define LOAD_YMM(r)                                                            \
	"vmovdqu 0(%[" r "]), %%ymm0\n\tvmovdqu 32(%[" r "]), %%ymm1\n\t"        \
	"vmovdqu 64(%[" r "]), %%ymm2\n\tvmovdqu 96(%[" r "]), %%ymm3\n\t"       \
	"vmovdqu 128(%[" r "]), %%ymm4\n\tvmovdqu 160(%[" r "]), %%ymm5\n\t"     \
	"vmovdqu 192(%[" r "]), %%ymm6\n\tvmovdqu 224(%[" r "]), %%ymm7\n\t"     \
	"vmovdqu 256(%[" r "]), %%ymm8\n\tvmovdqu 288(%[" r "]), %%ymm9\n\t"     \
	"vmovdqu 320(%[" r "]), %%ymm10\n\tvmovdqu 352(%[" r "]), %%ymm11\n\t"   \
	"vmovdqu 384(%[" r "]), %%ymm12\n\tvmovdqu 416(%[" r "]), %%ymm13\n\t"   \
	"vmovdqu 448(%[" r "]), %%ymm14\n\tvmovdqu 480(%[" r "]), %%ymm15\n\t"
#define STORE_YMM(r)                                                           \
	"vmovdqu %%ymm0, 0(%[" r "])\n\tvmovdqu %%ymm1, 32(%[" r "])\n\t"        \
	"vmovdqu %%ymm2, 64(%[" r "])\n\tvmovdqu %%ymm3, 96(%[" r "])\n\t"       \
	"vmovdqu %%ymm4, 128(%[" r "])\n\tvmovdqu %%ymm5, 160(%[" r "])\n\t"     \
	"vmovdqu %%ymm6, 192(%[" r "])\n\tvmovdqu %%ymm7, 224(%[" r "])\n\t"     \
	"vmovdqu %%ymm8, 256(%[" r "])\n\tvmovdqu %%ymm9, 288(%[" r "])\n\t"     \
	"vmovdqu %%ymm10, 320(%[" r "])\n\tvmovdqu %%ymm11, 352(%[" r "])\n\t"   \
	"vmovdqu %%ymm12, 384(%[" r "])\n\tvmovdqu %%ymm13, 416(%[" r "])\n\t"   \
	"vmovdqu %%ymm14, 448(%[" r "])\n\tvmovdqu %%ymm15, 480(%[" r "])\n\t"

/* Every ymm register all ones (what the handlers and the other thread do). */
static void scramble_ymm(void)
{
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
			 "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\t"
			 "vmovdqa %%ymm0, %%ymm3\n\tvmovdqa %%ymm0, %%ymm4\n\t"
			 "vmovdqa %%ymm0, %%ymm5\n\tvmovdqa %%ymm0, %%ymm6\n\t"
			 "vmovdqa %%ymm0, %%ymm7\n\tvmovdqa %%ymm0, %%ymm8\n\t"
			 "vmovdqa %%ymm0, %%ymm9\n\tvmovdqa %%ymm0, %%ymm10\n\t"
			 "vmovdqa %%ymm0, %%ymm11\n\tvmovdqa %%ymm0, %%ymm12\n\t"
			 "vmovdqa %%ymm0, %%ymm13\n\tvmovdqa %%ymm0, %%ymm14\n\t"
			 "vmovdqa %%ymm0, %%ymm15\n\t" ::
				 : CLOBBER_YMM);
}

static ymm_t in[16], out[16];

static void fill(int seed)
{
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 32; i++)
			in[r].b[i] = (uint8_t)(r * 37 + i * 11 + seed * 101 + 1);
	memset(out, 0, sizeof out);
}

static void check_same(const char *what)
{
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 32; i++)
			CHECK(in[r].b[i] == out[r].b[i], "%s: ymm%d byte %d is %#x, want %#x", what, r,
			      i, out[r].b[i], in[r].b[i]);
	ok(what);
}

/* Loads ymm0-15, runs syscall nr(a0, a1), stores ymm0-15. */
static long syscall_with_ymm(long nr, long a0, long a1)
{
	long ret;
	__asm__ volatile(LOAD_YMM("in") "syscall\n\t" STORE_YMM("out")
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), [in] "r"(in), [out] "r"(out)
			 : "rcx", "r11", "memory", CLOBBER_YMM);
	return ret;
}

static volatile int other_runs, other_turns;
static void *other_thread(void *arg)
{
	(void)arg;
	while (other_runs) {
		scramble_ymm();
		other_turns++;
		sched_yield();
	}
	return NULL;
}

static volatile int handled, saw_xstate;
static void handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t magic1;
	memcpy(&magic1, fp + 464, 4);
	saw_xstate = magic1 == 0x46505853u;
	scramble_ymm();
	handled = 1;
}

int main(void)
{
	unsigned a, b, c, d;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	CHECK(c & (1u << 27), "CPUID.1: no OSXSAVE (ecx %#x)", c);
	CHECK(c & (1u << 28), "CPUID.1: no AVX (ecx %#x)", c);
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	CHECK(b & (1u << 5), "CPUID.7: no AVX2 (ebx %#x)", b);
	__asm__("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	CHECK((a & 7) == 7, "XCR0 is %#x, want x87|SSE|AVX", a);
	ok("AVX and AVX2 enabled (CPUID OSXSAVE, XCR0 has x87, SSE, AVX)");

	uint32_t x[8], y[8], sum[8];
	for (int i = 0; i < 8; i++) {
		x[i] = 1000u * (uint32_t)i + 7;
		y[i] = 0xfffffff0u + (uint32_t)i;
	}
	__asm__ volatile("vmovdqu (%1), %%ymm0\n\tvpaddd (%2), %%ymm0, %%ymm0\n\t"
			 "vmovdqu %%ymm0, (%0)" ::"r"(sum),
			 "r"(x), "r"(y)
			 : "memory", "xmm0");
	for (int i = 0; i < 8; i++)
		CHECK(sum[i] == x[i] + y[i], "vpaddd lane %d: %u, want %u", i, sum[i], x[i] + y[i]);
	ok("AVX2 vpaddd on 256-bit vectors");

	fill(1);
	long r = syscall_with_ymm(SYS_getppid, 0, 0);
	CHECK(r >= 0, "getppid: %ld", r);
	check_same("ymm0-15 across getppid");

	pthread_t t;
	other_runs = 1;
	CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0, "pthread_create");
	struct timespec ts = {0, 20 * 1000 * 1000};
	fill(2);
	int turns = other_turns;
	r = syscall_with_ymm(SYS_nanosleep, (long)&ts, 0);
	CHECK(r == 0, "nanosleep: %ld", r);
	CHECK(other_turns > turns, "the other thread did not run during the sleep");
	check_same("ymm0-15 across a blocking nanosleep while another thread used them");
	other_runs = 0;
	pthread_join(t, NULL);

	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction SIGALRM");

	fill(3);
	handled = 0;
	__asm__ volatile(LOAD_YMM("in") "mov %[nr], %%eax\n\tsyscall\n\t" STORE_YMM("out")
			 :
			 : [nr] "i"(SYS_tgkill), "D"((long)getpid()), "S"((long)gettid()),
			   "d"((long)SIGUSR1), [in] "r"(in), [out] "r"(out)
			 : "rax", "rcx", "r11", "memory", CLOBBER_YMM);
	CHECK(handled, "the SIGUSR1 handler did not run");
	CHECK(saw_xstate, "the signal frame's fpstate has no FP_XSTATE_MAGIC1");
	check_same("ymm0-15 across a handler entered at a syscall's return");

	fill(4);
	handled = 0;
	struct itimerval it = {{0, 0}, {0, 30 * 1000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
	__asm__ volatile(LOAD_YMM("in") "1: pause\n\tcmpl $0, (%[flag])\n\tje 1b\n\t" STORE_YMM("out")
			 :
			 : [flag] "r"(&handled), [in] "r"(in), [out] "r"(out)
			 : "memory", CLOBBER_YMM);
	check_same("ymm0-15 across a handler entered at an interrupt's return (SIGALRM)");

	printf("ALL OK\n");
	return 0;
}
