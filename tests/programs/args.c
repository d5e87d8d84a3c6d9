/* args: prints argc and every argv[i] in brackets, so that spaces and quotes are
 * visible, then the value of each environment variable named with "-env NAME"
 * arguments (or "<unset>").  Output:
 *   argc=3
 *   argv[0]=[args]
 *   argv[1]=[two words]
 *   env[WORLD]=[mars]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	int i;

	printf("argc=%d\n", argc);
	for (i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	for (i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-env") == 0) {
			const char *v = getenv(argv[i + 1]);
			printf("env[%s]=[%s]\n", argv[i + 1], v != NULL ? v : "<unset>");
		}
	}
	return 0;
}
