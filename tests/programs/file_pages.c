/* file_pages: a file's pages are shared, not copied. Processes that open the same
 * /dev/shm file themselves (exec'd, not forked) and map it MAP_SHARED see each other's
 * writes and a write(2) by a third; POSIX named semaphores (sem_open) work between
 * exec'd processes (a counter under a named-semaphore lock comes out exact); a page
 * of a mapping past the end of the file gives SIGBUS (BUS_ADRERR), also after a
 * truncate of a page that was mapped; a MAP_PRIVATE mapping keeps what it wrote while
 * pages it only read follow the file, as on Linux; fork, mremap, msync and a partial
 * munmap of file mappings. The peers are this program exec'd again with a role. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SHM "/dev/shm/file_pages"
#define ROUNDS 2000

struct hdr {
	volatile int a, b;
	volatile int counter;
};

static pid_t spawn(const char *role)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"file_pages", (char *)role, NULL};
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

static int status_of(pid_t pid)
{
	int st = -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* Waits up to 10 s for *p == v. */
static int wait_for(volatile int *p, int v)
{
	for (int i = 0; i < 10000; i++) {
		if (*p == v)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void *map_shm(int flags)
{
	int fd = open(SHM, O_RDWR);
	if (fd < 0)
		return MAP_FAILED;
	void *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, flags, fd, 0);
	close(fd);
	return m;
}

/* Peer B: maps the file itself, answers main, waits for main's word and C's write. */
static int peer(void)
{
	char *m = map_shm(MAP_SHARED);
	if (m == MAP_FAILED)
		return 2;
	struct hdr *h = (struct hdr *)m;
	h->b = 0xB0B;
	if (!wait_for(&h->a, 0xA1))
		return 3;
	for (int i = 0; i < 10000 && memcmp(m + 4096, "written by C", 12); i++)
		usleep(1000);
	return memcmp(m + 4096, "written by C", 12) ? 4 : 0;
}

/* Peer C: a plain write(2) to the file. */
static int writer(void)
{
	int fd = open(SHM, O_RDWR);
	return fd >= 0 && pwrite(fd, "written by C", 12, 4096) == 12 ? 0 : 2;
}

/* Peer D: posts "go", then counts under the named-semaphore lock. */
static int counter(void)
{
	sem_t *go = sem_open("/file_pages_go", 0);
	sem_t *lock = sem_open("/file_pages_lock", 0);
	char *m = map_shm(MAP_SHARED);
	if (go == SEM_FAILED || lock == SEM_FAILED || m == MAP_FAILED)
		return 2;
	struct hdr *h = (struct hdr *)m;
	if (sem_post(go))
		return 3;
	for (int i = 0; i < ROUNDS; i++) {
		sem_wait(lock);
		int v = h->counter;
		if (i % 64 == 0)
			sched_yield();
		h->counter = v + 1;
		sem_post(lock);
	}
	return 0;
}

static sigjmp_buf jump;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jump, 1);
}

