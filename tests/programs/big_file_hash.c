/* big_file_hash: reads a baked file (argv[1]) that is larger than the guest's memory,
 * twice: with read(2) in 1 MiB pieces and through mmap(2) windows of 4 MiB (mapped,
 * hashed, unmapped), and prints its size and the FNV-1a 64 hash of each pass, which
 * the test compares with the host file's. The image's file data is read on demand
 * into the page cache, whose clean pages must be dropped again as the read goes on. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define PIECE (1 << 20)
#define WINDOW (4 << 20)

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		printf("open %s: errno %d\n", argv[1], errno);
		return 2;
	}
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	unsigned char *buf = malloc(PIECE);
	CHECK(buf != NULL);
	uint64_t h = 0xcbf29ce484222325ULL;
	off_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, PIECE);
		CHECK(n >= 0);
		if (n == 0)
			break;
		h = fnv(h, buf, n);
		total += n;
	}
	CHECK(total == st.st_size);
	printf("read %lld %016" PRIx64 "\n", (long long)total, h);
	h = 0xcbf29ce484222325ULL;
	for (off_t at = 0; at < st.st_size; at += WINDOW) {
		size_t len = st.st_size - at < WINDOW ? st.st_size - at : WINDOW;
		unsigned char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, at);
		CHECK(m != MAP_FAILED);
		h = fnv(h, m, len);
		CHECK(munmap(m, len) == 0);
	}
	printf("mmap %lld %016" PRIx64 "\n", (long long)st.st_size, h);
	return CHECK_DONE();
}
