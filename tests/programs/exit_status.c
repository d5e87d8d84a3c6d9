/* exit_status: "exit_status N" returns N from main; "exit_status N nested" calls
 * exit(N) from a nested function instead, so that main never returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void __attribute__((noinline, noreturn))
leave_from_deep_inside(int depth, int status)
{
	if (depth > 0)
		leave_from_deep_inside(depth - 1, status);
	printf("calling exit(%d) from a nested function\n", status);
	exit(status);
}

int
main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;

	if (argc > 2 && strcmp(argv[2], "nested") == 0)
		leave_from_deep_inside(3, status);
	printf("returning %d from main\n", status);
	return status;
}
