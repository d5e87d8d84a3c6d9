/* ext2_rw: on an ext2 disk mounted at /data: reads a file the host put there, writes
 * a new file, a directory, a rename, a sparse file with a byte past 4 GiB, fsyncs,
 * and exits; the host then runs e2fsck -fn and reads the files back with debugfs. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char buf[128] = {0};
	int fd = open("/data/from-host.txt", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0 && strcmp(buf, "written on the host\n") == 0);
	CHECK(mkdir("/data/dir", 0755) == 0);
	fd = open("/data/dir/tmp.txt", O_CREAT | O_WRONLY, 0644);
	const char *msg = "written by the unikernel\n";
	CHECK(fd >= 0 && write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg));
	CHECK(fsync(fd) == 0 && close(fd) == 0);
	CHECK(rename("/data/dir/tmp.txt", "/data/dir/guest.txt") == 0);
	fd = open("/data/sparse", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && pwrite(fd, "X", 1, 5LL << 30) == 1 && close(fd) == 0);
	struct stat st;
	CHECK(stat("/data/sparse", &st) == 0 && st.st_size == (5LL << 30) + 1 && st.st_blocks < 64);
	CHECK(unlink("/data/from-host.txt") == 0);
	return CHECK_DONE();
}
