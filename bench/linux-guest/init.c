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
 * With rr_mount= or rr_net=, init first loads every module in /modules in name order
 * (finit_module; the build puts dependencies first), then:
 *   rr_mount=/dev/vda:/data (an initramfs built with --storage): waits for the disk to
 *     appear and mounts its ext2 file system on the directory; the program's end
 *     unmounts it;
 *   rr_net=10.0.2.15/24,10.0.2.2 (built with --net): brings lo up, waits for eth0,
 *     gives it the address and prefix, brings it up and adds the default route via
 *     the gateway.
 * Any failure there is one "=== rr-init: ... ===" line and a power-off without running
 * the program (bench/run then sees no exit status 0).
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
#include <arpa/inet.h>
#include <linux/reboot.h>
#include <net/if.h>
#include <net/route.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
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

/* loads every module in /modules in name order (dependencies first); once */
static int
load_modules(void)
{
	static int loaded;
	struct dirent **mods;
	int n;

	if (loaded)
		return 0;
	loaded = 1;
	n = scandir("/modules", &mods, NULL, alphasort);
	if (n < 0) {
		say("=== rr-init: /modules: %s (an initramfs built without --storage/--net?) ===\n",
		    strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[300];
		int fd;

		if (mods[i]->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/modules/%s", mods[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)) {
			say("=== rr-init: load %s: %s ===\n", path, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* rr_mount=DEV:DIR: waits for DEV, mounts ext2 on DIR */
static int
mount_disk(char *spec)
{
	char *dir = strchr(spec, ':');

	if (dir == NULL) {
		say("=== rr-init: rr_mount=%s: want DEV:DIR ===\n", spec);
		return -1;
	}
	*dir++ = '\0';
	if (load_modules() != 0)
		return -1;
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

/* puts the IPv4 address A into an ioctl's struct sockaddr */
static void
set_in_addr(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof sin);
}

/* sets IFF_UP (and IFF_RUNNING) on interface NAME through socket S */
static int
if_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* rr_net=ADDR/PREFIX,GW: lo up; eth0 gets ADDR/PREFIX and goes up; default route via GW */
static int
configure_net(const char *spec)
{
	const char *dev = "eth0";
	char addr_txt[32], gw_txt[32], extra;
	struct in_addr addr, gw, mask;
	struct ifreq ifr = { 0 };
	struct rtentry rt = { 0 };
	unsigned prefix;
	int s, tries;

	if (sscanf(spec, "%31[0-9.]/%u,%31[0-9.]%c", addr_txt, &prefix, gw_txt, &extra) != 3 ||
	    prefix > 32 || inet_pton(AF_INET, addr_txt, &addr) != 1 ||
	    inet_pton(AF_INET, gw_txt, &gw) != 1) {
		say("=== rr-init: rr_net=%s: want ADDR/PREFIX,GW (e.g. 10.0.2.15/24,10.0.2.2) ===\n",
		    spec);
		return -1;
	}
	mask.s_addr = htonl(prefix == 0 ? 0 : 0xffffffffu << (32 - prefix));
	if (load_modules() != 0)
		return -1;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		say("=== rr-init: socket: %s ===\n", strerror(errno));
		return -1;
	}
	if (if_up(s, "lo") != 0) {
		say("=== rr-init: lo up: %s ===\n", strerror(errno));
		goto fail;
	}
	/* the driver probes the device asynchronously after its module loads */
	for (tries = 0; if_nametoindex(dev) == 0; tries++) {
		if (tries == 500) {
			say("=== rr-init: %s did not appear ===\n", dev);
			goto fail;
		}
		usleep(10000);
	}
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
	set_in_addr(&ifr.ifr_addr, addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) != 0) {
		say("=== rr-init: %s address %s: %s ===\n", dev, addr_txt, strerror(errno));
		goto fail;
	}
	set_in_addr(&ifr.ifr_netmask, mask);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) {
		say("=== rr-init: %s prefix /%u: %s ===\n", dev, prefix, strerror(errno));
		goto fail;
	}
	if (if_up(s, dev) != 0) {
		say("=== rr-init: %s up: %s ===\n", dev, strerror(errno));
		goto fail;
	}
	set_in_addr(&rt.rt_dst, (struct in_addr){ INADDR_ANY });
	set_in_addr(&rt.rt_genmask, (struct in_addr){ INADDR_ANY });
	set_in_addr(&rt.rt_gateway, gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)dev;
	if (ioctl(s, SIOCADDRT, &rt) != 0) {
		say("=== rr-init: default route via %s: %s ===\n", gw_txt, strerror(errno));
		goto fail;
	}
	close(s);
	say("=== rr-init: %s %s/%u, default route via %s ===\n", dev, addr_txt, prefix, gw_txt);
	return 0;
fail:
	close(s);
	return -1;
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
	if (getenv("rr_net") != NULL && configure_net(getenv("rr_net")) != 0)
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
