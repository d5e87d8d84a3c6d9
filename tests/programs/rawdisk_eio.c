/* rawdisk_eio: /dev/vda on a disk whose sectors 100 (reads) and 200 (writes) fail in
 * the host (QEMU blkdebug): the good sectors read and write, the bad ones give EIO. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_fatal.h"

int
main(void)
{
	char buf[512];
	int fd = open("/dev/vda", O_RDWR);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK(pread(fd, buf, 512, 0) == 512, "read sector 0: %s", strerror(errno));
	CHECK(pwrite(fd, buf, 512, 300 * 512) == 512, "write sector 300: %s", strerror(errno));
	errno = 0;
	CHECK(pread(fd, buf, 512, 100 * 512) == -1 && errno == EIO, "read sector 100: %s",
	      strerror(errno));
	errno = 0;
	CHECK(pwrite(fd, buf, 512, 200 * 512) == -1 && errno == EIO, "write sector 200: %s",
	      strerror(errno));
	CHECK(pread(fd, buf, 512, 0) == 512, "read sector 0 after the errors: %s",
	      strerror(errno));
	ok("failed sectors give EIO; the disk goes on working");
	printf("ALL OK\n");
	return 0;
}
