/* ext2_eio: a disk error under a mounted ext2 file system reaches the program as EIO
 * and nothing else breaks (the test makes the host fail reads of one data block of
 * /data/bad with QEMU's blkdebug):
 *   - reading /data/bad fails with EIO (not a crash, not wrong bytes);
 *   - /data/good, elsewhere on the disk, reads back byte for byte;
 *   - a new file can still be written, fsynced and read back.
 * Prints one "ok:" line per check and "ALL OK". */
#include "check_fatal.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static unsigned char buf[65536];

int main(void)
{
	int fd = open("/data/bad", O_RDONLY);
	CHECK(fd >= 0, "open /data/bad: %s", strerror(errno));
	ssize_t n;
	int saw_eio = 0;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			CHECK(errno == EIO, "read /data/bad: %s, want EIO", strerror(errno));
			saw_eio = 1;
			break;
		}
	}
	CHECK(saw_eio, "reading /data/bad never failed");
	close(fd);
	ok("reading a file over a failing block gives EIO");

	fd = open("/data/good", O_RDONLY);
	CHECK(fd >= 0, "open /data/good: %s", strerror(errno));
	size_t total = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			CHECK(buf[i] == (unsigned char)((total + (size_t)i) * 7 % 251),
			      "/data/good byte %zu wrong", total + (size_t)i);
		total += (size_t)n;
	}
	CHECK(n == 0 && total == 200000, "/data/good: %zd after %zu bytes (%s)", n, total,
	      strerror(errno));
	close(fd);
	ok("another file reads back byte for byte");

	fd = open("/data/new", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0, "create /data/new: %s", strerror(errno));
	memset(buf, 0x5a, 4096);
	CHECK(write(fd, buf, 4096) == 4096 && fsync(fd) == 0, "write+fsync: %s", strerror(errno));
	CHECK(pread(fd, buf, 4096, 0) == 4096 && buf[4095] == 0x5a, "read back /data/new");
	close(fd);
	ok("a new file is written, fsynced and read back");
	printf("ALL OK\n");
	return 0;
}
