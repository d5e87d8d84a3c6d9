/* same_files: files baked with the same contents (stored once in the payload, as a
 * hard-link group) are still separate files. /data/a, /data/b and /data/c hold the
 * same 64 KiB, /data/d differs in its last byte: each reads back whole and right;
 * writing /data/a and truncating /data/b changes neither of the others; a MAP_SHARED
 * mapping of /data/c sees its own writes only. Prints "ALL OK" and exits 0. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define SIZE 65536

static unsigned char want[SIZE], got[SIZE];

static int same(const char *path, unsigned char last)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, got, sizeof got);
	close(fd);
	want[SIZE - 1] = last;
	int ok = n == SIZE && memcmp(got, want, SIZE) == 0;
	want[SIZE - 1] = (unsigned char)((SIZE - 1) * 7 + (SIZE - 1) / 4096);
	return ok;
}

int main(void)
{
	for (int i = 0; i < SIZE; i++)
		want[i] = (unsigned char)(i * 7 + i / 4096);
	unsigned char last = want[SIZE - 1];
	CHECK(same("/data/a", last) && same("/data/b", last) && same("/data/c", last));
	CHECK(same("/data/d", last ^ 0xff));
	struct stat sa, sb;
	CHECK(stat("/data/a", &sa) == 0 && stat("/data/b", &sb) == 0);
	CHECK(sa.st_ino != sb.st_ino && sa.st_nlink == 1 && sa.st_size == SIZE);

	int fd = open("/data/a", O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "XYZ", 3, 4096) == 3);
	close(fd);
	CHECK(truncate("/data/b", 100) == 0);
	CHECK(same("/data/c", last) && same("/data/d", last ^ 0xff));
	fd = open("/data/a", O_RDONLY);
	CHECK(fd >= 0 && pread(fd, got, 3, 4096) == 3 && memcmp(got, "XYZ", 3) == 0);
	close(fd);

	fd = open("/data/c", O_RDWR);
	CHECK(fd >= 0);
	unsigned char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		CHECK(memcmp(m, want, SIZE) == 0);
		m[8192] ^= 0xff;
		CHECK(munmap(m, SIZE) == 0);
	}
	close(fd);
	fd = open("/data/c", O_RDONLY);
	CHECK(fd >= 0 && pread(fd, got, 1, 8192) == 1 && got[0] == (want[8192] ^ 0xff));
	close(fd);
	/* a and d are untouched by c's change */
	CHECK(same("/data/d", last ^ 0xff));
	fd = open("/data/a", O_RDONLY);
	CHECK(fd >= 0 && pread(fd, got, 1, 8192) == 1 && got[0] == want[8192]);
	close(fd);
	return CHECK_DONE();
}
