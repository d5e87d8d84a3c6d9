/* stack_overflow: recursion that runs off the 8 MiB main stack: SIGSEGV with a
 * report naming f, status 139 (no handler installed). */
#include <stdio.h>

volatile int depth_limit = 1 << 30;

__attribute__((noinline)) int
f(int n)
{
	volatile char buf[1024];
	buf[0] = (char)n;
	if (n >= depth_limit)
		return 0;
	return f(n + 1) + buf[0];
}

int
main(void)
{
	printf("start\n");
	fflush(stdout);
	return f(0);
}
