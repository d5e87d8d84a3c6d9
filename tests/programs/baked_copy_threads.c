/* baked_copy_threads: the kernel copying to and from program memory that maps a big
 * baked file (argv[1]), from THREADS threads at once, so that the copies fault on
 * pages of the image's files that are not in memory (the first use, or dropped again
 * under memory pressure) inside the kernel, while other threads' disk reads are in
 * flight:
 *   write: write(2) from a read-only MAP_PRIVATE mapping of the piece (mapped for
 *          it, unmapped after: mapped pages cannot be dropped) into a per-thread
 *          tmpfs file, read back with pread(2) into a malloc'd buffer and hashed;
 *   read:  read(2) of the file into a MAP_PRIVATE mapping of that same file (the
 *          kernel's store copies the page on write), hashed there.
 * The first argv[2] MiB (default: the whole file) are cut in 64 KiB pieces, piece i
 * handled by thread i % THREADS; each pass prints the FNV-1a 64 hash over the
 * little-endian FNV-1a 64 hashes of the pieces in file order, which the test compares
 * with the host's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define THREADS 24
#define PIECE (64 << 10)
#define FNV0 0xcbf29ce484222325ULL

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static const char *path;
static size_t size, pieces;
static uint64_t *hash_write, *hash_read;
static int failed;

static size_t piece_len(size_t i)
{
	size_t off = i * PIECE;
	return size - off < PIECE ? size - off : PIECE;
}

static void fail(const char *what, size_t piece, long got)
{
	printf("FAIL %s piece %zu: %ld (errno %d)\n", what, piece, got, errno);
	__atomic_store_n(&failed, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
	long t = (long)arg;
	char name[64];
	snprintf(name, sizeof name, "/tmp/copy-%ld", t);
	int out = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int in = open(path, O_RDONLY);
	unsigned char *buf = malloc(PIECE);
	/* The private mapping read(2) writes into: PIECE bytes of the file's start. */
	unsigned char *priv = mmap(NULL, PIECE, PROT_READ | PROT_WRITE, MAP_PRIVATE, in, 0);
	if (out < 0 || in < 0 || !buf || priv == MAP_FAILED) {
		fail("setup", t, -1);
		return NULL;
	}
	for (size_t i = t; i < pieces; i += THREADS) {
		size_t off = i * PIECE, n = piece_len(i);
		unsigned char *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, in, off);
		if (map == MAP_FAILED) {
			fail("mmap", i, -1);
			break;
		}
		ssize_t w = pwrite(out, map, n, 0);
		munmap(map, n);
		if (w != (ssize_t)n) {
			fail("write from the mapping", i, w);
			break;
		}
		ssize_t r = pread(out, buf, n, 0);
		if (r != (ssize_t)n) {
			fail("read back", i, r);
			break;
		}
		hash_write[i] = fnv(FNV0, buf, n);
		/* Drop the private copies: the next read(2) faults on file pages again. */
		if (madvise(priv, PIECE, MADV_DONTNEED) != 0) {
			fail("madvise", i, -1);
			break;
		}
		r = pread(in, priv, n, off);
		if (r != (ssize_t)n) {
			fail("read into the mapping", i, r);
			break;
		}
		hash_read[i] = fnv(FNV0, priv, n);
	}
	munmap(priv, PIECE);
	close(in);
	close(out);
	unlink(name);
	free(buf);
	return NULL;
}

static uint64_t combine(const uint64_t *h)
{
	uint64_t all = FNV0;
	for (size_t i = 0; i < pieces; i++) {
		unsigned char le[8];
		for (int b = 0; b < 8; b++)
			le[b] = h[i] >> (8 * b);
		all = fnv(all, le, 8);
	}
	return all;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2 || argc == 3);
	if (argc < 2)
		return CHECK_DONE();
	path = argv[1];
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	size = st.st_size;
	if (argc == 3 && (size_t)atol(argv[2]) << 20 < size)
		size = (size_t)atol(argv[2]) << 20;
	pieces = (size + PIECE - 1) / PIECE;
	hash_write = calloc(pieces, 8);
	hash_read = calloc(pieces, 8);
	CHECK(hash_write && hash_read);
	if (!hash_write || !hash_read)
		return CHECK_DONE();
	pthread_t th[THREADS];
	for (long t = 0; t < THREADS; t++)
		CHECK(pthread_create(&th[t], NULL, worker, (void *)t) == 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	CHECK(!failed);
	printf("write %zu %016" PRIx64 "\n", size, combine(hash_write));
	printf("read %zu %016" PRIx64 "\n", size, combine(hash_read));
	return CHECK_DONE();
}
