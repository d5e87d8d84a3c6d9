/* fsync_kill: what fsync promises, tested by a power cut.
 *   fsync_kill write   writes /data/keep/precious (a new file in a new directory,
 *       3 MiB, pattern below), fsyncs it and both directories, prints "fsynced" and
 *       goes on writing and deleting other files without syncing (1 MiB each, 12
 *       kept: more than the block cache holds, so its evictions write half-done
 *       metadata to the disk), printing "churn N" after each, until the host kills
 *       the VM (it exits 3 after 50 s if nobody does).
 *   fsync_kill verify  (the next boot) checks /data/keep/precious byte for byte.
 * The host computes the same pattern: byte i is (i * 31 + i / 4096) mod 256. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_fatal.h"

#define PRECIOUS "/data/keep/precious"
#define SIZE (3u << 20)

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 31 + i / 4096);
}

static void
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fsync(fd) == 0, "fsync %s: %s", path, strerror(errno));
	close(fd);
}

static int
do_write(void)
{
	static unsigned char buf[SIZE];
	for (size_t i = 0; i < SIZE; i++)
		buf[i] = pattern(i);
	CHECK(mkdir("/data/keep", 0755) == 0, "mkdir: %s", strerror(errno));
	int fd = open(PRECIOUS, O_CREAT | O_EXCL | O_WRONLY, 0644);
	CHECK(fd >= 0, "create %s: %s", PRECIOUS, strerror(errno));
	for (size_t off = 0; off < SIZE; off += 100000) {
		size_t n = SIZE - off < 100000 ? SIZE - off : 100000;
		CHECK(write(fd, buf + off, n) == (ssize_t)n, "write: %s", strerror(errno));
	}
	CHECK(fsync(fd) == 0, "fsync %s: %s", PRECIOUS, strerror(errno));
	fsync_path("/data/keep");
	fsync_path("/data");
	printf("fsynced\n");
	fflush(stdout);

	/* unsynced churn until the power cut */
	time_t end = time(NULL) + 50;
	for (unsigned n = 0; time(NULL) < end; n++) {
		char p[64];
		snprintf(p, sizeof p, "/data/churn-%u", n);
		int c = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		CHECK(c >= 0, "create %s: %s", p, strerror(errno));
		CHECK(write(c, buf, 1 << 20) == 1 << 20, "write %s: %s", p, strerror(errno));
		close(c);
		if (n >= 12) {
			snprintf(p, sizeof p, "/data/churn-%u", n - 12);
			CHECK(unlink(p) == 0, "unlink %s: %s", p, strerror(errno));
		}
		printf("churn %u\n", n);
		fflush(stdout);
	}
	printf("FAIL: nobody killed the VM\n");
	return 3;
}

static int
do_verify(void)
{
	static unsigned char buf[SIZE + 1];
	int fd = open(PRECIOUS, O_RDONLY);
	CHECK(fd >= 0, "open %s: %s", PRECIOUS, strerror(errno));
	size_t got = 0;
	ssize_t n;
	while ((n = read(fd, buf + got, sizeof buf - got)) > 0)
		got += (size_t)n;
	CHECK(n == 0 && got == SIZE, "%s: read %zu bytes, want %u", PRECIOUS, got, SIZE);
	for (size_t i = 0; i < SIZE; i++)
		CHECK(buf[i] == pattern(i), "%s: byte %zu is %u, want %u", PRECIOUS, i, buf[i],
		      pattern(i));
	ok("the fsynced file is intact");
	printf("ALL OK\n");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "write") == 0)
		return do_write();
	if (argc == 2 && strcmp(argv[1], "verify") == 0)
		return do_verify();
	fprintf(stderr, "usage: fsync_kill write|verify\n");
	return 2;
}
