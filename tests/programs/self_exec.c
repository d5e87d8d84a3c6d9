/* self_exec: a program that runs itself again, as real programs do (CPython finds
 * sys.executable through argv[0]; others exec /proc/self/exe). The first program's
 * argv[0] must be a path to it in the guest, and /proc/self/exe must name the file
 * itself whichever way it was exec'd: through argv[0], /proc/self/exe, PATH or a
 * symbolic link.
 * Run without arguments; re-executed as `self_exec again EXPECTED_EXE`. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char exe[4096];

static void read_exe(void)
{
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
}

/* Runs `path` (through execvp when `search`) as argv[0] `arg0`; its status. */
static int run_again(const char *path, const char *arg0, int search)
{
	char *args[] = {(char *)arg0, "again", exe, NULL};
	pid_t pid = fork();
	int st = -1;
	if (pid == 0) {
		if (search)
			execvp(path, args);
		else
			execv(path, args);
		printf("exec %s: errno %d\n", path, errno);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

int main(int argc, char **argv)
{
	char link_path[] = "/tmp/self_exec_link";
	const char *base;

	setvbuf(stdout, NULL, _IONBF, 0);
	read_exe();
	if (argc == 3 && strcmp(argv[1], "again") == 0) {
		/* re-executed: the same file, named the same way */
		printf("again as %s: exe %s\n", argv[0], exe);
		CHECK(strcmp(exe, argv[2]) == 0);
		CHECK(access("/proc/self/exe", X_OK) == 0);
		return check_fails != 0;
	}

	printf("argv[0] %s, exe %s\n", argv[0], exe);
	CHECK(argv[0][0] == '/' && access(argv[0], X_OK) == 0);
	CHECK(strcmp(argv[0], exe) == 0);
	CHECK(strncmp(exe, "/bin/", 5) == 0);

	CHECK(run_again(argv[0], argv[0], 0) == 0);
	CHECK(run_again("/proc/self/exe", argv[0], 0) == 0);
	/* by its name through PATH, as a shell would */
	base = strrchr(exe, '/') + 1;
	setenv("PATH", "/usr/local/bin:/bin", 1);
	CHECK(run_again(base, base, 1) == 0);
	/* through a symbolic link: /proc/self/exe names the file, not the link */
	unlink(link_path);
	CHECK(symlink(exe, link_path) == 0);
	CHECK(run_again(link_path, link_path, 0) == 0);
	/* a relative link (../bin/NAME), exec'd by a relative path */
	{
		char target[4096];
		snprintf(target, sizeof target, "../bin/%s", base);
		unlink("/tmp/self_exec_rel");
		CHECK(symlink(target, "/tmp/self_exec_rel") == 0);
	}
	CHECK(chdir("/tmp") == 0);
	CHECK(run_again("./self_exec_rel", "./self_exec_rel", 0) == 0);
	return CHECK_DONE();
}
