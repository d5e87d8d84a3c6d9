/* proc_ipc: what forked processes share. A futex word in MAP_SHARED memory wakes a
 * waiter in another process; process-shared pthread mutexes and condition variables
 * and POSIX unnamed semaphores in shared memory; System V shared memory (shmget,
 * shmat, shmdt, shmctl IPC_STAT/IPC_RMID) and semaphores (semget, semop blocking
 * across processes, semtimedop timing out, IPC_NOWAIT, semctl SETVAL/GETVAL/GETALL,
 * IPC_RMID); descriptors a child inherits: an eventfd (the child's write wakes the
 * parent's read), an epoll set (a descriptor the child adds is reported to the parent,
 * and the child's epoll_wait sees the parent's pipe), and a socketpair (both ways). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

union semun_arg {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int status_of(pid_t pid)
{
	int st = -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

struct shared {
	int word;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	int ready;
	sem_t sem;
	int counter;
};

/* Descriptors shared with a forked child: eventfd, an epoll set, a socketpair. */
static void inherited_files(void)
{
	int ev = eventfd(0, 0);
	int ep = epoll_create1(0);
	int p[2], sv[2];
	CHECK(ev >= 0 && ep >= 0 && pipe(p) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 1};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int code = 0;
		/* the epoll set is the parent's: it reports the parent's pipe once the
		 * parent writes it (told over the socketpair) */
		struct epoll_event got;
		char c;
		if (read(sv[1], &c, 1) != 1 || c != 'w')
			code |= 1;
		if (epoll_wait(ep, &got, 1, 5000) != 1 || got.data.u64 != 1)
			code |= 2;
		/* the child adds the eventfd to the shared set, then signals it */
		struct epoll_event e2 = {.events = EPOLLIN, .data.u64 = 2};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e2) != 0)
			code |= 4;
		uint64_t one = 7;
		if (write(ev, &one, 8) != 8)
			code |= 8;
		if (write(sv[1], "c", 1) != 1)
			code |= 16;
		_exit(code);
	}
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(write(sv[0], "w", 1) == 1);
	char c = 0;
	CHECK(read(sv[0], &c, 1) == 1 && c == 'c');
	uint64_t v = 0;
	CHECK(read(ev, &v, 8) == 8 && v == 7); /* the child's write */
	int st = status_of(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the eventfd the child added is in our set too (its registration is the
	 * set's, not the child's): readable again after a write here */
	uint64_t one = 1;
	CHECK(write(ev, &one, 8) == 8);
	struct epoll_event got[2];
	int n = epoll_wait(ep, got, 2, 1000);
	int saw_ev = 0;
	for (int i = 0; i < n; i++)
		saw_ev |= got[i].data.u64 == 2;
	CHECK(n >= 1 && saw_ev);
	close(ev);
	close(ep);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	pid_t pid;
	int st;
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	setvbuf(stdout, NULL, _IONBF, 0);

	/* a shared futex: the child waits, the parent wakes it. The parent's
	 * FUTEX_WAKE counts 1 only once the child sleeps in FUTEX_WAIT on the same
	 * word (woken, it sees 0 and sleeps again), so the parent tries until then
	 * rather than guessing how long the child needs to get there (a fixed 50 ms
	 * was too short on a loaded host). */
	sh->word = 0;
	pid = fork();
	if (pid == 0) {
		struct timespec ts = {0, 100000000};
		for (int k = 0; k < 100 && sh->word == 0; k++) /* 10 s at most */
			futex(&sh->word, FUTEX_WAIT, 0, &ts);
		_exit(sh->word == 1 ? 0 : 1);
	}
	long woken = 0;
	for (int tries = 0; tries < 1000 && woken == 0; tries++) {
		woken = futex(&sh->word, FUTEX_WAKE, 1, NULL);
		if (woken == 0)
			usleep(10000);
	}
	sh->word = 1;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		futex(&sh->word, FUTEX_WAKE, 1, NULL);
		usleep(1000);
	}
	CHECK(woken == 1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* process-shared mutex and condition variable */
	{
		pthread_mutexattr_t ma;
		pthread_condattr_t ca;
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_condattr_init(&ca);
		pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
		pthread_mutex_init(&sh->mutex, &ma);
		pthread_cond_init(&sh->cond, &ca);
		sh->ready = 0;
		pid = fork();
		if (pid == 0) {
			pthread_mutex_lock(&sh->mutex);
			while (!sh->ready)
				pthread_cond_wait(&sh->cond, &sh->mutex);
			pthread_mutex_unlock(&sh->mutex);
			_exit(0);
		}
		usleep(50000);
		pthread_mutex_lock(&sh->mutex);
		sh->ready = 1;
		pthread_cond_broadcast(&sh->cond);
		pthread_mutex_unlock(&sh->mutex);
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	/* an unnamed POSIX semaphore in shared memory, and a counter under the mutex */
	{
		sem_init(&sh->sem, 1, 0);
		sh->counter = 0;
		pid_t kids[4];
		for (int k = 0; k < 4; k++) {
			kids[k] = fork();
			if (kids[k] == 0) {
				sem_wait(&sh->sem);
				for (int i = 0; i < 1000; i++) {
					pthread_mutex_lock(&sh->mutex);
					sh->counter++;
					pthread_mutex_unlock(&sh->mutex);
				}
				_exit(0);
			}
		}
		usleep(20000);
		for (int k = 0; k < 4; k++)
			sem_post(&sh->sem);
		int ok = 1;
		for (int k = 0; k < 4; k++)
			ok &= status_of(kids[k]) == 0;
		CHECK(ok && sh->counter == 4000);
	}

	/* System V shared memory */
	{
		int id = shmget(IPC_PRIVATE, 3 * 4096 + 5, IPC_CREAT | 0600);
		CHECK(id >= 0);
		char *p = shmat(id, NULL, 0);
		CHECK(p != (void *)-1 && p[0] == 0 && p[3 * 4096 + 4] == 0);
		strcpy(p, "from the parent");
		pid = fork();
		if (pid == 0) {
			char *q = shmat(id, NULL, 0); /* a second attach in the child */
			int ok = q != (void *)-1 && strcmp(q, "from the parent") == 0 &&
			    strcmp(p, "from the parent") == 0;
			strcpy(q + 8192, "from the child");
			shmdt(q);
			_exit(ok ? 0 : 1);
		}
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK(strcmp(p + 8192, "from the child") == 0);
		struct shmid_ds ds;
		CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 1 &&
		    ds.shm_segsz == 3 * 4096 + 5 && ds.shm_cpid == getpid());
		CHECK(shmctl(id, IPC_RMID, NULL) == 0);
		CHECK(strcmp(p, "from the parent") == 0); /* still attached */
		CHECK(shmdt(p) == 0);
		CHECK(shmat(id, NULL, 0) == (void *)-1 && errno == EINVAL);
		CHECK(shmget(0x1234, 4096, 0) == -1 && errno == ENOENT);
		int k1 = shmget(0x1234, 4096, IPC_CREAT | 0600);
		CHECK(k1 >= 0 && shmget(0x1234, 4096, 0) == k1);
		CHECK(shmget(0x1234, 4096, IPC_CREAT | IPC_EXCL | 0600) == -1 &&
		    errno == EEXIST);
		CHECK(shmctl(k1, IPC_RMID, NULL) == 0);
	}

	/* System V semaphores */
	{
		int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
		union semun_arg arg;
		CHECK(id >= 0);
		arg.val = 0;
		CHECK(semctl(id, 0, SETVAL, arg) == 0);
		pid = fork();
		if (pid == 0) {
			struct sembuf down = {0, -1, 0};
			struct sembuf up1 = {1, 1, 0};
			if (semop(id, &down, 1) != 0) /* blocks until the parent's up */
				_exit(1);
			semop(id, &up1, 1);
			_exit(0);
		}
		usleep(50000);
		CHECK(semctl(id, 0, GETVAL) == 0);
		struct sembuf up = {0, 1, 0};
		CHECK(semop(id, &up, 1) == 0);
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		unsigned short vals[2];
		arg.array = vals;
		CHECK(semctl(id, 0, GETALL, arg) == 0 && vals[0] == 0 && vals[1] == 1);
		struct sembuf down_nowait = {0, -1, IPC_NOWAIT};
		CHECK(semop(id, &down_nowait, 1) == -1 && errno == EAGAIN);
		struct timespec ts = {0, 20000000};
		struct sembuf down = {0, -1, 0};
		CHECK(semtimedop(id, &down, 1, &ts) == -1 && errno == EAGAIN);
		/* two operations at once: all or nothing */
		struct sembuf both[2] = {{1, -1, IPC_NOWAIT}, {0, -1, IPC_NOWAIT}};
		CHECK(semop(id, both, 2) == -1 && errno == EAGAIN);
		CHECK(semctl(id, 1, GETVAL) == 1);
		/* a waiter gets EIDRM when the set goes */
		pid = fork();
		if (pid == 0) {
			struct sembuf d = {0, -1, 0};
			_exit(semop(id, &d, 1) == -1 && errno == EIDRM ? 0 : 1);
		}
		usleep(50000);
		CHECK(semctl(id, 0, IPC_RMID) == 0);
		st = status_of(pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	inherited_files();
	return CHECK_DONE();
}
