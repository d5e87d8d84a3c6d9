/* big_memory: usable RAM reaches above 4 GiB. `big_memory MIN_TOTAL_MIB TOUCH_MIB`
 * checks /proc/meminfo's MemTotal is at least MIN_TOTAL_MIB, then fills TOUCH_MIB of
 * memory (one distinct word per page, so the kernel must commit every page) and reads
 * every word back. Run with little RAM below 4 GiB, the pages come from above it.
 * Prints "ALL OK" and exits 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check_fatal.h"

int
main(int argc, char **argv)
{
	CHECK(argc == 3, "usage: big_memory MIN_TOTAL_MIB TOUCH_MIB");
	long min_total = atol(argv[1]), touch = atol(argv[2]);
	FILE *f = fopen("/proc/meminfo", "r");
	CHECK(f != NULL, "open /proc/meminfo");
	long total_kb = 0;
	char line[128];
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemTotal: %ld kB", &total_kb) == 1)
			break;
	fclose(f);
	printf("MemTotal %ld MiB\n", total_kb / 1024);
	CHECK(total_kb / 1024 >= min_total, "MemTotal %ld MiB < %ld MiB", total_kb / 1024,
	      min_total);
	ok("MemTotal counts RAM above 4 GiB");

	size_t len = (size_t)touch << 20, pages = len / 4096;
	uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap %ld MiB", touch);
	for (size_t i = 0; i < pages; i++)
		p[i * 512 + (i % 512)] = i * 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < pages; i++)
		CHECK(p[i * 512 + (i % 512)] == i * 0x9e3779b97f4a7c15ull, "page %zu lost its word", i);
	printf("ok: %ld MiB written and read back\n", touch);
	printf("ALL OK\n");
	return 0;
}
