/* mp_gen N: writes N lines "line <i>" to stdout (the producer of the `|` runmode
 * test). */
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	for (int i = 1; i <= n; i++)
		printf("line %d\n", i);
	return 0;
}
