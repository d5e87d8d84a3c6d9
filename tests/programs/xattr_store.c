#define _GNU_SOURCE
/* xattr_store: extended attributes kept on tmpfs with Linux's semantics (CPython's
 * test_os ExtendedAttributeTests, shutil.copyxattr/copystat):
 *   - user.* on a file and a directory: set, get (size 0 asks the length; ERANGE for a
 *     short buffer), list (NUL-separated; size 0 asks the length; ERANGE), replace,
 *     remove; the l* and f* forms see the same attributes; an empty value;
 *   - XATTR_CREATE on an existing name is EEXIST, XATTR_REPLACE on a missing one is
 *     ENODATA, unknown flags EINVAL, a missing attribute ENODATA, removing it ENODATA;
 *   - names: "" and > 255 bytes ERANGE, "user." EINVAL, an unknown namespace EOPNOTSUPP;
 *     a value over 64 KiB E2BIG, exactly 64 KiB kept byte for byte;
 *   - user.* on a symlink (lsetxattr): EPERM, lgetxattr ENODATA; trusted.* on a symlink
 *     works (root) and is separate from its target's;
 *   - a hundred attributes listed; ctime changes on set; attributes stay with the inode
 *     across rename and through a hard link, and a new file of the same name has none.
 * Run with a directory on tmpfs as argv[1] (default /tmp). Prints "ok ..." lines and
 * ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static char p_file[256], p_dir[256], p_link[256], p_moved[256], p_hard[256];

static int has_name(const char *list, ssize_t n, const char *name)
{
	for (ssize_t i = 0; i < n; i += strlen(list + i) + 1)
		if (strcmp(list + i, name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	snprintf(p_file, sizeof p_file, "%s/xs_file", dir);
	snprintf(p_dir, sizeof p_dir, "%s/xs_dir", dir);
	snprintf(p_link, sizeof p_link, "%s/xs_link", dir);
	snprintf(p_moved, sizeof p_moved, "%s/xs_moved", dir);
	snprintf(p_hard, sizeof p_hard, "%s/xs_hard", dir);
	unlink(p_file);
	unlink(p_link);
	unlink(p_moved);
	unlink(p_hard);
	rmdir(p_dir);

	int fd = open(p_file, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	char v[256], list[4096];

	errno = 0;
	CHECK(getxattr(p_file, "user.test", v, sizeof v) == -1 && errno == ENODATA);
	CHECK(listxattr(p_file, list, sizeof list) == 0);
	CHECK(setxattr(p_file, "user.test", "", 0, 0) == 0);
	CHECK(getxattr(p_file, "user.test", v, sizeof v) == 0);
	CHECK(setxattr(p_file, "user.test", "hello", 5, XATTR_REPLACE) == 0);
	memset(v, 0, sizeof v);
	CHECK(getxattr(p_file, "user.test", v, sizeof v) == 5 && memcmp(v, "hello", 5) == 0);
	CHECK(getxattr(p_file, "user.test", NULL, 0) == 5);
	errno = 0;
	CHECK(getxattr(p_file, "user.test", v, 4) == -1 && errno == ERANGE);
	CHECK(fgetxattr(fd, "user.test", v, sizeof v) == 5);
	CHECK(lgetxattr(p_file, "user.test", v, sizeof v) == 5);
	errno = 0;
	CHECK(setxattr(p_file, "user.test", "bye", 3, XATTR_CREATE) == -1 && errno == EEXIST);
	errno = 0;
	CHECK(setxattr(p_file, "user.test2", "bye", 3, XATTR_REPLACE) == -1 && errno == ENODATA);
	errno = 0;
	CHECK(setxattr(p_file, "user.test2", "bye", 3, 4) == -1 && errno == EINVAL);
	CHECK(fsetxattr(fd, "user.test2", "foo", 3, XATTR_CREATE) == 0);
	ssize_t n = listxattr(p_file, list, sizeof list);
	CHECK(n == (ssize_t)sizeof "user.test" + (ssize_t)sizeof "user.test2");
	CHECK(has_name(list, n, "user.test") && has_name(list, n, "user.test2"));
	CHECK(listxattr(p_file, NULL, 0) == n);
	CHECK(flistxattr(fd, list, sizeof list) == n);
	errno = 0;
	CHECK(listxattr(p_file, list, 5) == -1 && errno == ERANGE);
	CHECK(removexattr(p_file, "user.test") == 0);
	errno = 0;
	CHECK(getxattr(p_file, "user.test", v, sizeof v) == -1 && errno == ENODATA);
	errno = 0;
	CHECK(removexattr(p_file, "user.test") == -1 && errno == ENODATA);
	CHECK(listxattr(p_file, list, sizeof list) == (ssize_t)sizeof "user.test2");
	CHECK(fremovexattr(fd, "user.test2") == 0);
	CHECK(listxattr(p_file, list, sizeof list) == 0);

	/* names and sizes */
	char longname[300] = "user.";
	memset(longname + 5, 'a', 251); /* 256 bytes */
	errno = 0;
	CHECK(setxattr(p_file, longname, "x", 1, 0) == -1 && errno == ERANGE);
	longname[255] = 0; /* 255 bytes: fine */
	CHECK(setxattr(p_file, longname, "x", 1, 0) == 0);
	CHECK(removexattr(p_file, longname) == 0);
	errno = 0;
	CHECK(setxattr(p_file, "", "x", 1, 0) == -1 && errno == ERANGE);
	errno = 0;
	CHECK(setxattr(p_file, "user.", "x", 1, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(setxattr(p_file, "bogus.x", "x", 1, 0) == -1 && errno == EOPNOTSUPP);
	char *big = malloc(65537);
	for (int i = 0; i < 65537; i++)
		big[i] = (char)(i * 7 + 3);
	errno = 0;
	CHECK(setxattr(p_file, "user.big", big, 65537, 0) == -1 && errno == E2BIG);
	CHECK(setxattr(p_file, "user.big", big, 65536, 0) == 0);
	char *back = calloc(1, 65536);
	CHECK(getxattr(p_file, "user.big", back, 65536) == 65536 && memcmp(back, big, 65536) == 0);
	CHECK(removexattr(p_file, "user.big") == 0);

	/* a hundred names; ctime moves on set */
	struct stat st1, st2;
	CHECK(fstat(fd, &st1) == 0);
	struct timespec pause = {0, 20 * 1000 * 1000};
	nanosleep(&pause, NULL);
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof name, "user.test%d", i);
		if (setxattr(p_file, name, "x", 1, 0) != 0)
			CHECK(!"setxattr of a hundred names");
	}
	CHECK(fstat(fd, &st2) == 0);
	CHECK(st2.st_ctim.tv_sec != st1.st_ctim.tv_sec || st2.st_ctim.tv_nsec != st1.st_ctim.tv_nsec);
	n = listxattr(p_file, list, sizeof list);
	CHECK(n > 0 && has_name(list, n, "user.test0") && has_name(list, n, "user.test99"));
	int count = 0;
	for (ssize_t i = 0; i < n; i += strlen(list + i) + 1)
		count++;
	CHECK(count == 100);

	/* the attributes belong to the inode */
	CHECK(link(p_file, p_hard) == 0);
	CHECK(getxattr(p_hard, "user.test42", v, sizeof v) == 1);
	CHECK(rename(p_file, p_moved) == 0);
	CHECK(getxattr(p_moved, "user.test42", v, sizeof v) == 1);
	close(fd);
	fd = open(p_file, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0 && flistxattr(fd, list, sizeof list) == 0);
	close(fd);

	/* directories; symlinks take trusted.* but not user.* */
	CHECK(mkdir(p_dir, 0755) == 0);
	CHECK(setxattr(p_dir, "user.d", "1", 1, 0) == 0);
	CHECK(getxattr(p_dir, "user.d", v, sizeof v) == 1 && v[0] == '1');
	CHECK(symlink(p_file, p_link) == 0);
	errno = 0;
	CHECK(lsetxattr(p_link, "user.l", "1", 1, 0) == -1 && errno == EPERM);
	errno = 0;
	CHECK(lgetxattr(p_link, "user.l", v, sizeof v) == -1 && errno == ENODATA);
	CHECK(setxattr(p_file, "trusted.foo", "42", 2, 0) == 0);
	CHECK(lsetxattr(p_link, "trusted.foo", "43", 2, 0) == 0);
	CHECK(lgetxattr(p_link, "trusted.foo", v, sizeof v) == 2 && memcmp(v, "43", 2) == 0);
	CHECK(getxattr(p_link, "trusted.foo", v, sizeof v) == 2 && memcmp(v, "42", 2) == 0);
	n = llistxattr(p_link, list, sizeof list);
	CHECK(n == (ssize_t)sizeof "trusted.foo" && strcmp(list, "trusted.foo") == 0);

	unlink(p_file);
	unlink(p_link);
	unlink(p_moved);
	unlink(p_hard);
	rmdir(p_dir);
	return CHECK_DONE();
}
