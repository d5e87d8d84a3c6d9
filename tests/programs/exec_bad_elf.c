/* exec_bad_elf: execve of ELF files whose program header table does not lie inside
 * the file fails and leaves the caller running. Three files: e_phoff just past the
 * end, e_phoff so large that offset + table size wraps around 2^64, and a table
 * that starts inside but ends outside: ENOEXEC for each, as on Linux. The kernel's
 * check once wrapped around for the second file, accepted it, and the caller was
 * gone past the point of no return. Two more have a sound table whose one PT_LOAD
 * segment cannot be placed: an ET_EXEC one ending past 2^64 and an ET_DYN one whose
 * address plus the load bias wraps around to a low address (the loader once added
 * without checking, killed the first caller and loaded the second one at the wrapped
 * address). Linux kills the caller of those two with SIGSEGV after its point of no
 * return; we check them before it and return ENOEXEC. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static void put16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

/* Writes a 128-byte x86_64 ET_EXEC header with `phnum` 56-byte program headers at
 * `phoff` to `path`, mode 0755; returns whether it worked. */
static int write_elf(const char *path, uint64_t phoff, uint16_t phnum)
{
	unsigned char h[128] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	put16(h + 16, 2);          /* ET_EXEC */
	put16(h + 18, 62);         /* EM_X86_64 */
	h[20] = 1;                 /* EV_CURRENT */
	put64(h + 24, 0x401000);   /* e_entry */
	put64(h + 32, phoff);
	put16(h + 52, 64);         /* e_ehsize */
	put16(h + 54, 56);         /* e_phentsize */
	put16(h + 56, phnum);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		return 0;
	int ok = write(fd, h, sizeof h) == (ssize_t)sizeof h;
	return close(fd) == 0 && ok;
}

/* Writes an ELF file of type `type` with one program header, a PT_LOAD segment at
 * `vaddr` of `memsz` bytes (none from the file), mode 0755. */
static int write_elf_segment(const char *path, uint16_t type, uint64_t vaddr, uint64_t memsz)
{
	unsigned char h[64 + 56] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	put16(h + 16, type);
	put16(h + 18, 62);         /* EM_X86_64 */
	h[20] = 1;                 /* EV_CURRENT */
	put64(h + 24, vaddr);      /* e_entry */
	put64(h + 32, 64);         /* e_phoff */
	put16(h + 52, 64);         /* e_ehsize */
	put16(h + 54, 56);         /* e_phentsize */
	put16(h + 56, 1);          /* e_phnum */
	unsigned char *ph = h + 64;
	put16(ph, 1);              /* PT_LOAD */
	ph[4] = 5;                 /* PF_R | PF_X */
	put64(ph + 16, vaddr);     /* p_vaddr */
	put64(ph + 24, vaddr);     /* p_paddr */
	put64(ph + 40, memsz);     /* p_memsz; p_offset = p_filesz = 0 */
	put64(ph + 48, 4096);      /* p_align */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		return 0;
	int ok = write(fd, h, sizeof h) == (ssize_t)sizeof h;
	return close(fd) == 0 && ok;
}

static int exec_fails(const char *path)
{
	char *argv[] = { (char *)path, NULL };
	char *envp[] = { NULL };
	errno = 0;
	int r = execve(path, argv, envp);
	printf("execve(%s) = %d, errno %d (%s)\n", path, r, errno, strerror(errno));
	return r == -1 && errno == ENOEXEC;
}

int main(void)
{
	CHECK(write_elf("/tmp/elf_past_end", 128 + 8, 1));
	CHECK(exec_fails("/tmp/elf_past_end"));
	/* 2^64 - 496: the end of the 560-byte table wraps around to offset 64. */
	CHECK(write_elf("/tmp/elf_wrapping", (uint64_t)0 - 10 * 56 + 64, 10));
	CHECK(exec_fails("/tmp/elf_wrapping"));
	CHECK(write_elf("/tmp/elf_straddling", 64, 2));
	CHECK(exec_fails("/tmp/elf_straddling"));
	CHECK(write_elf_segment("/tmp/elf_segment_past_top", 2, (uint64_t)0 - 0x1000, 0x2000));
	CHECK(exec_fails("/tmp/elf_segment_past_top"));
	/* ET_DYN: any load bias above 64 KiB plus this address wraps to below it. */
	CHECK(write_elf_segment("/tmp/elf_segment_wrapping", 3, (uint64_t)0 - 0x10000, 0x1000));
	CHECK(exec_fails("/tmp/elf_segment_wrapping"));
	return CHECK_DONE();
}