/* Reads *p; 1 if that raised SIGBUS at p with BUS_ADRERR. */
static int bus_on_read(volatile char *p)
{
	got_sig = 0;
	if (sigsetjmp(jump, 1) == 0) {
		(void)*p;
		return 0;
	}
	return got_sig == SIGBUS && got_code == BUS_ADRERR && got_addr == (void *)p;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "peer"))
		return peer();
	if (argc > 1 && !strcmp(argv[1], "writer"))
		return writer();
	if (argc > 1 && !strcmp(argv[1], "counter"))
		return counter();

	/* Two exec'd processes and a third's write(2), on one /dev/shm file. */
	mkdir("/dev/shm", 01777);
	int fd = open(SHM, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 3 * 4096) == 0);
	char *m = map_shm(MAP_SHARED);
	CHECK(m != MAP_FAILED);
	struct hdr *h = (struct hdr *)m;
	pid_t b = spawn("peer");
	CHECK(wait_for(&h->b, 0xB0B));
	h->a = 0xA1;
	CHECK(status_of(spawn("writer")) == 0);
	CHECK(memcmp(m + 4096, "written by C", 12) == 0);
	int st = status_of(b);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* ... and the file's bytes are what the mappings wrote. */
	struct hdr fh;
	CHECK(pread(fd, &fh, sizeof fh, 0) == sizeof fh && fh.a == 0xA1 && fh.b == 0xB0B);

	/* sem_open between exec'd processes: a wake-up and mutual exclusion. */
	sem_unlink("/file_pages_go");
	sem_unlink("/file_pages_lock");
	sem_t *go = sem_open("/file_pages_go", O_CREAT | O_EXCL, 0600, 0);
	sem_t *lock = sem_open("/file_pages_lock", O_CREAT | O_EXCL, 0600, 1);
	CHECK(go != SEM_FAILED && lock != SEM_FAILED);
	h->counter = 0;
	pid_t d = spawn("counter");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	CHECK(sem_timedwait(go, &ts) == 0);
	for (int i = 0; i < ROUNDS; i++) {
		sem_wait(lock);
		int v = h->counter;
		if (i % 64 == 0)
			sched_yield();
		h->counter = v + 1;
		sem_post(lock);
	}
	st = status_of(d);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(h->counter == 2 * ROUNDS);
	printf("counter %d (expected %d)\n", h->counter, 2 * ROUNDS);
	CHECK(sem_unlink("/file_pages_go") == 0 && sem_unlink("/file_pages_lock") == 0);

	/* SIGBUS past the end of the file, also after a truncate of a mapped page. */
	struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	CHECK(ftruncate(fd, 4096 + 100) == 0);
	m[4096 + 50] = 'x';
	CHECK(m[4096 + 50] == 'x');
	CHECK(m[4096 + 200] == 0); /* the last page reads zeros past the end */
	CHECK(bus_on_read(m + 2 * 4096));
	CHECK(ftruncate(fd, 4096) == 0);
	CHECK(bus_on_read(m + 4096));
	CHECK(bus_on_read(m + 4096 + 50));
	CHECK(m[0] == (char)0xA1); /* the first page still maps the file */
	char *priv = map_shm(MAP_PRIVATE);
	CHECK(priv != MAP_FAILED && bus_on_read(priv + 4096));
	/* Growing the file again makes the page readable (zeros). */
	CHECK(ftruncate(fd, 2 * 4096) == 0);
	CHECK(m[4096 + 50] == 0);
	signal(SIGBUS, SIG_DFL);

	/* MAP_PRIVATE: its own writes stay its own; pages it only read follow the file. */
	CHECK(pwrite(fd, "original", 8, 100) == 8 && pwrite(fd, "original", 8, 4096) == 8);
	CHECK(memcmp(priv + 100, "original", 8) == 0 && memcmp(priv + 4096, "original", 8) == 0);
	memcpy(priv + 100, "private!", 8);
	CHECK(pwrite(fd, "changed!", 8, 100) == 8 && pwrite(fd, "changed!", 8, 4096) == 8);
	CHECK(memcmp(priv + 100, "private!", 8) == 0);
	CHECK(memcmp(priv + 4096, "changed!", 8) == 0);
	CHECK(memcmp(m + 100, "changed!", 8) == 0);
	char buf[8];
	CHECK(pread(fd, buf, 8, 100) == 8 && memcmp(buf, "changed!", 8) == 0);

	/* fork: the shared mapping stays shared, the private one is copied. */
	pid_t c = fork();
	if (c == 0) {
		memcpy(m + 200, "child-shared", 12);
		memcpy(priv + 200, "child-private", 13);
		_exit(0);
	}
	CHECK(status_of(c) == 0);
	CHECK(memcmp(m + 200, "child-shared", 12) == 0);
	CHECK(pread(fd, buf, 8, 200) == 8 && memcmp(buf, "child-sh", 8) == 0);
	CHECK(memcmp(priv + 200, "child-private", 13) != 0);

	/* mremap grows a shared file mapping: the new page is the file's. */
	CHECK(ftruncate(fd, 4 * 4096) == 0);
	CHECK(pwrite(fd, "page three", 10, 3 * 4096) == 10);
	char *g = mremap(m, 3 * 4096, 4 * 4096, MREMAP_MAYMOVE);
	CHECK(g != MAP_FAILED);
	if (g != MAP_FAILED) {
		CHECK(memcmp(g + 3 * 4096, "page three", 10) == 0);
		CHECK(memcmp(g + 200, "child-shared", 12) == 0);
		memcpy(g + 3 * 4096, "PAGE", 4);
		CHECK(pread(fd, buf, 4, 3 * 4096) == 4 && memcmp(buf, "PAGE", 4) == 0);
		CHECK(msync(g, 4 * 4096, MS_SYNC) == 0);
		/* munmap of the middle: the rest stays coherent with the file. */
		CHECK(munmap(g + 4096, 2 * 4096) == 0);
		CHECK(pwrite(fd, "after", 5, 0) == 5 && pwrite(fd, "after", 5, 3 * 4096) == 5);
		CHECK(memcmp(g, "after", 5) == 0 && memcmp(g + 3 * 4096, "after", 5) == 0);
		CHECK(munmap(g, 4096) == 0 && munmap(g + 3 * 4096, 4096) == 0);
	}
	CHECK(munmap(priv, 3 * 4096) == 0);
	close(fd);
	CHECK(unlink(SHM) == 0);
	return CHECK_DONE();
}
