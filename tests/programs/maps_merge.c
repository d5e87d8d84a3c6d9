/* maps_merge: adjacent anonymous areas with the same protection are one area, as
 * Linux merges them, in /proc/self/maps:
 *   - a PROT_NONE reservation made read-write a page at a time (as malloc grows a
 *     heap) is one read-write area between its PROT_NONE guards (which may join
 *     their own neighbours: only the pages between them are looked at);
 *   - a page made read-only and then read-write again joins its neighbours again;
 *   - a page unmapped and mapped again (MAP_FIXED, same protection) fills the hole;
 *   - 256 pages made read-write one by one add no areas to /proc/self/maps.
 * The pages are written and read back on the way. Runs on Linux as it is. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

static long page;

struct area {
	unsigned long start, end;
	char perms[5];
};

/* The areas of /proc/self/maps that overlap [lo, hi), and how many there are in all. */
static int
areas_in(unsigned long lo, unsigned long hi, struct area *out, int max, int *total)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	*total = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		struct area a;

		if (sscanf(line, "%lx-%lx %4s", &a.start, &a.end, a.perms) != 3)
			continue;
		++*total;
		if (a.end > lo && a.start < hi && n < max)
			out[n++] = a;
	}
	fclose(f);
	return n;
}

/* Exactly the `n` areas `pages` (start, end as page numbers from `base`) with
 * `perms` cover [base + first start, base + last end). */
static int
maps_are(char *base, int n, const int (*pages)[2], const char *const *perms)
{
	struct area got[16];
	int total;
	int k = areas_in((unsigned long)base + pages[0][0] * page,
	    (unsigned long)base + pages[n - 1][1] * page, got, 16, &total);

	if (k != n) {
		printf("  %d areas, want %d:\n", k, n);
		for (int i = 0; i < k; i++)
			printf("    %lx-%lx %s\n", got[i].start, got[i].end, got[i].perms);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (got[i].start != (unsigned long)base + pages[i][0] * page ||
		    got[i].end != (unsigned long)base + pages[i][1] * page ||
		    strncmp(got[i].perms, perms[i], 3) != 0) {
			printf("  area %d is %lx-%lx %s, want %lx-%lx %s\n", i, got[i].start,
			    got[i].end, got[i].perms,
			    (unsigned long)base + pages[i][0] * page,
			    (unsigned long)base + pages[i][1] * page, perms[i]);
			return 0;
		}
	}
	return 1;
}

int
main(void)
{
	page = sysconf(_SC_PAGESIZE);

	/* 18 pages: a PROT_NONE guard, 16 to work on, a guard. */
	char *base = mmap(NULL, 18 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(base != MAP_FAILED);
	if (base == MAP_FAILED)
		return CHECK_DONE();

	int grown = 1;
	for (int i = 1; i <= 16; i++) {
		grown &= mprotect(base + i * page, page, PROT_READ | PROT_WRITE) == 0;
		base[i * page] = (char)i;
	}
	CHECK(grown);
	static const int one[][2] = {{1, 17}};
	static const char *const rw[] = {"rw-"};
	CHECK(maps_are(base, 1, one, rw));

	/* A page read-only: three pieces; read-write again: one. */
	CHECK(mprotect(base + 8 * page, page, PROT_READ) == 0);
	static const int split[][2] = {{1, 8}, {8, 9}, {9, 17}};
	static const char *const rw_r_rw[] = {"rw-", "r--", "rw-"};
	CHECK(maps_are(base, 3, split, rw_r_rw));
	CHECK(mprotect(base + 8 * page, page, PROT_READ | PROT_WRITE) == 0);
	CHECK(maps_are(base, 1, one, rw));

	/* A page unmapped, then mapped again in its place. */
	/* (No look at the hole: stdio's buffer, mapped by malloc, may land in it.) */
	int unmapped = munmap(base + 5 * page, page) == 0;
	CHECK(unmapped);
	CHECK(mmap(base + 5 * page, page, PROT_READ | PROT_WRITE,
	          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == base + 5 * page);
	CHECK(maps_are(base, 1, one, rw));

	/* The contents stayed (the hole reads as zero). */
	int kept = 1;
	for (int i = 1; i <= 16; i++)
		kept &= base[i * page] == (i == 5 ? 0 : (char)i);
	CHECK(kept);

	/* 256 pages made read-write one by one add nothing to the count of areas. */
	struct area tmp[1];
	int before, after;
	char *big = mmap(NULL, 258 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(big != MAP_FAILED);
	if (big == MAP_FAILED)
		return CHECK_DONE();
	areas_in(0, 0, tmp, 0, &before);
	int ok = 1;
	for (int i = 1; i <= 256; i++) {
		ok &= mprotect(big + i * page, page, PROT_READ | PROT_WRITE) == 0;
		big[i * page + 1] = 1;
	}
	CHECK(ok);
	areas_in(0, 0, tmp, 0, &after);
	printf("areas before %d, after %d\n", before, after);
	CHECK(after <= before + 2);
	static const int big_one[][2] = {{1, 257}};
	CHECK(maps_are(big, 1, big_one, rw));

	return CHECK_DONE();
}
