/* file_io: sequential file throughput.  Writes FILE as MB MiB in 1 MiB write()s and
 * fsyncs it, and/or reads it back in 1 MiB read()s (checking one byte per MiB), timing
 * each with clock_gettime(CLOCK_MONOTONIC), and prints
 *     file_io: write mb=MB ms=T mb_per_s=X     (the fsync included)
 *     file_io: read mb=MB ms=T mb_per_s=X
 * Usage: file_io write|read|both FILE MB
 *   write, then read on a fresh boot: the read comes from the disk (cold cache);
 *   both: write then read in one run (on tmpfs: memory speed). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
report(const char *what, long mb, long long ns)
{
	printf("file_io: %s mb=%ld ms=%.1f mb_per_s=%.1f\n", what, mb, ns / 1e6,
	    mb / (ns / 1e9));
}

static int
do_write(const char *path, long mb, char *buf)
{
	long long t0 = now_ns();
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0) {
		fprintf(stderr, "file_io: create %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (long i = 0; i < mb; i++) {
		buf[0] = (char)i;
		if (write(fd, buf, CHUNK) != CHUNK) {
			fprintf(stderr, "file_io: write %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fprintf(stderr, "file_io: fsync %s: %s\n", path, strerror(errno));
		return 1;
	}
	report("write", mb, now_ns() - t0);
	return 0;
}

static int
do_read(const char *path, long mb, char *buf)
{
	long long t0 = now_ns();
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "file_io: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (long i = 0; i < mb; i++) {
		if (read(fd, buf, CHUNK) != CHUNK || buf[0] != (char)i || buf[CHUNK - 1] != 'f') {
			fprintf(stderr, "file_io: read %s: MiB %ld wrong or short\n", path, i);
			return 1;
		}
	}
	close(fd);
	report("read", mb, now_ns() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	char *buf = malloc(CHUNK);
	long mb = argc == 4 ? atol(argv[3]) : 0;

	if (buf == NULL || mb <= 0) {
		fprintf(stderr, "usage: file_io write|read|both FILE MB\n");
		return 2;
	}
	memset(buf, 'f', CHUNK);
	if (strcmp(argv[1], "write") == 0)
		return do_write(argv[2], mb, buf);
	if (strcmp(argv[1], "read") == 0)
		return do_read(argv[2], mb, buf);
	if (strcmp(argv[1], "both") == 0)
		return do_write(argv[2], mb, buf) || do_read(argv[2], mb, buf);
	fprintf(stderr, "usage: file_io write|read|both FILE MB\n");
	return 2;
}
