/* disk_concurrent: several threads and a forked process use the ext2 disk at /data at
 * once, as redis does (its main thread writes while a background thread fsyncs and a
 * forked child rewrites the append-only file). Disk I/O puts the caller to sleep while
 * the file system is locked: the others must wait for it, not spin (the kernel hung).
 * Each worker writes its own files, fsyncs them and reads every byte back, and appends
 * records to one shared descriptor (one open file, its offset shared by the threads
 * and, through fork, the child): every record must be there, whole. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 40
#define SIZE (64 * 1024)
#define RECORD 100

static int shared_fd;

/* A record of worker `seed`, round `i`: RECORD bytes ending in a newline. */
static void record(char *r, int seed, int i)
{
	memset(r, 'a' + seed % 26, RECORD - 1);
	snprintf(r, 16, "%03d:%03d:", seed, i);
	r[8] = 'a' + seed % 26;
	r[RECORD - 1] = '\n';
}

/* Writes /data/NAME-i with a pattern of `seed`, fsyncs, reads it back, unlinks every
 * other one; the number of mismatches. */
static int worker(const char *name, int seed)
{
	static __thread char buf[SIZE], back[SIZE];
	char path[64];
	int bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		for (int j = 0; j < SIZE; j++)
			buf[j] = (char)(seed * 31 + i * 7 + j);
		snprintf(path, sizeof path, "/data/%s-%d", name, i);
		int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
		if (fd < 0 || write(fd, buf, SIZE) != SIZE || fsync(fd) != 0 ||
		    pread(fd, back, SIZE, 0) != SIZE || memcmp(buf, back, SIZE) != 0)
			bad++;
		if (fd >= 0)
			close(fd);
		struct stat st;
		if (stat(path, &st) != 0 || st.st_size != SIZE)
			bad++;
		if (i % 2 && unlink(path) != 0)
			bad++;
		char r[RECORD];
		record(r, seed, i);
		if (write(shared_fd, r, RECORD) != RECORD)
			bad++;
	}
	return bad;
}

static void *thread_main(void *arg)
{
	long n = (long)arg;
	char name[16];
	snprintf(name, sizeof name, "thread%ld", n);
	return (void *)(long)worker(name, (int)n);
}

int main(void)
{
	pthread_t t[3];
	void *r;
	int st = -1;

	setvbuf(stdout, NULL, _IONBF, 0);
	shared_fd = open("/data/shared.log", O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
	CHECK(shared_fd >= 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(worker("child", 100) != 0);
	CHECK(pid > 0);
	for (long i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0);
	int main_bad = worker("main", 50);
	CHECK(main_bad == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(pthread_join(t[i], &r) == 0);
		CHECK(r == NULL);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* what is left: the even rounds of the five workers */
	int left = 0;
	for (int w = 0; w < 5; w++)
		for (int i = 0; i < ROUNDS; i += 2) {
			char path[64];
			const char *names[] = {"thread0", "thread1", "thread2", "main", "child"};
			snprintf(path, sizeof path, "/data/%s-%d", names[w], i);
			left += access(path, F_OK) == 0;
		}
	CHECK(left == 5 * ROUNDS / 2);
	/* the shared log: every worker's every record, whole */
	{
		static char log[5 * ROUNDS * RECORD + 1];
		int fd = open("/data/shared.log", O_RDONLY), seen[5][ROUNDS] = {{0}};
		ssize_t n = fd >= 0 ? read(fd, log, sizeof log) : -1;
		int whole = 0;
		CHECK(n == 5 * ROUNDS * RECORD);
		for (ssize_t o = 0; o + RECORD <= n; o += RECORD) {
			int seed = atoi(log + o), i = atoi(log + o + 4), w;
			char want[RECORD];
			w = seed == 50 ? 3 : seed == 100 ? 4 : seed;
			if (w < 0 || w > 4 || i < 0 || i >= ROUNDS)
				continue;
			record(want, seed, i);
			if (memcmp(log + o, want, RECORD) == 0 && !seen[w][i]++)
				whole++;
		}
		CHECK(whole == 5 * ROUNDS);
		if (fd >= 0)
			close(fd);
	}
	sync();
	return CHECK_DONE();
}
