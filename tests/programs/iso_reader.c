/* iso_reader: reads /data (an ISO 9660 image with Rock Ridge, mounted by
 * rumprun -b data.iso,/data): a long mixed-case name in a subdirectory, a symlink,
 * a directory listing, statfs; writing fails with EROFS. Prints ALL OK. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char buf[256] = {0};
	int fd = open("/data/docs/A Long Mixed-Case Name.txt", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0 && strcmp(buf, "hello from the iso\n") == 0);
	ssize_t n = readlink("/data/link", buf, sizeof buf - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, "docs/A Long Mixed-Case Name.txt") == 0));
	struct stat st;
	CHECK(stat("/data/big.bin", &st) == 0 && st.st_size == 3 * 1024 * 1024);
	fd = open("/data/big.bin", O_RDONLY);
	unsigned char b[4];
	CHECK(pread(fd, b, 4, 3 * 1024 * 1024 - 4) == 4 && b[3] == (unsigned char)((3 * 1024 * 1024 - 1) % 251));
	int entries = 0;
	DIR *d = opendir("/data");
	struct dirent *e;
	while (d && (e = readdir(d)))
		entries++;
	CHECK(entries == 5); /* ., .., docs, link, big.bin */
	struct statfs sfs;
	CHECK(statfs("/data", &sfs) == 0 && sfs.f_type == 0x9660);
	CHECK(open("/data/new", O_CREAT | O_WRONLY, 0644) == -1 && errno == EROFS);
	CHECK(mkdir("/data/dir", 0755) == -1 && errno == EROFS);
	return CHECK_DONE();
}
