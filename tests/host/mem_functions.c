/* mem_functions: checks the kernel's memcpy, memmove_down and memset
 * (kernel/src/arch/x86_64/mem.S, assembled for the host with every symbol renamed
 * rr_*) against byte-by-byte references: every length 0..300 at every source and
 * destination misalignment 0..15, overlapping moves in both directions at every
 * distance 1..80, and the return values. Prints "ALL OK" and exits 0, or names the
 * first failing case and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *rr_memcpy(void *dst, const void *src, size_t n);
void *rr_memmove_down(void *dst, const void *src, size_t n);
void *rr_memset(void *dst, int c, size_t n);

#define SIZE 1024
static unsigned char buf[SIZE], ref[SIZE], src[SIZE];

static void fill(unsigned char *p, unsigned seed)
{
	for (int i = 0; i < SIZE; i++)
		p[i] = (unsigned char)(i * 131 + seed * 7 + (i >> 8));
}

static void fail(const char *what, size_t n, int a, int b)
{
	printf("FAIL: %s n=%zu (%d, %d)\n", what, n, a, b);
	exit(1);
}

int main(void)
{
	fill(src, 1);
	for (size_t n = 0; n <= 300; n++)
		for (int so = 0; so < 16; so++)
			for (int d = 0; d < 16; d++) {
				fill(buf, 2);
				fill(ref, 2);
				for (size_t i = 0; i < n; i++)
					ref[64 + d + i] = src[so + i];
				if (rr_memcpy(buf + 64 + d, src + so, n) != buf + 64 + d)
					fail("memcpy return", n, so, d);
				if (memcmp(buf, ref, SIZE))
					fail("memcpy", n, so, d);

				fill(buf, 3);
				fill(ref, 3);
				for (size_t i = 0; i < n; i++)
					ref[64 + d + i] = (unsigned char)(so * 17 + 1);
				if (rr_memset(buf + 64 + d, so * 17 + 1 + 256, n) != buf + 64 + d)
					fail("memset return", n, so, d);
				if (memcmp(buf, ref, SIZE))
					fail("memset", n, so, d);
			}
	/* Overlaps: memmove_down for dst above src, memcpy (forward) for dst below. */
	for (size_t n = 0; n <= 300; n++)
		for (int dist = 1; dist <= 80; dist++) {
			unsigned char tmp[SIZE];
			fill(buf, 4);
			memcpy(ref, buf, SIZE);
			memcpy(tmp, ref + 100, n);
			memcpy(ref + 100 + dist, tmp, n);
			if (rr_memmove_down(buf + 100 + dist, buf + 100, n) != buf + 100 + dist)
				fail("memmove_down return", n, dist, 0);
			if (memcmp(buf, ref, SIZE))
				fail("memmove_down overlapping", n, dist, 0);

			fill(buf, 5);
			memcpy(ref, buf, SIZE);
			memcpy(tmp, ref + 100 + dist, n);
			memcpy(ref + 100, tmp, n);
			rr_memcpy(buf + 100, buf + 100 + dist, n);
			if (memcmp(buf, ref, SIZE))
				fail("memcpy overlapping downwards", n, dist, 0);
		}
	printf("ALL OK\n");
	return 0;
}
