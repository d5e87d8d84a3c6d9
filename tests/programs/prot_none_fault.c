/* prot_none_fault: reads a PROT_NONE page.  The kernel must report SIGSEGV for an
 * access to protected memory and end the VM with status 139. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int
main(void)
{
	volatile unsigned char *p;

	p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("FAIL: mmap PROT_NONE: %s\n", strerror(errno));
		return 1;
	}
	printf("touching PROT_NONE page at %p\n", (void *)p);
	fflush(stdout);
	printf("read %d: the PROT_NONE page did not fault\n", p[100]);
	return 1;
}
