/* smp_affinity.c EXPECTED_CPUS: what a program sees of the CPUs: sched_getaffinity,
 * sysconf(_SC_NPROCESSORS_ONLN), /proc/cpuinfo, /proc/stat and
 * /sys/devices/system/cpu/online agree on EXPECTED_CPUS; pinning a thread to a CPU
 * (pthread_setaffinity_np) runs it there (sched_getcpu, getcpu) and bad masks give
 * EINVAL. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int count_lines(const char *path, const char *prefix, int digit_after) {
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int n = 0;
	size_t len = strlen(prefix);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, prefix, len) == 0 &&
		    (!digit_after || (line[len] >= '0' && line[len] <= '9')))
			n++;
	fclose(f);
	return n;
}

struct pinned {
	int cpu;
	int seen_ok;
	int getcpu_ok;
};

static void *pinned_thread(void *arg) {
	struct pinned *p = arg;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
		return NULL;
	p->seen_ok = 1;
	/* Spin a while (and yield): it must be on its CPU now and stay there. */
	for (int i = 0; i < 200; i++) {
		for (volatile int k = 0; k < 20000; k++)
			;
		if (sched_getcpu() != p->cpu)
			p->seen_ok = 0;
		if (i % 20 == 0)
			sched_yield();
	}
	unsigned cpu = 99, node = 99;
	p->getcpu_ok =
	    syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && (int)cpu == p->cpu && node == 0;
	return NULL;
}

int main(int argc, char **argv) {
	int want = argc > 1 ? atoi(argv[1]) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
	CHECK(CPU_COUNT(&set) == want);
	printf("cpus: affinity %d, online %ld\n", CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_ONLN));
	CHECK(sysconf(_SC_NPROCESSORS_ONLN) == want);
	CHECK(count_lines("/proc/cpuinfo", "processor", 0) == want);
	CHECK(count_lines("/proc/stat", "cpu", 1) == want);
	char online[32] = "";
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(online, sizeof online, f) != NULL);
		fclose(f);
	}
	char expect[32];
	if (want > 1)
		snprintf(expect, sizeof expect, "0-%d\n", want - 1);
	else
		snprintf(expect, sizeof expect, "0\n");
	CHECK(strcmp(online, expect) == 0);

	/* Bad masks: empty, and only a CPU that does not exist; a short buffer. */
	cpu_set_t bad;
	CPU_ZERO(&bad);
	errno = 0;
	CHECK(sched_setaffinity(0, sizeof bad, &bad) == -1 && errno == EINVAL);
	CPU_SET(want + 3, &bad);
	errno = 0;
	CHECK(sched_setaffinity(0, sizeof bad, &bad) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(syscall(SYS_sched_getaffinity, 0, 3, &set) == -1 && errno == EINVAL);

	/* Each CPU in turn: a thread pinned there runs there. */
	for (int cpu = 0; cpu < want; cpu++) {
		struct pinned p = {.cpu = cpu};
		pthread_t t;
		CHECK(pthread_create(&t, NULL, pinned_thread, &p) == 0);
		CHECK(pthread_join(t, NULL) == 0);
		printf("pinned to %d: sched_getcpu %s, getcpu %s\n", cpu, p.seen_ok ? "ok" : "WRONG",
		       p.getcpu_ok ? "ok" : "WRONG");
		CHECK(p.seen_ok);
		CHECK(p.getcpu_ok);
	}
	/* The main thread moves too, and its mask reads back. */
	CPU_ZERO(&set);
	CPU_SET(want - 1, &set);
	CHECK(sched_setaffinity(0, sizeof set, &set) == 0);
	CHECK(sched_getcpu() == want - 1);
	cpu_set_t back;
	CPU_ZERO(&back);
	CHECK(sched_getaffinity(0, sizeof back, &back) == 0 && CPU_EQUAL(&back, &set));
	return CHECK_DONE();
}
