/* mem_test: anonymous memory as Linux gives it.  The original rumprun's misc_test mmap
 * part (mmap/munmap MAP_ANONYMOUS of 4096, 6000, 8192, 12000, 12288 and 65000 bytes,
 * unmapped whole and page by page; bad munmap arguments fail with EINVAL), then
 * MAP_FIXED replacing a mapping, MAP_FIXED_NOREPLACE, a 1 GiB PROT_NONE reservation of
 * which 1 MiB is made read-write and touched (lazy commit: fits a 64 MiB VM), brk via
 * sbrk, madvise(MADV_DONTNEED), and the errors of mprotect and mmap.  One "ok: ..."
 * line per check, then "ALL OK"; a failed check prints "FAIL: ..." and exits 1.
 *
 * `mem_test exhaust` instead allocates and touches 1 MiB blocks with malloc until
 * malloc returns NULL (then it checks errno ENOMEM and exits 0) or the kernel ends
 * the program; it prints "allocated N MiB" after each block.
 *
 * Linux's answers at the edges, one mode each: `mem_test huge-mmap` (lengths beyond
 * the address space give ENOMEM), `mem_test wrap` (munmap/mprotect lengths that wrap
 * around give EINVAL/ENOMEM and change nothing), `mem_test madvise-errors` (an
 * unmapped range gives ENOMEM, an unknown advice EINVAL). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#include "check_fatal.h"

#define PAGE 4096UL
#define MiB (1024UL * 1024)
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static int
all_bytes(const void *p, size_t len, unsigned char c)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != c)
			return 0;
	return 1;
}

static void
dommap(size_t len, int per_page)
{
	size_t rounded = (len + PAGE - 1) & ~(PAGE - 1);
	unsigned char *v, *p;
	int rv;

	if (len == 0 || len > MiB)
		return;
	v = mmap(NULL, len, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap(%zu): %s", len, strerror(errno));
	CHECK(((uintptr_t)v & (PAGE - 1)) == 0, "mmap(%zu) not page aligned: %p",
	    len, (void *)v);
	CHECK(all_bytes(v, rounded, 0), "mmap(%zu) not zero-filled", len);
	memset(v, 'a', len);
	CHECK(all_bytes(v, len, 'a'), "mmap(%zu) lost writes", len);
	if (!per_page) {
		rv = munmap(v, len);
		CHECK(rv == 0, "munmap(%zu) whole: %s", len, strerror(errno));
	} else {
		for (p = v; p < v + rounded; p += PAGE) {
			rv = munmap(p, PAGE);
			CHECK(rv == 0, "munmap(%zu) page %zu: %s", len,
			    (size_t)(p - v) / PAGE, strerror(errno));
		}
	}
}

static void
test_misc_mmap(void)
{
	static const size_t lens[] = { 4096, 6000, 8192, 12000, 12288, 65000 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		dommap(lens[i], 0);
		dommap(lens[i], 1);
	}
	ok("mmap/munmap of 4096 6000 8192 12000 12288 65000 bytes, whole and "
	    "page by page");

	errno = 0;
	CHECK(munmap((void *)1, PAGE) == -1 && errno == EINVAL,
	    "munmap((void *)1, 4096): errno %d, want EINVAL", errno);
	ok("munmap((void *)1, 4096) fails with EINVAL");
	/* The original (NetBSD) also wanted munmap(NULL, 4096) to fail; Linux accepts
	 * it (nothing is mapped there, which is not an error).  A zero length is
	 * EINVAL on Linux. */
	errno = 0;
	CHECK(munmap(NULL, 0) == -1 && errno == EINVAL,
	    "munmap(NULL, 0): errno %d, want EINVAL", errno);
	ok("munmap(NULL, 0) fails with EINVAL");
	CHECK(munmap(NULL, PAGE) == 0, "munmap(NULL, 4096): %s (Linux returns 0)",
	    strerror(errno));
	ok("munmap(NULL, 4096) succeeds as on Linux");
}

