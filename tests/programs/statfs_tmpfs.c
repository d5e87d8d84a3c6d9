/* statfs_tmpfs: statfs/statvfs of / and /tmp (the root tmpfs) report its size (the
 * machine's RAM, as sysinfo says) and what is in use: writing 1 MiB to /tmp takes 256
 * blocks from f_bfree and removing the file gives them back (shutil.disk_usage, df).
 * Issue 20: f_blocks and f_bfree were 0. Prints "ok: ..." per check and "ALL OK". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "check_fatal.h"

#define TMPFS_MAGIC 0x01021994

static char buf[1 << 20];

int
main(void)
{
	struct statvfs root, tmp, full, after;
	struct statfs sf;
	struct sysinfo si;
	unsigned long long ram, size, taken;
	int fd;

	CHECK(sysinfo(&si) == 0, "sysinfo: %s", strerror(errno));
	ram = (unsigned long long)si.totalram * si.mem_unit;
	CHECK(statfs("/tmp", &sf) == 0, "statfs: %s", strerror(errno));
	CHECK(sf.f_type == TMPFS_MAGIC, "f_type %lx", (unsigned long)sf.f_type);
	CHECK(sf.f_blocks > 0 && sf.f_bfree > 0 && sf.f_bfree <= sf.f_blocks,
	    "statfs(/tmp): f_blocks %llu f_bfree %llu",
	    (unsigned long long)sf.f_blocks, (unsigned long long)sf.f_bfree);
	ok("statfs(/tmp) is a tmpfs with blocks and free blocks");

	CHECK(statvfs("/", &root) == 0, "statvfs(/): %s", strerror(errno));
	CHECK(statvfs("/tmp", &tmp) == 0, "statvfs(/tmp): %s", strerror(errno));
	size = (unsigned long long)tmp.f_blocks * tmp.f_frsize;
	CHECK(root.f_blocks == tmp.f_blocks && root.f_frsize == 4096 && tmp.f_bsize == 4096,
	    "/ and /tmp differ: %llu/%lu vs %llu/%lu blocks",
	    (unsigned long long)root.f_blocks, root.f_frsize,
	    (unsigned long long)tmp.f_blocks, tmp.f_frsize);
	/* The size is the RAM (sysinfo counts the same frames, give or take). */
	CHECK(size > ram / 2 && size <= ram + ram / 8,
	    "tmpfs size %llu bytes, RAM %llu bytes", size, ram);
	CHECK(tmp.f_bavail == tmp.f_bfree && tmp.f_bfree < tmp.f_blocks,
	    "bavail %llu bfree %llu blocks %llu (the baked files use some)",
	    (unsigned long long)tmp.f_bavail, (unsigned long long)tmp.f_bfree,
	    (unsigned long long)tmp.f_blocks);
	ok("statvfs of / and /tmp: the size is the RAM, the baked files are in use");

	memset(buf, 'x', sizeof(buf));
	fd = open("/tmp/statfs-1m", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf), "write: %s",
	    strerror(errno));
	CHECK(close(fd) == 0, "close: %s", strerror(errno));
	CHECK(statvfs("/tmp", &full) == 0, "statvfs: %s", strerror(errno));
	taken = tmp.f_bfree - full.f_bfree;
	CHECK(taken >= 256 && taken <= 256 + 16,
	    "writing 1 MiB took %llu blocks", taken);
	CHECK(unlink("/tmp/statfs-1m") == 0, "unlink: %s", strerror(errno));
	CHECK(statvfs("/tmp", &after) == 0, "statvfs: %s", strerror(errno));
	CHECK(after.f_bfree == tmp.f_bfree, "after unlink f_bfree %llu, before %llu",
	    (unsigned long long)after.f_bfree, (unsigned long long)tmp.f_bfree);
	ok("1 MiB written to /tmp takes 256 blocks, unlink gives them back");
	printf("ALL OK\n");
	return 0;
}
