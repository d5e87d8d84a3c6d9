/* crash: a NULL pointer dereference in crash_here(), called from main.  The kernel
 * must report the fault (SIGSEGV, the faulting function) and end the VM with a
 * non-zero status. */
#include <stdio.h>

volatile int *volatile crash_pointer = NULL;

void __attribute__((noinline))
crash_here(void)
{
	*crash_pointer = 42;
}

int
main(void)
{
	printf("about to crash\n");
	fflush(stdout);
	crash_here();
	printf("crash_here returned: the NULL write did not fault\n");
	return 0;
}
