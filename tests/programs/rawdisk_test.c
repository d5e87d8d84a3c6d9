/* rawdisk_test: the first -b disk as /dev/vda (and /dev/ld0a): its size through
 * BLKGETSIZE64, what the host wrote at offset 0, an unaligned write at offset 1000
 * (read-modify-write of partial sectors), fsync, reading it back through the alias,
 * and ENOSPC past the end. Prints ALL OK; the host then checks the image. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

int main(void) {
	int fd = open("/dev/vda", O_RDWR);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && S_ISBLK(st.st_mode));
	unsigned long long size = 0;
	CHECK(ioctl(fd, BLKGETSIZE64, &size) == 0 && size == 4 << 20);
	char buf[600];
	CHECK(pread(fd, buf, 16, 0) == 16 && memcmp(buf, "HOST-WROTE-THIS!", 16) == 0);
	memset(buf, 'Q', sizeof buf);
	memcpy(buf, "written by the guest", 20);
	CHECK(pwrite(fd, buf, sizeof buf, 1000) == sizeof buf);
	CHECK(fsync(fd) == 0);
	int ld = open("/dev/ld0a", O_RDONLY);
	char c[21] = {0};
	CHECK(ld >= 0 && pread(ld, c, 20, 1000) == 20 && strcmp(c, "written by the guest") == 0);
	CHECK(pread(fd, buf, 16, 0) == 16 && memcmp(buf, "HOST-WROTE-THIS!", 16) == 0); /* untouched */
	CHECK(lseek(fd, 0, SEEK_END) == (off_t)size);
	CHECK(pwrite(fd, "x", 1, size) == -1 && errno == ENOSPC);
	return CHECK_DONE();
}
