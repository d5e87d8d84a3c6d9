/* ext2_readonly: an ext2 disk on a read-only virtio-blk device (VIRTIO_BLK_F_RO),
 * mounted at /data. Reads work; every kind of write gets EROFS; statfs says
 * ST_RDONLY and prints its numbers for the host to compare with dumpe2fs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "check_fatal.h"

#define EROFS_CHECK(call, what)                                                        \
	do {                                                                           \
		errno = 0;                                                             \
		CHECK((call) == -1 && errno == EROFS, "%s: %s, want EROFS", what,      \
		      strerror(errno));                                                \
	} while (0)

int
main(void)
{
	char buf[64] = {0};
	int fd = open("/data/from-host.txt", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0, "read: %s", strerror(errno));
	CHECK(strcmp(buf, "written on the host\n") == 0, "content \"%s\"", buf);
	close(fd);
	ok("reads work");

	EROFS_CHECK(open("/data/from-host.txt", O_WRONLY), "open O_WRONLY");
	EROFS_CHECK(open("/data/new", O_CREAT | O_WRONLY, 0644), "create");
	EROFS_CHECK(mkdir("/data/dir", 0755), "mkdir");
	EROFS_CHECK(unlink("/data/from-host.txt"), "unlink");
	EROFS_CHECK(rename("/data/from-host.txt", "/data/x"), "rename");
	EROFS_CHECK(truncate("/data/from-host.txt", 0), "truncate");
	EROFS_CHECK(symlink("x", "/data/link"), "symlink");
	EROFS_CHECK(chmod("/data/from-host.txt", 0600), "chmod");
	ok("writes get EROFS");

	int dev = open("/dev/vda", O_RDONLY);
	int ro = 0;
	CHECK(dev >= 0 && ioctl(dev, BLKROGET, &ro) == 0 && ro == 1, "BLKROGET: %d", ro);
	close(dev);
	ok("BLKROGET says read-only");

	struct statvfs sv;
	CHECK(statvfs("/data", &sv) == 0 && (sv.f_flag & ST_RDONLY), "statvfs flags %lx",
	      sv.f_flag);
	printf("statfs: bsize=%lu blocks=%lu bfree=%lu bavail=%lu files=%lu ffree=%lu\n",
	       sv.f_bsize, (unsigned long)sv.f_blocks, (unsigned long)sv.f_bfree,
	       (unsigned long)sv.f_bavail, (unsigned long)sv.f_files, (unsigned long)sv.f_ffree);
	printf("ALL OK\n");
	return 0;
}
