/* exec_memory: making processes gives its memory back. 100 rounds each of fork +
 * _exit + wait and fork + exec (this static program again, through /proc/self/exe) +
 * wait; the free memory (sysinfo) after each batch is within a few KiB per round of
 * what it was before. exec used to read the program into a heap buffer that the
 * next processes' small allocations fragmented: half a MiB lost per exec. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 100

static long free_kb(void)
{
	struct sysinfo si;
	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / 1024);
}

/* kB lost per round of `mode` */
static long lost_per_round(int exec)
{
	long before = free_kb();
	for (int i = 0; i < ROUNDS; i++) {
		pid_t p = fork();
		if (p == 0) {
			if (exec) {
				char *a[] = {"exec_memory", "child", NULL};
				execv("/proc/self/exe", a);
			}
			_exit(0);
		}
		int st = -1;
		if (p < 0 || waitpid(p, &st, 0) != p || st != 0)
			return 1 << 30;
	}
	return (before - free_kb()) / ROUNDS;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return 0;
	setvbuf(stdout, NULL, _IONBF, 0);
	lost_per_round(1); /* warm-up: the heap reaches its working size */
	long fork_kb = lost_per_round(0), exec_kb = lost_per_round(1);
	printf("fork: %ld kB per round, fork + exec: %ld kB per round\n", fork_kb, exec_kb);
	CHECK(fork_kb <= 8);
	CHECK(exec_kb <= 8);
	return CHECK_DONE();
}
