/* textbusy: ETXTBSY as on Linux. A running program's file cannot be opened for
 * writing (O_WRONLY, O_RDWR, O_TRUNC leaves it whole) or truncated, though it can be
 * read; a file open for writing (an ELF or a #! script) cannot be exec'd; once the
 * writer closes it runs, and once the process running it has ended (killed and
 * reaped) it can be written again. Prints "ALL OK" and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* fork + execv(path, argv); the child's status (errno of a failed exec as its exit
 * status). */
static int run(const char *path, char *const argv[])
{
	pid_t c = fork();
	if (c == 0) {
		execv(path, argv);
		_exit(errno);
	}
	int st = -1;
	waitpid(c, &st, 0);
	return st;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exit3") == 0)
		return 3;
	if (argc > 2 && strcmp(argv[1], "wait") == 0) {
		/* Tell the parent we run, then wait to be killed. */
		int fd = atoi(argv[2]);
		write(fd, "r", 1);
		for (;;)
			pause();
	}

	/* 1. Our own file. */
	struct stat before, after;
	CHECK(stat("/proc/self/exe", &before) == 0);
	errno = 0;
	CHECK(open("/proc/self/exe", O_WRONLY) == -1 && errno == ETXTBSY);
	errno = 0;
	CHECK(open("/proc/self/exe", O_RDWR) == -1 && errno == ETXTBSY);
	errno = 0;
	CHECK(open("/proc/self/exe", O_RDONLY | O_TRUNC) == -1 && errno == ETXTBSY);
	errno = 0;
	CHECK(truncate("/proc/self/exe", 0) == -1 && errno == ETXTBSY);
	CHECK(stat("/proc/self/exe", &after) == 0 && after.st_size == before.st_size);
	int rfd = open("/proc/self/exe", O_RDONLY);
	CHECK(rfd >= 0);

	/* 2. A copy open for writing cannot run; closed, it runs. */
	int w = open("/tmp/prog", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(w >= 0);
	static char buf[65536];
	ssize_t n;
	while ((n = read(rfd, buf, sizeof buf)) > 0)
		CHECK(write(w, buf, n) == n);
	close(rfd);
	char *a3[] = {"/tmp/prog", "exit3", NULL};
	int st = run("/tmp/prog", a3);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == ETXTBSY);
	close(w);
	st = run("/tmp/prog", a3);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);

	/* 3. While a process runs it, it cannot be written; once it ended, it can. */
	int p[2];
	CHECK(pipe(p) == 0);
	char fdarg[16];
	snprintf(fdarg, sizeof fdarg, "%d", p[1]);
	pid_t c = fork();
	if (c == 0) {
		char *aw[] = {"/tmp/prog", "wait", fdarg, NULL};
		execv("/tmp/prog", aw);
		_exit(99);
	}
	char r;
	CHECK(read(p[0], &r, 1) == 1);
	errno = 0;
	CHECK(open("/tmp/prog", O_WRONLY) == -1 && errno == ETXTBSY);
	errno = 0;
	CHECK(truncate("/tmp/prog", 10) == -1 && errno == ETXTBSY);
	CHECK(kill(c, SIGKILL) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st));
	w = open("/tmp/prog", O_WRONLY);
	CHECK(w >= 0);
	close(w);

	/* 4. A #! script open for writing cannot run either. */
	w = open("/tmp/script", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(w >= 0);
	const char *text = "#!/tmp/prog\n";
	CHECK(write(w, text, strlen(text)) == (ssize_t)strlen(text));
	char *as[] = {"/tmp/script", NULL};
	st = run("/tmp/script", as);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == ETXTBSY);
	close(w);
	return CHECK_DONE();
}
