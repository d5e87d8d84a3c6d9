#define _GNU_SOURCE
/* mmap_flags: MAP_32BIT and MAP_HUGETLB as Linux x86_64 answers them (issue 14 item
 * 5; php's opcache maps with MAP_32BIT and MAP_HUGETLB and relies on both):
 *   - MAP_32BIT gives an address below 2 GiB (Linux uses 1 GiB to 2 GiB), usable,
 *     for anonymous memory and for a file; several such mappings do not overlap;
 *   - MAP_HUGETLB without reserved huge pages gives ENOMEM, and maps nothing.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK((uintptr_t)p < 0x80000000u && (uintptr_t)p + (1 << 20) <= 0x80000000u);
	memset(p, 7, 1 << 20);
	CHECK(p[12345] == 7);
	char *q = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);
	CHECK(q != MAP_FAILED && (uintptr_t)q < 0x80000000u);
	CHECK(q + (1 << 20) <= p || p + (1 << 20) <= q);
	int fd = open("/tmp/map32", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "thirty-two", 10) == 10);
	char *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_32BIT, fd, 0);
	CHECK(f != MAP_FAILED && (uintptr_t)f < 0x80000000u && memcmp(f, "thirty-two", 10) == 0);
	/* A hint above 2 GiB does not win over MAP_32BIT. */
	char *h = mmap((void *)0x7f0000000000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);
	CHECK(h != MAP_FAILED && (uintptr_t)h < 0x80000000u);

	errno = 0;
	void *huge = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
			  -1, 0);
	CHECK(huge == MAP_FAILED && errno == ENOMEM);
	errno = 0;
	huge = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_32BIT, -1, 0);
	CHECK(huge == MAP_FAILED && errno == ENOMEM);
	return CHECK_DONE();
}
