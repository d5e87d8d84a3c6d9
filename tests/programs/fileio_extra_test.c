/* fileio_extra_test: preadv/pwritev (and the -1 offset of the "2" variants),
 * sendfile (file to pipe, with and without an offset), copy_file_range, flock,
 * close_range (closing and CLOSE_RANGE_CLOEXEC). Prints ALL OK. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

int main(void) {
	int fd = open("/tmp/v.dat", O_CREAT | O_RDWR | O_TRUNC, 0644);
	char a[4] = "abcd", b[6] = "efghij", x[4], y[6];
	struct iovec w[2] = {{a, 4}, {b, 6}}, r[2] = {{x, 4}, {y, 6}};
	CHECK(pwritev(fd, w, 2, 10) == 10);
	CHECK(preadv(fd, r, 2, 10) == 10 && memcmp(x, "abcd", 4) == 0 && memcmp(y, "efghij", 6) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 0); /* positioned I/O leaves the position */
	CHECK(pwritev2(fd, w, 1, -1, 0) == 4 && lseek(fd, 0, SEEK_CUR) == 4);

	int p[2]; pipe(p);
	off_t off = 10;
	CHECK(sendfile(p[1], fd, &off, 6) == 6 && off == 16);
	char buf[32] = {0};
	CHECK(read(p[0], buf, sizeof buf) == 6 && memcmp(buf, "abcdef", 6) == 0);
	lseek(fd, 14, SEEK_SET);
	CHECK(sendfile(p[1], fd, NULL, 100) == 6 && lseek(fd, 0, SEEK_CUR) == 20);
	CHECK(read(p[0], buf, sizeof buf) == 6 && memcmp(buf, "efghij", 6) == 0);

	int out = open("/tmp/v2.dat", O_CREAT | O_RDWR | O_TRUNC, 0644);
	loff_t in_off = 10, out_off = 0;
	CHECK(copy_file_range(fd, &in_off, out, &out_off, 10, 0) == 10 && in_off == 20 && out_off == 10);
	CHECK(pread(out, buf, 10, 0) == 10 && memcmp(buf, "abcdefghij", 10) == 0);
	CHECK(copy_file_range(fd, &in_off, out, &out_off, 10, 1) == -1 && errno == EINVAL);

	CHECK(flock(fd, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0 && flock(fd, 0) == -1 && errno == EINVAL);

	int hi = dup2(fd, 40), hi2 = dup2(fd, 41);
	CHECK(hi == 40 && hi2 == 41);
	CHECK(syscall(SYS_close_range, 41, 41, 4 /* CLOSE_RANGE_CLOEXEC */) == 0 && (fcntl(41, F_GETFD) & FD_CLOEXEC));
	CHECK(syscall(SYS_close_range, 40, ~0U, 0) == 0 && fcntl(40, F_GETFD) == -1 && errno == EBADF && fcntl(41, F_GETFD) == -1);
	CHECK(syscall(SYS_close_range, 5, 4, 0) == -1 && errno == EINVAL);
	return CHECK_DONE();
}