static void
test_map_fixed(void)
{
	unsigned char *v, *w;

	v = mmap(NULL, 3 * PAGE, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap 3 pages: %s", strerror(errno));
	memset(v, 'x', 3 * PAGE);
	w = mmap(v + PAGE, PAGE, RW, ANON | MAP_FIXED, -1, 0);
	CHECK(w == v + PAGE, "MAP_FIXED returned %p, want %p", (void *)w,
	    (void *)(v + PAGE));
	CHECK(all_bytes(v + PAGE, PAGE, 0), "MAP_FIXED page still has old data");
	CHECK(all_bytes(v, PAGE, 'x') && all_bytes(v + 2 * PAGE, PAGE, 'x'),
	    "MAP_FIXED changed the neighbouring pages");
	memset(v + PAGE, 'y', PAGE);
	ok("MAP_FIXED over a mapping replaces it (zeroes, neighbours kept)");

	errno = 0;
	w = mmap(v + PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(w == MAP_FAILED && errno == EEXIST,
	    "MAP_FIXED_NOREPLACE on a mapping: %p errno %d, want EEXIST",
	    (void *)w, errno);
	CHECK(all_bytes(v + PAGE, PAGE, 'y'),
	    "failed MAP_FIXED_NOREPLACE changed the mapping");
	ok("MAP_FIXED_NOREPLACE on a mapping fails with EEXIST");

	CHECK(munmap(v, 3 * PAGE) == 0, "munmap: %s", strerror(errno));
	w = mmap(v, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(w == v, "MAP_FIXED_NOREPLACE on a free range: %p (%s), want %p",
	    (void *)w, w == MAP_FAILED ? strerror(errno) : "", (void *)v);
	CHECK(all_bytes(w, PAGE, 0), "MAP_FIXED_NOREPLACE page not zeroed");
	CHECK(munmap(w, PAGE) == 0, "munmap: %s", strerror(errno));
	ok("MAP_FIXED_NOREPLACE on a free range maps there");
}

static void
test_reserve(void)
{
	const size_t reserve = 1024 * MiB;
	unsigned char *v;
	size_t i;

	v = mmap(NULL, reserve, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
	CHECK(v != MAP_FAILED, "mmap 1 GiB PROT_NONE: %s", strerror(errno));
	CHECK(mprotect(v + 512 * MiB, MiB, RW) == 0, "mprotect 1 MiB RW: %s",
	    strerror(errno));
	for (i = 0; i < MiB; i += PAGE)
		CHECK(v[512 * MiB + i] == 0, "fresh page not zero");
	memset(v + 512 * MiB, 0x5a, MiB);
	CHECK(all_bytes(v + 512 * MiB, MiB, 0x5a), "1 MiB lost writes");
	CHECK(munmap(v, reserve) == 0, "munmap 1 GiB: %s", strerror(errno));
	ok("1 GiB PROT_NONE reservation, 1 MiB made RW and touched");
}

/* The raw brk syscall (musl's sbrk refuses non-zero increments); the break is put
 * back where it was, so the libc's malloc never notices. */
static unsigned char *
sys_brk(void *addr)
{
	return (unsigned char *)syscall(SYS_brk, addr);
}

static void
test_brk(void)
{
	unsigned char *start, *p;

	start = sys_brk(NULL);
	CHECK(start != NULL, "brk(0) returned NULL");
	p = sys_brk(start + MiB);
	CHECK(p == start + MiB, "brk(+1 MiB) returned %p, want %p", (void *)p,
	    (void *)(start + MiB));
	CHECK(all_bytes(start, MiB, 0), "new brk memory not zero");
	memset(start, 0x77, MiB);
	CHECK(all_bytes(start, MiB, 0x77), "brk memory lost writes");
	p = sys_brk(start);
	CHECK(p == start, "brk(back to start) returned %p, want %p", (void *)p,
	    (void *)start);
	CHECK(sys_brk(NULL) == start, "break not back at the start");
	p = sys_brk(start + MiB);
	CHECK(p == start + MiB, "brk(+1 MiB) again returned %p", (void *)p);
	/* Linux: pages released by shrinking the break come back zeroed. */
	CHECK(all_bytes(start, MiB, 0), "regrown brk memory not zero");
	CHECK(sys_brk(start) == start, "brk(back to start) again");
	p = sys_brk((void *)0x1000);
	CHECK(p == start, "brk below the heap start returned %p, want the "
	    "unchanged break %p", (void *)p, (void *)start);
	ok("brk grows and shrinks, regrown memory is zero, a bad brk changes "
	    "nothing");
}

static void
test_madvise(void)
{
	unsigned char *v;

	v = mmap(NULL, 4 * PAGE, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(v, 0x33, 4 * PAGE);
	CHECK(madvise(v + PAGE, 2 * PAGE, MADV_DONTNEED) == 0,
	    "madvise(MADV_DONTNEED): %s", strerror(errno));
	CHECK(all_bytes(v + PAGE, 2 * PAGE, 0),
	    "MADV_DONTNEED pages not zero");
	CHECK(all_bytes(v, PAGE, 0x33) && all_bytes(v + 3 * PAGE, PAGE, 0x33),
	    "MADV_DONTNEED changed other pages");
	v[PAGE] = 1;
	CHECK(v[PAGE] == 1, "page not writable after MADV_DONTNEED");
	CHECK(munmap(v, 4 * PAGE) == 0, "munmap: %s", strerror(errno));
	ok("madvise(MADV_DONTNEED) zeroes the pages");
}

static void
test_errors(void)
{
	unsigned char *v;
	void *w;

	v = mmap(NULL, 2 * PAGE, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap: %s", strerror(errno));
	CHECK(munmap(v + PAGE, PAGE) == 0, "munmap: %s", strerror(errno));
	errno = 0;
	CHECK(mprotect(v + PAGE, PAGE, PROT_READ) == -1 && errno == ENOMEM,
	    "mprotect of an unmapped page: errno %d, want ENOMEM", errno);
	errno = 0;
	CHECK(mprotect(v, 2 * PAGE, PROT_READ) == -1 && errno == ENOMEM,
	    "mprotect of a partly unmapped range: errno %d, want ENOMEM",
	    errno);
	ok("mprotect of an unmapped range fails with ENOMEM");
	/* raw syscall: musl's mprotect() rounds the address down itself */
	errno = 0;
	CHECK(syscall(SYS_mprotect, v + 1, PAGE, PROT_READ) == -1 &&
	    errno == EINVAL,
	    "mprotect of an unaligned address: errno %d, want EINVAL", errno);
	ok("mprotect of an unaligned address fails with EINVAL");
	CHECK(munmap(v, PAGE) == 0, "munmap: %s", strerror(errno));

	errno = 0;
	w = mmap(NULL, 0, RW, ANON, -1, 0);
	CHECK(w == MAP_FAILED && errno == EINVAL,
	    "mmap of length 0: %p errno %d, want EINVAL", w, errno);
	ok("mmap of length 0 fails with EINVAL");
	errno = 0;
	w = mmap(NULL, PAGE, RW, MAP_ANONYMOUS, -1, 0);
	CHECK(w == MAP_FAILED && errno == EINVAL,
	    "mmap without MAP_PRIVATE/MAP_SHARED: %p errno %d, want EINVAL", w,
	    errno);
	ok("mmap without MAP_PRIVATE or MAP_SHARED fails with EINVAL");
}

static int
exhaust(void)
{
	unsigned long n = 0;
	void *p;

	for (;;) {
		errno = 0;
		p = malloc(MiB);
		if (p == NULL) {
			printf("malloc returned NULL after %lu MiB, errno %d\n",
			    n, errno);
			CHECK(errno == ENOMEM, "errno %d, want ENOMEM", errno);
			printf("ALL OK\n");
			return 0;
		}
		memset(p, 0xa5, MiB);
		n++;
		printf("allocated %lu MiB\n", n);
		fflush(stdout);
	}
}

static void
huge_mmap(void)
{
	void *w;

	errno = 0;
	w = mmap(NULL, 1UL << 48, RW, ANON | MAP_NORESERVE, -1, 0);
	CHECK(w == MAP_FAILED && errno == ENOMEM,
	    "mmap of 256 TiB: %p errno %d, want ENOMEM", w, errno);
	errno = 0;
	w = mmap(NULL, (size_t)-1, RW, ANON, -1, 0);
	CHECK(w == MAP_FAILED && errno == ENOMEM,
	    "mmap of SIZE_MAX bytes: %p errno %d, want ENOMEM", w, errno);
	errno = 0;
	w = mmap(NULL, (size_t)-PAGE, RW, ANON, -1, 0);
	CHECK(w == MAP_FAILED && errno == ENOMEM,
	    "mmap of SIZE_MAX-4095 bytes: %p errno %d, want ENOMEM", w, errno);
	ok("mmap of more than the address space fails with ENOMEM");
}

static void
wrap(void)
{
	unsigned char *v;
	long rv;

	v = mmap(NULL, PAGE, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap: %s", strerror(errno));
	v[0] = 1;
	errno = 0;
	rv = syscall(SYS_munmap, PAGE, (size_t)-PAGE);
	CHECK(rv == -1 && errno == EINVAL,
	    "munmap(4096, SIZE_MAX-4095): %ld errno %d, want EINVAL", rv, errno);
	errno = 0;
	rv = syscall(SYS_mprotect, v, (size_t)-PAGE, PROT_READ);
	CHECK(rv == -1 && errno == ENOMEM,
	    "mprotect(v, SIZE_MAX-4095): %ld errno %d, want ENOMEM", rv, errno);
	errno = 0;
	rv = syscall(SYS_mprotect, v, (size_t)-1, PROT_READ);
	CHECK(rv == -1 && errno == ENOMEM,
	    "mprotect(v, SIZE_MAX): %ld errno %d, want ENOMEM", rv, errno);
	CHECK(v[0] == 1, "mapping changed");
	v[0] = 2;
	ok("munmap/mprotect with lengths that wrap fail (EINVAL/ENOMEM) and "
	    "change nothing");
}

static void
madvise_errors(void)
{
	unsigned char *v;
	long rv;

	v = mmap(NULL, PAGE, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap: %s", strerror(errno));
	CHECK(munmap(v, PAGE) == 0, "munmap: %s", strerror(errno));
	errno = 0;
	rv = madvise(v, PAGE, MADV_DONTNEED);
	CHECK(rv == -1 && errno == ENOMEM,
	    "madvise(MADV_DONTNEED) of an unmapped page: %ld errno %d, want "
	    "ENOMEM", rv, errno);
	v = mmap(NULL, PAGE, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED, "mmap: %s", strerror(errno));
	errno = 0;
	rv = madvise(v, PAGE, 12345);
	CHECK(rv == -1 && errno == EINVAL,
	    "madvise with advice 12345: %ld errno %d, want EINVAL", rv, errno);
	ok("madvise: unmapped range ENOMEM, unknown advice EINVAL");
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} modes[] = {
		{ "huge-mmap", huge_mmap },
		{ "wrap", wrap },
		{ "madvise-errors", madvise_errors },
	};
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0) {
			modes[i].fn();
			printf("ALL OK\n");
			return 0;
		}
	}
	if (argc > 1 && strcmp(argv[1], "exhaust") == 0)
		return exhaust();
	test_misc_mmap();
	test_map_fixed();
	test_reserve();
	test_brk();
	test_madvise();
	test_errors();
	printf("ALL OK\n");
	return 0;
}
