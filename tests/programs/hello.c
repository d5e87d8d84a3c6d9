/* hello: the smallest rumprun program.  Prints "Hello, world!", or "Hello, $WORLD!"
 * when the environment variable WORLD is set, and returns 0. */
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	const char *world = getenv("WORLD");

	printf("Hello, %s!\n", world != NULL && *world != '\0' ? world : "world");
	return 0;
}
