/* fileio_extra_test: preadv/pwritev (and the -1 offset of the "2" variants),
 * sendfile (file to pipe, with and without an offset), copy_file_range, flock,
 * close_range (closing and CLOSE_RANGE_CLOEXEC), posix_fadvise, memfd_create (I/O,
 * a shared mapping, its /proc/self/fd name, CLOEXEC, bad flags). Prints ALL OK. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

	/* posix_fadvise returns the error number rather than setting errno */
	CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
	CHECK(posix_fadvise(fd, 0, 0, 99) == EINVAL);
	CHECK(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == ESPIPE);
	CHECK(posix_fadvise(77, 0, 0, POSIX_FADV_NORMAL) == EBADF);

	int m = syscall(SYS_memfd_create, "scratch", 1 /* MFD_CLOEXEC */);
	CHECK(m >= 0 && (fcntl(m, F_GETFD) & FD_CLOEXEC));
	CHECK(write(m, "memfd data", 10) == 10 && ftruncate(m, 8192) == 0);
	struct stat st;
	CHECK(fstat(m, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 8192 && st.st_nlink == 0);
	char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	CHECK(map != MAP_FAILED && memcmp(map, "memfd data", 10) == 0);
	memcpy(map + 4096, "through the map", 15);
	/* shared file mappings reach the file on msync (docs/syscalls.md, mmap) */
	CHECK(msync(map, 8192, MS_SYNC) == 0);
	CHECK(pread(m, buf, 15, 4096) == 15 && memcmp(buf, "through the map", 15) == 0);
	char link[64] = {0}, fdpath[32];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", m);
	CHECK(readlink(fdpath, link, sizeof link - 1) > 0 && strcmp(link, "/memfd:scratch (deleted)") == 0);
	int m2 = syscall(SYS_memfd_create, "other", 0);
	CHECK(m2 >= 0 && m2 != m && !(fcntl(m2, F_GETFD) & FD_CLOEXEC));
	CHECK(pread(m2, buf, 10, 0) == 0);
	CHECK(syscall(SYS_memfd_create, "x", 0x100) == -1 && errno == EINVAL);
	munmap(map, 8192);
	close(m);
	close(m2);
	return CHECK_DONE();
}
