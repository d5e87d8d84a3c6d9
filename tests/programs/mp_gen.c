/* mp_gen N [MS]: writes N lines "line <i>" to stdout (the producer of the `|` runmode
 * test), sleeping MS milliseconds before each (default 0): a foreground program that
 * leaves the CPU to a background one meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	long ms = argc > 2 ? atol(argv[2]) : 0;
	struct timespec nap = { ms / 1000, (ms % 1000) * 1000000L };
	for (int i = 1; i <= n; i++) {
		if (ms > 0)
			nanosleep(&nap, NULL);
		printf("line %d\n", i);
	}
	return 0;
}
