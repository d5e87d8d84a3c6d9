/* par_hash: a CPU-bound parallel program: a fixed amount of work (hashing a 64 KiB
 * buffer WORK times with FNV-1a) split evenly among T threads, each on its own buffer
 * (no sharing, no syscalls while it works); prints
 *     par_hash: threads=T work=W ms=X check=H
 * With T threads on T CPUs the time should fall to 1/T.
 * Usage: par_hash [THREADS] [WORK]     (defaults 2 and 400) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BUF (64 * 1024)

struct job {
	int passes;
	uint64_t hash;
	unsigned char buf[BUF];
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
work(void *arg)
{
	struct job *j = arg;
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < BUF; i++)
		j->buf[i] = (unsigned char)(i * 131 + 7);
	for (int p = 0; p < j->passes; p++)
		for (int i = 0; i < BUF; i++) {
			h ^= j->buf[i];
			h *= 1099511628211ULL;
		}
	j->hash = h;
	return NULL;
}

int
main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	int total = argc > 2 ? atoi(argv[2]) : 400;

	if (threads < 1 || threads > 64 || total < threads) {
		fprintf(stderr, "usage: par_hash [THREADS 1-64] [WORK >= THREADS]\n");
		return 2;
	}
	struct job *jobs = calloc(threads, sizeof *jobs);
	pthread_t *t = calloc(threads, sizeof *t);
	if (!jobs || !t)
		return 1;
	double t0 = now_ms();
	for (int i = 0; i < threads; i++) {
		jobs[i].passes = total / threads + (i < total % threads);
		if (pthread_create(&t[i], NULL, work, &jobs[i]) != 0)
			return 1;
	}
	uint64_t check = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		check += jobs[i].hash;
	}
	printf("par_hash: threads=%d work=%d ms=%.1f check=%016llx\n", threads, total,
	       now_ms() - t0, (unsigned long long)check);
	return 0;
}
