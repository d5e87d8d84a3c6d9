/* ext2_full: a full ext2 disk at /data (a small image with few inodes). Fills it with
 * one file until write fails with ENOSPC (after a short write), checks statfs says it
 * is full and that mkdir gets ENOSPC, creates empty files until inodes or directory
 * space run out (ENOSPC), then frees the space and writes again. The host then runs
 * e2fsck -fn. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "check_fatal.h"

int
main(void)
{
	static char buf[65536];
	struct statfs before, full;
	CHECK(statfs("/data", &before) == 0 && before.f_bfree > 100, "statfs: %s",
	      strerror(errno));
	memset(buf, 'z', sizeof buf);

	int fd = open("/data/big", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0, "create: %s", strerror(errno));
	long long total = 0;
	ssize_t n;
	while ((n = write(fd, buf, sizeof buf)) > 0)
		total += n;
	CHECK(n == -1 && errno == ENOSPC, "write on a full disk: %zd (%s), want ENOSPC", n,
	      strerror(errno));
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == total, "size %lld after writing %lld",
	      (long long)st.st_size, total);
	CHECK(total > (long long)before.f_bfree * before.f_bsize / 2,
	      "only %lld bytes fit in %llu free blocks", total,
	      (unsigned long long)before.f_bfree);
	/* far past the end: needs indirect blocks, which cannot be had either */
	errno = 0;
	CHECK(pwrite(fd, "x", 1, 3LL << 30) == -1 && errno == ENOSPC,
	      "pwrite at 3 GiB on a full disk: %s", strerror(errno));
	CHECK(fstat(fd, &st) == 0 && st.st_size == total, "size %lld after a failed pwrite",
	      (long long)st.st_size);
	/* growing the size needs no blocks */
	CHECK(ftruncate(fd, total + 12345) == 0 && ftruncate(fd, total) == 0,
	      "ftruncate on a full disk: %s", strerror(errno));
	CHECK(fsync(fd) == 0 && close(fd) == 0, "fsync/close of the full file: %s",
	      strerror(errno));
	printf("ok: wrote %lld bytes, then ENOSPC\n", total);

	CHECK(statfs("/data", &full) == 0 && full.f_bavail == 0, "statfs when full: bavail %llu",
	      (unsigned long long)full.f_bavail);
	errno = 0;
	CHECK(mkdir("/data/dir", 0755) == -1 && errno == ENOSPC, "mkdir on a full disk: %s",
	      strerror(errno));
	ok("statfs says full; mkdir gets ENOSPC");

	int made = 0;
	for (;; made++) {
		char p[64];
		snprintf(p, sizeof p, "/data/empty-%04d", made);
		int e = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (e < 0) {
			CHECK(errno == ENOSPC, "create %s: %s, want ENOSPC", p, strerror(errno));
			break;
		}
		close(e);
		CHECK(made < 100000, "no end to the inodes");
	}
	printf("ok: %d empty files, then ENOSPC\n", made);

	CHECK(unlink("/data/big") == 0, "unlink: %s", strerror(errno));
	CHECK(unlink("/data/empty-0000") == 0, "unlink: %s", strerror(errno));
	fd = open("/data/again", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0, "create after freeing: %s", strerror(errno));
	for (int i = 0; i < 8; i++)
		CHECK(write(fd, buf, sizeof buf) == sizeof buf, "write after freeing: %s",
		      strerror(errno));
	char back[16];
	CHECK(pread(fd, back, sizeof back, 300000) == sizeof back && back[0] == 'z' &&
		  back[15] == 'z',
	      "read back");
	close(fd);
	ok("space freed by unlink is used again");
	printf("ALL OK\n");
	return 0;
}
