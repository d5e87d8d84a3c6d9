/* files_test: the file system as a libc uses it: create/read/write/seek/append, dup
 * sharing the offset, stat/lstat/fstat/statx, directories and getdents (readdir),
 * unlink/rename/link/symlink/readlink, truncate/ftruncate, chmod/chown/utimensat
 * kept, access, getcwd/chdir/fchdir, statfs, the boot tree (/etc/passwd via
 * getpwnam, /tmp 1777, /dev nodes), /proc/self and errno values. Prints ALL OK. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

static int has_entry(const char *dir, const char *name) {
	DIR *d = opendir(dir);
	if (!d) return 0;
	struct dirent *e; int found = 0;
	while ((e = readdir(d))) if (strcmp(e->d_name, name) == 0) found = 1;
	closedir(d);
	return found;
}

int main(int argc, char **argv) {
	(void)argc;
	char buf[256];
	struct stat st;
	CHECK(stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777);
	CHECK(chdir("/tmp") == 0);
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/tmp") == 0);

	int fd = open("a.txt", O_CREAT | O_RDWR | O_EXCL, 0640);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello world", 11) == 11);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
	int fd2 = dup(fd);
	CHECK(read(fd2, buf, 6) == 6 && memcmp(buf, " world", 6) == 0); /* shared offset */
	CHECK(read(fd, buf, 10) == 0);                                    /* at EOF */
	CHECK(pwrite(fd, "HELLO", 5, 0) == 5 && pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0);
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 11 && (st.st_mode & 0777) == 0640);
	CHECK(lseek(fd, 100, SEEK_SET) == 100 && write(fd, "!", 1) == 1);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 101);
	CHECK(pread(fd, buf, 4, 50) == 4 && buf[0] == 0 && buf[3] == 0); /* the hole reads as zeros */
	CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
	close(fd2);
	close(fd);
	CHECK(open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0600) == -1 && errno == EEXIST);
	fd = open("a.txt", O_WRONLY | O_APPEND);
	CHECK(write(fd, "++", 2) == 2);
	close(fd);
	CHECK(stat("a.txt", &st) == 0 && st.st_size == 7);
	CHECK(truncate("a.txt", 2) == 0 && stat("a.txt", &st) == 0 && st.st_size == 2);

	CHECK(mkdir("d", 0755) == 0);
	CHECK(mkdir("d", 0755) == -1 && errno == EEXIST);
	CHECK(mkdir("d/sub", 0700) == 0);
	CHECK(rmdir("d") == -1 && errno == ENOTEMPTY);
	CHECK(open("d", O_WRONLY) == -1 && errno == EISDIR);
	CHECK(open("a.txt/x", O_RDONLY) == -1 && errno == ENOTDIR);
	CHECK(open("nope/x", O_RDONLY) == -1 && errno == ENOENT);
	CHECK(open("a.txt", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);
	CHECK(has_entry("/tmp", "a.txt") && has_entry("/tmp", "d") && has_entry("/tmp/d", "sub"));
	CHECK(rename("a.txt", "d/b.txt") == 0 && access("d/b.txt", R_OK) == 0 && access("a.txt", F_OK) == -1 && errno == ENOENT);
	CHECK(link("d/b.txt", "hard") == 0 && stat("hard", &st) == 0 && st.st_nlink == 2);
	CHECK(symlink("d/b.txt", "soft") == 0);
	ssize_t n = readlink("soft", buf, sizeof buf);
	CHECK(n == 7 && memcmp(buf, "d/b.txt", 7) == 0);
	CHECK(lstat("soft", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat("soft", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 2);
	CHECK(unlink("d/b.txt") == 0 && stat("hard", &st) == 0 && st.st_nlink == 1);
	CHECK(stat("soft", &st) == -1 && errno == ENOENT); /* dangling now */
	CHECK(unlink("d") == -1 && errno == EISDIR);
	CHECK(rmdir("d/sub") == 0 && rmdir("d") == 0);

	CHECK(chmod("hard", 0600) == 0 && stat("hard", &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(chown("hard", 123, 456) == 0 && stat("hard", &st) == 0 && st.st_uid == 123 && st.st_gid == 456);
	struct timespec ts[2] = {{1000000000, 0}, {1234567890, 500}};
	CHECK(utimensat(AT_FDCWD, "hard", ts, 0) == 0 && stat("hard", &st) == 0 && st.st_mtime == 1234567890 && st.st_mtim.tv_nsec == 500);
	CHECK(access("hard", W_OK) == 0);
	struct statfs sfs;
	CHECK(statfs("/tmp", &sfs) == 0 && sfs.f_bsize > 0);

	int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && fchdir(dfd) == 0 && getcwd(buf, sizeof buf) && strcmp(buf, "/etc") == 0);
	CHECK(faccessat(dfd, "passwd", R_OK, 0) == 0);
	int pfd = openat(dfd, "passwd", O_RDONLY);
	CHECK(pfd >= 0 && read(pfd, buf, 5) == 5 && memcmp(buf, "root:", 5) == 0);
	struct passwd *pw = getpwnam("root");
	CHECK(pw && pw->pw_uid == 0 && strcmp(pw->pw_dir, "/root") == 0);

	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 1, 8);
	CHECK(fd >= 0 && read(fd, buf, 8) == 8 && buf[0] == 0 && buf[7] == 0);
	fd = open("/dev/full", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "x", 1) == -1 && errno == ENOSPC);
	fd = open("/dev/urandom", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 16);
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));

	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	CHECK(n > 5 && (buf[n] = 0, strncmp(buf, "/bin/", 5) == 0));
	CHECK(stat(buf, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 1000); /* the program itself */
	fd = open("/proc/self/cmdline", O_RDONLY);
	n = read(fd, buf, sizeof buf);
	CHECK(n > 0 && strcmp(buf, argv[0]) == 0);
	CHECK(has_entry("/proc/self/fd", "0") && has_entry("/proc/self/fd", "2"));
	n = readlink("/proc/self/fd/1", buf, sizeof buf - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, "/dev/console") == 0));
	FILE *f = fopen("/proc/meminfo", "r");
	CHECK(f && fgets(buf, sizeof buf, f) && strncmp(buf, "MemTotal:", 9) == 0);
	f = fopen("/proc/cpuinfo", "r");
	CHECK(f && fgets(buf, sizeof buf, f) && strncmp(buf, "processor", 9) == 0);
	CHECK(open("/proc/self/status", O_WRONLY) == -1 && (errno == EROFS || errno == EACCES));
	return CHECK_DONE();
}
