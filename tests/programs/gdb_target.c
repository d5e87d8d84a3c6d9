/* gdb_target: a program to debug with gdb through `rumprun qemu -D PORT`: a break
 * in square(), its argument, a backtrace into main, finish with the return value. */
#include <stdio.h>

static volatile int counter;

__attribute__((noinline)) int
square(int x)
{
	volatile int y = x * x;
	counter += y;
	return y;
}

int
main(int argc, char **argv)
{
	(void)argv;
	volatile int local = 41 + argc;
	int r = square(local);
	printf("square=%d counter=%d\n", r, counter);
	return 0;
}
