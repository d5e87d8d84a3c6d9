/* init.c: the /init of bench/run's Linux guest.  A tiny static init that mounts /proc,
 * /sys, /dev (devtmpfs) and /tmp (tmpfs), runs the benchmark program named on the
 * kernel command line, prints its exit status and powers the machine off.
 *
 * Kernel command line (parameters with '=' that Linux does not know reach init's
 * environment):
 *     rr_prog=/bin/hello-musl rr_args="1000000 x"
 * The program gets argv = { rr_prog, the space-separated words of rr_args } and the
 * environment of init minus the rr_* variables.
 *
 * With rr_mount=/dev/vda:/data (an initramfs built with --storage), init first loads
 * every module in /modules in name order (finit_module), waits for the disk to appear
 * and mounts its ext2 file system on the directory; the program's end unmounts it.
 *
 * Console lines (bench/run looks for them):
 *     === rr-init: exec /bin/prog ===              right before execve, in the child
 *     === rr-init: /bin/prog exited with status N ===
 *     === rr-init: /bin/prog killed by signal N ===
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64

static void
say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	/* one write(2) per line, so the line reaches the console whole */
	(void)!write(2, buf, n);
}

static void
mnt(const char *src, const char *dir, const char *type, const char *opts)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, MS_NOSUID, opts) != 0 && errno != EBUSY)
		say("rr-init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static const char *mounted_disk_dir;

/* rr_mount=DEV:DIR: loads /modules/ in name order, waits for DEV, mounts ext2 on DIR */
static int
mount_disk(char *spec)
{
	char *dir = strchr(spec, ':');
	struct dirent **mods;
	int n;

	if (dir == NULL) {
		say("=== rr-init: rr_mount=%s: want DEV:DIR ===\n", spec);
		return -1;
	}
	*dir++ = '\0';
	n = scandir("/modules", &mods, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char path[300];
		int fd;

		if (mods[i]->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/modules/%s", mods[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) != 0) {
			say("=== rr-init: load %s: %s ===\n", path, strerror(errno));
			return -1;
		}
		close(fd);
	}
	for (int tries = 0; access(spec, F_OK) != 0; tries++) {
		if (tries == 500) {
			say("=== rr-init: %s did not appear ===\n", spec);
			return -1;
		}
		usleep(10000);
	}
	mkdir(dir, 0755);
	if (mount(spec, dir, "ext2", 0, NULL) != 0) {
		say("=== rr-init: mount %s on %s: %s ===\n", spec, dir, strerror(errno));
		return -1;
	}
	mounted_disk_dir = dir;
	return 0;
}

static void __attribute__((noreturn))
power_off(void)
{
	sync();
	if (mounted_disk_dir != NULL && umount(mounted_disk_dir) != 0)
		say("rr-init: umount %s: %s\n", mounted_disk_dir, strerror(errno));
	reboot(LINUX_REBOOT_CMD_POWER_OFF);
	/* without ACPI power-off, a reboot: QEMU started with -no-reboot exits */
	reboot(LINUX_REBOOT_CMD_RESTART);
	say("rr-init: reboot: %s\n", strerror(errno));
	for (;;)
		pause();
}

int
main(int argc, char **argv, char **envp)
{
	char *args[MAX_ARGS + 2], *env[128], *prog, *rest, *word;
	int n = 0, e = 0, status;
	pid_t pid;

	(void)argc;
	(void)argv;
	mnt("devtmpfs", "/dev", "devtmpfs", "mode=0755");
	/* with no /dev/console in the initramfs the kernel gave us no fds */
	if (fcntl(2, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
	mnt("proc", "/proc", "proc", NULL);
	mnt("sysfs", "/sys", "sysfs", NULL);
	mnt("tmpfs", "/tmp", "tmpfs", "mode=1777");

	if (getenv("rr_mount") != NULL && mount_disk(getenv("rr_mount")) != 0)
		power_off();
	prog = getenv("rr_prog");
	if (prog == NULL || *prog == '\0') {
		say("=== rr-init: no rr_prog= on the kernel command line ===\n");
		power_off();
	}
	args[n++] = prog;
	rest = getenv("rr_args");
	if (rest != NULL) {
		rest = strdup(rest);
		for (word = strtok(rest, " "); word != NULL && n < MAX_ARGS; word = strtok(NULL, " "))
			args[n++] = word;
	}
	args[n] = NULL;
	for (char **p = envp; *p != NULL && e < 126; p++)
		if (strncmp(*p, "rr_", 3) != 0)
			env[e++] = *p;
	env[e] = NULL;

	pid = fork();
	if (pid < 0) {
		say("=== rr-init: fork: %s ===\n", strerror(errno));
		power_off();
	}
	if (pid == 0) {
		say("=== rr-init: exec %s ===\n", prog);
		execve(prog, args, env);
		say("=== rr-init: execve %s: %s ===\n", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			say("=== rr-init: waitpid: %s ===\n", strerror(errno));
			power_off();
		}
	if (WIFEXITED(status))
		say("=== rr-init: %s exited with status %d ===\n", prog, WEXITSTATUS(status));
	else
		say("=== rr-init: %s killed by signal %d ===\n", prog, WTERMSIG(status));
	power_off();
}
