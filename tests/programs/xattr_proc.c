#define _GNU_SOURCE
/* xattr_proc: what `ls -l`, `df`, node's os.cpus() and thread-counting programs read
 * (issue 14 item 6):
 *   - the xattr calls answer as for a Linux file without attributes: ENODATA for
 *     security.*, user.* and ACLs (what ls -l asks), empty lists, ENOENT for a
 *     missing path, EBADF for a bad fd, ERANGE for an empty name (storing them:
 *     xattr_store.c);
 *   - /proc/stat has cpu/cpu0 lines with ten counters and btime;
 *   - /proc/self/mountinfo, /proc/mounts and /etc/mtab (a link to /proc/self/mounts)
 *     list the mounts (getmntent reads them), statvfs works on each;
 *   - /proc/self/task/ lists the threads (one more while a thread runs), each with
 *     stat, status and comm; /proc/self/comm.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <mntent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "check.h"

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static volatile int stop;
static void *idle(void *a)
{
	(void)a;
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	char v[64], list[256];
	int fd = open("/tmp/xa", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	errno = 0;
	CHECK(getxattr("/tmp/xa", "security.selinux", v, sizeof v) == -1 && errno == ENODATA);
	errno = 0;
	CHECK(lgetxattr("/etc", "system.posix_acl_access", v, sizeof v) == -1 && errno == ENODATA);
	errno = 0;
	CHECK(fgetxattr(fd, "security.capability", v, sizeof v) == -1 && errno == ENODATA);
	errno = 0;
	CHECK(getxattr("/tmp/xa", "user.comment", v, sizeof v) == -1 && errno == ENODATA);
	errno = 0;
	CHECK(getxattr("/tmp/xa", "bogus.name", v, sizeof v) == -1 && errno == EOPNOTSUPP);
	CHECK(listxattr("/tmp/xa", list, sizeof list) == 0);
	CHECK(llistxattr("/etc/mtab", NULL, 0) == 0);
	CHECK(flistxattr(fd, list, sizeof list) == 0);
	errno = 0;
	CHECK(fsetxattr(fd, "user.comment", "x", 1, 99) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(removexattr("/tmp/xa", "security.selinux") == -1 && errno == ENODATA);
	errno = 0;
	CHECK(getxattr("/no/such/file", "security.selinux", v, sizeof v) == -1 && errno == ENOENT);
	errno = 0;
	CHECK(listxattr("/no/such/file", list, sizeof list) == -1 && errno == ENOENT);
	errno = 0;
	CHECK(fgetxattr(999, "security.selinux", v, sizeof v) == -1 && errno == EBADF);
	errno = 0;
	CHECK(getxattr("/tmp/xa", "", v, sizeof v) == -1 && errno == ERANGE);
	close(fd);

	char *st = slurp("/proc/stat");
	CHECK(st != NULL);
	if (st) {
		unsigned long long u, n, s, i, w, q, sq, stl, g, gn;
		CHECK(sscanf(st, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s,
			     &i, &w, &q, &sq, &stl, &g, &gn) == 10);
		CHECK(strstr(st, "\ncpu0 ") != NULL && strstr(st, "\nbtime ") != NULL);
	}

	char *mi = slurp("/proc/self/mountinfo");
	CHECK(mi != NULL && strstr(mi, " / / ") != NULL && strstr(mi, " /proc ") != NULL &&
	      strstr(mi, " - proc ") != NULL);
	if (mi)
		printf("mountinfo:\n%s", mi);
	char target[64] = "";
	CHECK(readlink("/etc/mtab", target, sizeof target - 1) > 0 &&
	      strcmp(target, "/proc/self/mounts") == 0);
	FILE *m = setmntent("/etc/mtab", "r");
	CHECK(m != NULL);
	int mounts = 0, statvfs_ok = 0;
	struct mntent *e;
	while (m && (e = getmntent(m))) {
		struct statvfs sv;
		mounts++;
		statvfs_ok += statvfs(e->mnt_dir, &sv) == 0;
	}
	if (m)
		endmntent(m);
	CHECK(mounts >= 2 && statvfs_ok == mounts);
	CHECK(slurp("/proc/mounts") != NULL);

	int threads = count_dir("/proc/self/task");
	CHECK(threads == 1);
	pthread_t t;
	pthread_create(&t, NULL, idle, NULL);
	CHECK(count_dir("/proc/self/task") == 2);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
	char *ts = slurp(path);
	CHECK(ts != NULL && atoi(ts) == getpid());
	snprintf(path, sizeof path, "/proc/self/task/%d/status", getpid());
	CHECK(slurp(path) != NULL);
	stop = 1;
	pthread_join(t, NULL);
	char *comm = slurp("/proc/self/comm");
	CHECK(comm != NULL && strlen(comm) > 1 && comm[strlen(comm) - 1] == '\n');
	return CHECK_DONE();
}
